/**
 * `npm run lab -- dashboard [--port N]`: the webview bundle served over HTTP on 127.0.0.1 only,
 * behind a per-run random token, with the protocol carried over a WebSocket. Each connection gets
 * its own DashboardSession on the shared SnapshotStore: the same handler as the VS Code panel.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { RawData, WebSocketServer, WebSocket } from 'ws';
import type { WireMessage } from '../protocol/messages';
import type { SnapshotStore } from '../state/snapshot-store';
import { dashboardPage } from './html';
import { DashboardSession, LabActions, LiveControls } from './session';
import { errText as errorText } from '../core/errors';

export interface DashboardServerOptions {
  lab: string;
  store: SnapshotStore;
  actions: LabActions;
  /** Load, scenarios, reports (absent: the dashboard only shows and breaks the lab). */
  live?: LiveControls;
  /** Reports written here can be downloaded at /reports/<file>?token=…. */
  reportsDir?: string;
  /** Folder holding dist/ and media/ (the package root). */
  root: string;
  /** Scenario files (absolute paths) the page may run besides the built-ins; no other name runs. */
  scenarioFiles?: () => readonly string[];
  /** `GET /metrics` (behind the token, also as `Authorization: Bearer <token>`): the scrape body for Prometheus. */
  metrics?: (accept: string | undefined) => Promise<{ body: string; type: string }>;
  /** 0 = any free port. */
  port?: number;
  log?: (line: string) => void;
}

export interface DashboardServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

// No '.map': source maps stay out of the page's reach.
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json',
  '.md': 'text/markdown; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
};

/** The file a page URL may load (existence is checked once, when it is opened), or undefined. */
function assetPath(root: string, urlPath: string): string | undefined {
  const allowed = ['/dist/webview/', '/media/'];
  if (!allowed.some((p) => urlPath.startsWith(p)) || urlPath.includes('..') || urlPath.endsWith('.map')) return undefined;
  const file = path.join(root, urlPath);
  return file.startsWith(root + path.sep) ? file : undefined;
}

/** Constant-time token check on digests (equal lengths whatever the client sends, bytes or characters). */
function tokenChecker(token: string): (t: string | null) => boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  const want = digest(token);
  return (t) => t !== null && timingSafeEqual(digest(t), want);
}

// O_NONBLOCK: opening a FIFO named like a report must not block a thread (regular files ignore it).
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * Streams one regular file: opened once, checked on the open descriptor (no window between a
 * check and the read), every error answered (404/500 before the first byte, a cut connection after).
 */
function sendFile(res: http.ServerResponse, file: string, headers: Record<string, string>, log: (line: string) => void): void {
  const fail = (code: number, text: string) => {
    if (res.headersSent) return void res.destroy();
    for (const h of res.getHeaderNames()) res.removeHeader(h);
    res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(text + '\n');
  };
  fs.open(file, OPEN_FLAGS, (err, fd) => {
    if (err)
      return fail(
        err.code === 'ENOENT' || err.code === 'ENOTDIR' ? 404 : 500,
        err.code === 'ENOENT' || err.code === 'ENOTDIR' ? 'not found' : 'cannot read this file',
      );
    fs.fstat(fd, (err2, st) => {
      if (err2 || !st.isFile()) {
        fs.close(fd, () => undefined);
        return fail(err2 ? 500 : 404, err2 ? 'cannot read this file' : 'not found');
      }
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      res.statusCode = 200;
      const stream = fs.createReadStream('', { fd, autoClose: true });
      stream.on('error', (e) => {
        log(`dashboard: reading ${path.basename(file)} failed: ${errorText(e)}`);
        fail(500, 'cannot read this file');
      });
      res.on('close', () => stream.destroy());
      stream.pipe(res);
    });
  });
}

