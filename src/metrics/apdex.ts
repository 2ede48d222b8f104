/**
 * Apdex as JMeter's report generator computes it: satisfied ≤ T, tolerating ≤ F, frustrated
 * above F — and a failed sample is always frustrated. Score = (satisfied + tolerating/2) / total.
 */
export const APDEX_T_MS = 500;
export const APDEX_F_MS = 1500;

export interface ApdexCounts {
  satisfied: number;
  tolerating: number;
  frustrated: number;
}

export class ApdexCounter implements ApdexCounts {
  satisfied = 0;
  tolerating = 0;
  frustrated = 0;

  constructor(
    private readonly tMs = APDEX_T_MS,
    private readonly fMs = APDEX_F_MS,
  ) {}

  add(elapsedMs: number, success: boolean): void {
    if (!success || elapsedMs > this.fMs) this.frustrated++;
    else if (elapsedMs > this.tMs) this.tolerating++;
    else this.satisfied++;
  }

  get score(): number {
    return apdexScore(this);
  }
}

/** 1 for no samples (nothing frustrated anyone), as JMeter does. */
export function apdexScore(c: ApdexCounts): number {
  const total = c.satisfied + c.tolerating + c.frustrated;
  return total === 0 ? 1 : (c.satisfied + c.tolerating / 2) / total;
}
