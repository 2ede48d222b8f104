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
  out.push(...diffImpairments(prev, next));
  return out;
}

/** Link impairments: applied (with the method), no longer in force (and why), removed. */
export function diffImpairments(prev: LabStatus, next: LabStatus): DerivedEvent[] {
  const out: DerivedEvent[] = [];
  const what = (i: NonNullable<LabStatus['impairments']>[number]) =>
    `${i.node} ${i.kind}${i.delayMs !== undefined ? ` ${i.delayMs}ms${i.jitterMs ? ` ±${i.jitterMs}ms` : ''}` : ''}${i.lossPct !== undefined ? ` ${i.lossPct}%` : ''}${i.rateKbit !== undefined ? ` ${i.rateKbit}kbit` : ''}${i.to?.length ? ` to ${i.to.join(',')}` : ''}`;
  const before = new Map((prev.impairments ?? []).map((i) => [i.faultId, i]));
  const after = new Map((next.impairments ?? []).map((i) => [i.faultId, i]));
  for (const [id, i] of after) {
    const p = before.get(id);
    if (i.inForce && (!p || !p.inForce || p.method !== i.method))
      out.push({ source: 'lab', severity: 'warn', node: i.node, text: `${what(i)} in force (method ${i.method})` });
    else if (!i.inForce && p?.inForce) out.push({ source: 'lab', severity: 'warn', node: i.node, text: `${what(i)} no longer in force: ${i.problem ?? '?'}` });
  }
  for (const [id, p] of before) if (!after.has(id)) out.push({ source: 'lab', severity: 'ok', node: p.node, text: `${what(p)} removed` });
  return out;
}

/** The parts of a node's state a user acts on: an intent quoting an older view of them is stale. */
export function nodeFingerprints(s: LabStatus): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of s.nodes) m.set(n.name, `${n.container}|${n.healthy}`);
  for (const h of s.haproxy.servers) m.set(h.server, `${m.get(h.server) ?? ''}|${h.backend}:${h.status.split(' ')[0]}`);
  return m;
}
