import { strict as assert } from 'node:assert';
import { labProblems, losesSessions, RanWindow, shouldSurvive, splitFailures, spread } from '../../bench/soak-checks';
import { describeWindow, mulberry32, PlanNode, SOAK_KINDS, SOAK_ROLES, soakPlan } from '../../bench/soak-plan';
import type { Sample } from '../../src/metrics/types';
import { syntheticStatus } from '../support/lab-snapshot';

/** The ha topology: HAProxy, 3 web, 3 Galera, 3 Gluster, Redis. */
const HA: PlanNode[] = [
  { name: 'haproxy', role: 'lb' },
  ...[1, 2, 3].map((i): PlanNode => ({ name: `web${i}`, role: 'web' })),
  ...[1, 2, 3].map((i): PlanNode => ({ name: `galera${i}`, role: 'db' })),
  ...[1, 2, 3].map((i): PlanNode => ({ name: `gluster${i}`, role: 'storage' })),
  { name: 'redis', role: 'cache' },
];

describe('soak plan', () => {
  it('mulberry32: the same seed gives the same floats in [0, 1); another seed others', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(
      Array.from({ length: 1000 }, () => b()),
      xs,
    );
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.ok(new Set(xs).size > 990);
    const c = mulberry32(2);
    assert.notDeepEqual(
      Array.from({ length: 10 }, () => c()),
      xs.slice(0, 10),
    );
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const one = soakPlan({ seed: 1, minutes: 30, nodes: HA });
    assert.deepEqual(soakPlan({ seed: 1, minutes: 30, nodes: HA }), one);
    assert.notDeepEqual(soakPlan({ seed: 2, minutes: 30, nodes: HA }), one);
    assert.match(describeWindow(one[0]!), /^(kill|stop|pause|disconnect|loss|delay|partition) \S+.* for \d+\.\d s$/);
  });

  it('a 30-minute plan covers every fault kind and every role, within its first windows, for many seeds', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const plan = soakPlan({ seed, minutes: 30, nodes: HA });
      assert.deepEqual(new Set(plan.map((w) => w.kind)), new Set(SOAK_KINDS), `seed ${seed}: kinds`);
      assert.deepEqual(new Set(plan.map((w) => w.role)), new Set(SOAK_ROLES), `seed ${seed}: roles`);
      // Coverage comes first (7 kinds ≥ 5 roles): the first 7 windows already cover everything,
      // so a run that gets through them has applied every kind to every role.
      const head = plan.slice(0, SOAK_KINDS.length);
      assert.equal(new Set(head.map((w) => w.kind)).size, SOAK_KINDS.length, `seed ${seed}: head kinds`);
      assert.equal(new Set(head.map((w) => w.role)).size, SOAK_ROLES.length, `seed ${seed}: head roles`);
    }
  });

  it('each window is well formed: node of its role, hold in range, partition against its peers, loss/delay with a value', () => {
    for (let seed = 1; seed <= 50; seed++) {
      for (const w of soakPlan({ seed, minutes: 30, nodes: HA })) {
        assert.equal(HA.find((n) => n.name === w.node)?.role, w.role);
        assert.ok(w.holdMs >= 10_000 && w.holdMs <= 40_000, `hold ${w.holdMs}`);
        if (w.kind === 'partition') {
          assert.ok(w.role === 'db' || w.role === 'storage', `partition on ${w.role}`);
          assert.deepEqual(
            w.from,
            HA.filter((n) => n.role === w.role && n.name !== w.node).map((n) => n.name),
          );
        } else assert.equal(w.from, undefined);
        assert.equal(w.lossPct !== undefined, w.kind === 'loss');
        assert.equal(w.delayMs !== undefined, w.kind === 'delay');
      }
    }
  });

  it('is sized for the run: holds plus estimated heals just reach the minutes', () => {
    const plan = soakPlan({ seed: 7, minutes: 30, nodes: HA, healEstimateMs: 20_000 });
    const total = plan.reduce((ms, w) => ms + w.holdMs + 20_000, 0);
    assert.ok(total >= 30 * 60_000);
    assert.ok(total - plan[plan.length - 1]!.holdMs - 20_000 < 30 * 60_000);
    assert.ok(soakPlan({ seed: 7, minutes: 3, nodes: HA }).length < plan.length);
  });

  it('gives no partition to a lab without peers, and refuses bad input', () => {
    const small: PlanNode[] = [
      { name: 'web1', role: 'web' },
      { name: 'galera1', role: 'db' },
    ];
    const plan = soakPlan({ seed: 3, minutes: 30, nodes: small });
    assert.ok(!plan.some((w) => w.kind === 'partition'));
    assert.deepEqual(new Set(plan.map((w) => w.role)), new Set(['web', 'db']));
    assert.throws(() => soakPlan({ seed: 1.5, minutes: 30, nodes: HA }), /whole number/);
    assert.throws(() => soakPlan({ seed: 1, minutes: 0, nodes: HA }), /positive/);
    assert.throws(() => soakPlan({ seed: 1, minutes: 30, nodes: [] }), /no nodes/);
  });
});

