/**
 * The live latency chart: per-second p95 and p50 lines, failed requests as bars, and vertical
 * markers at the fault and heal events of the timeline. Plain SVG drawn by our code (no charting
 * library): the geometry is a pure function (unit-tested in node); the DOM is rebuilt only when
 * a new second or a new marker arrived.
 */
import type { LoadMetrics, SeriesPoint, TimelineEvent } from '../src/protocol/snapshot';
import { ChartBox, LabelPlace, markerEvents, niceMax, placeLabels, plotArea, timeScale, valueScale } from '../src/core/chart-geometry';

export { niceMax } from '../src/core/chart-geometry';
export type { ChartBox } from '../src/core/chart-geometry';

export interface ChartMarker {
  x: number;
  kind: 'fault' | 'heal';
  label: string;
  atMs: number;
  /** A fault nobody injected (the load run found it): drawn apart (⚠, dotted, its own colour). */
  external?: boolean;
  /** Where its label goes (rows, side; a number when it fits nowhere: see the list under the chart). */
  place: LabelPlace;
}

const MARKER_ICON = { fault: '⚡', heal: '✚', external: '⚠' } as const;
const iconOf = (m: { kind: ChartMarker['kind']; external?: boolean }) => (m.external ? MARKER_ICON.external : MARKER_ICON[m.kind]);
/** The label drawn beside a marker (or its number). */
export const markerText = (m: ChartMarker): string => `${iconOf(m)} ${m.place.n ?? m.label}`;
/** Label width at the chart's 10px font (viewBox units). */
const labelWidth = (text: string) => [...text].length * 6.2 + 4;

export interface ChartModel {
  /** SVG path data (empty when no points). */
  p95: string;
  p50: string;
  bars: { x: number; y: number; w: number; h: number; errors: number }[];
  markers: ChartMarker[];
  /** Top of the latency scale (ms) and of the failures scale. */
  yMaxMs: number;
  maxErrors: number;
  xStartMs: number;
  xEndMs: number;
}

/** The timeline events drawn as markers. */
const MARKER_KINDS: readonly ChartMarker['kind'][] = ['fault', 'heal'];

/** An external fault's label: what happened, then "external" (the timeline's longer wording trimmed). */
const externalLabel = (text: string) => `${text.replace(/\s*\(external[^)]*\)\s*$/, '')} (external)`;

export const CHART_BOX: ChartBox = { width: 640, height: 190, left: 46, right: 34, top: 10, bottom: 22 };

