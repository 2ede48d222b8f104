/** The paper's published figures, shown beside the measured ones for the scenarios that reproduce it. */
import type { ScenarioResult } from '../types';

/** One configuration of the paper's test (LXD + HAProxy + GlusterFS, 30 JMeter threads). */
export interface PaperFigures {
  label: string;
  /** Fractions (0..1), like `LoadResult.errorRate`. */
  successRate: number;
  errorRate: number;
  apdex: number | null;
  /** Approximate (≈) as the paper reports it. */
  maxMs: number;
}

/** The paper's numbers, shown beside the measured ones for the scenarios that reproduce it. */
export const PAPER_REFERENCE: {
  source: string;
  figures: Record<'ha' | 'single', PaperFigures>;
  scenarios: Record<string, ('ha' | 'single')[]>;
} = {
  source: 'paper: LXD + HAProxy + GlusterFS, 30 JMeter threads; max values are approximate',
  figures: {
    ha: { label: 'paper: HA, 2 of 3 web off', successRate: 1, errorRate: 0, apdex: 0.85, maxMs: 2000 },
    single: { label: 'paper: one server', successRate: 0.9989, errorRate: 0.0011, apdex: null, maxMs: 12000 },
  },
  scenarios: { 'paper-failover': ['ha'], 'single-vs-ha': ['single', 'ha'] },
};

/** The paper's figure for a comparison row, when the paper has one. */
export function paperValue(metric: string, f: PaperFigures): number | null {
  const k = metric.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (k === 'errorrate') return f.errorRate;
  if (k === 'successrate') return f.successRate;
  if (k === 'apdex') return f.apdex;
  if (k === 'max' || k === 'maxms') return f.maxMs;
  return null;
}

export function paperColumns(result: ScenarioResult): PaperFigures[] {
  return (PAPER_REFERENCE.scenarios[result.name] ?? []).map((k) => PAPER_REFERENCE.figures[k]);
}
