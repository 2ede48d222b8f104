/**
 * Benchmark: SIGKILL of the Redis master of a Sentinel lab under the probe journey (30 users,
 * each keeping a session value in Redis through HAProxy's Redis listener). Per run: the time from
 * the kill (Docker's own `die` event) until the status names a new master (`sentinelVerdict` over
 * the survivors' answers, as `status` reads them: a node answering `role:master` that the most
 * sentinels name), until HAProxy's Redis check has that node UP (routing), the failed requests,
 * and the sessions lost (every user's last acknowledged session value read back after the run).
 * Then the killed node is started again and must rejoin as a replica.
 * Faults through the Docker API directly (DockerFaults). Prints each run and min/median/max.
 *
 *   BENCH_LAB=redis-bench node --import tsx bench/failover-redis.ts
 *   (a lab of that name that does not exist is made --no-moodle from
 *   lab/scenarios/labs/ha-sentinel.lab.yaml and destroyed at the end)
 */
import { DockerFaults, LAB_ROOT, loadTarget, machineLine, openLab, pad, runtimeOf } from './support';
import { parseDuration, parseFaultSpec } from '../src/load/faults';
import { DEFAULT_LOAD, runLoad } from '../src/load/run';
import { LABEL_NODE, labLabels } from '../src/docker/labels';
import { notYet, ready, waitFor } from '../src/core/wait';
import { nodeProbeCommand, parseNodeProbe, RedisNodeReading, sentinelAborts, sentinelEventAt, sentinelVerdict } from '../src/roles/redis-sentinel';
import { loadLabFile } from '../src/scenarios/lab-file';
import * as path from 'node:path';
import { REDIS_BACKEND } from '../src/roles/redis-haproxy';
import type { LabStatus } from '../src/protocol/status';
import { StateStore } from '../src/engine/state';

const LAB = process.env.BENCH_LAB ?? 'redis-bench';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const USERS = Number(process.env.BENCH_USERS ?? 30);
const DURATION = parseDuration(process.env.BENCH_DURATION ?? '40s');
const AT = process.env.BENCH_AT ?? '15s';
const log = (m: string) => process.stderr.write(`  ${m}\n`);

interface RunFigures {
  killed: string;
  newMaster: string;
  /** From the sentinels' own log lines: `+promoted-slave` and `+switch-master`, ms after the kill. */
  promotedMs?: number;
  switchedMs?: number;
  failoverMs: number;
  routedMs: number;
  requests: number;
  failed: number;
  failedSessionRequests: number;
  sessions: number;
  lostSessions: number;
  rejoinS: number;
  /** The sentinels' aborted attempts (each retried only after 2 × failover-timeout). */
  aborts: string[];
}

async function main() {
  const { controller, docker } = openLab(LAB);
  const home = process.env.MOODLE_LAB_HOME;
  // A lab that does not exist yet is the bench's own: made --no-moodle, destroyed at the end.
  const own = !new StateStore(home).load(LAB);
  if (own) {
    log(`lab ${LAB}: up --no-moodle --topology lab/scenarios/labs/ha-sentinel.lab.yaml`);
    await controller.up({ definition: loadLabFile(path.join(LAB_ROOT, 'scenarios', 'labs', 'ha-sentinel.lab.yaml'), LAB_ROOT), noMoodle: true });
  }
  try {
    await bench(controller, docker, home);
  } finally {
    if (own && !process.env.BENCH_KEEP_LAB) await controller.destroy();
  }
}

