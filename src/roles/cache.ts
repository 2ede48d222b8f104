/**
 * `cache`: Redis, the session store and Moodle's application cache. Two shapes (the definition's
 * `cache.mode`): `single`, one node as always; `sentinel`, three nodes (a master and two
 * replicas, each beside a sentinel) that Moodle reaches through HAProxy's Redis listener, which
 * sends it to the node answering `role:master` (./redis-haproxy.ts). Redis Cluster is refused.
 */
import type { DerivedEvent, NodeSpec, ReadinessTarget } from './types';
import { nodesOf, roleOptions, RoleModule, RUNTIME_TMPFS, Topology } from './types';
import { forAll, forCheck, forContainerRunning, forExec } from './wait-strategies';
import { errText } from '../core/errors';
import { notYet, ready, waitFor } from '../core/wait';
import { HaproxyRuntime, tcpRuntime } from './haproxy-runtime';
import { REDIS_BACKEND } from './redis-haproxy';
import {
  nodeProbeCommand,
  parseNodeProbe,
  parseRedisInfo,
  RedisNodeReading,
  redisKeys,
  SENTINEL_NODES,
  sentinelEnv,
  sentinelNodeProblem,
  sentinelVerdict,
} from './redis-sentinel';

export { parseRedisInfo, redisKeys } from './redis-sentinel';

/** The topology's Redis runs as a Sentinel group (three nodes behind HAProxy's `role:master` check). */
export function isSentinel(topology: Topology): boolean {
  return roleOptions(topology, 'cache').mode === 'sentinel' && nodesOf(topology, 'cache').length > 0;
}

const authOf = (password: string) => ({ env: [`REDISCLI_AUTH=${password}`], timeoutMs: 5000 });

/** Sentinel mode: the node's own answers (PING, INFO, its sentinel) in one exec. */
async function readNode(t: Pick<ReadinessTarget, 'docker' | 'containerId' | 'node'>, password: string): Promise<RedisNodeReading> {
  const r = await t.docker.containers.exec(t.containerId, nodeProbeCommand(), authOf(password));
  return parseNodeProbe(t.node, r.stdout);
}

