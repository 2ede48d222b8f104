/**
 * HDR latency histogram on Node's own `perf_hooks.createHistogram` (an HdrHistogram port with
 * 3 significant figures: any recorded value is reproduced within 0.1 %).
 * Values are recorded in MICROSECONDS (integers ≥ 1) and read back in milliseconds.
 */
import { createHistogram, RecordableHistogram } from 'node:perf_hooks';

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export class LatencyHistogram {
  private readonly h: RecordableHistogram = createHistogram({ lowest: 1, highest: 3_600_000_000, figures: 3 });

  /** Records one latency given in ms (sub-ms resolution kept: 1 µs). */
  record(ms: number): void {
    this.h.record(Math.min(3_600_000_000, Math.max(1, Math.round(ms * 1000))));
  }

  get count(): number {
    return this.h.count;
  }

  /** The p-th percentile (0 < p ≤ 100) in ms; 0 when empty. */
  percentile(p: number): number {
    return this.h.count ? this.h.percentile(p) / 1000 : 0;
  }

  get maxMs(): number {
    return this.h.count ? this.h.max / 1000 : 0;
  }

  summary(): LatencySummary {
    return {
      count: this.h.count,
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.maxMs,
      mean: this.h.count ? this.h.mean / 1000 : 0,
    };
  }
}
