/**
 * A small HTTP client that talks to Moodle the way a browser does: a cookie jar, redirects
 * followed by hand (each hop is visible), forms, the login token scraped from the login page.
 * It can reach one web node directly while presenting the wwwroot's Host (Moodle redirects any
 * other host), so "upload through web1, download through web2" is a plain pair of calls.
 */
import * as http from 'node:http';
import { randomBytes } from 'node:crypto';

export interface MoodleResponse {
  status: number;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text(): string;
  /** HAProxy's `X-Served-By` header: the web node that answered, when through the lab's HAProxy. */
  servedBy?: string;
}

export interface ClientOptions {
  /** Moodle's wwwroot, e.g. http://localhost:8080 (what Host and redirects are judged against). */
  wwwroot: string;
  /** Connect here instead of the wwwroot's host and port (a web node's published port). */
  connectTo?: { host: string; port: number };
  timeoutMs?: number;
  /** Extra request headers, read at each request (a bench tags its requests with them). */
  headers?: Record<string, string>;
}

export class MoodleHttpError extends Error {}

export class MoodleClient {
  private readonly jar = new Map<string, string>();
  private readonly base: URL;

  constructor(private readonly opts: ClientOptions) {
    this.base = new URL(opts.wwwroot);
  }

  /** Same cookies (the same logged-in session), another way in: e.g. directly to one web node. */
  via(connectTo: { host: string; port: number } | undefined): MoodleClient {
    const c = new MoodleClient({ ...this.opts, connectTo });
    for (const [k, v] of this.jar) c.jar.set(k, v);
    return c;
  }

  cookies(): Record<string, string> {
    return Object.fromEntries(this.jar);
  }

