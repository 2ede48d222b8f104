import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { auditPlan, AuditResult, parseKinds, runAudit, SPOF_BLACKOUT_MS, verdict } from '../../src/scenarios/audit/audit';
import { auditArgs, compareCommand, formatAudit } from '../../src/scenarios/audit/command';
import { auditJUnit, renderAuditHtml } from '../../src/scenarios/audit/report';
import type { LoadHandle, LoadOptions, LoadRun } from '../../src/load/run';
import { MetricsRecorder } from '../../src/metrics/recorder';
import { IntegrityLedger } from '../../src/load/integrity';
import type { FaultRequest } from '../../src/protocol/faults';
import type { LabStatus } from '../../src/protocol/status';
import { labStatus } from '../support/lab-snapshot';
import { result } from '../support/scenario-lab';
import { sample } from '../support/samples';
import { labProblems } from '../../src/roles/green';

class UsageError extends Error {}
const withEntry = (): LabStatus => ({ ...labStatus(), endpoints: { ...labStatus().endpoints, moodle: 'http://127.0.0.1:1' } });
const usage = (m: string) => new UsageError(m);

const res = (over: Partial<AuditResult>): AuditResult => ({
  node: 'web2',
  role: 'web',
  fault: 'kill web2',
  kind: 'kill',
  detectedMs: 1500,
  failedRequests: 3,
  requests: 200,
  blackoutMs: 300,
  p99Ms: 900,
  recoveredMs: 2000,
  greenMs: 5000,
  lost: { writes: 0, files: 0, sessions: 0 },
  reported: '',
  ...over,
});

/**
 * A fault-free run (the audit's baseline): successes ending at 1, 3.5, 9, 14 s and one failure sent
 * at 10 s; `late` adds a success that ends after the run's nominal 15 s, at the run's own end.
 */
function baselineRun(late?: number): LoadHandle {
  const recorder = new MetricsRecorder();
  const at = (startMs: number, elapsedMs: number, success: boolean) => recorder.record(sample({ startMs, elapsedMs, success }));
  at(900, 100, true);
  at(3200, 300, true);
  at(8500, 500, true);
  at(10_000, 400, false);
  at(13_600, 400, true);
  if (late) at(14_500, late - 14_500, true);
  const run: LoadRun = {
    result: result({ latencyMs: { p50: 300, p95: 480, p99: 500, max: 500 } }),
    recorder,
    faultEvents: [],
    ledger: new IntegrityLedger(),
    window: { startMs: 0, endMs: late ?? 15_000 },
  };
  return {
    startedAt: 0,
    recorder,
    fault: async () => undefined,
    heal: async () => undefined,
    stop: () => undefined,
    stopped: false,
    done: Promise.resolve(run),
  };
}

