import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import * as path from 'node:path';
import WebSocket from 'ws';
import { startDashboardServer, DashboardServer } from '../../src/dashboard/server';
import { notYet, ready, waitFor } from '../../src/core/wait';
import { FaultIntent, Ready, WireMessage } from '../../src/protocol/messages';
import { SnapshotStore } from '../../src/state/snapshot-store';
import { FakeDocker } from '../support/fake-docker';
import { labStatus } from '../support/lab-snapshot';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('browser dashboard server (127.0.0.1, token, WebSocket)', () => {
  let server: DashboardServer;
  let store: SnapshotStore;
  const faults: string[] = [];

  before(async () => {
    store = new SnapshotStore({
      lab: 'mlt-unit',
      docker: new FakeDocker(),
      timer: { setInterval: () => 0, clearInterval: () => undefined },
      collect: async () => labStatus(0),
    });
    server = await startDashboardServer({
      lab: 'mlt-unit',
      store,
      root: path.resolve(__dirname, '..', '..'),
      actions: { fault: async (r) => (faults.push(r.kind), 'killed'), heal: async () => 'healed', maintenance: async () => 'ok' },
      metrics: async (accept) => ({ body: `moodle_lab_up{lab="mlt-unit"} 1\n# accept ${accept ?? ''}\n`, type: 'text/plain; version=0.0.4; charset=utf-8' }),
    });
  });
  after(async () => {
    await server.close();
    store.dispose();
  });

  it('serves the page with a nonce CSP only with the token and the right Host', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
    const ok = await get(server.url);
    assert.equal(ok.status, 200);
    assert.match(ok.body, /script-src 'nonce-[\w-]+'/);
    assert.match(ok.body, /"transport":"websocket"/);
    assert.equal((await get(server.url.replace(/token=.*/, 'token=wrong'))).status, 403);
    assert.equal((await get(`http://127.0.0.1:${server.port}/`)).status, 403);
    assert.equal((await get(server.url, { host: 'evil.example:80' })).status, 421);
    assert.equal((await get(`http://127.0.0.1:${server.port}/src/cli.ts?token=${server.token}`)).status, 404);
  });

  it('speaks the protocol over the WebSocket: ready → snapshot, intent → reply', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    const got: WireMessage[] = [];
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    ws.on('message', (d) => got.push(JSON.parse(String(d)) as WireMessage));
    ws.send(JSON.stringify(Ready.create({})));
    ws.send(JSON.stringify(FaultIntent.create('k1', { request: { kind: 'kill', nodes: ['web2'] } })));
    ws.send('not json');
    await waitFor(async () => (got.filter((m) => m.method === 'reply').length >= 2 ? ready(true) : notYet(`got ${got.map((m) => m.method).join(', ')}`)), {
      what: 'two replies',
      timeoutMs: 3000,
      intervalMs: 20,
    });
    ws.close();
    assert.ok(got.some((m) => m.method === 'snapshot'));
    const replies = got.filter((m) => m.method === 'reply');
    assert.deepEqual(replies.find((m) => m.id === 'k1')?.params, { ok: true, detail: 'killed' });
    assert.ok(replies.some((m) => m.id === '' && (m.params as { ok: boolean }).ok === false));
    assert.deepEqual(faults, ['kill']);
  });

  it('refuses a WebSocket without the token or from another origin', async () => {
    for (const [url, origin] of [
      [`ws://127.0.0.1:${server.port}/ws`, undefined],
      [`ws://127.0.0.1:${server.port}/ws?token=${server.token}`, 'http://evil.example'],
    ] as const) {
      const ws = new WebSocket(url, origin ? { origin } : {});
      const res = await new Promise<string>((r) => {
        ws.once('open', () => r('open'));
        ws.once('error', (e) => r(e.message));
      });
      assert.match(res, /403/);
    }
  });

  it('serves /metrics to Prometheus behind the same token (query or bearer), nothing without it', async () => {
    const base = `http://127.0.0.1:${server.port}/metrics`;
    assert.equal((await get(base)).status, 403);
    assert.equal((await get(base, { authorization: 'Bearer wrong' })).status, 403);
    const q = await get(`${base}?token=${server.token}`);
    assert.equal(q.status, 200);
    assert.match(q.body, /^moodle_lab_up\{lab="mlt-unit"\} 1$/m);
    const b = await get(base, { authorization: `Bearer ${server.token}`, accept: 'application/openmetrics-text' });
    assert.equal(b.status, 200);
    assert.match(b.body, /accept application\/openmetrics-text/);
    assert.equal(
      (await get(`http://127.0.0.1:${server.port}/?x=1`, { authorization: `Bearer ${server.token}` })).status,
      403,
      'the bearer header opens /metrics only',
    );
  });
});