async function bench(controller: ReturnType<typeof openLab>['controller'], docker: ReturnType<typeof openLab>['docker'], home: string | undefined) {
  const password = new StateStore(home).load(LAB)?.secrets.redisPassword;
  let status = await controller.status();
  if (status.redis.mode !== 'sentinel' || !password)
    throw new Error(`lab ${LAB} is not a Redis Sentinel lab (pick a lab name that does not exist: the bench makes its own)`);
  const runtime = runtimeOf(status);
  const cacheNodes = status.nodes.filter((n) => n.role === 'cache').map((n) => n.name);
  const ids = new Map((await docker.containers.list(labLabels(LAB))).map((c) => [c.labels[LABEL_NODE] ?? c.name, c.id]));
  const healthyGroup = () =>
    waitFor(
      async () => {
        const s = await controller.status();
        const bad = s.nodes.filter((n) => n.role === 'cache' && !n.healthy).map((n) => `${n.name}: ${n.detail}`);
        const caught = (s.redis.replicas ?? []).every((r) => r.lagBytes === 0);
        return s.redis.up && !bad.length && s.redis.replicas?.length === cacheNodes.length - 1 && caught
          ? ready(s)
          : notYet(`master ${s.redis.master ?? 'none'}; ${bad.join('; ') || 'replicas not caught up'}`);
      },
      { what: 'a healthy Sentinel group (master, replicas caught up)', timeoutMs: 180_000, intervalMs: 1000 },
    );

  const runs: RunFigures[] = [];
  for (let i = 1; i <= RUNS; i++) {
    status = await healthyGroup();
    const killed = status.redis.master!;
    const survivors = cacheNodes.filter((n) => n !== killed);
    log(`run ${i}/${RUNS}: kill the master ${killed} at ${AT} under ${USERS} users`);
    let diedAt = 0;
    const off = await docker.events({ ...labLabels(LAB), [LABEL_NODE]: killed }, (e) => {
      if (e.type === 'container' && e.action === 'die' && !diedAt) diedAt = e.timeMs;
    });
    // Watchers: the survivors' own answers, and HAProxy's Redis check, every 100 ms after the kill.
    const watch = (async () => {
      await waitFor(async () => (diedAt ? ready(true) : notYet('not killed yet')), { what: 'the kill', timeoutMs: DURATION + 60_000, intervalMs: 50 });
      // What `status` would say: the killed node does not run, the survivors answer as they do.
      const newMaster = await waitFor(
        async () => {
          const readings: RedisNodeReading[] = await Promise.all(
            survivors.map(async (n) =>
              parseNodeProbe(
                n,
                (await docker.containers.exec(ids.get(n)!, nodeProbeCommand(), { env: [`REDISCLI_AUTH=${password}`], timeoutMs: 5000 })).stdout,
              ),
            ),
          );
          const master = sentinelVerdict([{ name: killed, running: false, pong: false, sentinelUp: false }, ...readings]).status.master;
          return master && master !== killed ? ready({ name: master, at: Date.now() }) : notYet('the status names no new master yet');
        },
        { what: 'a new master', timeoutMs: 60_000, intervalMs: 100 },
      );
      const routedAt = await waitFor(
        async () => {
          const up = (await runtime.servers()).filter((s) => s.backend === REDIS_BACKEND && s.status === 'UP').map((s) => s.server);
          return up.length === 1 && up[0] === newMaster.name ? ready(Date.now()) : notYet(`HAProxy Redis UP: ${up.join(', ') || 'none'}`);
        },
        { what: 'HAProxy routing Redis to the new master', timeoutMs: 60_000, intervalMs: 100 },
      );
      return { newMaster: newMaster.name, failoverMs: newMaster.at - diedAt, routedMs: routedAt - diedAt };
    })();
    const faults = new DockerFaults(docker, LAB);
    const run = await runLoad(
      loadTarget(status),
      { ...DEFAULT_LOAD, journey: 'probe', users: USERS, durationMs: DURATION, faults: [parseFaultSpec(`kill ${killed}@${AT}`)], probeHz: 2, integrityHz: 0 },
      { injector: faults, progress: () => undefined },
    );
    const w = await watch;
    off();
    const logs = await Promise.all(survivors.map((n) => docker.containers.logs(ids.get(n)!, 400)));
    const promotedAt = sentinelEventAt(logs, '+promoted-slave', diedAt - 1000);
    const switchedAt = sentinelEventAt(logs, '+switch-master', diedAt - 1000);
    const t0 = Date.now();
    await faults.heal();
    const healed: LabStatus = await healthyGroup();
    const back = healed.redis.replicas?.find((r) => r.name === killed);
    if (!back?.linkUp || back.masterHost !== w.newMaster)
      throw new Error(`${killed} did not rejoin as a replica of ${w.newMaster}: ${JSON.stringify(healed.redis)}`);
    const r = run.result;
    const byLabel = (l: string) => r.byLabel[l]?.failures ?? 0;
    runs.push({
      killed,
      ...w,
      ...(promotedAt ? { promotedMs: promotedAt - diedAt } : {}),
      ...(switchedAt ? { switchedMs: switchedAt - diedAt } : {}),
      requests: r.requests,
      failed: r.failures,
      failedSessionRequests: byLabel('session-set') + byLabel('session-get'),
      sessions: r.integrity?.sessions ?? 0,
      lostSessions: r.integrity?.lostSessions.length ?? 0,
      rejoinS: (Date.now() - t0) / 1000,
      aborts: sentinelAborts(logs, diedAt - 1000),
    });
    log(`run ${i}: new master ${w.newMaster} ${w.failoverMs} ms, HAProxy ${w.routedMs} ms, ${r.failures} failed, ${runs.at(-1)!.lostSessions} sessions lost`);
  }

  const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
  process.stdout.write(
    `\nfailover-redis: SIGKILL of the Redis master at ${AT} under ${USERS} users, ${DURATION / 1000} s, probe journey, lab ${LAB}, ${RUNS} runs\n${machineLine()}, load average ${load}\n\n`,
  );
  const header = [
    'run',
    'killed',
    'new master',
    'promoted ms (log)',
    'switch-master ms (log)',
    'failover ms',
    'HAProxy routes ms',
    'requests',
    'failed',
    'failed session req',
    'sessions',
    'lost sessions',
    'rejoin s',
    'aborted attempts',
  ];
  process.stdout.write(
    pad([
      header,
      ...runs.map((x, i) => [
        i + 1,
        x.killed,
        x.newMaster,
        x.promotedMs ?? '—',
        x.switchedMs ?? '—',
        x.failoverMs,
        x.routedMs,
        x.requests,
        x.failed,
        x.failedSessionRequests,
        x.sessions,
        x.lostSessions,
        x.rejoinS.toFixed(1),
        x.aborts.join(', ') || 'none',
      ]),
    ]) + '\n\n',
  );
  const stats = (v: number[]) => {
    if (!v.length) return ['—', '—', '—'];
    const s = [...v].sort((a, b) => a - b);
    return [s[0]!, s[Math.floor((s.length - 1) / 2)]!, s[s.length - 1]!];
  };
  const rows: [string, number[]][] = [
    ['promoted ms (kill → sentinel log +promoted-slave)', runs.flatMap((x) => (x.promotedMs === undefined ? [] : [x.promotedMs]))],
    ['switch-master ms (kill → sentinel log +switch-master)', runs.flatMap((x) => (x.switchedMs === undefined ? [] : [x.switchedMs]))],
    ['failover ms (kill → polled: the status names a new master)', runs.map((x) => x.failoverMs)],
    ['HAProxy routes ms (kill → polled: only the new master UP)', runs.map((x) => x.routedMs)],
    ['failed requests', runs.map((x) => x.failed)],
    ['lost sessions', runs.map((x) => x.lostSessions)],
  ];
  process.stdout.write(pad([['figure', 'min', 'median', 'max'], ...rows.map(([k, v]) => [k, ...stats(v)])]) + '\n');
}

main().catch((err) => {
  process.stderr.write(`failover-redis: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
