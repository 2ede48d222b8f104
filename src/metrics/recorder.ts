/**
 * Collects samples as they complete: HDR histograms overall, per label and per web node, rolling
 * one-second windows for live charts, Apdex, errors and throughput. Keeps every sample too (for
 * the JTL export and the failover analysis; a 60 s run of 30 users is a few thousand rows).
 *
 * Latency percentiles use the coordinated-omission-corrected time (see types.ts `correctedMs`);
 * Apdex and the JTL use the service time (`elapsed`), as JMeter does, so both stay comparable
 * with what JMeter users know. The uncorrected percentiles are kept alongside.
 */
import { ApdexCounter } from './apdex';
import { LatencyHistogram, LatencySummary } from './histogram';
import { correctedMs, endMs, Sample } from './types';

export interface GroupStats {
  requests: number;
  failures: number;
  latency: LatencyHistogram;
}

/** One second of traffic, by the second in which requests completed. */
export interface WindowStats {
  /** Start of the second (epoch ms). */
  atMs: number;
  requests: number;
  failures: number;
  p50: number;
  p95: number;
  max: number;
}

export type WindowListener = (w: WindowStats) => void;

function group(): GroupStats {
  return { requests: 0, failures: 0, latency: new LatencyHistogram() };
}

export class MetricsRecorder {
  readonly samples: Sample[] = [];
  readonly overall = group();
  /** The same samples, service time only (no correction), for comparison. */
  readonly uncorrected = new LatencyHistogram();
  readonly byLabel = new Map<string, GroupStats>();
  readonly byNode = new Map<string, GroupStats>();
  readonly apdex = new ApdexCounter();
  /** Samples whose latency the coordinated-omission correction raised. */
  corrected = 0;
  private readonly windows = new Map<number, { requests: number; failures: number; latency: LatencyHistogram }>();
  private readonly closed: WindowStats[] = [];
  private readonly listeners: WindowListener[] = [];
  private firstStart = Infinity;
  private lastEnd = -Infinity;

  /** Called with every closed one-second window (for live charts). Returns an unsubscribe. */
  onWindow(listener: WindowListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  record(s: Sample): void {
    this.samples.push(s);
    const lat = correctedMs(s);
    if (lat > s.elapsedMs + 0.5) this.corrected++;
    const add = (g: GroupStats) => {
      g.requests++;
      if (!s.success) g.failures++;
      g.latency.record(lat);
    };
    add(this.overall);
    this.uncorrected.record(s.elapsedMs);
    add(this.byLabel.get(s.label) ?? this.byLabel.set(s.label, group()).get(s.label)!);
    if (s.node) add(this.byNode.get(s.node) ?? this.byNode.set(s.node, group()).get(s.node)!);
    this.apdex.add(s.elapsedMs, s.success);
    this.firstStart = Math.min(this.firstStart, s.startMs);
    this.lastEnd = Math.max(this.lastEnd, endMs(s));

    const sec = Math.floor(endMs(s) / 1000) * 1000;
    let w = this.windows.get(sec);
    if (!w) {
      w = { requests: 0, failures: 0, latency: new LatencyHistogram() };
      this.windows.set(sec, w);
    }
    w.requests++;
    if (!s.success) w.failures++;
    w.latency.record(lat);
  }

  /** Closes every window that ended before `nowMs` (call about once a second). */
  tick(nowMs: number): WindowStats[] {
    const out: WindowStats[] = [];
    for (const [sec, w] of [...this.windows].sort((a, b) => a[0] - b[0])) {
      if (sec + 1000 > nowMs) continue;
      this.windows.delete(sec);
      const stats: WindowStats = {
        atMs: sec,
        requests: w.requests,
        failures: w.failures,
        p50: w.latency.percentile(50),
        p95: w.latency.percentile(95),
        max: w.latency.maxMs,
      };
      this.closed.push(stats);
      if (this.closed.length > 600) this.closed.shift();
      out.push(stats);
      for (const l of this.listeners) l(stats);
    }
    return out;
  }

  /** The last closed windows, oldest first (at most ten minutes). */
  recentWindows(): WindowStats[] {
    return [...this.closed];
  }

  get requests(): number {
    return this.overall.requests;
  }

  get failures(): number {
    return this.overall.failures;
  }

  errorRate(): number {
    return this.requests ? this.failures / this.requests : 0;
  }

  /** Requests per second over `durationMs` (default: first send → last completion). */
  throughputRps(durationMs?: number): number {
    const d = durationMs ?? this.lastEnd - this.firstStart;
    return d > 0 ? this.requests / (d / 1000) : 0;
  }

  latency(): LatencySummary {
    return this.overall.latency.summary();
  }
}
