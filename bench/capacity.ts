/**
 * Capacity (issue 16): the highest paced throughput at which p95 stays ≤ 1 s with no failed
 * request, for a topology (`--topology single|ha|ha-full`: a lab of its own, destroyed at the end)
 * or a running lab (`--lab`). Short steps (default 30 s) of the journey (Moodle's on a Moodle lab,
 * else the lab's probes) paced like Moodle's JMeter plan (one schedule shared by all users, no
 * other think time), at a rate doubled from --start requests/min while steps pass; after the first
 * failing step, one bisection (after one uncounted warm-up step at --start); the answer is the
 * highest rate that passed. Latency is measured from
 * each request's slot (a generator falling behind shows as latency), and a step that did not
 * really reach 90 % of its rate does not pass. Users: enough for the rate at 1 s per request, twice over (at least 30).
 *
 *   npm run bench:capacity -- --topology single [--moodle-source DIR] | --lab NAME
 *       [--step 30s] [--start 120] [--max 30000] [--p95 1000] [--journey auto|moodle|probe]
 */
import { DEFAULT_LOAD, journeyFor, runLoad } from '../src/load/run';
import { benchLab, loadLine, loadTarget, machineLine, pad, runBench } from './support';
import { CapacityStep, capacityOf, durationFlag, intFlag, nextRate, parseBenchArgs, RATE_REACHED, stepPasses, UsageError } from './runs';

const USAGE =
  'bench/capacity.ts --topology single|ha|ha-full [--moodle-source DIR] | --lab NAME  [--step 30s] [--start 120] [--max 30000] [--p95 1000] [--journey auto|moodle|probe]';
const log = (m: string) => process.stderr.write(`  ${m}\n`);

/** Users for a rate: each can send one request a second at the p95 limit; twice that, at least 30, at most 1000 (the generator's limit). */
export function usersFor(perMin: number, p95LimitMs: number): number {
  return Math.min(1000, Math.max(30, Math.ceil(((perMin / 60) * p95LimitMs * 2) / 1000)));
}

interface Row extends CapacityStep {
  users: number;
  p50Ms: number;
  p99Ms: number;
  apdex: number;
}

async function main(): Promise<number> {
  const args = parseBenchArgs(process.argv.slice(2), { runs: 0, flags: { step: '30s', start: '120', max: '30000', p95: '1000' } }, process.env, 'mlt-load');
  const stepMs = durationFlag(args, 'step');
  const start = intFlag(args, 'start', 1, 100_000);
  const max = intFlag(args, 'max', 1, 100_000);
  const p95Limit = intFlag(args, 'p95', 10, 60_000);
  if (start > max) throw new UsageError(`--start ${start} is above --max ${max}`);

  const { controller, close } = await benchLab(args, log);
  const rows: Row[] = [];
  let journey: 'moodle' | 'probe' = 'probe';
  let topo = args.topology ?? '';
  try {
    const status = await controller.status();
    journey = journeyFor(args.journey, status.moodle.installed);
    topo ||= `${status.nodes.length} nodes`;
    const step = async (rate: number, users: number) =>
      (
        await runLoad(loadTarget(await controller.status()), {
          ...DEFAULT_LOAD,
          journey,
          users,
          durationMs: stepMs,
          rampUpMs: Math.min(5000, stepMs / 6),
          throughputPerMin: rate,
          thinkMinMs: 0,
          thinkMaxMs: 0,
          probeHz: 0,
          integrityHz: 0,
        })
      ).result;
    const failedBy = (r: { byLabel: Record<string, { failures: number }> }) =>
      Object.entries(r.byLabel)
        .filter(([, x]) => x.failures)
        .map(([l, x]) => `${l} ${x.failures}`)
        .join(', ');
    // One step at the start rate first, not counted: a lab just up (or restored) serves its first
    // pages with cold PHP and Moodle caches (one fresh `single` lab failed a request in its first step).
    log(`warm-up: ${start} requests/min, ${stepMs / 1000} s (not counted)`);
    const warm = await step(start, usersFor(start, p95Limit));
    log(`  → warm-up: p95 ${warm.latencyMs.p95} ms, ${warm.failures} failed${warm.failures ? ` (${failedBy(warm)})` : ''}`);
    for (let rate = nextRate(rows, p95Limit, start, max); rate !== undefined; rate = nextRate(rows, p95Limit, start, max)) {
      const users = usersFor(rate, p95Limit);
      log(`step ${rows.length + 1}: ${rate} requests/min, ${users} users, ${stepMs / 1000} s`);
      const r = await step(rate, users);
      const row: Row = {
        perMin: rate,
        achievedPerMin: Math.round(r.throughputRps * 60),
        p95Ms: r.latencyMs.p95,
        failures: r.failures,
        requests: r.requests,
        users,
        p50Ms: r.latencyMs.p50,
        p99Ms: r.latencyMs.p99,
        apdex: r.apdex,
      };
      rows.push(row);
      log(
        `  → ${row.achievedPerMin}/min sent, p95 ${row.p95Ms} ms, ${row.failures} failed${row.failures ? ` (${failedBy(r)})` : ''}: ${stepPasses(row, p95Limit) ? 'pass' : 'FAIL'}`,
      );
    }
  } finally {
    await close();
  }

  const best = capacityOf(rows, p95Limit);
  process.stdout.write(
    `\ncapacity: lab ${args.lab} (${topo}), ${journey} journey, paced steps of ${stepMs / 1000} s, pass = p95 ≤ ${p95Limit} ms, 0 failed, ≥ ${RATE_REACHED * 100} % of the rate sent\n${machineLine()}, ${loadLine()}\n\n`,
  );
  process.stdout.write(
    pad([
      ['requests/min', 'sent/min', 'users', 'requests', 'failed', 'p50 ms', 'p95 ms', 'p99 ms', 'apdex', 'step'],
      ...rows.map((r) => [
        r.perMin,
        r.achievedPerMin ?? '—',
        r.users,
        r.requests,
        r.failures,
        r.p50Ms,
        r.p95Ms,
        r.p99Ms,
        r.apdex.toFixed(3),
        stepPasses(r, p95Limit) ? 'pass' : 'FAIL',
      ]),
    ]) + '\n',
  );
  process.stdout.write(
    best === undefined
      ? `\nno step passed: capacity below ${Math.min(...rows.map((r) => r.perMin))} requests/min at p95 ≤ ${p95Limit} ms\n`
      : `\ncapacity: ${best} requests/min at p95 ≤ ${p95Limit} ms (${rows.some((r) => !stepPasses(r, p95Limit)) ? 'next step failed' : `the --max, nothing failed`})\n`,
  );
  return best === undefined ? 1 : 0;
}

runBench(main, USAGE);
