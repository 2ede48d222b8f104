import { strict as assert } from 'node:assert';
import {
  capacityOf,
  CapacityStep,
  durationFlag,
  injectedFault,
  meets,
  nextRate,
  parseBenchArgs,
  spread,
  stepPasses,
  summaryRows,
  UsageError,
} from '../../bench/runs';
import { confId, disconnectLines, downEvents, isClientLog, serverStats, wentDown } from '../../bench/false-alarm-checks';

const step = (perMin: number, p95Ms: number, failures = 0): CapacityStep => ({ perMin, p95Ms, failures, requests: perMin / 2 });

describe('bench runs: arguments', () => {
  it('defaults: BENCH_LAB, then the fallback; 3 runs; journey auto', () => {
    assert.deepEqual(parseBenchArgs([], { runs: 3 }, {}, 'mlt-load'), { lab: 'mlt-load', runs: 3, journey: 'auto', extra: {} });
    assert.equal(parseBenchArgs([], { runs: 3 }, { BENCH_LAB: 'x1' }, 'mlt-load').lab, 'x1');
  });

  it('reads --lab, --runs, --journey and the bench flags', () => {
    const a = parseBenchArgs(['--lab', 'cap-a', '--runs', '5', '--journey', 'probe', '--minutes', '2m'], { runs: 3, flags: { minutes: '10m' } }, {}, 'x');
    assert.deepEqual(a, { lab: 'cap-a', runs: 5, journey: 'probe', extra: { minutes: '2m' } });
    assert.equal(durationFlag(a, 'minutes'), 120_000);
  });

  it('a --topology lab is named after it unless named', () => {
    assert.equal(parseBenchArgs(['--topology', 'single'], { runs: 0 }, {}, 'x').lab, 'bench-single');
    assert.equal(parseBenchArgs(['--topology', 'ha', '--lab', 'cap-c'], { runs: 0 }, {}, 'x').lab, 'cap-c');
  });

  it('bad input: one clear error each', () => {
    const bad: [string[], RegExp][] = [
      [['--runs', '0'], /--runs "0"/],
      [['--runs', '2.5'], /--runs "2.5"/],
      [['--runs'], /--runs needs a value/],
      [['--journey', 'jmeter'], /--journey "jmeter"/],
      [['--topology', 'huge'], /--topology "huge"/],
      [['--lab', 'Bad Name'], /--lab "Bad Name"/],
      [['--moodle-source', '/src'], /needs --topology/],
      [['--what'], /unknown argument "--what"/],
    ];
    for (const [argv, re] of bad)
      assert.throws(
        () => parseBenchArgs(argv, { runs: 3 }, {}, 'x'),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
        argv.join(' '),
      );
    // --runs is unknown to a bench without runs.
    assert.throws(() => parseBenchArgs(['--runs', '3'], { runs: 0 }, {}, 'x'), /unknown argument "--runs"/);
    assert.throws(() => durationFlag(parseBenchArgs(['--minutes', 'soon'], { runs: 0, flags: { minutes: '10m' } }, {}, 'x'), 'minutes'), UsageError);
    assert.throws(() => durationFlag(parseBenchArgs(['--minutes', '0s'], { runs: 0, flags: { minutes: '10m' } }, {}, 'x'), 'minutes'), /more than 0/);
  });
});

describe('bench runs: min/median/max', () => {
  it('odd and even counts; missing runs are counted, not averaged in', () => {
    assert.deepEqual(spread([900, 300, 600]), { min: 300, median: 600, max: 900, n: 3, missing: 0 });
    assert.deepEqual(spread([400, 100, 300, 200]), { min: 100, median: 250, max: 400, n: 4, missing: 0 });
    assert.deepEqual(spread([500, undefined, 700]), { min: 500, median: 600, max: 700, n: 2, missing: 1 });
    assert.equal(spread([undefined, NaN]), undefined);
  });

  it('the target is met on the median, and never with a run that has no figure', () => {
    assert.equal(meets({ name: 'd', values: [800, 1200, 900], targetMs: 1000 }), 'yes');
    assert.equal(meets({ name: 'd', values: [1100, 1200, 900], targetMs: 1000 }), 'NO');
    assert.equal(meets({ name: 'd', values: [800, undefined, 900], targetMs: 1000 }), 'NO');
    assert.equal(meets({ name: 'd', values: [800] }), '-');
  });

  it('the table: a row per figure with runs, min, median, max, target and verdict', () => {
    const rows = summaryRows([
      { name: 'detected ms', values: [700, 650, 1200], targetMs: 1000 },
      { name: 'failed', values: [undefined, undefined, undefined] },
    ]);
    assert.deepEqual(rows[1], ['detected ms', '3/3', 650, 700, 1200, '≤ 1000', 'yes']);
    assert.deepEqual(rows[2], ['failed', '0/3', '—', '—', '—', '—', '-']);
  });
});

