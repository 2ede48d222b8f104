/**
 * The one definition of "green" (the soak bench and the audit wait for it between faults): what
 * keeps the lab from being healthy. The lab-wide part is here; each role says what keeps its own
 * section of the status from green (`greenProblems`: HAProxy's servers, Galera, Gluster, Redis).
 */
import type { ActiveFault } from '../protocol/faults';
import type { LabStatus } from '../protocol/status';
import { roleModules } from './index';

/**
 * What keeps the lab from being green, in a few words each ([] = green): the lab running, every
 * node healthy, each role's own section green (in the roles' display order), no fault still
 * recorded as active.
 */
export function labProblems(s: LabStatus, active: ActiveFault[] = []): string[] {
  const out: string[] = [];
  if (s.state !== 'running') out.push(`lab ${s.state}`);
  for (const n of s.nodes) if (!n.healthy) out.push(`${n.name} ${n.detail ?? 'unhealthy'}`);
  for (const m of roleModules()) {
    const count = s.nodes.filter((n) => n.role === m.role).length;
    if (count && m.greenProblems) out.push(...m.greenProblems(s, count));
  }
  if (active.length) out.push(`faults still active: ${active.map((f) => f.detail).join('; ')}`);
  return out;
}
