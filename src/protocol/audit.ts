/**
 * The audit as a UI starts and follows it (VS Code's command, the dashboard's dialog): the fault
 * kinds it may run, the bounds of what a page may ask, and the view the host publishes while it
 * runs (`LabSnapshot.audit`). No imports: the webview uses this module too.
 */

/** The fault kinds an audit runs on each node (the audit's own list: src/scenarios/audit). */
export const AUDIT_KINDS = ['kill', 'pause', 'partition'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** Bounds of an audit a UI may start. */
export const AUDIT_LIMITS = {
  users: { min: 1, max: 1000 },
  /** Seconds of load per fault: before the fault, the fault, after the heal. */
  perFaultS: { min: 8, max: 600 },
  nodes: 64,
} as const;

export const AUDIT_DEFAULTS = { kinds: ['kill', 'pause'] as AuditKind[], users: 30, perFaultS: 40 } as const;

/** What a UI asks for: kinds, the nodes (absent: every node not exempt), users and seconds per fault. */
export interface AuditStartParams {
  kinds: AuditKind[];
  nodes?: string[];
  users?: number;
  perFaultS?: number;
}

/** The running (or last) audit as the dashboard and VS Code's progress show it. */
export interface AuditView {
  running: boolean;
  kinds: AuditKind[];
  /** Faults finished, and planned. */
  done: number;
  total: number;
  /** The fault running now (1-based) and what it is, e.g. "pause galera2". */
  current?: { index: number; fault: string };
  /** The latest progress line, e.g. "fault 3/22: pause galera2 — waiting for the lab to be green again…". */
  line: string;
  /** Cancel was asked for: the lab is being healed. */
  cancelling?: boolean;
  /** Set when it ended. */
  cancelled?: boolean;
  error?: string;
  /** Nodes found to be single points of failure (when it ended). */
  spof?: string[];
  /** One sentence: the outcome. */
  summary?: string;
  /** The report written at the end (a file on the host). */
  report?: string;
  /** A link the page can open for that report (browser dashboard), set per view by the host. */
  reportUrl?: string;
}
