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
