/**
 * Benchmark (b): SIGKILL of the Galera writer (galera1: the active server of HAProxy's
 * single-writer listener) under 30 users, run `--runs` times (default 3), healed (the node
 * started, rejoined, the lab green) between runs; min/median/max beside the target
 * (DB-write blackout ≤ 2 s, median). The probe journey (session, DB write/read, file write/read
 * through HAProxy) gives the DB-write blackout; the Moodle journey (auto on a Moodle lab) has no
 * DB-write request of its own, so its figure is the longest stretch with no Moodle page completing.
 * Also: failed requests, detection (Primary component shrinks), acknowledged writes lost (read
 * back after the node has rejoined). Faults through the Docker API directly (DockerFaults).
 *
 *   npm run bench:failover-galera -- --lab NAME [--runs 3] [--journey auto|moodle|probe]
 *       [--users 30] [--duration 60s] [--node galera1] [--at 20s] [--topology ha [--moodle-source DIR]]
 */
import { DockerFaults, benchLab, healToGreen, loadLine, loadTarget, machineLine, pad, runBench } from './support';
import { Figure, faultLoadArgs, faultLoadFlags, injectedFault, parseBenchArgs, summaryRows, UsageError } from './runs';
import { parseFaultSpec } from '../src/load/faults';
import { DEFAULT_LOAD, journeyFor, LoadRun, pacing, runLoad } from '../src/load/run';
import { clusterSource, haproxySource } from '../src/load/snapshots';
import type { IntegrityReport, LoadResult } from '../src/metrics/export';

const USAGE =
  'bench/failover-galera.ts --lab NAME [--runs 3] [--journey auto|moodle|probe] [--users 30] [--duration 60s] [--node galera1] [--at 20s] [--topology ha [--moodle-source DIR]]';
/** The DB-write blackout after the writer's kill, median of the runs. */
export const GALERA_BLACKOUT_TARGET_MS = 2000;
const log = (m: string) => process.stderr.write(`  ${m}\n`);
const NO_REPORT: IntegrityReport = { dbWrites: 0, files: 0, sessions: 0, lostDbWrites: [], lostFiles: [], lostSessions: [], unchecked: [] };

interface RunOut {
  result: LoadResult;
  again: IntegrityReport;
  rejoinS: number;
}