describe('soak checks', () => {
  it('labProblems: green when everything is healthy; names what is not', () => {
    assert.deepEqual(labProblems(syntheticStatus(0)), []);
    const down = syntheticStatus(1); // web2 exited and DOWN in HAProxy
    const p = labProblems(down);
    assert.ok(p.some((x) => /^web2 /.test(x)));
    assert.ok(p.some((x) => /^lab partial/.test(x)));
    assert.ok(p.some((x) => /haproxy web\/web2 DOWN/.test(x)));
    const s = syntheticStatus(0);
    s.galera.nodes[2]!.state = 'Donor/Desynced';
    s.gluster.healPending = 4;
    s.redis.up = false;
    const q = labProblems(s, [{ id: 'f1', kind: 'pause', nodes: ['web1'], detail: 'pause web1', appliedAt: '' }]);
    assert.ok(q.some((x) => /2\/3 Synced/.test(x)));
    assert.ok(q.some((x) => /4 pending heal/.test(x)));
    assert.ok(q.some((x) => /^redis/.test(x)));
    assert.ok(q.some((x) => /pause web1/.test(x)));
  });

  it('only a Redis restart loses sessions; a session set after its heal must survive', () => {
    assert.ok(losesSessions('kill', 'cache') && losesSessions('stop', 'cache'));
    assert.ok(!losesSessions('pause', 'cache') && !losesSessions('disconnect', 'cache') && !losesSessions('kill', 'web'));
    const windows: RanWindow[] = [
      { kind: 'kill', role: 'web', appliedAtMs: 1000, greenAtMs: 2000 },
      { kind: 'stop', role: 'cache', appliedAtMs: 3000, greenAtMs: 4000 },
      { kind: 'kill', role: 'cache', appliedAtMs: 5000, greenAtMs: 6000, skipped: true },
    ];
    assert.equal(shouldSurvive(500, windows), false); // set before the Redis stop
    assert.equal(shouldSurvive(3500, windows), false); // set while Redis was restarting
    assert.equal(shouldSurvive(4500, windows), true); // after it (the skipped window changes nothing)
    assert.equal(shouldSurvive(500, windows.slice(0, 1)), true); // a web kill loses no session
  });

  it('splits failed requests by the window they were sent in; spread of heal times', () => {
    const sample = (startMs: number, success: boolean): Sample => ({
      label: 'x',
      startMs,
      intendedStartMs: startMs,
      elapsedMs: 1,
      success,
      status: success ? 200 : 503,
      message: '',
      bytes: 0,
      sentBytes: 0,
      thread: 'vu 1',
      url: '',
      activeThreads: 1,
    });
    const windows: RanWindow[] = [
      { kind: 'kill', role: 'lb', appliedAtMs: 1000, greenAtMs: 2000 },
      { kind: 'pause', role: 'db', appliedAtMs: 3000, greenAtMs: 4000 },
    ];
    const s = splitFailures([sample(500, false), sample(1500, false), sample(1600, true), sample(3500, false), sample(3600, false)], windows);
    assert.deepEqual(s, { requests: 5, failed: 4, duringLbCache: 1, duringOther: 2, betweenFaults: 1 });
    assert.deepEqual(spread([30, 10, 20, 40]), { min: 10, median: 25, max: 40 });
    assert.equal(spread([]), undefined);
  });
});