export const cacheRole: RoleModule = {
  role: 'cache',
  memoryMiB: 12, // measured idle: redis 4 (single); sentinel mode redis1-3 8.4-11 after the failover bench
  maxCount: SENTINEL_NODES,
  options: ['mode'],
  checkOptions(opts, def) {
    const mode = opts.mode ?? 'single';
    if (mode === 'cluster')
      return 'mode "cluster" is not supported, use sentinel (Moodle reaches a Sentinel group through HAProxy with one host:port; a Redis Cluster needs Moodle\'s cluster mode for sessions and cache and 6 nodes)';
    if (mode === 'sentinel' && opts.count !== SENTINEL_NODES)
      return `count must be ${SENTINEL_NODES} with mode sentinel (a master, two replicas and three sentinels: a quorum of 2 that survives losing one node)`;
    if (mode === 'sentinel' && !(def.roles.lb?.count ?? 0))
      return "mode sentinel needs a load balancer (lb): Moodle reaches the master through HAProxy's Redis listener";
    if (mode === 'single' && opts.count !== 1) return 'count must be 1 without mode sentinel (more Redis nodes need mode: sentinel)';
    return undefined;
  },
  spec: {
    role: 'cache',
    prefix: 'redis',
    bareWhenAlone: true,
    image: 'redis',
    ports: [],
    volumes: [],
    capAdd: [],
    devices: [],
    tmpfs: RUNTIME_TMPFS,
    stopTimeoutS: 10,
    readiness: 'redis-ping',
    dependsOn: [],
    sequential: false,
    stateless: false,
  },
  env: (node, topology, state) => ({
    REDIS_PASSWORD: state.secrets.redisPassword,
    ...(isSentinel(topology)
      ? sentinelEnv(
          node.name,
          nodesOf(topology, 'cache').map((n) => n.name),
        )
      : {}),
  }),
  readiness: (t) => {
    const password = t.state.secrets.redisPassword;
    const nodeCount = t.topology ? nodesOf(t.topology, 'cache').length : 1;
    if (t.topology && isSentinel(t.topology)) {
      return forAll('redis-ping', [
        forContainerRunning(t.docker.containers, t.node, t.containerId),
        // A restarted former master may wait for the sentinels' promotion before it starts (lab/redis/entrypoint.sh).
        forCheck('redis-sentinel', 90_000, async () => {
          const problem = sentinelNodeProblem(await readNode(t, password), nodeCount);
          return problem === undefined ? ready(undefined) : notYet(problem);
        }),
      ]);
    }
    return forAll('redis-ping', [
      forContainerRunning(t.docker.containers, t.node, t.containerId),
      forExec(t.docker.containers, t.containerId, 'redis-ping', 30_000, ['redis-cli', 'ping'], { env: [`REDISCLI_AUTH=${password}`], timeoutMs: 3000 }, (r) =>
        r.stdout.trim() === 'PONG' ? undefined : r.stdout.trim() || r.stderr.trim(),
      ),
    ]);
  },
  hooks: {
    /** Sentinel mode: `up` returns when HAProxy's Redis listener sends clients to the master. */
    async afterUp(ctx) {
      const { state, topology } = ctx;
      if (!isSentinel(topology) || !state.ports.runtime || nodesOf(topology, 'lb').length === 0) return;
      const runtime = (ctx.runtime ?? ((p: number) => new HaproxyRuntime(tcpRuntime(p))))(state.ports.runtime);
      ctx.reporter.step('haproxy: waiting for its Redis check to find the master');
      await waitFor(
        async () => {
          const up = (await runtime.servers()).filter(
            (r) => r.backend === REDIS_BACKEND && r.server !== 'BACKEND' && r.server !== 'FRONTEND' && r.status === 'UP',
          );
          return up.length === 1 ? ready(undefined) : notYet(`${up.length} Redis servers UP in HAProxy (want exactly the master)`);
        },
        { what: 'HAProxy Redis master', timeoutMs: 60_000, intervalMs: 250, clock: ctx.clock, signal: ctx.signal },
      );
    },
  },
  collectStatus(ctx, nodes) {
    const { docker, state, status, health } = ctx;
    if (nodes.length === 0) return [];
    const password = state.secrets.redisPassword;
    if (isSentinel(ctx.topology)) {
      return [
        (async () => {
          const readings = await Promise.all(
            nodes.map(async (n): Promise<RedisNodeReading> => {
              const c = ctx.byNode.get(n.name);
              if (!c || c.state !== 'running') return { name: n.name, running: false, pong: false, pingProblem: c ? c.state : 'missing', sentinelUp: false };
              try {
                return await readNode({ docker, containerId: c.id, node: n.name }, password);
              } catch (err) {
                return { name: n.name, running: true, pong: false, pingProblem: errText(err), sentinelUp: false };
              }
            }),
          );
          const verdict = sentinelVerdict(readings);
          status.redis = verdict.status;
          for (const r of readings) {
            health.set(r.name, r.running ? (verdict.health.get(r.name) ?? { healthy: false }) : { healthy: false, detail: r.pingProblem });
          }
        })(),
      ];
    }
    const cache = nodes[0]!;
    return [
      (async () => {
        status.redis.mode = 'single';
        const c = ctx.byNode.get(cache.name);
        if (!c || c.state !== 'running') {
          status.redis.error = c ? c.state : 'missing';
          health.set(cache.name, { healthy: false, detail: status.redis.error });
          return;
        }
        try {
          // Health is a real answer: an authenticated PING answered PONG. (INFO's errorstats keep
          // errorstat_NOAUTH after one stray unauthenticated client: no text search on INFO.)
          const auth = { env: [`REDISCLI_AUTH=${password}`], timeoutMs: 3000 };
          const [ping, info] = await Promise.all([
            docker.containers.exec(c.id, ['redis-cli', 'ping'], auth),
            docker.containers.exec(c.id, ['redis-cli', 'info', 'memory', 'keyspace'], auth).catch(() => undefined),
          ]);
          status.redis.up = ping.exitCode === 0 && ping.stdout.trim() === 'PONG';
          if (status.redis.up) status.redis.master = cache.name;
          if (status.redis.up && info?.exitCode === 0) {
            const fields = parseRedisInfo(info.stdout);
            status.redis.keys = redisKeys(fields);
            const used = Number(fields.get('used_memory'));
            if (Number.isFinite(used) && fields.has('used_memory')) status.redis.usedMemoryBytes = used;
          }
          health.set(
            cache.name,
            status.redis.up
              ? { healthy: true }
              : { healthy: false, detail: `PING: ${ping.stdout.trim() || ping.stderr.trim() || `exit code ${ping.exitCode}`}` },
          );
        } catch (err) {
          status.redis.error = errText(err);
          health.set(cache.name, { healthy: false, detail: status.redis.error });
        }
      })(),
    ];
  },
  greenProblems(s) {
    return s.redis.up ? [] : [`redis ${s.redis.error ?? 'down'}`];
  },
  diff(prev, next): DerivedEvent[] {
    if (!prev.nodes.length) return [];
    const out: DerivedEvent[] = [];
    const node = next.redis.master ?? prev.redis.master ?? 'redis';
    if (prev.redis.up !== next.redis.up) {
      out.push({ source: 'redis', severity: next.redis.up ? 'ok' : 'error', node, text: `Redis ${next.redis.up ? 'up' : 'down'}` });
    }
    // A new master (Sentinel's failover): the timeline names the old and the new one.
    if (next.redis.mode === 'sentinel' && next.redis.master && prev.redis.master && prev.redis.master !== next.redis.master) {
      out.push({ source: 'redis', severity: 'warn', node: next.redis.master, text: `Redis master: ${prev.redis.master} → ${next.redis.master}` });
    }
    const prevLinks = new Map((prev.redis.replicas ?? []).map((r) => [r.name, r.linkUp]));
    for (const r of next.redis.replicas ?? []) {
      const was = prevLinks.get(r.name);
      if (was !== undefined && was !== r.linkUp) {
        out.push({
          source: 'redis',
          severity: r.linkUp ? 'ok' : 'warn',
          node: r.name,
          text: `Redis ${r.name}: replication link to ${r.masterHost ?? 'its master'} ${r.linkUp ? 'up' : 'down'}`,
        });
      }
    }
    return out;
  },
  /** A Sentinel group is behind HAProxy's Redis listener (./redis-haproxy.ts); a single Redis is reached directly. */
  haproxyBackend: (topology) => (isSentinel(topology) ? REDIS_BACKEND : undefined),
  display: {
    role: 'cache',
    order: 4,
    label: 'Cache (Redis)',
    icon: 'zap',
    reportTitle: 'Redis (cache)',
    status: 'redis',
    // A Sentinel group's nodes are drawn `redis1 (master)`, `redis2 (replica)`: the status's redis section.
    part: 'redis',
    panel: 'redis',
    diagram: { title: 'Redis', group: false, from: 'web' },
  },
};

/** Sentinel mode's nodes, for what reads them by name (the bench, the scenario). */
export function cacheNodes(topology: Topology): NodeSpec[] {
  return nodesOf(topology, 'cache');
}
