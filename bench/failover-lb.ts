/**
 * Benchmark: SIGKILL of the MASTER HAProxy of a keepalived pair (a lab made from a lab file with
 * `lb: { count: 2, keepalived: true }`) under the probe journey (30 users through the edge).
 * Each run kills whichever node keepalived says is MASTER, then starts it again and waits for one
 * MASTER holding the VIP before the next run. Figures per run, and min/median/max:
 * - VIP move: Docker's `die` event of the MASTER → the BACKUP's keepalived entering MASTER (its
 *   notify script's record, ms) — keepalived's own detection and takeover;
 * - VIP seen: → the first look (`ip -j addr` in the BACKUP's namespace, polled) that lists the VIP;
 * - failed requests of the load run, failures while the fault was in force, the blackout.
 * Faults through the Docker API directly (DockerFaults).
 *
 *   BENCH_LAB=lb-bench MOODLE_LAB_HOME=/tmp/lh node --import tsx bench/failover-lb.ts
 *   (make the lab first: npm run lab -- up --no-moodle --topology lab/scenarios/labs/ha-lb-pair.lab.yaml --lab lb-bench)
 */
import * as os from 'node:os';
import { DockerFaults, loadTarget, machineLine, openLab, pad } from './support';
import { parseDuration, parseFaultSpec, FaultTarget } from '../src/load/faults';
import { DEFAULT_LOAD, runLoad } from '../src/load/run';
import { clusterSource } from '../src/load/snapshots';
import { labLabels, LABEL_NODE } from '../src/docker/labels';
import { readVrrp } from '../src/roles/lb';
import { notYet, ready, waitFor } from '../src/core/wait';
import type { LabStatus } from '../src/protocol/status';
import type { FaultRequest } from '../src/protocol/faults';

const LAB = process.env.BENCH_LAB ?? 'lb-bench';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const USERS = Number(process.env.BENCH_USERS ?? 30);
const DURATION = parseDuration(process.env.BENCH_DURATION ?? '40s');
const AT = process.env.BENCH_AT ?? '15s';
const log = (m: string) => process.stderr.write(`  ${m}\n`);

interface Run {
  killed: string;
  moveMs: number;
  seenMs: number;
  requests: number;
  failures: number;
  failedDuringFault: number;
  blackoutMs: number;
  p99Ms: number | string;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};

async function main() {
  const { controller, docker } = openLab(LAB);
  const stable = () =>
    waitFor(
      async () => {
        const s = await controller.status();
        const lb = s.lb;
        if (!lb)
          throw new Error(`lab ${LAB} has no load balancer pair (status has no lb section): make it from a lab file with lb: { count: 2, keepalived: true }`);
        const ok =
          lb.holder &&
          lb.master === lb.holder &&
          !lb.splitBrain &&
          lb.nodes.every((n) => n.vrrp !== 'FAULT') &&
          s.haproxy.servers.every((x) => x.status === 'UP');
        return ok ? ready(s) : notYet(lb.nodes.map((n) => `${n.name} ${n.vrrp}${n.holdsVip ? ' (VIP)' : ''}`).join(', '));
      },
      { what: 'one MASTER holding the VIP, the other BACKUP, every server UP', timeoutMs: 180_000, intervalMs: 500 },
    );
  const ids = async () => new Map((await docker.containers.list(labLabels(LAB))).map((c) => [c.labels[LABEL_NODE] ?? c.name, c.id]));
  const runs: Run[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const status: LabStatus = await stable();
    const lb = status.lb!;
    const master = lb.master!;
    const other = lb.nodes.find((n) => n.name !== master)!.name;
    const byNode = await ids();
    const masterId = byNode.get(master)!;
    const otherId = byNode.get(other)!;
    let diedAt = 0;
    const unsubscribe = await docker.events(labLabels(LAB), (e) => {
      if (e.type === 'container' && e.id === masterId && e.action === 'die' && !diedAt) diedAt = e.timeMs;
    });
    // The kill, then the BACKUP watched until its namespace lists the VIP (as often as exec allows).
    const direct = new DockerFaults(docker, LAB);
    let watch: Promise<{ since: number; seenAt: number }> | undefined;
    const injector: FaultTarget = {
      fault: async (req: FaultRequest) => {
        await direct.fault(req);
        watch = waitFor(
          async () => {
            const r = await readVrrp(docker.containers, otherId, lb.vip);
            return r.holdsVip && r.state === 'MASTER' && r.since ? ready({ since: r.since, seenAt: Date.now() }) : notYet(`${other} ${r.state ?? '?'}`);
          },
          { what: `${other} holding the VIP`, timeoutMs: 30_000, intervalMs: 20 },
        );
      },
      heal: () => direct.heal(),
    };
    log(`run ${i}/${RUNS}: ${USERS} users, kill ${master} (MASTER, VIP ${lb.vip}) at ${AT}; load ${os.loadavg()[0]!.toFixed(1)}`);
    const run = await runLoad(
      loadTarget(status),
      { ...DEFAULT_LOAD, journey: 'probe', users: USERS, durationMs: DURATION, faults: [parseFaultSpec(`kill ${master}@${AT}`)], probeHz: 2, integrityHz: 0 },
      { injector, sources: [clusterSource(() => controller.status(), 1000)], progress: log },
    );
    const seen = await watch!;
    unsubscribe();
    await direct.heal();
    const r = run.result;
    const f = r.faults[0];
    runs.push({
      killed: master,
      moveMs: seen.since - diedAt,
      seenMs: seen.seenAt - diedAt,
      requests: r.requests,
      failures: r.failures,
      failedDuringFault: f?.failedRequests ?? 0,
      blackoutMs: f?.blackoutMs ?? 0,
      p99Ms: f?.p99Ms ?? '—',
    });
    log(`run ${i}: VIP moved after ${seen.since - diedAt} ms, ${r.failures} of ${r.requests} requests failed`);
  }
  await stable();
  process.stdout.write(
    `\nfailover-lb: kill the MASTER HAProxy of a keepalived pair under ${USERS} users (probe journey, through the edge), ${DURATION / 1000} s, kill at ${AT}, lab ${LAB}\n${machineLine()}; load average now ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}\n\n`,
  );
  const header = [
    'run',
    'killed',
    'VIP move ms (die → MASTER)',
    'VIP seen ms (die → ip addr)',
    'requests',
    'failed',
    'failed during fault',
    'blackout ms',
    'p99 ms (fault window)',
  ];
  const rows = runs.map((x, i) => [i + 1, x.killed, x.moveMs, x.seenMs, x.requests, x.failures, x.failedDuringFault, x.blackoutMs, x.p99Ms]);
  const agg = (k: 'moveMs' | 'seenMs' | 'failures' | 'blackoutMs') => stats(runs.map((x) => x[k]));
  const m = { move: agg('moveMs'), seen: agg('seenMs'), failed: agg('failures'), blackout: agg('blackoutMs') };
  rows.push([
    'min/median/max',
    '',
    `${m.move.min}/${m.move.median}/${m.move.max}`,
    `${m.seen.min}/${m.seen.median}/${m.seen.max}`,
    '',
    `${m.failed.min}/${m.failed.median}/${m.failed.max}`,
    '',
    `${m.blackout.min}/${m.blackout.median}/${m.blackout.max}`,
    '',
  ]);
  process.stdout.write(pad([header, ...rows]) + '\n');
  process.stdout.write(`\n${JSON.stringify(runs)}\n`);
}

main().catch((err) => {
  process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
