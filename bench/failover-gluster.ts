/**
 * Benchmark (c): a Gluster brick fault under 30 users, each kind run `--runs` times (default 3),
 * healed (brick back, self-heal done, the lab green) between runs; min/median/max beside the
 * target (hung brick = `pause`: longest file stall ≤ 3 s, median). The probe journey writes files
 * (fsync + rename) and reads them on moodledata through HAProxy: the stall is the longest stretch
 * without a file write (or read) completing. On a Moodle lab (journey auto = Moodle) the figure is
 * the longest stretch with no Moodle page completing (sessions in Redis, the dataroot on Gluster).
 * Also: failed file requests, detection (brick offline in `gluster volume status`), files lost.
 * Faults through the Docker API directly (DockerFaults): `kill` (SIGKILL) and `pause` (a hung
 * server: packets silently dropped, network.ping-timeout applies).
 *
 *   npm run bench:failover-gluster -- --lab NAME [--runs 3] [--faults kill,pause] [--journey auto|moodle|probe]
 *       [--users 30] [--duration 45s] [--node gluster1] [--at 15s] [--topology ha [--moodle-source DIR]]
 */
import { DockerFaults, benchLab, healToGreen, loadLine, loadTarget, machineLine, pad, runBench } from './support';
import { Figure, faultLoadArgs, faultLoadFlags, injectedFault, parseBenchArgs, summaryRows, UsageError } from './runs';
import { parseFaultSpec } from '../src/load/faults';
import { DEFAULT_LOAD, journeyFor, pacing, runLoad } from '../src/load/run';
import { clusterSource, haproxySource } from '../src/load/snapshots';
import type { LoadResult } from '../src/metrics/export';

const USAGE =
  'bench/failover-gluster.ts --lab NAME [--runs 3] [--faults kill,pause] [--journey auto|moodle|probe] [--users 30] [--duration 45s] [--node gluster1] [--at 15s] [--topology ha [--moodle-source DIR]]';
/** The longest file stall with a hung (paused) brick, median of the runs. */
export const GLUSTER_STALL_TARGET_MS = 3000;
const log = (m: string) => process.stderr.write(`  ${m}\n`);

async function main(): Promise<number> {
  const args = parseBenchArgs(
    process.argv.slice(2),
    {
      runs: 3,
      flags: {
        faults: process.env.BENCH_FAULTS ?? 'kill,pause',
        ...faultLoadFlags(process.env, { duration: '45s', node: 'gluster1', at: '15s' }),
      },
    },
    process.env,
    'mlt-load',
  );
  const kinds = args.extra.faults!.split(',');
  for (const k of kinds) if (k !== 'kill' && k !== 'pause') throw new UsageError(`--faults "${k}": kill, pause`);
  const { users, duration, at, node } = faultLoadArgs(args);

  const { controller, docker, close } = await benchLab(args, log);
  let stopped: string | undefined;
  const results: [string, LoadResult[]][] = [];
  let journey: 'moodle' | 'probe' = 'probe';
  try {
    const first = await controller.status();
    if (!first.nodes.some((n) => n.name === node && n.role === 'storage')) throw new UsageError(`--node ${node}: not a Gluster node of lab ${args.lab}`);
    journey = journeyFor(args.journey, first.moodle.installed);
    for (const kind of kinds) {
      const runs: LoadResult[] = [];
      results.push([kind, runs]);
      for (let i = 1; i <= args.runs; i++) {
        const tag = `${kind} run ${i}/${args.runs}`;
        const status = await controller.status();
        const faults = new DockerFaults(docker, args.lab);
        const run = await runLoad(
          loadTarget(status),
          {
            ...DEFAULT_LOAD,
            journey,
            ...pacing(journey),
            users,
            durationMs: duration,
            faults: [parseFaultSpec(`${kind} ${node}@${at}ms`)],
            probeHz: 2,
            integrityHz: journey === 'moodle' ? 2 : 0,
          },
          {
            injector: faults,
            sources: [haproxySource(status.endpoints.haproxyRuntime!), clusterSource(() => controller.status(), 1000)],
            progress: (m) => log(`${tag}: ${m}`),
          },
        );
        runs.push(run.result);
        log(`${tag}: stall ${stall(run.result, journey) ?? '—'} ms; bringing ${node} back, waiting for the lab green`);
        await healToGreen(faults, controller, log);
      }
    }
  } catch (err) {
    // Print what was measured: a run that did not heal back to green ends the series.
    if (err instanceof UsageError) throw err;
    stopped = err instanceof Error ? err.message : String(err);
    log(`stopped early: ${stopped}`);
  } finally {
    await close();
  }

  process.stdout.write(
    `\nfailover-gluster: brick fault on ${node} at ${at / 1000} s under ${users} users, ${duration / 1000} s, ${journey} journey, lab ${args.lab}, ${args.runs} runs per fault\n${machineLine()}, ${loadLine()}\n`,
  );
  for (const [kind, runs] of results) {
    const fig = (name: string, pick: (r: LoadResult) => number | null | undefined, targetMs?: number): Figure => ({ name, values: runs.map(pick), targetMs });
    const f0 = (r: LoadResult) => injectedFault(r);
    const figures = [
      fig(
        journey === 'probe' ? 'longest file stall ms' : 'longest stall ms (no page completing)',
        (r) => stall(r, journey),
        kind === 'pause' ? GLUSTER_STALL_TARGET_MS : undefined,
      ),
      fig('detected ms', (r) => f0(r)?.detectedMs),
      fig('file-write blackout ms', (r) => f0(r)?.blackoutByLabel?.['file-write']),
      fig('file-read blackout ms', (r) => f0(r)?.blackoutByLabel?.['file-read']),
      fig('failed (run)', (r) => r.failures),
      fig('file failed', (r) => (r.byLabel['file-write']?.failures ?? 0) + (r.byLabel['file-read']?.failures ?? 0)),
      fig('window p99 ms', (r) => f0(r)?.p99Ms),
      fig('window max ms', (r) => f0(r)?.maxMs),
      fig('files lost', (r) => r.integrity?.lostFiles.length),
    ];
    process.stdout.write(`\n${kind} ${node}: per run stall ms ${runs.map((r) => stall(r, journey) ?? '—').join(', ')}\n`);
    process.stdout.write(pad(summaryRows(figures)) + '\n');
    for (const [i, r] of runs.entries())
      if (r.integrity?.lostFiles.length) process.stdout.write(`${kind} run ${i + 1} LOST: ${r.integrity.lostFiles.join(', ')}\n`);
  }
  process.stdout.write(`\n${JSON.stringify(Object.fromEntries(results))}\n`);
  if (stopped) process.stdout.write(`\nSTOPPED EARLY (the figures above are the runs before): ${stopped}\n`);
  return stopped ? 1 : 0;
}

/** The longest file stall: the probe journey's file requests, else any page of Moodle's journey. */
function stall(r: LoadResult, journey: 'moodle' | 'probe'): number | undefined {
  const f = injectedFault(r);
  if (!f) return undefined;
  if (journey === 'moodle') return f.blackoutMs;
  return Math.max(f.blackoutByLabel?.['file-write'] ?? 0, f.blackoutByLabel?.['file-read'] ?? 0);
}

runBench(main, USAGE);
