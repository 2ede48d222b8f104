/**
 * The one definition of "green" (the soak bench and the audit wait for it between faults): what
 * keeps the lab from being healthy, per role.
 */
import type { ActiveFault } from '../protocol/faults';
import type { LabStatus } from '../protocol/status';
import { REDIS_BACKEND } from './redis-haproxy';

/**
 * What keeps the lab from being green, in a few words each ([] = green): every node healthy,
 * every HAProxy server UP (a Sentinel group's Redis listener: the master alone), Galera Primary with every node Synced, every Gluster brick online,
 * nothing pending heal and the volume writable, Redis up, no fault still recorded as active.
 */
export function labProblems(s: LabStatus, active: ActiveFault[] = []): string[] {
  const out: string[] = [];
  if (s.state !== 'running') out.push(`lab ${s.state}`);
  for (const n of s.nodes) if (!n.healthy) out.push(`${n.name} ${n.detail ?? 'unhealthy'}`);
  if (s.nodes.some((n) => n.role === 'lb')) {
    if (!s.haproxy.up) out.push(`haproxy runtime ${s.haproxy.error ?? 'down'}`);
    const notUp = s.haproxy.servers.filter((x) => x.backend !== REDIS_BACKEND && !/^UP/.test(x.status));
    if (notUp.length) out.push(`haproxy ${notUp.map((x) => `${x.backend}/${x.server} ${x.status}`).join(', ')}`);
    // A Sentinel group behind HAProxy's Redis listener: its check passes only on the node answering
    // role:master, so green is the master alone UP (a replica UP too would be a second master).
    const redis = s.haproxy.servers.filter((x) => x.backend === REDIS_BACKEND);
    const redisUp = redis.filter((x) => /^UP/.test(x.status)).map((x) => x.server);
    if (redis.length && (redisUp.length !== 1 || redisUp[0] !== s.redis.master))
      out.push(`haproxy ${REDIS_BACKEND}: UP ${redisUp.join(', ') || 'none'}, want the master ${s.redis.master ?? '(none named)'} alone`);
  }
  const db = s.nodes.filter((n) => n.role === 'db').length;
  if (db) {
    const synced = s.galera.nodes.filter((n) => n.state === 'Synced').length;
    if (s.galera.status !== 'Primary' || s.galera.clusterSize !== db || synced !== db)
      out.push(`galera ${s.galera.status} size ${s.galera.clusterSize}, ${synced}/${db} Synced`);
  }
  const bricks = s.nodes.filter((n) => n.role === 'storage').length;
  if (bricks) {
    const online = s.gluster.bricks.filter((b) => b.online).length;
    if (online !== bricks) out.push(`gluster ${online}/${bricks} bricks online`);
    if (s.gluster.healPending) out.push(`gluster ${s.gluster.healPending} pending heal`);
    if (s.gluster.writable === false) out.push(`gluster not writable: ${s.gluster.writeError ?? '?'}`);
  }
  if (s.nodes.some((n) => n.role === 'cache') && !s.redis.up) out.push(`redis ${s.redis.error ?? 'down'}`);
  if (active.length) out.push(`faults still active: ${active.map((f) => f.detail).join('; ')}`);
  return out;
}