describe('bench runs: the capacity search', () => {
  it('doubles while steps pass, bisects once after the first failure, then stops', () => {
    const steps: CapacityStep[] = [];
    const next = () => nextRate(steps, 1000, 120, 100_000);
    assert.equal(next(), 120);
    steps.push(step(120, 200));
    assert.equal(next(), 240);
    steps.push(step(240, 300));
    assert.equal(next(), 480);
    steps.push(step(480, 1500));
    assert.equal(next(), 360);
    steps.push(step(360, 900));
    assert.equal(next(), undefined);
    assert.equal(capacityOf(steps, 1000), 360);
  });

  it('a failure (any failed request) fails a step however fast; nothing passing = no capacity', () => {
    const steps = [step(120, 100, 1)];
    assert.equal(nextRate(steps, 1000, 120, 10_000), 60);
    steps.push(step(60, 2000));
    assert.equal(nextRate(steps, 1000, 120, 10_000), undefined);
    assert.equal(capacityOf(steps, 1000), undefined);
  });

  it('stops at the cap when everything passes', () => {
    const steps = [step(100, 1), step(200, 1), step(250, 1)];
    assert.equal(nextRate(steps.slice(0, 2), 1000, 100, 250), 250);
    assert.equal(nextRate(steps, 1000, 100, 250), undefined);
    assert.equal(capacityOf(steps, 1000), 250);
  });
});

describe('false-alarm check: counting', () => {
  const csv = (rows: [string, string, string, number][]) =>
    ['# pxname,svname,status,chkdown', ...rows.map(([p, s, st, c]) => `${p},${s},${st},${c}`)].join('\n');

  it("show stat: every listener's servers, without FRONTEND/BACKEND rows", () => {
    const m = serverStats(
      csv([
        ['web', 'FRONTEND', 'OPEN', 0],
        ['web', 'web1', 'UP', 0],
        ['db_writer', 'galera1', 'UP 1/2', 2],
        ['web', 'BACKEND', 'UP', 1],
      ]),
    );
    assert.deepEqual([...m.keys()], ['web/web1', 'db_writer/galera1']);
    assert.deepEqual(m.get('db_writer/galera1'), { chkdown: 2, status: 'UP 1/2' });
  });

  it('DOWN events: chkdown deltas or polled UP→not-UP transitions, whichever is more', () => {
    const a = serverStats(
      csv([
        ['web', 'web1', 'UP', 3],
        ['web', 'web2', 'UP', 0],
        ['db_writer', 'galera2', 'UP', 0],
      ]),
    );
    const b = serverStats(
      csv([
        ['web', 'web1', 'DOWN', 4],
        ['web', 'web2', 'UP 1/2', 0],
        ['db_writer', 'galera2', 'UP', 0],
      ]),
    );
    assert.deepEqual(wentDown(a, b), ['web/web1']);
    // A transition in "UP 1/2" (going down, not yet DOWN) is still UP.
    const ev = downEvents(a, b, ['db_writer/galera2', 'db_writer/galera2']);
    assert.deepEqual(Object.fromEntries(ev), { 'web/web1': 1, 'web/web2': 0, 'db_writer/galera2': 2 });
  });

  it('Galera view number and Gluster disconnect lines', () => {
    assert.equal(confId('wsrep_cluster_conf_id\t7\n'), 7);
    assert.equal(confId(''), undefined);
    const log = [
      '[2026-11-30 22:49:01] I [MSGID: 114018] [client.c:2242:client_rpc_notify] 0-moodledata-client-0: disconnected from moodledata-client-0. Client process will keep trying',
      '[2026-11-30 22:49:02] C [rpc-clnt-ping.c:152:rpc_clnt_ping_timer_expired] 0-moodledata-client-1: server 172.20.0.7:49152 has not responded in the last 5 seconds, disconnecting.',
      '[2026-11-30 22:49:03] I [MSGID: 114046] [client-handshake.c:855:client_setvolume_cbk] 0-moodledata-client-0: Connected to moodledata-client-0',
    ].join('\n');
    assert.equal(disconnectLines(log).length, 2);
    assert.ok(isClientLog('/var/log/glusterfs/var-moodledata.log'));
    assert.ok(isClientLog('/var/log/glusterfs/glustershd.log'));
    assert.ok(!isClientLog('/var/log/glusterfs/cli.log'));
    assert.ok(!isClientLog('/var/log/glusterfs/glfsheal-moodledata.log'));
  });
});

describe('bench runs: a capacity step', () => {
  it('passes only with p95 within the limit, no failure, and the rate really offered', () => {
    assert.ok(stepPasses({ perMin: 600, p95Ms: 1000, failures: 0, requests: 300, achievedPerMin: 540 }, 1000));
    assert.ok(!stepPasses({ perMin: 600, p95Ms: 1001, failures: 0, requests: 300 }, 1000));
    assert.ok(!stepPasses({ perMin: 600, p95Ms: 10, failures: 1, requests: 300 }, 1000));
    assert.ok(!stepPasses({ perMin: 600, p95Ms: 10, failures: 0, requests: 260, achievedPerMin: 520 }, 1000));
  });
});

describe('bench runs: a fault that was not injected', () => {
  it('gives the run no figure (so the target is not met), not the figures of a run without a fault', () => {
    type F = { fault: string; error?: string };
    const run = (...faults: F[]) => ({ faults });
    assert.deepEqual(injectedFault(run({ fault: 'pause gluster1' })), { fault: 'pause gluster1' });
    assert.equal(injectedFault(run({ fault: 'pause gluster1', error: 'could not inject: unable to freeze' })), undefined);
    assert.equal(injectedFault(run()), undefined);
  });
});