/** Geometry of the chart for these points and events (pure). */
export function chartModel(
  metrics: Pick<LoadMetrics, 'series' | 'startedAtMs' | 'durationMs' | 'running'> | undefined,
  events: readonly TimelineEvent[],
  box: ChartBox = CHART_BOX,
): ChartModel | undefined {
  const series: SeriesPoint[] = metrics?.series ?? [];
  const start = Math.min(series[0]?.atMs ?? Infinity, metrics?.startedAtMs ?? Infinity);
  if (!Number.isFinite(start)) return undefined;
  const lastEnd = (series.at(-1)?.atMs ?? start) + 1000;
  const planned = metrics?.running && metrics.durationMs ? Math.min(start + metrics.durationMs, start + 120_000) : 0;
  const xStartMs = start;
  const xEndMs = Math.max(lastEnd, planned, start + 10_000);
  const plot = plotArea(box);
  const plotW = plot.width;
  const plotH = plot.height;
  const x = timeScale(plot, xStartMs, xEndMs);
  const yMaxMs = niceMax(Math.max(0, ...series.map((p) => p.p95Ms)));
  const yScale = valueScale(plot, yMaxMs);
  const y = (ms: number) => yScale(Math.min(ms, yMaxMs));
  const line = (key: 'p95Ms' | 'p50Ms') =>
    series
      .filter((p) => typeof p[key] === 'number')
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.atMs + 500).toFixed(1)},${y(p[key] ?? 0).toFixed(1)}`)
      .join(' ');
  const maxErrors = Math.max(0, ...series.map((p) => p.errors));
  const barH = (n: number) => (maxErrors ? (n / niceMax(maxErrors)) * plotH * 0.6 : 0);
  const slot = plotW / Math.max(1, (xEndMs - xStartMs) / 1000);
  const bars = series
    .filter((p) => p.errors > 0)
    .map((p) => {
      const h = Math.max(2, barH(p.errors));
      return { x: x(p.atMs) + slot * 0.1, y: box.top + plotH - h, w: Math.max(1, slot * 0.8), h, errors: p.errors };
    });
  const marks = markerEvents(events, MARKER_KINDS, xStartMs, xEndMs)
    .map((e) => ({
      x: x(e.atMs),
      kind: e.kind as ChartMarker['kind'],
      label: e.external ? externalLabel(e.text) : e.text.replace(/^(dashboard|scenario): (fault )?/, ''),
      atMs: e.atMs,
      ...(e.external ? { external: true } : {}),
    }))
    .sort((a, b) => a.atMs - b.atMs);
  const places = placeLabels(
    marks.map((m) => ({ x: m.x, width: labelWidth(`${iconOf(m)} ${m.label}`) })),
    { right: box.width - 2, rows: 3, numberWidth: (n) => labelWidth(`⚡ ${n}`) },
  );
  const markers: ChartMarker[] = marks.map((m, i) => ({ ...m, place: places[i]! }));
  return { p95: line('p95Ms'), p50: line('p50Ms'), bars, markers, yMaxMs, maxErrors, xStartMs, xEndMs };
}

const NS = 'http://www.w3.org/2000/svg';
function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export class LatencyChart {
  readonly element: HTMLElement;
  private readonly svg: SVGSVGElement;
  private readonly empty: HTMLElement;
  /** The labels drawn as numbers on the chart, spelled out. */
  private readonly numbered: HTMLOListElement;
  private key = '';
  /** How many times the SVG was rebuilt (tests and the bench read it). */
  draws = 0;

  constructor(private readonly box: ChartBox = CHART_BOX) {
    this.element = document.createElement('div');
    this.element.className = 'chart';
    this.svg = svg('svg', { viewBox: `0 0 ${box.width} ${box.height}`, role: 'img', 'aria-label': 'latency per second' });
    this.svg.classList.add('latency-chart');
    this.empty = document.createElement('div');
    this.empty.className = 'chart-empty note';
    this.empty.textContent = 'No load has run yet: start one to see latency per second, failures and fault markers.';
    this.numbered = document.createElement('ol');
    this.numbered.className = 'marker-legend';
    this.element.append(this.empty, this.svg, this.numbered);
  }

  update(metrics: LoadMetrics | undefined, events: readonly TimelineEvent[]): void {
    const series = metrics?.series ?? [];
    const marks = events.filter((e) => e.kind === 'fault' || e.kind === 'heal');
    const key = `${metrics?.startedAtMs ?? ''}|${series.length}|${series.at(-1)?.atMs ?? ''}|${metrics?.running ? 1 : 0}|${marks.length ? `${marks.length}:${marks.at(-1)?.seq}` : ''}`;
    if (key === this.key) return;
    this.key = key;
    const m = chartModel(metrics, marks, this.box);
    this.empty.hidden = Boolean(m);
    this.svg.style.display = m ? '' : 'none';
    const spelled = (m?.markers ?? []).filter((mk) => mk.place.n !== undefined);
    this.numbered.hidden = spelled.length === 0;
    this.numbered.replaceChildren(
      ...spelled.map((mk) => {
        const li = document.createElement('li');
        li.value = mk.place.n!;
        li.className = mk.external ? `${mk.kind} external` : mk.kind;
        li.textContent = `${new Date(mk.atMs).toLocaleTimeString(undefined, { hour12: false })} ${mk.label}`;
        return li;
      }),
    );
    if (!m) return;
    this.draws += 1;
    const b = this.box;
    const plotBottom = b.height - b.bottom;
    const parts: SVGElement[] = [];
    for (const f of [0, 0.5, 1]) {
      const yy = b.top + (plotBottom - b.top) * (1 - f);
      parts.push(svg('line', { x1: b.left, x2: b.width - b.right, y1: yy, y2: yy, class: 'grid' }));
      parts.push(svg('text', { x: b.left - 4, y: yy + 4, class: 'axis', 'text-anchor': 'end' }, `${Math.round(m.yMaxMs * f)}`));
    }
    parts.push(svg('text', { x: b.left - 4, y: b.height - 6, class: 'axis', 'text-anchor': 'end' }, 'ms'));
    const secs = Math.round((m.xEndMs - m.xStartMs) / 1000);
    parts.push(svg('text', { x: b.left, y: b.height - 6, class: 'axis' }, '0 s'));
    parts.push(svg('text', { x: b.width - b.right, y: b.height - 6, class: 'axis', 'text-anchor': 'end' }, `${secs} s`));
    for (const bar of m.bars) {
      const r = svg('rect', { x: bar.x.toFixed(1), y: bar.y.toFixed(1), width: bar.w.toFixed(1), height: bar.h.toFixed(1), class: 'fail-bar' });
      r.append(svg('title', {}, `${bar.errors} failed`));
      parts.push(r);
    }
    if (m.maxErrors) parts.push(svg('text', { x: b.width - b.right + 4, y: b.top + 10, class: 'axis fail' }, `${m.maxErrors}✗`));
    parts.push(svg('path', { d: m.p50, class: 'p50' }));
    parts.push(svg('path', { d: m.p95, class: 'p95' }));
    for (const mk of m.markers) {
      const g = svg('g', {
        class: `marker ${mk.kind}${mk.external ? ' external' : ''}`,
        'data-kind': mk.kind,
        ...(mk.external ? { 'data-external': 'true' } : {}),
      });
      g.append(svg('line', { x1: mk.x.toFixed(1), x2: mk.x.toFixed(1), y1: b.top, y2: plotBottom }));
      g.append(svg('text', { x: mk.place.x.toFixed(1), y: b.top + 10 + mk.place.row * 12, 'text-anchor': mk.place.anchor }, markerText(mk)));
      g.append(svg('title', {}, `${new Date(mk.atMs).toLocaleTimeString(undefined, { hour12: false })} ${mk.label}`));
      parts.push(g);
    }
    this.svg.replaceChildren(...parts);
  }
}
