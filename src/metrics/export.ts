/**
 * A run's exports: the `load --json` contract (shared/docs/ARCHITECTURE.md), a JMeter JTL CSV,
 * and a short human summary.
 */
import type { FaultAnalysis } from './failover';
import type { MetricsRecorder } from './recorder';
import type { Sample } from './types';

export interface LoadFaultResult {
  fault: string;
  /** 'injected' by this run, or 'external' (noticed in Docker's events or the cluster's status); always set by loadResult. */
  source?: 'injected' | 'external';
  /** ms after the run's start. */
  atMs: number;
  detectedMs: number | null;
  failedRequests: number;
  blackoutMs: number;
  recoveredMs: number | null;
  /** Beyond the contract: per-label blackout, p99/max in the window, errors. */
  blackoutByLabel?: Record<string, number>;
  p99Ms?: number;
  maxMs?: number;
  recoveredBy?: 'heal' | 'service';
  /** Requests sent in the fault's window (fault → next fault or the end of the run). */
  requests?: number;
  error?: string;
  /** false when the fault could not be applied (its `error` says why): the window measured nothing of it. */
  applied?: boolean;
}

export interface LoadResult {
  users: number;
  durationS: number;
  requests: number;
  failures: number;
  errorRate: number;
  apdex: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  throughputRps: number;
  byLabel: Record<string, { requests: number; failures: number; p95: number }>;
  faults: LoadFaultResult[];
  /** Beyond the contract. */
  journey?: string;
  byNode?: Record<string, { requests: number; failures: number; p95: number }>;
  latencyMsUncorrected?: { p50: number; p95: number; p99: number; max: number };
  correctedSamples?: number;
  integrity?: IntegrityReport;
}

export interface IntegrityReport {
  dbWrites: number;
  files: number;
  sessions: number;
  lostDbWrites: string[];
  lostFiles: string[];
  lostSessions: string[];
  /** Items that could not be checked (e.g. the read itself failed): not counted as lost. */
  unchecked: string[];
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function loadResult(opts: {
  recorder: MetricsRecorder;
  users: number;
  durationMs: number;
  startMs: number;
  faults: FaultAnalysis[];
  journey?: string;
  integrity?: IntegrityReport;
}): LoadResult {
  const { recorder: m } = opts;
  const l = m.latency();
  const u = m.uncorrected.summary();
  const groups = (g: MetricsRecorder['byLabel']) =>
    Object.fromEntries(
      [...g].sort((a, b) => a[0].localeCompare(b[0])).map(([k, v]) => [k, { requests: v.requests, failures: v.failures, p95: r1(v.latency.percentile(95)) }]),
    );
  return {
    users: opts.users,
    durationS: Math.round(opts.durationMs / 100) / 10,
    requests: m.requests,
    failures: m.failures,
    errorRate: r3(m.errorRate() * 100) / 100,
    apdex: r3(m.apdex.score),
    latencyMs: { p50: r1(l.p50), p95: r1(l.p95), p99: r1(l.p99), max: r1(l.max) },
    throughputRps: r1(m.throughputRps(opts.durationMs)),
    byLabel: groups(m.byLabel),
    faults: opts.faults.map((f) => ({
      fault: f.fault,
      source: f.source,
      atMs: Math.round(f.atMs - opts.startMs),
      detectedMs: f.detectedMs ?? null,
      failedRequests: f.failedRequests,
      blackoutMs: f.blackoutMs,
      recoveredMs: f.recoveredMs ?? null,
      blackoutByLabel: f.blackoutByLabel,
      p99Ms: r1(f.p99Ms),
      maxMs: r1(f.maxMs),
      recoveredBy: f.recoveredBy,
      requests: f.requests,
      ...(f.error ? { error: f.error } : {}),
      ...(f.applied === false ? { applied: false } : {}),
    })),
    ...(opts.journey ? { journey: opts.journey } : {}),
    byNode: groups(m.byNode),
    latencyMsUncorrected: { p50: r1(u.p50), p95: r1(u.p95), p99: r1(u.p99), max: r1(u.max) },
    correctedSamples: m.corrected,
    ...(opts.integrity ? { integrity: opts.integrity } : {}),
  };
}

export const JTL_HEADER =
  'timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect';

function csv(v: string | number | boolean): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * JMeter's CSV result format, one row per sample. `elapsed` is the service time (JMeter's
 * meaning); `Latency` is the same (this client does not time the first byte separately) and
 * `Connect` is 0 (connections are reused, keep-alive). responseCode is the HTTP status, or the
 * error's name when no response came (JMeter writes e.g. "Non HTTP response code: …").
 */
