import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DockerEvent } from '../../src/docker/types';
import { ExternalWatch, externalFaults } from '../../src/load/external';
import { startLoad, DEFAULT_LOAD } from '../../src/load/run';
import type { ComponentSnapshot, FaultEvent } from '../../src/metrics/types';

const ev = (node: string, action: string, timeMs: number): DockerEvent => ({
  type: 'container',
  action,
  id: `id-${node}`,
  labels: { 'io.moodle-lab.lab': 't', 'io.moodle-lab.node': node },
  timeMs,
});
const haproxy = (atMs: number, down: string[]): ComponentSnapshot => ({
  atMs,
  haproxy: ['web1', 'web2', 'web3'].map((s) => ({ backend: 'web', server: s, status: down.includes(s) ? 'DOWN' : 'UP' })),
});
const NODES = ['haproxy', 'web1', 'web2', 'web3', 'galera1', 'galera2', 'galera3', 'redis'];

describe('external faults (faults nobody injected through the run)', () => {
  it("Docker's kill+die of one node is one external fault; its start heals it; other labs' and non-node events are ignored", () => {
    const w = new ExternalWatch();
    w.onEvent(ev('web2', 'kill', 1000));
    w.onEvent(ev('web2', 'die', 1100));
    w.onEvent({ ...ev('web3', 'die', 1200), type: 'network' });
    w.onEvent({ ...ev('web3', 'die', 1200), labels: { 'io.moodle-lab.lab': 't' } });
    w.onEvent(ev('web2', 'exec_start: sh -c true', 1300));
    w.onEvent(ev('web2', 'start', 9000));
    w.onEvent(ev('redis', 'stop', 12_000));
    w.onEvent(ev('redis', 'kill', 11_990));
    w.onEvent(ev('redis', 'die', 11_995));
    w.onEvent(ev('galera1', 'oom', 14_000));
    w.onEvent(ev('galera1', 'die', 14_010));
    w.onEvent(ev('web1', 'pause', 20_000));
    w.onEvent(ev('web3', 'die', 22_000));
    const out = externalFaults(w.events, [], [], NODES, 0, 60_000);
    assert.deepEqual(
      out.map((f) => [f.fault, f.kind, f.nodes, f.atMs, f.healAtMs, f.source]),
      [
        ['kill web2', 'kill', ['web2'], 1000, 9000, 'external'],
        ['stop redis', 'stop', ['redis'], 11_990, undefined, 'external'],
        ['oom galera1', 'oom', ['galera1'], 14_000, undefined, 'external'],
        ['pause web1', 'pause', ['web1'], 20_000, undefined, 'external'],
        ['crash web3', 'crash', ['web3'], 22_000, undefined, 'external'],
      ],
    );
  });

  it("events of a node the run faulted itself belong to that fault; outside the run's window they are ignored", () => {
    const injected: FaultEvent[] = [{ fault: 'kill web2', kind: 'kill', nodes: ['web2'], atMs: 5000, healAtMs: 20_000 }];
    const events = [
      { node: 'web2', action: 'kill', atMs: 5050 },
      { node: 'web2', action: 'die', atMs: 5060 },
      { node: 'web1', action: 'kill', atMs: 500 }, // before the run
      { node: 'web2', action: 'kill', atMs: 70_000 }, // after the heal and its settling
    ];
    const out = externalFaults(events, [], injected, NODES, 1000, 80_000);
    assert.deepEqual(
      out.map((f) => [f.fault, f.atMs]),
      [['kill web2', 70_000]],
    );
  });

  it('a status transition nothing explains is an external fault; one while another fault is active is a consequence', () => {
    const snaps = [haproxy(1000, []), haproxy(2000, ['web3']), haproxy(3000, ['web3']), haproxy(4000, []), haproxy(5000, [])];
    const out = externalFaults([], snaps, [], NODES, 0, 10_000);
    assert.deepEqual(
      out.map((f) => [f.fault, f.atMs, f.healAtMs]),
      [['web3 reported failed', 2000, 4000]],
    );
    const injected: FaultEvent[] = [{ fault: 'kill galera1', kind: 'kill', nodes: ['galera1'], atMs: 1500 }];
    assert.deepEqual(externalFaults([], snaps, injected, NODES, 0, 10_000), []);
  });

  it('a load run analyses a kill from elsewhere like its own fault: source external, detection, failed requests, blackout', async function () {
    this.timeout(20_000);
    // A fake lab entry: the probe endpoints, answering 503 while "web2 is down" (a second in).
    let down = false;
    const server = http.createServer((req, res) => {
      if (down) {
        res.writeHead(503).end('no server available');
        return;
      }
      const u = new URL(req.url ?? '/', 'http://x');
      res.setHeader('content-type', 'application/json');
      const key = u.searchParams.get('set') ?? u.searchParams.get('write') ?? u.searchParams.get('read') ?? '';
      if (u.pathname === '/lab/health.php') res.end('OK');
      else if (u.pathname.endsWith('session.php')) res.end(JSON.stringify({ ok: true, value: sessions.get('s') ?? (sessions.set('s', key), key) }));
      else if (u.pathname.endsWith('db.php')) res.end(JSON.stringify({ ok: true, id: 1, row: { value: rows.get(1) ?? (rows.set(1, key), key) } }));
      else res.end(JSON.stringify({ ok: true, value: files.get(key) ?? (files.set(key, u.searchParams.get('value') ?? ''), u.searchParams.get('value')) }));
    });
    const sessions = new Map<string, string>();
    const rows = new Map<number, string>();
    const files = new Map<string, string | null>();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const entry = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let emit: ((e: DockerEvent) => void) | undefined;
    let unsubscribed = false;
    try {
      const handle = startLoad(
        { entry, users: [], probeTargets: [], nodes: NODES },
        { ...DEFAULT_LOAD, journey: 'probe', users: 3, durationMs: 3000, rampUpMs: 0, thinkMinMs: 20, thinkMaxMs: 20, probeHz: 0, timeoutMs: 2000 },
        {
          nodeEvents: async (on) => {
            emit = on;
            return () => (unsubscribed = true);
          },
          sources: [{ name: 'haproxy', intervalMs: 50, poll: async () => ({ haproxy: haproxy(0, down ? ['web2'] : []).haproxy }) }],
        },
      );
      await new Promise((r) => setTimeout(r, 1000));
      const at = Date.now();
      emit!(ev('web2', 'kill', at));
      emit!(ev('web2', 'die', at + 5));
      down = true;
      await new Promise((r) => setTimeout(r, 700));
      down = false;
      const run = await handle.done;
      assert.equal(unsubscribed, true);
      const [f, ...rest] = run.result.faults;
      assert.equal(rest.length, 0);
      assert.equal(f!.fault, 'kill web2');
      assert.equal(f!.source, 'external');
      assert.ok(f!.atMs >= 800 && f!.atMs <= 1500, `at ${f!.atMs} ms into the run`);
      assert.ok(f!.detectedMs !== null && f!.detectedMs! >= 0 && f!.detectedMs! < 500, `detected ${f!.detectedMs}`);
      assert.ok(f!.failedRequests > 0, 'the requests answered 503 are counted');
      assert.ok(f!.blackoutMs >= 500, `blackout ${f!.blackoutMs}`);
      assert.ok(run.faultEvents.some((e) => e.source === 'external' && e.fault === 'kill web2'));
    } finally {
      server.close();
    }
  });
});
