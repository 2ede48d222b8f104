/**
 * The one sentence a load run is summed up by: "N requests, M failed, Apdex A" (with, where the
 * caller has them, the availability after the failures and the p95 latency at the end).
 */
export interface RunCounts {
  requests: number;
  failures: number;
  /** As the caller shows it: the run's score, or a live one already rounded (`toFixed(2)`). */
  apdex: number | string;
}

export interface RunSummaryExtras {
  /** Shown as "(availability …)" after the failures. */
  availability?: string;
  /** Shown as ", p95 … ms" at the end. */
  p95Ms?: number;
}

export function runSummary(r: RunCounts, extras: RunSummaryExtras = {}): string {
  const availability = extras.availability !== undefined ? ` (availability ${extras.availability})` : '';
  const p95 = extras.p95Ms !== undefined ? `, p95 ${extras.p95Ms} ms` : '';
  return `${r.requests} requests, ${r.failures} failed${availability}, Apdex ${r.apdex}${p95}`;
}
