/**
 * Per-fault failover figures from a run's timeline: the samples, the faults injected, and the
 * status snapshots polled meanwhile.
 *
 * - detectedMs: fault → first snapshot in which the component shows it (HAProxy marks the web
 *   node DOWN/MAINT; the Galera Primary component shrinks; the Gluster brick is offline: the
 *   node's role module says which, src/roles).
 *   Resolution = the polling interval; the snapshot's time is when its poll completed (an
 *   upper bound). undefined when no snapshot showed it (or the node has no such component).
 * - window: fault → the next fault (or the end of the run).
 * - failedRequests: failed samples sent in the window.
 * - blackoutMs: the longest stretch in the window with no successful request *completing*
 *   (overall, and per label, e.g. 'db-write'): requests that hang and then succeed still leave
 *   users without an answer meanwhile.
 * - p99Ms / maxMs: corrected latency of the samples sent in the window.
 * - recoveredMs: with a heal, heal → first snapshot showing the component healthy again;
 *   without one, fault → the end of the last failed request in the window (0 when none failed):
 *   how long the service stayed degraded. `recoveredBy` says which.
 */
import type { Role } from '../protocol/status';
import { roleOfNode } from '../roles';
import { LatencyHistogram } from './histogram';
import { ComponentSnapshot, correctedMs, endMs, FaultEvent, Sample } from './types';

export interface FaultAnalysis {
  fault: string;
  /** Who applied it: this run ('injected') or anything else ('external', from Docker's events or the status). */
  source: 'injected' | 'external';
  /** The nodes it hit. */
  nodes: string[];
  atMs: number;
  detectedMs?: number;
  failedRequests: number;
  blackoutMs: number;
  blackoutByLabel: Record<string, number>;
  recoveredMs?: number;
  recoveredBy: 'heal' | 'service';
  requests: number;
  p99Ms: number;
  maxMs: number;
  error?: string;
  /** false when the fault could not be applied (`error` says why). */
  applied?: boolean;
}

/** The role of a node whose faults a status snapshot can show (its role module's failover signal), or 'other'. */
type Component = Role | 'other';

export function componentOf(node: string): Component {
  const m = roleOfNode(node);
  return m?.failover ? m.role : 'other';
}

/** Whether the snapshot shows `node` as failed (true), healthy (false), or cannot tell (undefined). */
export function showsFailed(snap: ComponentSnapshot, node: string, baselineGaleraSize: number | undefined, webBackend = 'web'): boolean | undefined {
  const m = roleOfNode(node);
  switch (m?.failover) {
    case 'haproxy-server': {
      const row = snap.haproxy?.find((s) => s.backend === webBackend && s.server === node);
      if (!row) return undefined;
      return !/^(UP|DRAIN|NOLB|no check)/.test(row.status);
    }
    case 'galera-size':
      if (snap.galeraSize === undefined || baselineGaleraSize === undefined) return undefined;
      return snap.galeraSize < baselineGaleraSize;
    case 'brick': {
      const b = snap.bricks?.find((x) => x.name === node);
      return b ? !b.online : undefined;
    }
    default:
      return undefined;
  }
}

/** Longest stretch in [fromMs, toMs] without a successful completion among `samples`. */
export function longestBlackout(samples: Sample[], fromMs: number, toMs: number): number {
  const ends = samples
    .filter((s) => s.success)
    .map(endMs)
    .filter((t) => t >= fromMs && t <= toMs)
    .sort((a, b) => a - b);
  // Requests still failing (or answered with a failure) after the last success: the blackout runs
  // until the last of them ended; otherwise the tail of the window is just the end of the run.
  const lastFailureEnd = Math.max(fromMs, ...samples.filter((s) => !s.success && endMs(s) <= toMs && s.startMs >= fromMs).map(endMs));
  let prev = fromMs;
  let longest = 0;
  for (const t of ends) {
    longest = Math.max(longest, t - prev);
    prev = t;
  }
  if (lastFailureEnd > prev) longest = Math.max(longest, lastFailureEnd - prev);
  return Math.round(longest);
}

export function analyseFaults(samples: Sample[], faults: FaultEvent[], snapshots: ComponentSnapshot[], runEndMs: number): FaultAnalysis[] {
  const sorted = [...faults].sort((a, b) => a.atMs - b.atMs);
  const snaps = [...snapshots].sort((a, b) => a.atMs - b.atMs);
  return sorted.map((f, i) => {
    const to = sorted[i + 1]?.atMs ?? runEndMs;
    const inWindow = samples.filter((s) => s.startMs >= f.atMs && s.startMs < to);
    const h = new LatencyHistogram();
    for (const s of inWindow) h.record(correctedMs(s));
    const failed = inWindow.filter((s) => !s.success);
    const labels = [...new Set(samples.map((s) => s.label))].sort();
    const blackoutByLabel: Record<string, number> = {};
    for (const l of labels)
      blackoutByLabel[l] = longestBlackout(
        samples.filter((s) => s.label === l),
        f.atMs,
        to,
      );

    const before = snaps.filter((s) => s.atMs <= f.atMs && s.galeraSize !== undefined).pop();
    const baseline = before?.galeraSize ?? Math.max(0, ...snaps.map((s) => s.galeraSize ?? 0));
    let detectedMs: number | undefined;
    if (!f.error) {
      const hit = snaps.find((s) => s.atMs >= f.atMs && s.atMs < to && f.nodes.some((n) => showsFailed(s, n, baseline) === true));
      if (hit) detectedMs = Math.round(hit.atMs - f.atMs);
    }
    let recoveredMs: number | undefined;
    let recoveredBy: 'heal' | 'service' = 'service';
    if (f.healAtMs !== undefined) {
      recoveredBy = 'heal';
      const healAt = f.healAtMs;
      const back = snaps.find((s) => s.atMs >= healAt && f.nodes.every((n) => showsFailed(s, n, baseline) === false));
      if (back) recoveredMs = Math.round(back.atMs - healAt);
    } else {
      recoveredMs = failed.length ? Math.round(Math.max(...failed.map(endMs)) - f.atMs) : 0;
    }
    return {
      fault: f.fault,
      source: f.source ?? 'injected',
      nodes: f.nodes,
      atMs: f.atMs,
      detectedMs,
      failedRequests: failed.length,
      blackoutMs: longestBlackout(samples, f.atMs, to),
      blackoutByLabel,
      recoveredMs,
      recoveredBy,
      requests: inWindow.length,
      p99Ms: h.percentile(99),
      maxMs: h.maxMs,
      ...(f.error || f.healError ? { error: f.error ?? `could not heal: ${f.healError}` } : {}),
      ...(f.error ? { applied: false } : {}),
    };
  });
}