  private request(method: string, target: URL, body?: Buffer, contentType?: string): Promise<MoodleResponse> {
    const host = this.opts.connectTo?.host ?? (target.hostname === 'localhost' ? '127.0.0.1' : target.hostname);
    const port = this.opts.connectTo?.port ?? Number(target.port || 80);
    const headers: http.OutgoingHttpHeaders = {
      host: target.host,
      'user-agent': 'moodle-ha-lab',
      accept: 'text/html,application/json,*/*',
      ...this.opts.headers,
    };
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) {
      headers['content-type'] = contentType ?? 'application/x-www-form-urlencoded';
      headers['content-length'] = body.length;
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ host, port, method, path: target.pathname + target.search, headers, timeout: this.opts.timeoutMs ?? 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          for (const sc of res.headers['set-cookie'] ?? []) {
            const [pair] = sc.split(';');
            const eq = pair!.indexOf('=');
            const name = pair!.slice(0, eq).trim();
            const value = pair!.slice(eq + 1).trim();
            if (value === 'deleted' || /max-age=0|expires=thu, 01 jan 1970/i.test(sc)) this.jar.delete(name);
            else this.jar.set(name, value);
          }
          const buf = Buffer.concat(chunks);
          const served = res.headers['x-served-by'];
          resolve({
            status: res.statusCode ?? 0,
            url: target.toString(),
            headers: res.headers,
            body: buf,
            text: () => buf.toString('utf8'),
            servedBy: typeof served === 'string' ? served : undefined,
          });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new MoodleHttpError(`${method} ${target} timed out`)));
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
  }

  /** One request, then redirects followed (GET) up to `maxRedirects`; every hop stays on the wwwroot. */
  async fetch(method: 'GET' | 'POST', path: string, body?: Buffer, contentType?: string, maxRedirects = 5): Promise<MoodleResponse> {
    let target = new URL(path, this.base);
    let res = await this.request(method, target, body, contentType);
    for (let i = 0; i < maxRedirects && res.status >= 300 && res.status < 400 && res.headers.location; i++) {
      target = new URL(res.headers.location, target);
      if (target.host !== this.base.host) throw new MoodleHttpError(`redirected off the wwwroot to ${target} (Moodle compares the host with wwwroot exactly)`);
      res = await this.request('GET', target);
    }
    return res;
  }

  get(path: string): Promise<MoodleResponse> {
    return this.fetch('GET', path);
  }

  postForm(path: string, fields: Record<string, string>): Promise<MoodleResponse> {
    return this.fetch('POST', path, Buffer.from(new URLSearchParams(fields).toString()));
  }

  postMultipart(path: string, fields: Record<string, string>, file: { field: string; name: string; content: Buffer; type?: string }): Promise<MoodleResponse> {
    const boundary = `----lab${randomBytes(12).toString('hex')}`;
    const parts: Buffer[] = [];
    for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.name}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
    );
    parts.push(file.content, Buffer.from(`\r\n--${boundary}--\r\n`));
    return this.fetch('POST', path, Buffer.concat(parts), `multipart/form-data; boundary=${boundary}`);
  }

  /**
   * Uploads a file into the logged-in user's private files, the way the browser's file picker and
   * the (dynamic, AJAX-submitted) private files form do. Returns the download path.
   */
  async uploadPrivateFile(name: string, content: Buffer, type = 'text/plain'): Promise<string> {
    const page = (await this.get('/user/files.php')).text();
    const sesskey = scrapeSesskey(page);
    const hidden = scrapeHiddenInputs(page);
    const itemid = hidden.files_filemanager;
    const ctx = /"context":\{"id":(\d+)/.exec(page)?.[1];
    const uploadRepo = /\{[^{}]*"type":"upload"[^{}]*\}/.exec(page)?.[0];
    const repoId = uploadRepo ? /"id":"?(\d+)/.exec(uploadRepo)?.[1] : undefined;
    if (!sesskey || !itemid || !ctx || !repoId) throw new MoodleHttpError('the private files page lacks the file picker fields (logged in?)');
    const up = await this.postMultipart(
      '/repository/repository_ajax.php?action=upload',
      { sesskey, repo_id: repoId, itemid, ctx_id: ctx, savepath: '/', title: name, author: 'lab', license: 'allrightsreserved' },
      { field: 'repo_upload_file', name, content, type },
    );
    if (!up.text().includes(`"file":"${name}"`)) throw new MoodleHttpError(`upload of ${name} refused: ${up.text().slice(0, 200)}`);
    const formdata = new URLSearchParams(hidden).toString();
    const call = [{ index: 0, methodname: 'core_form_dynamic_form', args: { formdata, form: 'core_user\\form\\private_files' } }];
    const save = await this.fetch(
      'POST',
      `/lib/ajax/service.php?sesskey=${sesskey}&info=core_form_dynamic_form`,
      Buffer.from(JSON.stringify(call)),
      'application/json',
    );
    if (!/"submitted":true/.test(save.text())) throw new MoodleHttpError(`saving private files failed: ${save.text().slice(0, 200)}`);
    return `/pluginfile.php/${ctx}/user/private/${encodeURIComponent(name)}`;
  }

  /** Logs in through the real login form (the form's `logintoken` is required by current Moodle). */
  async login(username: string, password: string): Promise<MoodleResponse> {
    const page = await this.get('/login/index.php');
    const token = scrapeLoginToken(page.text());
    if (!token) throw new MoodleHttpError(`no logintoken on the login page (HTTP ${page.status})`);
    const res = await this.postForm('/login/index.php', { anchor: '', logintoken: token, username, password });
    if (!isLoggedIn(res.text())) throw new MoodleHttpError(`login of ${username} failed (HTTP ${res.status} at ${res.url})`);
    return res;
  }
}

export function scrapeLoginToken(html: string): string | undefined {
  return /name="logintoken"\s+value="([^"]+)"/.exec(html)?.[1] ?? /value="([^"]+)"\s+name="logintoken"/.exec(html)?.[1];
}

export function scrapeSesskey(html: string): string | undefined {
  return /"sesskey":"([^"]+)"/.exec(html)?.[1] ?? /name="sesskey"\s+value="([^"]+)"/.exec(html)?.[1];
}

/** Logged-in pages carry a logout link with the session key. */
export function isLoggedIn(html: string): boolean {
  return /login\/logout\.php\?sesskey=/.test(html);
}

/** Every hidden input of the page's forms (name → value): what a browser posts back unchanged. */
export function scrapeHiddenInputs(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of html.match(/<input[^>]*type="hidden"[^>]*>/g) ?? []) {
    const name = /name="([^"]+)"/.exec(tag)?.[1];
    const value = /value="([^"]*)"/.exec(tag)?.[1];
    if (name && value !== undefined && !(name in out))
      out[name] = value
        .replace(/&amp;/g, '&')
        .replace(/&quot;/g, '"')
        .replace(/&#039;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>');
  }
  return out;
}