describe('audit', () => {
  it('bad input is a usage error before anything: an unknown fault kind, too short a window, --users', () => {
    assert.throws(
      () => auditArgs({ faults: 'kill,melt' }, usage),
      (e: Error) => e instanceof UsageError && /unknown fault kind "melt"/.test(e.message),
    );
    assert.throws(() => auditArgs({ 'per-fault': '2s' }, usage), UsageError);
    assert.throws(() => auditArgs({ users: '0' }, usage), UsageError);
    assert.throws(() => auditArgs({ nodes: 'web2;rm' }, usage), UsageError);
    assert.deepEqual(parseKinds(undefined), ['kill', 'pause']);
    assert.deepEqual(auditArgs({ faults: 'kill', 'per-fault': '15s', users: '10', nodes: 'web2,redis' }, usage), {
      kinds: ['kill'],
      nodes: ['web2', 'redis'],
      users: 10,
      perFaultMs: 15_000,
      journey: undefined,
    });
  });

  it('the plan: every node, each kind; a partition only where the node has peers (from them); unknown nodes refused; edge exempt', () => {
    const s = labStatus();
    assert.throws(() => auditPlan(s, ['kill'], ['web9']), /unknown node "web9"/);
    const { steps } = auditPlan(s, ['kill', 'partition'], ['web2', 'redis']);
    assert.deepEqual(
      steps.map((x) => [x.node, x.req]),
      [
        ['web2', { kind: 'kill', nodes: ['web2'] }],
        ['web2', { kind: 'partition', nodes: ['web2'], from: ['web1', 'web3'] }],
        ['redis', { kind: 'kill', nodes: ['redis'] }],
      ],
    );
    const withEdge: LabStatus = { ...s, nodes: [...s.nodes, { ...s.nodes[0]!, name: 'edge', role: 'edge' as never }] };
    const plan = auditPlan(withEdge, ['kill']);
    assert.ok(!plan.steps.some((x) => x.node === 'edge'));
    assert.equal(plan.exempt[0]?.node, 'edge');
    assert.match(plan.exempt[0]!.reasons[0]!, /network/);
  });

  it('verdict: SPOF on lost data, on a long blackout, on too many failed requests; otherwise survives, with the figures', () => {
    assert.equal(verdict('web2', 'web', [res({})]).spof, false);
    assert.match(verdict('web2', 'web', [res({})]).reasons[0]!, /survived kill/);
    const lost = verdict('redis', 'cache', [res({ fault: 'kill redis', lost: { writes: 0, files: 0, sessions: 10 } })]);
    assert.deepEqual([lost.spof, lost.reasons], [true, ['kill redis: lost 10 sessions']]);
    assert.equal(verdict('x', 'lb', [res({ blackoutMs: SPOF_BLACKOUT_MS })]).spof, true);
    assert.equal(verdict('x', 'lb', [res({ blackoutMs: SPOF_BLACKOUT_MS - 1 })]).spof, false);
    assert.equal(verdict('x', 'lb', [res({ failedRequests: 21, requests: 200 })]).spof, true);
    assert.equal(verdict('x', 'lb', [res({ failedRequests: 20, requests: 200 })]).spof, false);
    // With the fault-free baseline, both limits count from what the lab does by itself.
    const own = { blackoutMs: 4000, failedRequests: 10, requests: 100, p99Ms: 900 };
    assert.equal(verdict('x', 'lb', [res({ blackoutMs: SPOF_BLACKOUT_MS + 3999 })], own).spof, false);
    const gap = verdict('x', 'lb', [res({ fault: 'kill x', blackoutMs: SPOF_BLACKOUT_MS + 4000 })], own);
    assert.deepEqual(gap.reasons, ['kill x: no request succeeded for 9.0 s (with no fault: 4.0 s)']);
    assert.equal(verdict('x', 'lb', [res({ failedRequests: 40, requests: 200 })], own).spof, false);
    const failed = verdict('x', 'lb', [res({ fault: 'kill x', failedRequests: 41, requests: 200 })], own);
    assert.deepEqual(failed.reasons, ['kill x: 41 of 200 requests failed (21 %; with no fault: 10 %)']);
    assert.match(verdict('x', 'lb', [res({ blackoutMs: 6000 })], own).reasons[0]!, /blackout ≤ 6\.0 s \(with no fault: 4\.0 s\), nothing lost/);
    assert.match(verdict('x', 'lb', [res({ failedRequests: 1 })]).reasons[0]!, /at most 1 failed request, /);
  });

  it('verdict: a fault that could not be applied measured nothing: not a SPOF on its failures, said as not measured; lost data still counts', () => {
    const frozen = res({
      fault: 'pause web1',
      kind: 'pause',
      failedRequests: 18,
      requests: 64,
      blackoutMs: 14_316,
      applied: false,
      error: 'unable to freeze',
    });
    const v = verdict('web1', 'web', [res({}), frozen]);
    assert.equal(v.spof, false);
    assert.deepEqual(v.reasons, [
      'pause web1: not measured, the fault could not be applied (unable to freeze)',
      'survived kill: at most 3 failed requests, blackout ≤ 0.3 s, nothing lost',
    ]);
    const lost = verdict('web1', 'web', [{ ...frozen, lost: { writes: 1, files: 0, sessions: 0 } }]);
    assert.equal(lost.spof, true);
    assert.match(lost.reasons[0]!, /lost 1 writes/);
  });

  it("green on a Sentinel lab: HAProxy's Redis listener has the master alone UP (its replicas DOWN is how it routes)", () => {
    const base = withEntry();
    const sentinel = (rows: [string, string][], master = 'redis1'): LabStatus => ({
      ...base,
      haproxy: { ...base.haproxy, servers: [...base.haproxy.servers, ...rows.map(([server, status]) => ({ backend: 'redis', server, status }))] },
      redis: { ...base.redis, up: true, mode: 'sentinel', master },
    });
    assert.deepEqual(labProblems(base), []);
    assert.deepEqual(
      labProblems(
        sentinel([
          ['redis1', 'UP'],
          ['redis2', 'DOWN'],
          ['redis3', 'DOWN'],
        ]),
      ),
      [],
    );
    assert.deepEqual(
      labProblems(
        sentinel([
          ['redis1', 'UP'],
          ['redis2', 'UP'],
          ['redis3', 'DOWN'],
        ]),
      ),
      ['haproxy redis: UP redis1, redis2, want the master redis1 alone'],
    );
    assert.deepEqual(
      labProblems(
        sentinel([
          ['redis1', 'DOWN'],
          ['redis2', 'UP'],
          ['redis3', 'DOWN'],
        ]),
      ),
      ['haproxy redis: UP redis2, want the master redis1 alone'],
    );
    // A web server DOWN is still not green.
    const webDown = sentinel([
      ['redis1', 'UP'],
      ['redis2', 'DOWN'],
      ['redis3', 'DOWN'],
    ]);
    webDown.haproxy.servers = webDown.haproxy.servers.map((x) => (x.server === 'web2' ? { ...x, status: 'DOWN' } : x));
    assert.deepEqual(labProblems(webDown), ['haproxy web/web2 DOWN']);
    // Every role's own section at once: the lab-wide part first, then each role's in display order.
    const all = withEntry();
    all.haproxy.servers = all.haproxy.servers.map((x) => (x.server === 'web2' ? { ...x, status: 'MAINT' } : x));
    all.galera = { ...all.galera, status: 'non-Primary', clusterSize: 1 };
    all.gluster = { ...all.gluster, healPending: 2, writable: false, writeError: 'EROFS' };
    all.redis = { ...all.redis, up: false, error: 'ECONNREFUSED' };
    assert.deepEqual(labProblems(all, [{ id: 'f1', kind: 'pause', nodes: ['web1'], detail: 'pause web1', appliedAt: '' }]), [
      'haproxy web/web2 MAINT',
      'galera non-Primary size 1, 3/3 Synced',
      'gluster 2 pending heal',
      'gluster not writable: EROFS',
      'redis ECONNREFUSED',
      'faults still active: pause web1',
    ]);
  });

  it('runs each fault in its own paced load (fault, heal on schedule), waits for green, and reports per node', async () => {
    const status = withEntry();
    assert.deepEqual(labProblems(status), [], 'the synthetic lab is green');
    const calls: string[] = [];
    const lab = {
      lab: 'audit-t',
      status: async () => status,
      fault: async (req: FaultRequest) => void calls.push(`fault ${req.kind} ${req.nodes.join(',')}`),
      heal: async (node?: string) => void calls.push(`heal ${node ?? ''}`),
    };
    const opts: LoadOptions[] = [];
    const startLoad = (_t: unknown, o: LoadOptions): LoadHandle => {
      opts.push(o);
      if (!o.faults.length) return baselineRun();
      const redis = o.faults[0]!.req.nodes[0] === 'redis';
      const run: LoadRun = {
        result: result({
          faults: [
            {
              fault: o.faults[0]!.text,
              source: 'injected',
              atMs: o.faults[0]!.atMs,
              detectedMs: null,
              failedRequests: redis ? 80 : 2,
              requests: 100,
              blackoutMs: redis ? 6000 : 200,
              recoveredMs: 900,
              p99Ms: 50,
            },
          ],
          integrity: { dbWrites: 5, files: 5, sessions: 3, lostDbWrites: [], lostFiles: [], lostSessions: redis ? ['u1', 'u2', 'u3'] : [], unchecked: [] },
        }),
        recorder: new MetricsRecorder(),
        faultEvents: [],
        ledger: new IntegrityLedger(),
        window: { startMs: 0, endMs: 0 },
      };
      return {
        startedAt: 0,
        recorder: run.recorder,
        fault: async () => undefined,
        heal: async () => undefined,
        stop: () => undefined,
        stopped: false,
        done: Promise.resolve(run),
      };
    };
    const lines: string[] = [];
    const a = await runAudit(
      lab,
      { kinds: ['kill'], nodes: ['web2', 'redis'], users: 10, perFaultMs: 15_000, journey: 'probe', greenTimeoutMs: 5000 },
      { startLoad: startLoad as never, progress: (l) => lines.push(l), host: () => ({ load: 1.26 + opts.length, cpus: 2 }) },
    );
    assert.deepEqual(
      opts.map((o) => [o.users, o.durationMs, o.faults[0]?.req, o.faults[0]?.atMs, o.healAtMs]),
      [
        [10, 15_000, undefined, undefined, undefined],
        [10, 15_000, { kind: 'kill', nodes: ['web2'] }, 3000, 10_500],
        [10, 15_000, { kind: 'kill', nodes: ['redis'] }, 3000, 10_500],
      ],
    );
    assert.deepEqual(
      a.nodes.map((n) => [n.node, n.spof]),
      [
        ['web2', false],
        ['redis', true],
      ],
    );
    assert.deepEqual(a.results[1]!.lost, { writes: 0, files: 0, sessions: 3 });
    assert.ok(lines.some((l) => /\[1\/2\] kill web2/.test(l)));
    // The fault-free run first, measured over a fault's window (3 s → the end): the sample before
    // 3 s is not counted; the longest stretch without a success is 3.5 → 9 s.
    assert.deepEqual(a.baseline, { blackoutMs: 5500, failedRequests: 1, requests: 4, p99Ms: a.baseline!.p99Ms, hostLoad: 2.3 });
    // The host's load average as each run ended, and its cores: whether the figures are the host's.
    assert.deepEqual(
      a.results.map((r) => r.hostLoad),
      [3.3, 4.3],
    );
    assert.deepEqual(a.host, { cpus: 2 });
    assert.ok(a.baseline!.p99Ms! >= 400, `p99 ${a.baseline!.p99Ms}`);
    assert.ok(
      lines.some((l) => /baseline: 1\/4 failed, longest gap 5500 ms/.test(l)),
      lines.join('\n'),
    );
    assert.match(formatAudit(a), /no fault \(baseline\)\s+detected\s+— ms\s+failed\s+1\/4\s+blackout\s+5500 ms/);

    const html = renderAuditHtml([{ report: a, nodes: status.nodes.map((n) => ({ name: n.name, role: n.role })) }]);
    assert.match(html, /<tr class="row-baseline">.*?no fault \(baseline\).*?<td class="n">5,500<\/td>/);
    assert.match(html, /<td class="n">4\.3<\/td><td>0\/0\/3<\/td>/, 'the host load beside the lost counts');
    assert.match(html, /data-node="redis" data-verdict="spof"/);
    assert.match(html, /data-node="web2" data-verdict="ok"/);
    assert.doesNotMatch(html, /<script|src=|href="http/);
    const junit = auditJUnit(a);
    assert.match(junit, /tests="2" failures="1"/);
    assert.match(junit, /name="redis \(cache\)"><failure message="single point of failure: kill redis: lost 3 sessions/);
  });

  it('the baseline is measured over a fault’s window on the run’s own clock: a request that ends after the nominal end counts, as in a fault’s', async () => {
    const status = withEntry();
    const lab = { lab: 'audit-t', status: async () => status, fault: async () => undefined, heal: async () => undefined };
    const startLoad = (_t: unknown, o: LoadOptions): LoadHandle => {
      if (!o.faults.length) return baselineRun(20_600);
      const run: LoadRun = {
        result: result(),
        recorder: new MetricsRecorder(),
        faultEvents: [],
        ledger: new IntegrityLedger(),
        window: { startMs: 0, endMs: 0 },
      };
      return { ...baselineRun(), done: Promise.resolve(run) };
    };
    const a = await runAudit(
      lab,
      { kinds: ['kill'], nodes: ['web2'], users: 1, perFaultMs: 15_000, journey: 'probe', greenTimeoutMs: 5000 },
      { startLoad: startLoad as never, host: () => ({ load: 0.5, cpus: 2 }) },
    );
    // 14 s → 20.6 s without a success: the run ended at 20.6 s (the nominal end, 15 s, would hide it).
    assert.equal(a.baseline?.blackoutMs, 6600);
    assert.equal(a.baseline?.requests, 5);
  });

  it('cancelled: the run stops, the lab is healed, the report says so', async () => {
    const status = withEntry();
    const calls: string[] = [];
    const lab = { lab: 'audit-t', status: async () => status, fault: async () => undefined, heal: async () => void calls.push('heal') };
    const abort = new AbortController();
    const startLoad = (): LoadHandle => {
      let finish!: (r: LoadRun) => void;
      const done = new Promise<LoadRun>((r) => (finish = r));
      setTimeout(() => abort.abort(), 10);
      return {
        startedAt: 0,
        recorder: new MetricsRecorder(),
        fault: async () => undefined,
        heal: async () => undefined,
        stop: () =>
          finish({ result: result(), recorder: new MetricsRecorder(), faultEvents: [], ledger: new IntegrityLedger(), window: { startMs: 0, endMs: 0 } }),
        stopped: false,
        done,
      };
    };
    const a = await runAudit(
      lab,
      { kinds: ['kill', 'pause'], nodes: ['web2'], users: 1, perFaultMs: 10_000, journey: 'probe', greenTimeoutMs: 5000 },
      { startLoad: startLoad as never, signal: abort.signal },
    );
    assert.equal(a.cancelled, true);
    assert.equal(a.results.length, 0);
    assert.deepEqual(calls, ['heal']);
  });

  it('--compare: a bad design is a usage error before any lab; both designs audited one after the other, side by side, labs it created destroyed', async () => {
    const made: string[] = [];
    const io = { out: (t: string) => void (out += t), err: () => undefined };
    let out = '';
    const checkRef = (r: string) => (r === 'nope' ? 'unknown topology "nope"' : undefined);
    await assert.rejects(
      compareCommand(['ha', 'nope'], {}, io, usage, { checkRef, designLab: async () => assert.fail('no lab before the input is checked') }),
      (e: Error) => e instanceof UsageError && /nope/.test(e.message),
    );
    const full = withEntry();
    const single: LabStatus = {
      ...full,
      nodes: full.nodes.filter((n) => ['haproxy', 'web1', 'galera1'].includes(n.name)),
      haproxy: { ...full.haproxy, servers: full.haproxy.servers.filter((x) => x.server !== 'web2' && x.server !== 'web3') },
      galera: { ...full.galera, clusterSize: 1, nodes: full.galera.nodes.filter((n) => n.name === 'galera1') },
    };
    const statuses = [single, withEntry()];
    const startLoad = (_t: unknown, o: LoadOptions): LoadHandle => {
      if (!o.faults.length) return baselineRun();
      const spof = o.faults[0]!.req.nodes[0] === 'galera1' && o.faults[0]!.req.kind === 'kill';
      const run: LoadRun = {
        result: result({
          faults: [
            {
              fault: o.faults[0]!.text,
              source: 'injected',
              atMs: 0,
              detectedMs: 1,
              failedRequests: spof ? 90 : 0,
              requests: 100,
              blackoutMs: spof ? 9000 : 100,
              recoveredMs: 1,
            },
          ],
        }),
        recorder: new MetricsRecorder(),
        faultEvents: [],
        ledger: new IntegrityLedger(),
        window: { startMs: 0, endMs: 0 },
      };
      return {
        startedAt: 0,
        recorder: run.recorder,
        fault: async () => undefined,
        heal: async () => undefined,
        stop: () => undefined,
        stopped: false,
        done: Promise.resolve(run),
      };
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-cmp-'));
    const code = await compareCommand(
      ['single', 'ha'],
      { faults: 'kill', nodes: 'galera1', users: '5', 'per-fault': '10s', journey: 'probe', report: path.join(dir, 'c.html'), json: true },
      io,
      usage,
      {
        checkRef,
        startLoad: startLoad as never,
        designLab: async (ref, i) => {
          made.push(`up ${ref}`);
          const st = statuses[i]!;
          return {
            lab: { lab: `l${i}`, status: async () => st, fault: async () => undefined, heal: async () => undefined },
            created: true,
            idleMemoryBytes: async () => (i + 1) * 2 ** 30,
            destroy: async () => void made.push(`destroy ${ref}`),
          };
        },
      },
    );
    assert.equal(code, 0);
    assert.deepEqual(made, ['up single', 'destroy single', 'up ha', 'destroy ha']);
    const j = JSON.parse(out) as {
      compare: { topology: string; idleMemoryBytes: number; nodes: { node: string; spof: boolean }[] }[];
      diff: { node: string; changed: boolean }[];
    };
    assert.deepEqual(
      j.compare.map((r) => [r.topology, r.idleMemoryBytes, r.nodes.map((n) => n.spof)]),
      [
        ['single', 2 ** 30, [true]],
        ['ha', 2 ** 31, [true]],
      ],
    );
    const html = fs.readFileSync(path.join(dir, 'c.html'), 'utf8');
    assert.match(html, /class="side"/);
    assert.match(html, /1,024 MiB[\s\S]*2,048 MiB/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
