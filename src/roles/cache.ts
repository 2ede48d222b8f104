/** `cache`: Redis, the session store. */
import type { DerivedEvent } from './types';
import { RoleModule, RUNTIME_TMPFS } from './types';
import { forAll, forContainerRunning, forExec } from './wait-strategies';
import { errText } from '../core/errors';

/** INFO's `field:value` lines (sections and comments skipped). */
export function parseRedisInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** Keys over every database of the keyspace section (`db0:keys=3,expires=1,avg_ttl=0`). */
export function redisKeys(fields: Map<string, string>): number {
  let keys = 0;
  for (const [name, value] of fields) {
    if (!/^db\d+$/.test(name)) continue;
    const n = /(?:^|,)keys=(\d+)(?:,|$)/.exec(value)?.[1];
    if (n) keys += Number(n);
  }
  return keys;
}

export const cacheRole: RoleModule = {
  role: 'cache',
  memoryMiB: 10, // measured idle: redis 4
  maxCount: 1,
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
  env: (_node, _topology, state) => ({ REDIS_PASSWORD: state.secrets.redisPassword }),
  readiness: (t) =>
    forAll('redis-ping', [
      forContainerRunning(t.docker.containers, t.node, t.containerId),
      forExec(
        t.docker.containers,
        t.containerId,
        'redis-ping',
        30_000,
        ['redis-cli', 'ping'],
        { env: [`REDISCLI_AUTH=${t.state.secrets.redisPassword}`], timeoutMs: 3000 },
        (r) => (r.stdout.trim() === 'PONG' ? undefined : r.stdout.trim() || r.stderr.trim()),
      ),
    ]),
  collectStatus(ctx, nodes) {
    const cache = nodes[0];
    if (!cache) return [];
    const { docker, state, status, health } = ctx;
    return [
      (async () => {
        const c = ctx.byNode.get(cache.name);
        if (!c || c.state !== 'running') {
          status.redis.error = c ? c.state : 'missing';
          health.set(cache.name, { healthy: false, detail: status.redis.error });
          return;
        }
        try {
          // Health is a real answer: an authenticated PING answered PONG. (INFO's errorstats keep
          // errorstat_NOAUTH after one stray unauthenticated client: no text search on INFO.)
          const auth = { env: [`REDISCLI_AUTH=${state.secrets.redisPassword}`], timeoutMs: 3000 };
          const [ping, info] = await Promise.all([
            docker.containers.exec(c.id, ['redis-cli', 'ping'], auth),
            docker.containers.exec(c.id, ['redis-cli', 'info', 'memory', 'keyspace'], auth).catch(() => undefined),
          ]);
          status.redis.up = ping.exitCode === 0 && ping.stdout.trim() === 'PONG';
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
  diff(prev, next): DerivedEvent[] {
    return prev.redis.up !== next.redis.up && prev.nodes.length
      ? [{ source: 'redis', severity: next.redis.up ? 'ok' : 'error', node: 'redis', text: `Redis ${next.redis.up ? 'up' : 'down'}` }]
      : [];
  },
  display: {
    role: 'cache',
    order: 4,
    label: 'Cache (Redis)',
    icon: 'zap',
    reportTitle: 'Redis (cache)',
    status: 'redis',
    panel: 'redis',
    diagram: { title: 'Redis', group: false, from: 'web' },
  },
};
