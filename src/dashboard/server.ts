/**
 * `npm run lab -- dashboard [--port N]`: the webview bundle served over HTTP on 127.0.0.1 only,
 * behind a per-run random token, with the protocol carried over a WebSocket. Each connection gets
 * its own DashboardSession on the shared SnapshotStore: the same handler as the VS Code panel.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { WebSocketServer, WebSocket } from 'ws';
import type { WireMessage } from '../protocol/messages';
import type { SnapshotStore } from '../state/snapshot-store';
import { dashboardHtml } from './html';
import { DashboardSession, LabActions, LiveControls } from './session';

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

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.md': 'text/markdown; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ttf': 'font/ttf' };

/** The files the page may load, by URL path. */
function assetPath(root: string, urlPath: string): string | undefined {
  const allowed = ['/dist/webview/', '/media/'];
  if (!allowed.some((p) => urlPath.startsWith(p)) || urlPath.includes('..')) return undefined;
  const file = path.join(root, urlPath);
  return file.startsWith(root + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile() ? file : undefined;
}

export async function startDashboardServer(o: DashboardServerOptions): Promise<DashboardServer> {
  const token = randomBytes(24).toString('base64url');
  const tokenBuf = Buffer.from(token);
  const tokenOk = (t: string | null) => t !== null && t.length === token.length && timingSafeEqual(Buffer.from(t), tokenBuf);
  let port = 0;
  const hostOk = (h: string | undefined) => h === `127.0.0.1:${port}` || h === `localhost:${port}`;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const deny = (code: number, text: string) => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text + '\n');
    };
    if (!hostOk(req.headers.host)) return deny(421, 'wrong host');
    if (!tokenOk(url.searchParams.get('token'))) return deny(403, 'missing or wrong token: use the URL the dashboard command printed');
    const q = `?token=${token}`;
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
      res.end(
        dashboardHtml({
          scriptUri: `/dist/webview/main.js${q}`,
          styleUri: `/media/dashboard.css${q}`,
          cspSource: "'self'",
          connectSrc: `ws://127.0.0.1:${port} ws://localhost:${port}`,
          bootstrap: { lab: o.lab, transport: 'websocket', wsUrl: `/ws${q}` },
        }),
      );
      return;
    }
    const report = /^\/reports\/([\w.-]+\.(?:html|json|md))$/.exec(url.pathname)?.[1];
    if (report && o.reportsDir && !report.startsWith('.')) {
      const f = path.join(o.reportsDir, report);
      if (!fs.existsSync(f)) return deny(404, 'no such report');
      // the report is self-contained: its own CSP keeps scripts out
      res.writeHead(200, { 'content-type': TYPES[path.extname(f)] ?? 'text/plain', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:", ...(report.endsWith('.html') ? {} : { 'content-disposition': `attachment; filename="${report}"` }) });
      fs.createReadStream(f).pipe(res);
      return;
    }
    const file = assetPath(o.root, url.pathname);
    if (!file) return deny(404, 'not found');
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    fs.createReadStream(file).pipe(res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = req.headers.origin;
    const originOk = origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
    if (url.pathname !== '/ws' || !hostOk(req.headers.host) || !originOk || !tokenOk(url.searchParams.get('token'))) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  const sessions = new Set<DashboardSession>();
  function attach(ws: WebSocket): void {
    const session = new DashboardSession(
      {
        post: (m: WireMessage) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
        },
        onMessage: (listener) => {
          const onMsg = (data: Buffer) => {
            let raw: unknown;
            try {
              raw = JSON.parse(data.toString('utf8'));
            } catch {
              raw = undefined;
            }
            listener(raw);
          };
          ws.on('message', onMsg);
          return () => ws.off('message', onMsg);
        },
      },
      {
        store: o.store,
        actions: o.actions,
        live: o.live,
        log: o.log,
        reportUrl: (file) => (o.reportsDir && path.dirname(path.resolve(file)) === path.resolve(o.reportsDir) ? `/reports/${encodeURIComponent(path.basename(file))}?token=${token}` : undefined),
      },
    );
    sessions.add(session);
    o.log?.(`dashboard: browser connected (${sessions.size} open)`);
    ws.on('close', () => {
      session.dispose();
      sessions.delete(session);
      o.log?.(`dashboard: browser disconnected (${sessions.size} open)`);
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
