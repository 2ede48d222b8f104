import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { startDashboardServer, DashboardServer } from '../../src/dashboard/server';
import { notYet, ready, waitFor } from '../../src/core/wait';
import { Ready, WireMessage } from '../../src/protocol/messages';
import { SnapshotStore } from '../../src/state/snapshot-store';
import { FakeDocker } from '../support/fake-docker';
import { labStatus } from '../support/lab-snapshot';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** A raw request line (one the http client would refuse to send); resolves with what came back. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const c = net.connect(port, '127.0.0.1', () => c.write(text));
    c.on('data', (d) => (got += String(d)));
    c.on('close', () => resolve(got));
    c.on('error', () => resolve(got));
    c.setTimeout(3000, () => c.destroy());
  });
}

function wsOpen(url: string): Promise<string> {
  const ws = new WebSocket(url);
  return new Promise((r) => {
    ws.once('open', () => {
      ws.close();
      r('open');
    });
    ws.once('error', (e) => r(e.message));
  });
}

describe('browser dashboard server: hostile requests never bring it down', () => {
  let server: DashboardServer;
  let store: SnapshotStore;
  let dir: string;
  let reports: string;
  let root: string;
  const logged: string[] = [];
  let logThrows = false;
  let metricsType = 'text/plain; version=0.0.4';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlt-dash-'));
    reports = path.join(dir, 'reports');
    root = path.join(dir, 'pkg');
    fs.mkdirSync(reports);
    fs.mkdirSync(path.join(root, 'dist', 'webview'), { recursive: true });
    fs.mkdirSync(path.join(root, 'media'));
    fs.writeFileSync(path.join(root, 'dist', 'webview', 'main.js'), 'console.log(1);\n//# sourceMappingURL=main.js.map\n');
    fs.writeFileSync(path.join(root, 'dist', 'webview', 'main.js.map'), '{"version":3,"sources":["../../webview/main.ts"]}');
    fs.writeFileSync(path.join(root, 'media', 'dashboard.css'), 'body{}');
    fs.writeFileSync(path.join(reports, 'ok.json'), '{"ok":true}');
    store = new SnapshotStore({
      lab: 'mlt-unit',
      docker: new FakeDocker(),
      timer: { setInterval: () => 0, clearInterval: () => undefined },
      collect: async () => labStatus(0),
    });
    server = await startDashboardServer({
      lab: 'mlt-unit',
      store,
      root,
      reportsDir: reports,
      actions: { fault: async () => 'done', heal: async () => 'healed', maintenance: async () => 'ok' },
      metrics: async () => ({ body: 'lab_up 1\n', type: metricsType }),
      log: (l) => {
        if (logThrows) throw new Error('the log is broken');
        logged.push(l);
      },
    });
  });
  after(async () => {
    await server.close();
    store.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const base = () => `http://127.0.0.1:${server.port}`;
  const stillUp = async () => assert.equal((await get(server.url)).status, 200, 'the server still answers');

  it('refuses a token of the right length in characters but not in bytes (HTTP and WebSocket), and lives on', async () => {
    const odd = encodeURIComponent('é' + 'A'.repeat(server.token.length - 1));
    assert.equal(Buffer.byteLength(decodeURIComponent(odd)), server.token.length + 1);
    assert.equal((await get(`${base()}/?token=${odd}`)).status, 403);
    assert.match(await wsOpen(`ws://127.0.0.1:${server.port}/ws?token=${odd}`), /403/);
    for (const t of ['', 'x', server.token + 'A', server.token.slice(1)]) assert.equal((await get(`${base()}/?token=${encodeURIComponent(t)}`)).status, 403);
    await stillUp();
  });

  it('answers a request whose target is not a URL with an error, on HTTP and on the upgrade path', async () => {
    const h = await raw(server.port, `GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
    assert.match(h, /^HTTP\/1\.1 (400|403|500)/);
    const u = await raw(
      server.port,
      `GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    assert.match(u, /^HTTP\/1\.1 (400|403|500)/);
    await stillUp();
  });

  it('does not serve source maps', async () => {
    assert.equal((await get(`${base()}/dist/webview/main.js?token=${server.token}`)).status, 200);
    assert.equal((await get(`${base()}/dist/webview/main.js.map?token=${server.token}`)).status, 404);
  });

  it('sends the page CSP as an HTTP header too, the same policy as its meta tag', async () => {
    const page = await get(server.url);
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/
      .exec(page.body)?.[1]
      ?.replaceAll('&#39;', "'")
      .replaceAll('&quot;', '"')
      .replaceAll('&amp;', '&');
    assert.ok(meta, 'the page has a CSP meta tag');
    assert.equal(page.headers['content-security-policy'], meta);
    assert.match(meta, /script-src 'nonce-[\w-]+'/);
  });

  it('serves a report, and answers a directory named like a report with 404', async () => {
    const ok = await get(`${base()}/reports/ok.json?token=${server.token}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body, '{"ok":true}');
    fs.mkdirSync(path.join(reports, 'x.html'));
    assert.equal((await get(`${base()}/reports/x.html?token=${server.token}`)).status, 404);
    assert.equal((await get(`${base()}/reports/gone.html?token=${server.token}`)).status, 404);
    await stillUp();
  });

  it('survives a report whose read fails after the check (a file that stats as a file but reads EIO)', async function () {
    if (!fs.existsSync('/proc/self/mem')) this.skip();
    // /proc/self/mem is a regular file of size 0 whose read at offset 0 fails with EIO: the same
    // path as a report that vanished or broke between the check and the read.
    fs.symlinkSync('/proc/self/mem', path.join(reports, 'broken.html'));
    const r = await get(`${base()}/reports/broken.html?token=${server.token}`).catch((e: Error) => ({ status: -1, headers: {}, body: e.message }));
    assert.ok(r.status === 500 || r.status === -1, `a 500 or a cut connection, got ${r.status}`);
    await stillUp();
  });

  it('closes a WebSocket that sends a frame over the size limit, and lives on', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('x'.repeat(65 * 1024));
    assert.equal(await closed, 1009, 'closed as "message too big"');
    await stillUp();
  });

  it('survives a /metrics answer that cannot be written (a provider returning an invalid header)', async () => {
    assert.equal((await get(`${base()}/metrics?token=${server.token}`)).status, 200);
    metricsType = 'text/plain\nX-Injected: 1';
    try {
      const r = await get(`${base()}/metrics?token=${server.token}`).catch((e: Error) => ({ status: -1, headers: {}, body: e.message }));
      assert.notEqual(r.status, 200);
    } finally {
      metricsType = 'text/plain; version=0.0.4';
    }
    await stillUp();
  });

  it('keeps running when handling a WebSocket message fails (here: the logger throws)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const got: WireMessage[] = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d)) as WireMessage));
    logThrows = true;
    try {
      ws.send('{"method":"nonsense","id":"z","params":{}}');
      ws.send(JSON.stringify(Ready.create({})));
      await waitFor(
        async () =>
          got.some((m) => m.method === 'snapshot') && got.some((m) => m.id === 'z') ? ready(true) : notYet(`got ${got.map((m) => m.method).join(', ')}`),
        {
          what: 'a snapshot and the reply to z',
          timeoutMs: 3000,
          intervalMs: 20,
        },
      );
    } finally {
      logThrows = false;
      ws.close();
    }
    assert.ok(
      got.some((m) => m.method === 'snapshot'),
      'the connection still works after a failing handler',
    );
    assert.equal((got.find((m) => m.id === 'z')?.params as { ok?: boolean } | undefined)?.ok, false, 'the failing message got an error reply');
    await stillUp();
  });
});
