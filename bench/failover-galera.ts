/**
 * Benchmark (b): SIGKILL of the Galera writer (galera1: the active server of HAProxy's
 * single-writer listener) under the probe journey (30 users: session, DB write/read, file
 * write/read through HAProxy). Figures: the longest blackout of DB-writing requests, failed
 * requests, detection (Primary component shrinks), and acknowledged writes lost (every
 * acknowledged db.php?write is read back after galera1 has rejoined).
 * Faults through the Docker API directly (DockerFaults).
 *
 *   BENCH_LAB=mlt-load MOODLE_LAB_HOME=/tmp/lh-load node --import tsx bench/failover-galera.ts
 */
import { DockerFaults, loadTarget, machineLine, openLab, pad, waitGalera } from './support';
import { parseDuration, parseFaultSpec } from '../src/load/faults';
import { DEFAULT_LOAD, runLoad } from '../src/load/run';
import { clusterSource, haproxySource } from '../src/load/snapshots';

const LAB = process.env.BENCH_LAB ?? 'mlt-load';
const USERS = Number(process.env.BENCH_USERS ?? 30);
const DURATION = parseDuration(process.env.BENCH_DURATION ?? '60s');
const NODE = process.env.BENCH_NODE ?? 'galera1';
const AT = process.env.BENCH_AT ?? '20s';
const log = (m: string) => process.stderr.write(`  ${m}\n`);

async function main() {
  const { controller, docker } = openLab(LAB);
  const status = await controller.status();
  const writer = status.haproxy.servers
    .filter((s) => s.backend === 'db_writer')
    .map((s) => `${s.server} ${s.status}`)
    .join(', ');
  log(`HAProxy db_writer: ${writer}`);
  await waitGalera(controller);
  const faults = new DockerFaults(docker, LAB);
  const run = await runLoad(
    loadTarget(status),
    { ...DEFAULT_LOAD, journey: 'probe', users: USERS, durationMs: DURATION, faults: [parseFaultSpec(`kill ${NODE}@${AT}`)], probeHz: 2, integrityHz: 0 },
    { injector: faults, sources: [haproxySource(status.endpoints.haproxyRuntime!), clusterSource(() => controller.status(), 1000)], progress: log },
  );
  log(`starting ${NODE} again and waiting for 3 Synced nodes`);
  const t0 = Date.now();
  await faults.heal();
  await waitGalera(controller);
  const rejoinS = (Date.now() - t0) / 1000;
  // Read every acknowledged write back again now that the killed node has rejoined (IST/SST),
  // through the reader listener (leastconn: the reads spread over all three nodes).
  const again = await run.ledger.verify(loadTarget(status).entry, { dbVia: 'reader' });
  const first = run.result.integrity;

  const r = run.result;
  const f = r.faults[0]!;
  const dbw = r.byLabel['db-write'];
  process.stdout.write(
    `\nfailover-galera: kill ${NODE} (writer) at ${AT} under ${USERS} users, ${DURATION / 1000} s, probe journey, lab ${LAB}\n${machineLine()}\n\n`,
  );
  process.stdout.write(
    pad([
      [
        'requests',
        'failed',
        'db-write requests',
        'db-write failed',
        'detected ms',
        'db-write blackout ms',
        'db-read blackout ms',
        'overall blackout ms',
        'window p99 ms',
        'window max ms',
        'acked writes',
        'lost (after run)',
        'lost (after rejoin)',
        'unchecked',
        'rejoin s',
      ],
      [
        r.requests,
        r.failures,
        dbw?.requests ?? 0,
        dbw?.failures ?? 0,
        f.detectedMs ?? '—',
        f.blackoutByLabel?.['db-write'] ?? '—',
        f.blackoutByLabel?.['db-read'] ?? '—',
        f.blackoutMs,
        f.p99Ms ?? '—',
        f.maxMs ?? '—',
        again.dbWrites,
        first?.lostDbWrites.length ?? '—',
        again.lostDbWrites.length,
        again.unchecked.length,
        rejoinS.toFixed(1),
      ],
    ]) + '\n',
  );
  const lost = [...new Set([...(first?.lostDbWrites ?? []), ...again.lostDbWrites, ...(first?.lostFiles ?? []), ...again.lostFiles, ...again.lostSessions])];
  if (lost.length) process.stdout.write(`LOST: ${lost.join(', ')}\n`);
  process.stdout.write(`\n${JSON.stringify(r)}\n`);
}

main().catch((err) => {
  process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
