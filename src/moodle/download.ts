/**
 * Downloading a Moodle archive into cacheDir/downloads/, once: a finished download is reused
 * without touching the network. The file is written as *.part and renamed only after its
 * checksum (pinned, or published next to it as <url>.sha256 or <url>.md5) has been checked.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MoodleSourceError } from './types';
import { errText } from '../core/errors';

export interface DownloadOptions {
  cacheDir: string;
  fetchImpl: typeof fetch;
  progress: (message: string) => void;
  signal?: AbortSignal;
  /** A known sha256 of the file: then no checksum file is asked for. */
  sha256?: string;
  /** Where the sha256 is published, when not at `<url>.sha256`. */
  sha256Url?: string;
}

const OFFLINE_HINT = 'give a local folder or archive with --moodle-source for offline use';

/** cacheDir/downloads/<12 hex of the URL>-<file name>: one file per URL, readable names. */
export function downloadPath(cacheDir: string, url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || 'moodle').replace(/[^A-Za-z0-9._-]/g, '_');
  const key = createHash('sha256').update(url).digest('hex').slice(0, 12);
  return path.join(cacheDir, 'downloads', `${key}-${name}`);
}

export async function downloadArchive(url: string, opts: DownloadOptions): Promise<string> {
  const final = downloadPath(opts.cacheDir, url);
  if (fs.existsSync(final)) {
    opts.progress(`using the cached download of ${url}`);
    return final;
  }
  fs.mkdirSync(path.dirname(final), { recursive: true });
  const part = `${final}.${process.pid}-${randomBytes(4).toString('hex')}.part`;
  try {
    const sums = await fetchToFile(url, part, opts);
    await verify(url, sums, opts);
    fs.renameSync(part, final);
  } finally {
    fs.rmSync(part, { force: true });
  }
  return final;
}

function reasonOf(err: unknown): string {
  // Node's fetch reports 'fetch failed' and keeps the useful part (ECONNREFUSED, ENOTFOUND…) in cause.
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  const pick = cause instanceof Error ? cause : err;
  const code = (pick as NodeJS.ErrnoException | undefined)?.code;
  const message = errText(pick);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || (err instanceof Error && err.name === 'AbortError');
}

async function fetchToFile(url: string, file: string, opts: DownloadOptions): Promise<{ sha256: string; md5: string }> {
  let res: Response;
  try {
    res = await opts.fetchImpl(url, { signal: opts.signal, redirect: 'follow' });
  } catch (err) {
    if (isAbort(err, opts.signal)) throw err;
    throw new MoodleSourceError(`cannot download ${url}: ${reasonOf(err)}; ${OFFLINE_HINT}`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new MoodleSourceError(`cannot download ${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}; ${OFFLINE_HINT}`);
  }
  const total = Number(res.headers.get('content-length')) || 0;
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  const out = fs.createWriteStream(file);
  let received = 0;
  let shown = -1;
  opts.progress(`downloading ${url}${total ? ` (${mib(total)})` : ''}`);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      sha256.update(chunk);
      md5.update(chunk);
      received += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      // A line every 10 % when the size is known, every 10 MiB otherwise.
      const step = total ? Math.floor((received / total) * 10) : Math.floor(received / (10 * 1024 * 1024));
      if (step > shown) {
        shown = step;
        opts.progress(total ? `downloaded ${Math.min(100, step * 10)}% of ${mib(total)}` : `downloaded ${mib(received)}`);
      }
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  } catch (err) {
    out.destroy();
    if (isAbort(err, opts.signal)) throw err;
    throw new MoodleSourceError(`cannot download ${url}: ${reasonOf(err)}; ${OFFLINE_HINT}`);
  }
  if (total && received !== total)
    throw new MoodleSourceError(`cannot download ${url}: the connection closed after ${received} of ${total} bytes; ${OFFLINE_HINT}`);
  return { sha256: sha256.digest('hex'), md5: md5.digest('hex') };
}

/** The expected digest published at `url`, or undefined when nothing usable answers there. */
async function publishedDigest(url: string, hexLength: number, opts: DownloadOptions): Promise<string | undefined> {
  try {
    const res = await opts.fetchImpl(url, { signal: opts.signal, redirect: 'follow' });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    // 'hex  name', 'SHA256(name)= hex' or just 'hex'; an HTML error page yields no match.
    const text = (await res.text()).slice(0, 4096);
    return new RegExp(`(?:^|[^0-9a-fA-F])([0-9a-fA-F]{${hexLength}})(?![0-9a-fA-F])`).exec(text)?.[1]?.toLowerCase();
  } catch (err) {
    if (isAbort(err, opts.signal)) throw err;
    return undefined;
  }
}

async function verify(url: string, got: { sha256: string; md5: string }, opts: DownloadOptions): Promise<void> {
  const mismatch = (algo: string, where: string, expected: string, actual: string) =>
    new MoodleSourceError(`the download of ${url} does not match its ${algo} (${where}): expected ${expected}, got ${actual}; the file was deleted, try again`);
  if (opts.sha256) {
    if (opts.sha256.toLowerCase() !== got.sha256) throw mismatch('sha256', 'pinned in the lab', opts.sha256.toLowerCase(), got.sha256);
    opts.progress('sha256 verified (pinned)');
    return;
  }
  const shaUrl = opts.sha256Url ?? `${url}.sha256`;
  const sha = await publishedDigest(shaUrl, 64, opts);
  if (sha) {
    if (sha !== got.sha256) throw mismatch('sha256', shaUrl, sha, got.sha256);
    opts.progress(`sha256 verified against ${shaUrl}`);
    return;
  }
  const md5Url = `${url}.md5`;
  const md5 = await publishedDigest(md5Url, 32, opts);
  if (md5) {
    if (md5 !== got.md5) throw mismatch('md5', md5Url, md5, got.md5);
    opts.progress(`md5 verified against ${md5Url}`);
    return;
  }
  opts.progress(`no checksum published at ${shaUrl} or ${md5Url}: the download is not verified`);
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
