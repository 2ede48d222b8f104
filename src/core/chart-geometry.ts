/**
 * The latency chart's geometry, shared by the report's SVG chart (./svg-chart.ts) and the
 * dashboard's live chart (webview/chart.ts): the plot area inside a box, the time and value
 * scales, round ticks, and which timeline events become markers (fault, heal, …) at what x.
 * Pure functions with no imports at all: the webview runs this in a browser.
 */

/** A chart's outer size and its margins, in SVG units; the plot is what the margins leave. */
export interface ChartBox {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** The plot inside a box: x from `left` to `right`, y from `top` down to `bottom`. */
export interface PlotArea {
  left: number;
  top: number;
  right: number;
  bottom: number;
  width: number;
  height: number;
}

export function plotArea(box: ChartBox): PlotArea {
  const width = box.width - box.left - box.right;
  const height = box.height - box.top - box.bottom;
  return { left: box.left, top: box.top, right: box.left + width, bottom: box.top + height, width, height };
}

/** Time (ms) → x: `startMs` at the plot's left edge, `endMs` at its right edge. */
export function timeScale(plot: PlotArea, startMs: number, endMs: number): (atMs: number) => number {
  return (atMs) => plot.left + ((atMs - startMs) / (endMs - startMs)) * plot.width;
}

/** A value → y: 0 on the plot's bottom edge, `max` on its top edge (callers clamp what they must). */
export function valueScale(plot: PlotArea, max: number): (v: number) => number {
  return (v) => plot.bottom - (v / max) * plot.height;
}

/** The smallest of 1, 2, 2.5, 5 or 10 × a power of ten that is ≥ v (v > 0). */
export function niceNumber(v: number): number {
  const mag = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 2.5, 5, 10].find((m) => m * mag >= v) ?? 10) * mag;
}

/** A "nice" round number ≥ v for the axis top (at least 10). */
export function niceMax(v: number): number {
  if (v <= 10) return 10;
  return niceNumber(v);
}

/** Round ticks covering [0, max] (about `n` of them). */
export function niceTicks(max: number, n = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const step = niceNumber(max / n);
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

/** Tick positions in whole seconds between `fromS` and `toS`, at most about ten of them. */
export function timeTicks(fromS: number, toS: number): number[] {
  const span = Math.max(toS - fromS, 1);
  const step = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600].find((s) => span / s <= 10) ?? 7200;
  const out: number[] = [];
  for (let t = Math.ceil(fromS / step) * step; t <= toS + 1e-9; t += step) out.push(t);
  return out;
}

/** The timeline events drawn as markers: of these kinds, from `fromMs` to `toMs` (their x is the time scale's). */
export function markerEvents<E extends { kind?: string; atMs: number }>(events: readonly E[], kinds: readonly string[], fromMs: number, toMs: number): E[] {
  return events.filter((e) => e.kind !== undefined && kinds.includes(e.kind) && !(e.atMs < fromMs || e.atMs > toMs));
}

/** A marker label to place: its marker's x and the label's width (same units as the chart). */
export interface LabelBox {
  x: number;
  width: number;
}

/** Where a marker label goes: its row (0 = top), its text's x and side, and its number when it is shown as one. */
export interface LabelPlace {
  row: number;
  /** The text's x: beside the marker (`start`: text to its right; `end`: to its left, near the right edge). */
  x: number;
  anchor: 'start' | 'end';
  /** The label did not fit in any row: draw this number instead, and list the label in a legend. */
  n?: number;
}

/**
 * Places marker labels (in x order) in up to `rows` rows so that no two overlap, however close
 * the markers are: each label starts at its marker (or ends there near the right edge). A label
 * that fits in no row becomes a number, placed the same way; a number that fits in no row either
 * goes in one more row, after the previous such number. A legend spells the numbers out.
 */
export function placeLabels(
  items: readonly LabelBox[],
  o: { right: number; rows: number; numberWidth: (n: number) => number; gap?: number; pad?: number },
): LabelPlace[] {
  const gap = o.gap ?? 8;
  const pad = o.pad ?? 4;
  const rows = Math.max(1, o.rows);
  const ends: number[] = Array.from({ length: rows }, () => -Infinity);
  let overflowEnd = -Infinity;
  const fit = (x: number, w: number) => {
    const anchor: 'start' | 'end' = x + pad + w > o.right ? 'end' : 'start';
    const [left, right] = anchor === 'end' ? [x - pad - w, x] : [x, x + pad + w];
    return { anchor, right, textX: anchor === 'end' ? x - pad : x + pad, row: ends.findIndex((end) => left > end + gap) };
  };
  let numbered = 0;
  return items.map((it) => {
    const whole = fit(it.x, it.width);
    if (whole.row >= 0) {
      ends[whole.row] = whole.right;
      return { row: whole.row, x: whole.textX, anchor: whole.anchor };
    }
    const n = ++numbered;
    const w = o.numberWidth(n);
    const short = fit(it.x, w);
    if (short.row >= 0) {
      ends[short.row] = short.right;
      return { row: short.row, x: short.textX, anchor: short.anchor, n };
    }
    const x = Math.max(it.x + pad, overflowEnd + gap);
    overflowEnd = x + w;
    return { row: rows, x, anchor: 'start', n };
  });
}
