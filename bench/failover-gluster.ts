/**
 * Benchmark (c): a Gluster brick fault under the probe journey (30 users; file.php writes with
 * fsync + rename, and reads, on moodledata through HAProxy). Figures: the longest dataroot I/O
 * stall = the longest stretch without a successful file write (and read) completing, failed
 * file requests, detection (brick offline in `gluster volume status`), and files lost.
 * Faults through the Docker API directly (DockerFaults). By default SIGKILL of gluster1, then
 * `docker pause` of it (a hung server: packets silently dropped, network.ping-timeout applies).
 *
 *   BENCH_LAB=mlt-load MOODLE_LAB_HOME=/tmp/lh-load node --import tsx bench/failover-gluster.ts
 *   (BENCH_FAULTS="kill,pause" BENCH_NODE=gluster1 BENCH_DURATION=45s BENCH_AT=15s)
 */
import { DockerFaults, loadTarget, machineLine, openLab, pad, waitBricks } from './support';
import { parseDuration, parseFaultSpec } from '../src/load/faults';
import { DEFAULT_LOAD, runLoad } from '../src/load/run';
import { clusterSource, haproxySource } from '../src/load/snapshots';
import type { LoadResult } from '../src/metrics/export';

const LAB = process.env.BENCH_LAB ?? 'mlt-load';
const USERS = Number(process.env.BENCH_USERS ?? 30);
const DURATION = parseDuration(process.env.BENCH_DURATION ?? '45s');
const NODE = process.env.BENCH_NODE ?? 'gluster1';
const AT = process.env.BENCH_AT ?? '15s';
const KINDS = (process.env.BENCH_FAULTS ?? 'kill,pause').split(',');
const log = (m: string) => process.stderr.write(`  ${m}\n`);

async function main() {
  const { controller, docker } = openLab(LAB);
  const results: [string, LoadResult][] = [];
  for (const kind of KINDS) {
    await waitBricks(controller);
    const status = await controller.status();
    const faults = new DockerFaults(docker, LAB);
    const run = await runLoad(
      loadTarget(status),
      { ...DEFAULT_LOAD, journey: 'probe', users: USERS, durationMs: DURATION, faults: [parseFaultSpec(`${kind} ${NODE}@${AT}`)], probeHz: 2, integrityHz: 0 },
      {
        injector: faults,
        sources: [haproxySource(status.endpoints.haproxyRuntime!), clusterSource(() => controller.status(), 1000)],
        progress: (m) => log(`${kind}: ${m}`),
      },
    );
    log(`${kind}: bringing ${NODE} back`);
    await faults.heal();
    await waitBricks(controller);
    results.push([`${kind} ${NODE}`, run.result]);
  }

  process.stdout.write(`\nfailover-gluster: brick fault at ${AT} under ${USERS} users, ${DURATION / 1000} s, probe journey, lab ${LAB}\n${machineLine()}\n\n`);
  const rows = results.map(([name, r]) => {
    const f = r.faults[0]!;
    const fw = r.byLabel['file-write'];
    const fr = r.byLabel['file-read'];
    const stall = Math.max(f.blackoutByLabel?.['file-write'] ?? 0, f.blackoutByLabel?.['file-read'] ?? 0);
    const i = r.integrity;
    return [
      name,
      r.requests,
      r.failures,
      (fw?.failures ?? 0) + (fr?.failures ?? 0),
      f.detectedMs ?? '—',
      f.blackoutByLabel?.['file-write'] ?? '—',
      f.blackoutByLabel?.['file-read'] ?? '—',
      stall,
      f.p99Ms ?? '—',
      f.maxMs ?? '—',
      i?.files ?? 0,
      i?.lostFiles.length ?? '—',
    ];
  });
  process.stdout.write(
    pad([
      [
        'fault',
        'requests',
        'failed',
        'file failed',
        'detected ms',
        'file-write blackout ms',
        'file-read blackout ms',
        'longest stall ms',
        'window p99 ms',
        'window max ms',
        'files',
        'lost',
      ],
      ...rows,
    ]) + '\n',
  );
  for (const [name, r] of results) if (r.integrity?.lostFiles.length) process.stdout.write(`${name} LOST: ${r.integrity.lostFiles.join(', ')}\n`);
  process.stdout.write(`\n${JSON.stringify(Object.fromEntries(results))}\n`);
}

main().catch((err) => {
  process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
