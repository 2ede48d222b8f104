/**
 * Timeline entries derived by comparing two consecutive statuses: what Docker events do not say
 * (HAProxy's verdicts, Galera membership, bricks, Redis, health). Pure: unit-tested directly.
 */
import type { LabStatus } from '../protocol/status';
import type { EventSeverity, EventSource } from '../protocol/snapshot';

export interface DerivedEvent {
  source: EventSource;
  severity: EventSeverity;
  node?: string;
  text: string;
}

const hapSeverity = (s: string): EventSeverity => (s.startsWith('UP') && !s.includes('/') ? 'ok' : s.startsWith('DOWN') ? 'error' : 'warn');

export function diffStatus(prev: LabStatus | undefined, next: LabStatus): DerivedEvent[] {
  const out: DerivedEvent[] = [];
  if (!prev) return out;
  if (prev.state !== next.state) out.push({ source: 'lab', severity: next.state === 'running' ? 'ok' : 'warn', text: `lab ${prev.state} → ${next.state}` });

  const prevNodes = new Map(prev.nodes.map((n) => [n.name, n]));
  for (const n of next.nodes) {
    const p = prevNodes.get(n.name);
    if (p && p.healthy !== n.healthy && n.container === 'running' && p.container === 'running') {
      out.push({ source: 'lab', severity: n.healthy ? 'ok' : 'warn', node: n.name, text: `${n.name} ${n.healthy ? 'healthy again' : `unhealthy${n.detail ? ` (${n.detail})` : ''}`}` });
    }
  }

  const key = (s: { backend: string; server: string }) => `${s.backend}/${s.server}`;
  const prevServers = new Map(prev.haproxy.servers.map((s) => [key(s), s]));
  for (const s of next.haproxy.servers) {
    const p = prevServers.get(key(s));
    if (p && p.status !== s.status) {
      out.push({ source: 'haproxy', severity: hapSeverity(s.status), node: s.server, text: `HAProxy ${key(s)}: ${p.status} → ${s.status}${s.checkStatus ? ` (${s.checkStatus})` : ''}` });
    }
  }
  if (prev.haproxy.up !== next.haproxy.up && prev.nodes.length) {
    out.push({ source: 'haproxy', severity: next.haproxy.up ? 'ok' : 'error', node: 'haproxy', text: `HAProxy ${next.haproxy.up ? 'answers again' : 'does not answer'}` });
  }

  if (prev.galera.nodes.length || next.galera.nodes.length) {
    if (prev.galera.clusterSize !== next.galera.clusterSize || prev.galera.status !== next.galera.status) {
      const sev: EventSeverity = next.galera.status !== 'Primary' ? 'error' : next.galera.clusterSize < 3 ? 'warn' : 'ok';
      out.push({ source: 'galera', severity: sev, text: `Galera ${prev.galera.status} size ${prev.galera.clusterSize} → ${next.galera.status} size ${next.galera.clusterSize}` });
    }
    const prevG = new Map(prev.galera.nodes.map((g) => [g.name, g]));
    for (const g of next.galera.nodes) {
      const p = prevG.get(g.name);
      if (p && p.state !== g.state) out.push({ source: 'galera', severity: g.state === 'Synced' ? 'ok' : 'warn', node: g.name, text: `${g.name} wsrep ${p.state} → ${g.state}` });
    }
  }

  const prevB = new Map(prev.gluster.bricks.map((b) => [b.name, b]));
  for (const b of next.gluster.bricks) {
    const p = prevB.get(b.name);
    if (p && p.online !== b.online) out.push({ source: 'gluster', severity: b.online ? 'ok' : 'error', node: b.name, text: `brick ${b.name} ${b.online ? 'online' : 'offline'}` });
  }
  if (prev.gluster.healPending !== next.gluster.healPending && (prev.gluster.healPending === 0 || next.gluster.healPending === 0)) {
    out.push({ source: 'gluster', severity: next.gluster.healPending ? 'warn' : 'ok', text: next.gluster.healPending ? `${next.gluster.healPending} pending heals` : 'no pending heals' });
  }

  if (prev.redis.up !== next.redis.up && prev.nodes.length) out.push({ source: 'redis', severity: next.redis.up ? 'ok' : 'error', node: 'redis', text: `Redis ${next.redis.up ? 'up' : 'down'}` });
  if (prev.moodle.maintenance !== next.moodle.maintenance) out.push({ source: 'lab', severity: 'warn', text: `Moodle maintenance ${next.moodle.maintenance ? 'on' : 'off'}` });
  return out;
}

/** The parts of a node's state a user acts on: an intent quoting an older view of them is stale. */
export function nodeFingerprints(s: LabStatus): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of s.nodes) m.set(n.name, `${n.container}|${n.healthy}`);
  for (const h of s.haproxy.servers) m.set(h.server, `${m.get(h.server) ?? ''}|${h.backend}:${h.status.split(' ')[0]}`);
  return m;
}
