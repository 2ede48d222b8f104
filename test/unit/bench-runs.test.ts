import { strict as assert } from 'node:assert';
import { capacityOf, CapacityStep, durationFlag, meets, nextRate, parseBenchArgs, spread, summaryRows, UsageError } from '../../bench/runs';

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
