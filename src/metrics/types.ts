/**
 * What the load generator and the probes record, and what failover analysis reads.
 * Times are epoch milliseconds (Date.now() clock) unless a name says otherwise.
 */

/** One request as a user saw it (one JTL row). */
export interface Sample {
  /** What the request was for: 'front', 'login', 'db-write', … (JTL `label`). */
  label: string;
  /** When the request was actually sent (epoch ms). */
  startMs: number;
  /**
   * When the virtual user meant to send it (epoch ms, ≤ startMs). Equal to startMs unless the
   * user's previous request overran its budget: then the delay it caused is charged to this one
   * (coordinated-omission correction, see generator.ts).
   */
  intendedStartMs: number;
  /** Service time: send → last byte (ms), redirects followed included, as JMeter's `elapsed`. */
  elapsedMs: number;
  success: boolean;
  /** HTTP status, 0 when no response came (connection refused, timeout, …). */
  status: number;
  /** 'OK' or why it failed. */
  message: string;
  /** The web node that answered (HAProxy's X-Served-By), when known. */
  node?: string;
  bytes: number;
  sentBytes: number;
  /** The virtual user, e.g. 'vu 3' (JTL `threadName`). */
  thread: string;
  url: string;
  /** Virtual users active when the sample ended (JTL grpThreads/allThreads). */
  activeThreads: number;
}

/** Latency the user would have seen had the request gone out when intended (ms). */
export function correctedMs(s: Sample): number {
  return s.startMs + s.elapsedMs - s.intendedStartMs;
}

export function endMs(s: Sample): number {
  return s.startMs + s.elapsedMs;
}

/** A fault injected during a run. */
export interface FaultEvent {
  /** As the user wrote it: 'kill web2'. */
  fault: string;
  kind: string;
  nodes: string[];
  atMs: number;
  healAtMs?: number;
  /** Set when injecting failed: the analysis then reports it instead of detection figures. */
  error?: string;
  /** Set when the heal failed (recovery then stays unmeasured). */
  healError?: string;
  /** 'injected' (through this run; the default) or 'external' (seen in Docker's events or the cluster's status). */
  source?: 'injected' | 'external';
}

/** What the cluster said about itself at one moment (a polled status, reduced). */
export interface ComponentSnapshot {
  atMs: number;
  /** HAProxy servers; `status` as in `show stat` (UP, DOWN, MAINT, "UP 1/2", …). */
  haproxy?: { backend: string; server: string; status: string }[];
  /** Galera cluster size seen from the Primary component (0 when none). */
  galeraSize?: number;
  bricks?: { name: string; online: boolean }[];
}
