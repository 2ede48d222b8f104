import { strict as assert } from 'node:assert';
import { parseScenario } from '../../src/scenarios/parse';
import { checkState, metricOf } from '../../src/scenarios/runner';
import { FakeLab, fakeLoads, result, runner } from '../support/scenario-lab';
import { syntheticStatus } from '../support/lab-snapshot';

describe('scenario runner', () => {
  it('runs the steps in order; faults and heals during a load go through the load run; metric asserts read its result', async () => {
    const lab = new FakeLab('lab');
    const loads = fakeLoads([result({ failures: 0, apdex: 0.9 })]);
    const s = parseScenario(
      [
        'name: t',
        'steps:',
        '  - up',
        '  - say: hello',
        '  - load: { users: 5, duration: 10s, throughput: 120 }',
        '  - fault: kill web2',
        '  - heal',
        '  - load: wait',
        '  - assert: { failures: 0, apdex: ">= 0.85" }',
      ].join('\n'),
      't.yaml',
    );
    const r = await runner({ lab }, loads).run(s);
    assert.equal(r.passed, true, JSON.stringify(r.steps));
    assert.deepEqual(lab.calls, ['up ha']);
    assert.deepEqual(loads.log, ['load-fault kill web2', 'load-heal']);
    assert.equal(loads.opts[0]!.throughputPerMin, 120);
    assert.equal(loads.opts[0]!.thinkMinMs, 0, "paced runs have no think time unless asked (as Moodle's JMeter plan)");
    assert.equal(r.apdex, 0.9);
    assert.equal(r.runs.length, 1);
    assert.deepEqual(
      r.steps.map((x) => x.line),
      [3, 4, 5, 6, 7, 8, 9],
    );
    assert.ok(r.timeline.some((e) => e.kind === 'say' && e.text === 'hello'));
  });

  it('a failed metric assert fails the scenario but the steps after it still run', async () => {
    const lab = new FakeLab('lab');
    const s = parseScenario(
      ['name: t', 'steps:', '  - up', '  - load: { users: 5, duration: 1s }', '  - load: wait', '  - assert: { failures: 0 }', '  - say: after'].join('\n'),
      't.yaml',
    );
    const r = await runner({ lab }, fakeLoads([result({ failures: 3 })])).run(s);
    assert.equal(r.passed, false);
    assert.match(r.steps[3]!.detail!, /failures is 3, expected == 0/);
    assert.equal(r.steps[4]!.passed, true);
  });

  it('a failed action ends the scenario: the rest is not run, the load is stopped', async () => {
    const lab = new FakeLab('lab');
    lab.failFault = 'no such container';
    const loads = fakeLoads([]);
    const s = parseScenario(
      ['name: t', 'steps:', '  - up', '  - load: { users: 5, duration: 60s }', '  - wait: 1s', '  - fault: stop web2', '  - say: never'].join('\n'),
      't.yaml',
    );
    // The fault goes through the load run here: make that one fail.
    const start = loads.start;
    const r = await runner(
      { lab },
      {
        ...loads,
        start: (t, o) => {
          const h = start(t, o);
          return { ...h, done: h.done, fault: async () => Promise.reject(new Error('no such container')) };
        },
      },
    ).run(s);
    assert.equal(r.passed, false);
    assert.match(r.steps[3]!.detail!, /no such container/);
    assert.match(r.steps[4]!.detail!, /^not run: step 4/);
  });

  it('preflight: a lab that exists with another topology is an error before anything is touched', async () => {
    const lab = new FakeLab('lab', 'single');
    const s = parseScenario(['name: t', 'steps:', '  - up', '  - fault: kill web2'].join('\n'), 't.yaml');
    await assert.rejects(runner({ lab }).run(s), /needs lab "lab" with the ha topology, but it exists with the single topology/);
    assert.deepEqual(lab.calls, []);
  });

  it('another preset runs on a sibling lab; compare builds the table from the named runs', async () => {
    const labs = { lab: new FakeLab('lab') };
    const loads = fakeLoads([result({ failures: 4, apdex: 0.5 }), result({ failures: 0, apdex: 0.95 })]);
    const s = parseScenario(
      [
        'name: t',
        'topology: { preset: ha }',
        'steps:',
        '  - up: { preset: single }',
        '  - load: { name: single, users: 5, duration: 1s }',
        '  - load: wait',
        '  - down',
        '  - up: { preset: ha }',
        '  - load: { name: ha, users: 5, duration: 1s }',
        '  - load: wait',
        '  - compare: [single, ha]',
      ].join('\n'),
      't.yaml',
    );
    const r = await runner(labs, loads).run(s);
    const all = labs as Record<string, FakeLab>;
    assert.deepEqual(all['lab-single']!.calls, ['up single', 'down']);
    assert.deepEqual(all.lab!.calls, ['up ha']);
    assert.deepEqual(r.comparison!.runs, ['single', 'ha']);
    assert.deepEqual(r.comparison!.rows.find((x) => x.metric === 'failures')!.values, [4, 0]);
    assert.deepEqual(r.comparison!.rows.find((x) => x.metric === 'apdex')!.values, [0.5, 0.95]);
    assert.deepEqual(
      r.runs.map((x) => `${x.name}@${x.lab}`),
      ['single@lab-single', 'ha@lab'],
    );
  });

  it('state asserts poll until they hold or the time is up', async () => {
    const lab = new FakeLab('lab');
    let n = 0;
    lab.status = async () => {
      n++;
      return { ...syntheticStatus(n > 3 ? 1 : 0), lab: 'lab', endpoints: { moodle: 'http://localhost:1' } };
    };
    const s = parseScenario(
      ['name: t', 'steps:', '  - up', '  - assert: { unhealthy: [web2], haproxy: { web2: DOWN }, within: 5s }', '  - assert: { galeraSize: 2 }'].join('\n'),
      't.yaml',
    );
    const r = await runner({ lab }).run(s);
    assert.equal(r.steps[1]!.passed, true, r.steps[1]!.detail);
    assert.equal(r.steps[2]!.passed, false);
    assert.match(r.steps[2]!.detail!, /Galera cluster size is 3, expected == 2/);
  });

  it('metrics and state predicates on their own', () => {
    const r = result({ faults: [{ fault: 'kill web2', atMs: 1, detectedMs: 900, failedRequests: 1, blackoutMs: 0, recoveredMs: null }] });
    assert.equal(metricOf(r, 'detection'), 900);
    assert.equal(metricOf(r, 'recovery'), Infinity);
    assert.equal(metricOf(r, 'failedDuringFaults'), 1);
    assert.equal(metricOf(result(), 'lostWrites'), null);
    const st = syntheticStatus(1);
    assert.deepEqual(checkState(st, { healthy: ['web1'], unhealthy: ['web2'], redisUp: true }), []);
    assert.deepEqual(checkState(st, { healthy: ['web2'] }), ['web2 is not healthy (exited)']);
  });
  it("a link fault's step carries the method the lab's status reports right after it (timeline, detail, result); other kinds none", async () => {
    const lab = new FakeLab('lab');
    const methods = ['nfqueue', 'netem'];
    const fault = lab.fault.bind(lab);
    lab.fault = async (req) => {
      await fault(req);
      // What the lab says once the injector applied it (status impairments[]), not what was asked.
      if (req.kind !== 'delay') return;
      const method = methods.shift()!;
      lab.status_ = {
        ...lab.status_,
        impairments: [
          { node: 'web1', kind: 'loss', method: 'tbf', faultId: 'f0', inForce: true },
          {
            node: req.nodes[0]!,
            kind: 'delay',
            method,
            faultId: 'f1',
            delayMs: req.delayMs,
            inForce: method === 'nfqueue',
            ...(method === 'netem' ? { problem: 'web3 is exited' } : {}),
          },
        ],
      };
    };
    const s = parseScenario(
      ['name: t', 'steps:', '  - up', '  - fault: delay web3 300', '  - fault: stop web2', '  - fault: delay galera3 100 to galera1,galera2'].join('\n'),
      't.yaml',
    );
    const r = await runner({ lab }, fakeLoads([])).run(s);
    assert.deepEqual(r.steps[1]!.impairments, [{ node: 'web3', kind: 'delay', method: 'nfqueue', inForce: true }]);
    assert.equal(r.steps[1]!.detail, 'delay web3 300ms (method nfqueue)');
    assert.equal(r.steps[2]!.impairments, undefined, 'stop is no link fault');
    assert.deepEqual(r.steps[3]!.impairments, [{ node: 'galera3', kind: 'delay', method: 'netem', inForce: false, problem: 'web3 is exited' }]);
    assert.match(r.steps[3]!.detail!, /\(method netem, not in force: web3 is exited\)$/);
    assert.ok(r.timeline.some((e) => e.kind === 'fault' && e.text === 'delay web3 300ms (method nfqueue)'));
  });
});