async function main(): Promise<number> {
  const args = parseBenchArgs(
    process.argv.slice(2),
    {
      runs: 3,
      flags: {
        ...faultLoadFlags(process.env, { duration: '60s', node: 'galera1', at: '20s' }),
      },
    },
    process.env,
    'mlt-load',
  );
  const { users, duration, at, node } = faultLoadArgs(args);

  const { controller, docker, close } = await benchLab(args, log);
  let stopped: string | undefined;
  const outs: RunOut[] = [];
  let journey = 'probe';
  try {
    const status = await controller.status();
    if (!status.nodes.some((n) => n.name === node && n.role === 'db')) throw new UsageError(`--node ${node}: not a Galera node of lab ${args.lab}`);
    journey = journeyFor(args.journey, status.moodle.installed);
    log(
      `HAProxy db_writer: ${status.haproxy.servers
        .filter((s) => s.backend === 'db_writer')
        .map((s) => `${s.server} ${s.status}`)
        .join(', ')}`,
    );
    for (let i = 1; i <= args.runs; i++) {
      const tag = `run ${i}/${args.runs}`;
      const faults = new DockerFaults(docker, args.lab);
      const s = await controller.status();
      const run: LoadRun = await runLoad(
        loadTarget(s),
        {
          ...DEFAULT_LOAD,
          journey: journey as 'moodle' | 'probe',
          ...pacing(journey as 'moodle' | 'probe'),
          users,
          durationMs: duration,
          faults: [parseFaultSpec(`kill ${node}@${at}ms`)],
          probeHz: 2,
          integrityHz: journey === 'moodle' ? 2 : 0,
        },
        {
          injector: faults,
          sources: [haproxySource(s.endpoints.haproxyRuntime!), clusterSource(() => controller.status(), 1000)],
          progress: (m) => log(`${tag}: ${m}`),
        },
      );
      log(`${tag}: starting ${node} again, waiting for the lab green`);
      const t0 = Date.now();
      let healErr: unknown;
      await healToGreen(faults, controller, log).catch((e: unknown) => (healErr = e));
      const rejoinS = healErr ? NaN : (Date.now() - t0) / 1000;
      // Every acknowledged write read back again now that the killed node has rejoined (IST/SST),
      // through the reader listener (leastconn: the reads spread over all three nodes).
      const again = healErr ? (run.result.integrity ?? NO_REPORT) : await run.ledger.verify(loadTarget(s).entry, { dbVia: 'reader' });
      outs.push({ result: run.result, again, rejoinS });
      if (healErr) throw healErr;
    }
  } catch (err) {
    // Print what was measured: a run that did not heal back to green ends the series.
    if (err instanceof UsageError) throw err;
    stopped = err instanceof Error ? err.message : String(err);
    log(`stopped early: ${stopped}`);
  } finally {
    await close();
  }

  const blackout = (r: LoadResult) => (journey === 'probe' ? injectedFault(r)?.blackoutByLabel?.['db-write'] : injectedFault(r)?.blackoutMs);
  const fig = (name: string, pick: (o: RunOut) => number | null | undefined, targetMs?: number): Figure => ({ name, values: outs.map(pick), targetMs });
  const figures = [
    fig(journey === 'probe' ? 'db-write blackout ms' : 'blackout ms (no page completing)', (o) => blackout(o.result), GALERA_BLACKOUT_TARGET_MS),
    fig('detected ms', (o) => injectedFault(o.result)?.detectedMs),
    fig('db-read blackout ms', (o) => injectedFault(o.result)?.blackoutByLabel?.['db-read']),
    fig('overall blackout ms', (o) => injectedFault(o.result)?.blackoutMs),
    fig('failed (run)', (o) => o.result.failures),
    fig('db-write failed', (o) => o.result.byLabel['db-write']?.failures),
    fig('window p99 ms', (o) => injectedFault(o.result)?.p99Ms),
    fig('window max ms', (o) => injectedFault(o.result)?.maxMs),
    fig('acked writes', (o) => o.again.dbWrites),
    fig('lost (after run)', (o) => o.result.integrity?.lostDbWrites.length),
    fig('lost (after rejoin)', (o) => o.again.lostDbWrites.length),
    fig('green again ms', (o) => Math.round(o.rejoinS * 1000)),
  ];
  process.stdout.write(
    `\nfailover-galera: kill ${node} (writer) at ${at / 1000} s under ${users} users, ${duration / 1000} s, ${journey} journey, lab ${args.lab}, ${outs.length} runs\n${machineLine()}, ${loadLine()}\n`,
  );
  process.stdout.write(`per run blackout ms: ${outs.map((o) => blackout(o.result) ?? '—').join(', ')}\n\n`);
  process.stdout.write(pad(summaryRows(figures)) + '\n');
  for (const [i, o] of outs.entries()) {
    const i0 = o.result.integrity;
    const lost = [...new Set([...(i0?.lostDbWrites ?? []), ...o.again.lostDbWrites, ...(i0?.lostFiles ?? []), ...o.again.lostFiles, ...o.again.lostSessions])];
    if (lost.length) process.stdout.write(`run ${i + 1} LOST: ${lost.join(', ')}\n`);
  }
  process.stdout.write(`\n${JSON.stringify(outs.map((o) => o.result))}\n`);
  if (stopped) process.stdout.write(`\nSTOPPED EARLY (the figures above are the runs before): ${stopped}\n`);
  return stopped ? 1 : 0;
}

runBench(main, USAGE);