export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const token = randomBytes(24).toString('base64url');
  const tokenOk = tokenChecker(token);
  let port = 0;
  const hostOk = (h: string | undefined) => h === `127.0.0.1:${port}` || h === `localhost:${port}`;
  /** A log that can never throw into a handler. */
  const log = (line: string) => {
    try {
      o.log?.(line);
    } catch {
      // a broken logger must not take the dashboard down
    }
  };
  const parseUrl = (u: string | undefined) => {
    try {
      return new URL(u ?? '/', 'http://127.0.0.1');
    } catch {
      return undefined;
    }
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const deny = (code: number, text: string) => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text + '\n');
    };
    const url = parseUrl(req.url);
    if (!url) return deny(400, 'bad request');
    if (!hostOk(req.headers.host)) return deny(421, 'wrong host');
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null;
    if (!tokenOk(url.searchParams.get('token') ?? (url.pathname === '/metrics' ? bearer : null)))
      return deny(403, 'missing or wrong token: use the URL the dashboard command printed');
    const q = `?token=${token}`;
    if (url.pathname === '/metrics' && o.metrics) {
      o.metrics(req.headers.accept)
        .then(
          ({ body, type }) => res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body),
          (err: unknown) => res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end(`status collection failed: ${errorText(err)}\n`),
        )
        .catch((err: unknown) => {
          // an answer that cannot be written must not become an unhandled rejection
          log(`dashboard: /metrics answer failed: ${errorText(err)}`);
          res.destroy();
        });
      return;
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const page = dashboardPage({
        scriptUri: `/dist/webview/main.js${q}`,
        styleUri: `/media/dashboard.css${q}`,
        cspSource: "'self'",
        connectSrc: `ws://127.0.0.1:${port} ws://localhost:${port}`,
        bootstrap: { lab: o.lab, transport: 'websocket', wsUrl: `/ws${q}` },
      });
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'content-security-policy': page.csp,
      });
      res.end(page.html);
      return;
    }
    const report = /^\/reports\/([\w.-]+\.(?:html|json|md))$/.exec(url.pathname)?.[1];
    if (report && o.reportsDir && !report.startsWith('.')) {
      // the report is self-contained: its own CSP keeps scripts out
      return sendFile(
        res,
        path.join(o.reportsDir, report),
        {
          'content-type': TYPES[path.extname(report)] ?? 'text/plain',
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
          ...(report.endsWith('.html') ? {} : { 'content-disposition': `attachment; filename="${report}"` }),
        },
        log,
      );
    }
    const file = assetPath(o.root, url.pathname);
    if (!file) return deny(404, 'not found');
    sendFile(
      res,
      file,
      { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
      log,
    );
  };

  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      log(`dashboard: request ${String(req.url).slice(0, 200)} failed: ${errorText(err)}`);
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      }
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: string) => {
      if (socket.writable) socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      socket.destroy();
    };
    try {
      const url = parseUrl(req.url);
      if (!url) return refuse('400 Bad Request');
      const origin = req.headers.origin;
      const originOk = origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
      if (url.pathname !== '/ws' || !hostOk(req.headers.host) || !originOk || !tokenOk(url.searchParams.get('token'))) return refuse('403 Forbidden');
      wss.handleUpgrade(req, socket, head, (ws) => {
        try {
          attach(ws);
        } catch (err) {
          log(`dashboard: a browser could not be attached: ${errorText(err)}`);
          ws.terminate();
        }
      });
    } catch (err) {
      log(`dashboard: upgrade failed: ${errorText(err)}`);
      refuse('500 Internal Server Error');
    }
  });

  const sessions = new Set<DashboardSession>();
  function attach(ws: WebSocket): void {
    const session = new DashboardSession(
      {
        post: (m: WireMessage) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
        },
        onMessage: (listener) => {
          const onMsg = (data: RawData) => {
            let raw: unknown;
            try {
              raw = JSON.parse(
                Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8'),
              );
            } catch {
              raw = undefined;
            }
            try {
              listener(raw);
            } catch (err) {
              log(`dashboard: handling a message failed: ${errorText(err)}`);
            }
          };
          ws.on('message', onMsg);
          return () => ws.off('message', onMsg);
        },
      },
      {
        store: o.store,
        actions: o.actions,
        live: o.live,
        scenarioFiles: o.scenarioFiles,
        log,
        reportUrl: (file) =>
          o.reportsDir && path.dirname(path.resolve(file)) === path.resolve(o.reportsDir)
            ? `/reports/${encodeURIComponent(path.basename(file))}?token=${token}`
            : undefined,
      },
    );
    sessions.add(session);
    log(`dashboard: browser connected (${sessions.size} open)`);
    // e.g. a frame over maxPayload or a broken frame: ws closes the connection; without a listener it would throw
    ws.on('error', (err) => log(`dashboard: browser connection error: ${errorText(err)}`));
    ws.on('close', () => {
      session.dispose();
      sessions.delete(session);
      log(`dashboard: browser disconnected (${sessions.size} open)`);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      for (const s of sessions) s.dispose();
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
