/**
 * What the host sends the dashboard and the tree: the `status --json` contract plus a revision,
 * the active faults, a timeline and (when load runs) metrics. No node or vscode imports here:
 * the webview imports this module too.
 */
import type { ActiveFault } from './faults';
import type { LabStatus, RoleDisplay } from './status';
import type { AuditView } from './audit';

export type EventSeverity = 'info' | 'ok' | 'warn' | 'error';
export type EventSource = 'docker' | 'haproxy' | 'galera' | 'gluster' | 'redis' | 'lab' | 'action' | 'load' | 'scenario';

/** What an event marks, when it matters to the chart (fault/heal draw vertical markers). */
export type EventKind = 'fault' | 'heal' | 'analysis' | 'load' | 'scenario' | 'say';

export interface TimelineEvent {
  /** Increasing number, unique within one host session. */
  seq: number;
  atMs: number;
  source: EventSource;
  severity: EventSeverity;
  node?: string;
  text: string;
  kind?: EventKind;
  /** A fault nobody injected through the lab's UI or the run (a crash, `docker kill` elsewhere): the load run's analysis found it. */
  external?: boolean;
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
  /** Recent per-second points for the latency chart (atMs: start of the second, epoch ms). */
  series?: SeriesPoint[];
  /** True while the run goes on; false: the frozen figures of the last finished run. */
  running?: boolean;
  /** What runs: 'load', or 'scenario <name>'. */
  label?: string;
  journey?: string;
  users?: number;
  durationMs?: number;
  startedAtMs?: number;
  requests?: number;
  failures?: number;
}

export interface SeriesPoint {
  atMs: number;
  p95Ms: number;
  /** Failed requests in that second. */
  errors: number;
  p50Ms?: number;
  maxMs?: number;
  requests?: number;
}

export type StepState = 'pending' | 'running' | 'passed' | 'failed';

/** A `predict` step waiting for its answer (the dashboard's dialog, VS Code's quick pick or input box). */
export interface PredictionQuestion {
  id: string;
  question: string;
  /** Multiple choice: the texts, answered by index. Absent: a number in `unit`, from `min` to `max`. */
  choices?: string[];
  unit?: string;
  min?: number;
  max?: number;
}

/** A prediction graded after the run (the scenario's `predictions`). */
export interface PredictionGrade {
  id: string;
  question: string;
  answer: string | number | null;
  unit?: string;
  measuredText: string;
  expected: string;
  grade: 'right' | 'wrong' | 'not answered' | 'ungraded';
  explain?: string;
}

/** A scenario run as the dashboard shows it: narration and step progress. */
export interface ScenarioView {
  name: string;
  running: boolean;
  steps: { text: string; state: StepState; detail?: string }[];
  /** Index of the step running now. */
  current?: number;
  /** The last `say` of the scenario. */
  narration?: string;
  /** Set when it ended. */
  passed?: boolean;
  error?: string;
  /** The `predict` step waiting for an answer now. */
  question?: PredictionQuestion;
  /** Set when it ended: every prediction, graded. */
  predictions?: PredictionGrade[];
}

export interface LabSnapshot extends LabStatus {
  /** Increases every time anything in the snapshot changes; intents quote the one they saw. */
  revision: number;
  activeFaults: ActiveFault[];
  /** Recent timeline entries, oldest first. */
  events: TimelineEvent[];
  metrics?: LoadMetrics;
  /** The running (or last) scenario. */
  scenario?: ScenarioView;
  /** The running (or last) audit. */
  audit?: AuditView;
  /** Built-in scenarios the dashboard may start. */
  scenarios?: { name: string; description: string }[];
  /** What Export Report would write (e.g. 'scenario failover-web', 'load'); absent: nothing yet. */
  reportReady?: string;
  /** How to draw each role (tiers, diagram, panels), in order: from the role modules (src/roles). */
  roles: RoleDisplay[];
  /** Set when the last refresh failed (e.g. Docker stopped answering); the rest is the last good view. */
  error?: string;
}