export function toJtl(samples: Sample[]): string {
  const rows = [...samples]
    .sort((a, b) => a.startMs - b.startMs)
    .map((s) => {
      const elapsed = Math.round(s.elapsedMs);
      const code = s.status > 0 ? String(s.status) : `Non HTTP response code: ${s.message.split(':')[0]}`;
      return [
        Math.round(s.startMs),
        elapsed,
        s.label,
        code,
        s.success ? 'OK' : s.message,
        s.thread,
        'text',
        s.success,
        s.success ? '' : s.message,
        s.bytes,
        s.sentBytes,
        s.activeThreads,
        s.activeThreads,
        s.url,
        elapsed,
        0,
        0,
      ]
        .map(csv)
        .join(',');
    });
  return [JTL_HEADER, ...rows].join('\n') + '\n';
}

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

export function formatSummary(r: LoadResult): string {
  const out: string[] = [];
  out.push(
    `${r.users} users, ${r.durationS} s${r.journey ? `, ${r.journey} journey` : ''}: ${r.requests} requests, ${r.failures} failed (${(r.errorRate * 100).toFixed(2)} %), ` +
      `${r.throughputRps} req/s, Apdex ${r.apdex.toFixed(3)} (T 500 ms, F 1500 ms)`,
  );
  out.push(
    `latency ms (coordinated-omission corrected): p50 ${r.latencyMs.p50}  p95 ${r.latencyMs.p95}  p99 ${r.latencyMs.p99}  max ${r.latencyMs.max}` +
      (r.latencyMsUncorrected
        ? `   [service time only: p95 ${r.latencyMsUncorrected.p95}, p99 ${r.latencyMsUncorrected.p99}; ${r.correctedSamples ?? 0} samples corrected]`
        : ''),
  );
  out.push('');
  out.push(
    table(
      ['label', 'requests', 'failed', 'p95 ms'],
      Object.entries(r.byLabel).map(([k, v]) => [k, v.requests, v.failures, v.p95]),
    ),
  );
  if (r.byNode && Object.keys(r.byNode).length) {
    out.push('');
    out.push(
      table(
        ['served by', 'requests', 'failed', 'p95 ms'],
        Object.entries(r.byNode).map(([k, v]) => [k, v.requests, v.failures, v.p95]),
      ),
    );
  }
  if (r.faults.length) {
    out.push('');
    const ms = (x: number | null | undefined) => (x === null || x === undefined ? '—' : String(x));
    out.push(
      table(
        ['fault', 'source', 'at ms', 'detected ms', 'failed', 'blackout ms', 'p99 ms', 'max ms', 'recovered ms'],
        r.faults.map((f) => [
          f.fault,
          f.source ?? 'injected',
          f.atMs,
          ms(f.detectedMs),
          f.failedRequests,
          f.blackoutMs,
          ms(f.p99Ms),
          ms(f.maxMs),
          `${ms(f.recoveredMs)}${f.recoveredBy ? ` (${f.recoveredBy})` : ''}`,
        ]),
      ),
    );
    for (const f of r.faults.filter((x) => x.error)) out.push(`  ${f.fault}: ${f.error}`);
  }
  if (r.integrity) {
    const i = r.integrity;
    out.push('');
    const lost = [...i.lostDbWrites, ...i.lostFiles, ...i.lostSessions];
    out.push(
      `integrity: ${i.dbWrites} acknowledged DB writes, ${i.files} files, ${i.sessions} sessions re-checked: ${lost.length ? `LOST ${lost.join(', ')}` : 'nothing lost'}` +
        (i.unchecked.length
          ? ` (${i.unchecked.length} could not be checked: ${i.unchecked.slice(0, 5).join(', ')}${i.unchecked.length > 5 ? ', …' : ''})`
          : ''),
    );
  }
  return out.join('\n') + '\n';
}
