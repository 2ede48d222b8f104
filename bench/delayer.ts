/**
 * The userspace delayer (lab/netem's lab-delayer, behind NFQUEUE): what it costs.
 *
 *   BENCH_LAB=mlt-load MOODLE_LAB_HOME=/tmp/lh-load node --import tsx bench/delayer.ts
 *   (BENCH_NODE=web3 BENCH_USERS=30 BENCH_DURATION=40s BENCH_SAMPLES=400 BENCH_JOURNEY=moodle|probe)
 *
 * 1. Latency it adds when set to 0 ms: round trips of one kept-alive connection to the node's
 *    light health check (host → node directly), without any impairment, then with the node's
 *    traffic going through the delayer with nothing to hold (`loss 0.01 %`: every packet is
 *    queued to the daemon and released at once; `delay` has no 0). p50/p90/p99 of each, and the
 *    difference.
 * 2. Its CPU under the load: the node's traffic through the delayer (the same 0 ms setting) while
 *    BENCH_USERS closed-loop users run through HAProxy; the daemon's user+system CPU time (read
 *    from /proc in its sidecar) over the wall time, and the load's own figures beside it.
 * On a kernel with netem the lab uses netem instead, and this bench says so and stops.
 */
import { openLab, loadTarget, machineLine, pad } from './support';
import { parseDuration } from '../src/load/faults';
import { DEFAULT_LOAD, runLoad } from '../src/load/run';
import { LABEL_IMPAIRS, LABEL_TOOL, labLabels, TOOL_DELAYER } from '../src/docker/labels';

const LAB = process.env.BENCH_LAB ?? 'mlt-load';
const NODE = process.env.BENCH_NODE ?? 'web3';
const USERS = Number(process.env.BENCH_USERS ?? 30);
const DURATION = parseDuration(process.env.BENCH_DURATION ?? '40s');
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 400);
const log = (m: string) => process.stderr.write(`  ${m}\n`);

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

async function roundTrips(url: string, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = -5; i < n; i++) {
    const t0 = performance.now();
    const r = await fetch(`${url}/lab/health.php`, { signal: AbortSignal.timeout(10_000) });
    await r.text();
    if (i >= 0) times.push(performance.now() - t0); // the first few warm the connection
  }
  return times.sort((a, b) => a - b);
}

async function main() {
  const { controller, docker } = openLab(LAB);
  let status = await controller.status();
  const url = status.nodes.find((n) => n.name === NODE)?.url;
  if (!url) throw new Error(`lab ${LAB} has no running ${NODE} with a direct URL`);
  const journey = (process.env.BENCH_JOURNEY ?? (status.moodle.installed ? 'moodle' : 'probe')) as 'moodle' | 'probe';

  /** The delayer daemons' CPU seconds so far (utime + stime of every lab-delayer in the sidecar). */
  const delayerCpuS = async (): Promise<number> => {
    const [d] = await docker.containers.list({ ...labLabels(LAB), [LABEL_TOOL]: TOOL_DELAYER, [LABEL_IMPAIRS]: NODE });
    if (!d) throw new Error(`no delayer sidecar for ${NODE}`);
    const r = await docker.containers.exec(d.id, ['bash', '-c', 'cat /proc/[0-9]*/stat']);
    let ticks = 0;
    for (const line of r.stdout.split('\n')) {
      const m = /^\d+ \(lab-delayer\) (.*)$/.exec(line);
      if (!m) continue;
      const f = m[1]!.split(' '); // fields from 3 (state) on: utime is field 14, stime 15
      ticks += Number(f[11]) + Number(f[12]);
    }
    return ticks / 100; // USER_HZ
  };

  log(`${NODE}: ${SAMPLES} round trips without impairment`);
  const plain = await roundTrips(url, SAMPLES);
  log(`${NODE}: through the delayer at 0 ms (loss 0.01 %)`);
  await controller.fault({ kind: 'loss', nodes: [NODE], lossPct: 0.01 });
  try {
    status = await controller.status();
    const method = status.impairments?.find((i) => i.node === NODE)?.method;
    if (method !== 'nfqueue') {
      process.stdout.write(`\ndelayer: ${NODE} is impaired by ${method ?? '?'} on this kernel, not the userspace delayer: nothing to measure\n`);
      return;
    }
    const through = await roundTrips(url, SAMPLES);

    log(`load: ${USERS} users, ${DURATION / 1000} s, ${journey} journey, ${NODE} through the delayer`);
    const cpu0 = await delayerCpuS();
    const t0 = performance.now();
    const run = await runLoad(
      loadTarget(status),
      { ...DEFAULT_LOAD, journey, users: USERS, durationMs: DURATION, rampUpMs: 5000, faults: [], probeHz: 0, integrityHz: 0 },
      { progress: (m) => log(`load: ${m}`) },
    );
    const wallS = (performance.now() - t0) / 1000;
    const cpuS = (await delayerCpuS()) - cpu0;

    const row = (label: string, t: number[]) => [label, pct(t, 50).toFixed(3), pct(t, 90).toFixed(3), pct(t, 99).toFixed(3)];
    process.stdout.write(`\ndelayer: lab ${LAB}, node ${NODE}; ${machineLine()}\n\n`);
    process.stdout.write(
      pad([
        ['round trip to ' + NODE, 'p50 ms', 'p90 ms', 'p99 ms'],
        row('direct', plain),
        row('through the delayer (0 ms)', through),
        [
          'added',
          (pct(through, 50) - pct(plain, 50)).toFixed(3),
          (pct(through, 90) - pct(plain, 90)).toFixed(3),
          (pct(through, 99) - pct(plain, 99)).toFixed(3),
        ],
      ]) + '\n\n',
    );
    const r = run.result;
    process.stdout.write(
      pad([
        ['load', 'requests', 'failed', 'rps', 'p50 ms', 'p95 ms', 'delayer CPU s', 'delayer CPU %'],
        [
          `${USERS} users ${journey}`,
          r.requests,
          r.failures,
          r.throughputRps.toFixed(1),
          r.latencyMs.p50,
          r.latencyMs.p95,
          cpuS.toFixed(2),
          ((100 * cpuS) / wallS).toFixed(1),
        ],
      ]) + '\n',
    );
  } finally {
    await controller.heal(NODE);
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
