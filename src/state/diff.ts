/**
 * Timeline entries derived by comparing two consecutive statuses: what Docker events do not say
 * (HAProxy's verdicts, Galera membership, bricks, Redis, health). Pure: unit-tested directly.
 */
import type { LabStatus } from '../protocol/status';
import { roleModules } from '../roles';
import type { DerivedEvent } from '../roles/types';

export type { DerivedEvent };

export function diffStatus(prev: LabStatus | undefined, next: LabStatus): DerivedEvent[] {
  const out: DerivedEvent[] = [];
  if (!prev) return out;
  if (prev.state !== next.state) out.push({ source: 'lab', severity: next.state === 'running' ? 'ok' : 'warn', text: `lab ${prev.state} → ${next.state}` });

  const prevNodes = new Map(prev.nodes.map((n) => [n.name, n]));
  for (const n of next.nodes) {
    const p = prevNodes.get(n.name);
    if (p && p.healthy !== n.healthy && n.container === 'running' && p.container === 'running') {
      out.push({
        source: 'lab',
        severity: n.healthy ? 'ok' : 'warn',
        node: n.name,
        text: `${n.name} ${n.healthy ? 'healthy again' : `unhealthy${n.detail ? ` (${n.detail})` : ''}`}`,
      });
    }
  }

  // Each role's section (HAProxy, Galera, bricks, Redis): its role module says what changed.
  for (const m of roleModules()) if (m.diff) out.push(...m.diff(prev, next));

  if (prev.moodle.maintenance !== next.moodle.maintenance)
    out.push({ source: 'lab', severity: 'warn', text: `Moodle maintenance ${next.moodle.maintenance ? 'on' : 'off'}` });
  return out;
}

/** The parts of a node's state a user acts on: an intent quoting an older view of them is stale. */
export function nodeFingerprints(s: LabStatus): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of s.nodes) m.set(n.name, `${n.container}|${n.healthy}`);
  for (const h of s.haproxy.servers) m.set(h.server, `${m.get(h.server) ?? ''}|${h.backend}:${h.status.split(' ')[0]}`);
  return m;
}
