/**
 * The soak bench's verdicts, pure (no Docker, no network): is the lab green, which lost sessions
 * were legitimately lost, which failed requests fell in which fault window, and the figures.
 */
import type { Sample } from '../src/metrics/types';
import type { SoakKind } from './soak-plan';
import type { Role } from '../src/protocol/status';

export { labProblems } from '../src/roles/green';

/** Redis keeps sessions in memory only (no RDB, no AOF): a restart (kill, stop) loses them all. */
export function losesSessions(kind: SoakKind, role: Role): boolean {
  return role === 'cache' && (kind === 'kill' || kind === 'stop');
}

/** A fault window as it ran: applied → healed → green again. Epoch ms. */
export interface RanWindow {
  kind: SoakKind;
  role: Role;
  appliedAtMs: number;
  /** When the lab was green again (or when the soak gave up on it). */
  greenAtMs: number;
  skipped?: boolean;
}

/**
 * A session set at `setAtMs` (the start of the request that set it) should have survived unless
 * a window that loses sessions ended after it: set before the fault it was wiped; set during
 * the fault (Redis down or restarting) it may never have been stored.
 */
export function shouldSurvive(setAtMs: number, windows: RanWindow[]): boolean {
  return !windows.some((w) => !w.skipped && losesSessions(w.kind, w.role) && setAtMs < w.greenAtMs);
}

export interface FailedSplit {
  requests: number;
  failed: number;
  /** Failed while HAProxy (the single entry) or Redis (sessions) was faulted: expected. */
  duringLbCache: number;
  /** Failed while another node was faulted (redundant roles: should stay near 0). */
  duringOther: number;
  /** Failed while the lab was green (between windows). */
  betweenFaults: number;
}

/** Splits failed requests by the window their request started in. */
export function splitFailures(samples: Sample[], windows: RanWindow[]): FailedSplit {
  const out: FailedSplit = { requests: samples.length, failed: 0, duringLbCache: 0, duringOther: 0, betweenFaults: 0 };
  const ran = windows.filter((w) => !w.skipped);
  for (const s of samples) {
    if (s.success) continue;
    out.failed++;
    const w = ran.find((x) => s.startMs >= x.appliedAtMs && s.startMs <= x.greenAtMs);
    if (!w) out.betweenFaults++;
    else if (w.role === 'lb' || w.role === 'cache') out.duringLbCache++;
    else out.duringOther++;
  }
  return out;
}

/** The latest successful request of each virtual user with this label: 'vu 3' → start ms. */
export function lastSuccessByThread(samples: Sample[], label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) if (s.success && s.label === label && s.startMs > (out.get(s.thread) ?? -Infinity)) out.set(s.thread, s.startMs);
  return out;
}

export function spread(xs: number[]): { min: number; median: number; max: number } | undefined {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { min: s[0]!, median: s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2), max: s[s.length - 1]! };
}

/** kind × role → how many faults were applied (and the totals). */
export function countByKindRole(windows: { kind: SoakKind; role: Role; skipped?: boolean; error?: string }[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const w of windows) {
    if (w.skipped || w.error) continue;
    const row = (out[w.kind] ??= {});
    row[w.role] = (row[w.role] ?? 0) + 1;
  }
  return out;
}
