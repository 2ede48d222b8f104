/**
 * What the host sends the dashboard and the tree: the `status --json` contract plus a revision,
 * the active faults, a timeline and (when load runs) metrics. No node or vscode imports here:
 * the webview imports this module too.
 */
import type { ActiveFault } from './faults';
import type { LabStatus } from './status';

export type EventSeverity = 'info' | 'ok' | 'warn' | 'error';
export type EventSource = 'docker' | 'haproxy' | 'galera' | 'gluster' | 'redis' | 'lab' | 'action';

export interface TimelineEvent {
  /** Increasing number, unique within one host session. */
  seq: number;
  atMs: number;
  source: EventSource;
  severity: EventSeverity;
  node?: string;
  text: string;
}

/** Load metrics, filled in by the load generator when one runs (absent otherwise: tiles show "—"). */
export interface LoadMetrics {
  /** Share of successful requests, 0..1. */
  availability: number;
  errorRate: number;
  apdex: number;
  p95Ms: number;
  p50Ms?: number;
  throughputRps?: number;
  activeUsers?: number;
  /** Recent per-second points for the latency chart. */
  series?: { atMs: number; p95Ms: number; errors: number }[];
}

export interface LabSnapshot extends LabStatus {
  /** Increases every time anything in the snapshot changes; intents quote the one they saw. */
  revision: number;
  activeFaults: ActiveFault[];
  /** Recent timeline entries, oldest first. */
  events: TimelineEvent[];
  metrics?: LoadMetrics;
  /** Set when the last refresh failed (e.g. Docker stopped answering); the rest is the last good view. */
  error?: string;
}
