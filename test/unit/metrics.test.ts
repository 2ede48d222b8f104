import { strict as assert } from 'node:assert';
import { ApdexCounter, apdexScore } from '../../src/metrics/apdex';
import { analyseFaults, longestBlackout } from '../../src/metrics/failover';
import { formatSummary, JTL_HEADER, loadResult, toJtl } from '../../src/metrics/export';
import { LatencyHistogram } from '../../src/metrics/histogram';
import { MetricsRecorder, WindowStats } from '../../src/metrics/recorder';
import type { ComponentSnapshot, Sample } from '../../src/metrics/types';
import { sample } from '../support/samples';

/** Nearest-rank percentile of a sorted array (and its neighbours: HDR rounds the rank to nearest). */
function reference(sorted: number[], p: number): number[] {
  const k = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return [sorted[k - 1] ?? sorted[k]!, sorted[k]!, sorted[k + 1] ?? sorted[k]!];
}

describe('metrics', () => {
  it('Apdex: T 500, F 1500, failed = frustrated, (S + T/2) / total', () => {
    const a = new ApdexCounter();
    for (const [ms, ok] of [
      [100, true],
      [500, true],
      [501, true],
      [1500, true],
      [1501, true],
      [20, false],
    ] as const)
      a.add(ms, ok);
    assert.deepEqual({ s: a.satisfied, t: a.tolerating, f: a.frustrated }, { s: 2, t: 2, f: 2 });
    assert.equal(a.score, 0.5);
    assert.equal(apdexScore({ satisfied: 94, tolerating: 0, frustrated: 6 }), 0.94);
    assert.equal(apdexScore({ satisfied: 0, tolerating: 0, frustrated: 0 }), 1);
  });

  it('HDR percentiles match a sorted-array reference within 0.1 %', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values = Array.from({ length: 20_000 }, () => Math.exp(4 + 1.2 * Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd())));
    const h = new LatencyHistogram();
    for (const v of values) h.record(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [50, 90, 95, 99, 99.9]) {
      const refs = reference(sorted, p);
      const got = h.percentile(p);
      assert.ok(
        refs.some((ref) => Math.abs(got - ref) <= ref * 0.001 + 0.002),
        `p${p}: ${got} vs ${refs.join(' / ')}`,
      );
    }
    assert.ok(Math.abs(h.maxMs - sorted.at(-1)!) <= sorted.at(-1)! * 0.001);
    assert.equal(h.count, 20_000);
  });

  it('recorder: overall, per label, per node, corrected latency, 1 s windows', () => {
    const m = new MetricsRecorder();
    const windows: WindowStats[] = [];
    m.onWindow((w) => windows.push(w));
    m.record(sample({ label: 'a', startMs: 1000, elapsedMs: 100, node: 'web1' }));
    m.record(sample({ label: 'a', startMs: 1200, elapsedMs: 100, node: 'web2', success: false, status: 502, message: 'HTTP 502' }));
    // Sent 2 s late because the previous request hung: latency counts from the intended start.
    m.record(sample({ label: 'b', startMs: 5000, intendedStartMs: 3000, elapsedMs: 200, node: 'web1' }));
    assert.equal(m.requests, 3);
    assert.equal(m.failures, 1);
    assert.equal(m.byLabel.get('a')!.requests, 2);
    assert.equal(m.byNode.get('web1')!.requests, 2);
    assert.equal(m.corrected, 1);
    assert.ok(Math.abs(m.latency().max - 2200) < 3);
    assert.ok(Math.abs(m.uncorrected.maxMs - 200) < 1);
    m.tick(10_000);
    assert.deepEqual(
      windows.map((w) => [w.atMs, w.requests, w.failures]),
      [
        [1000, 2, 1],
        [5000, 1, 0],
      ],
    );
    assert.equal(m.throughputRps(), 3 / 4.2);
  });

  it('blackout: longest stretch without a successful completion, tail only when failures continue', () => {
    const s = [
      sample({ startMs: 0, elapsedMs: 100 }), // ends 100
      sample({ startMs: 200, elapsedMs: 100 }), // ends 300
      sample({ startMs: 400, elapsedMs: 50, success: false }),
      sample({ startMs: 500, elapsedMs: 2000 }), // hung, then answered: ends 2500
      sample({ startMs: 2600, elapsedMs: 100 }), // ends 2700
    ];
    assert.equal(longestBlackout(s, 0, 10_000), 2200);
    assert.equal(longestBlackout(s, 1000, 10_000), 1500);
    // Failing to the end: the blackout runs until the last failure ended.
    const tail = [sample({ startMs: 0, elapsedMs: 100 }), sample({ startMs: 500, elapsedMs: 4000, success: false })];
    assert.equal(longestBlackout(tail, 0, 10_000), 4400);
  });

  it('failover: detection from polled snapshots, failed requests, p99/max, recovery after heal', () => {
    const t0 = 100_000;
    const samples: Sample[] = [];
    for (let t = t0 - 5000; t < t0 + 20_000; t += 100)
      samples.push(sample({ startMs: t, elapsedMs: t >= t0 && t < t0 + 300 ? 1200 : 50, success: !(t >= t0 + 300 && t < t0 + 500) }));
    const snaps: ComponentSnapshot[] = [];
    for (let t = t0 - 5000; t < t0 + 20_000; t += 250) {
      const down = t >= t0 + 1250 && t < t0 + 12_500;
      snaps.push({ atMs: t, haproxy: [{ backend: 'web', server: 'web2', status: down ? 'DOWN' : t >= t0 + 500 && t < t0 + 1250 ? 'UP 1/2' : 'UP' }] });
    }
    const [f] = analyseFaults(samples, [{ fault: 'kill web2', kind: 'kill', nodes: ['web2'], atMs: t0, healAtMs: t0 + 10_000 }], snaps, t0 + 20_000);
    assert.equal(f!.detectedMs, 1250);
    assert.equal(f!.failedRequests, 2);
    assert.equal(f!.recoveredMs, 2500);
    assert.equal(f!.recoveredBy, 'heal');
    assert.ok(Math.abs(f!.maxMs - 1200) < 2);
    assert.equal(f!.blackoutMs, 550); // hung (1200 ms) then failing requests: the first success after the fault ends at +550
  });

  it('failover: Galera size drop and a brick going offline count as detection; no heal = service recovery', () => {
    const t0 = 50_000;
    const samples = [
      sample({ startMs: t0 + 100, elapsedMs: 3000, label: 'db-write' }),
      sample({ startMs: t0 + 200, elapsedMs: 100, success: false, label: 'db-write' }),
      sample({ startMs: t0 + 3200, elapsedMs: 100, label: 'db-write' }),
    ];
    const snaps: ComponentSnapshot[] = [
      { atMs: t0 - 1000, galeraSize: 3, bricks: [{ name: 'gluster2', online: true }] },
      { atMs: t0 + 900, galeraSize: 3, bricks: [{ name: 'gluster2', online: false }] },
      { atMs: t0 + 2100, galeraSize: 2, bricks: [{ name: 'gluster2', online: false }] },
    ];
    const [db] = analyseFaults(samples, [{ fault: 'kill galera1', kind: 'kill', nodes: ['galera1'], atMs: t0 }], snaps, t0 + 5000);
    assert.equal(db!.detectedMs, 2100);
    assert.equal(db!.recoveredBy, 'service');
    assert.equal(db!.recoveredMs, 300);
    assert.equal(db!.blackoutByLabel['db-write'], 3100);
    const [brick] = analyseFaults(samples, [{ fault: 'kill gluster2', kind: 'kill', nodes: ['gluster2'], atMs: t0 }], snaps, t0 + 5000);
    assert.equal(brick!.detectedMs, 900);
    const [failed] = analyseFaults(
      samples,
      [{ fault: 'kill web9', kind: 'kill', nodes: ['web9'], atMs: t0, error: 'could not inject: unknown node' }],
      snaps,
      t0 + 5000,
    );
    assert.equal(failed!.detectedMs, undefined);
    assert.match(failed!.error!, /could not inject/);
  });

  it('JTL: JMeter header, one row per sample, epoch ms, success true/false, CSV quoting', () => {
    const s = [
      sample({ startMs: 1_700_000_000_123.4, label: 'login' }),
      sample({ startMs: 1_700_000_000_500, success: false, status: 0, message: 'ECONNRESET: socket hang up, "x"' }),
    ];
    const lines = toJtl(s).trimEnd().split('\n');
    assert.equal(lines[0], JTL_HEADER);
    assert.equal(
      JTL_HEADER,
      'timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect',
    );
    assert.equal(lines.length, 1 + s.length);
    assert.match(lines[1]!, /^1700000000123,100,login,200,OK,vu 1,text,true,,10,0,1,1,http:\/\/localhost\/,100,0,0$/);
    assert.match(lines[2]!, /,false,"ECONNRESET: socket hang up, ""x""",/);
  });

  it('load --json shape: the contract keys, and a human summary', () => {
    const m = new MetricsRecorder();
    m.record(sample({ startMs: 0, label: 'login', elapsedMs: 700 }));
    m.record(sample({ startMs: 10, label: 'front', success: false }));
    const r = loadResult({ recorder: m, users: 2, durationMs: 60_000, startMs: 0, faults: [] });
    for (const k of ['users', 'durationS', 'requests', 'failures', 'errorRate', 'apdex', 'latencyMs', 'throughputRps', 'byLabel', 'faults'])
      assert.ok(k in r, k);
    assert.deepEqual(Object.keys(r.latencyMs), ['p50', 'p95', 'p99', 'max']);
    assert.deepEqual(Object.keys(r.byLabel.login!), ['requests', 'failures', 'p95']);
    assert.equal(r.durationS, 60);
    assert.equal(r.errorRate, 0.5);
    assert.equal(r.apdex, 0.25);
    assert.match(formatSummary(r), /2 requests, 1 failed \(50\.00 %\)/);
  });
});
