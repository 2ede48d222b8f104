/** The report's latency chart: p50/p95/max lines, failures per second as bars, fault/heal/maintenance markers. */
import type { NamedRun, ScenarioTimelineEntry } from '../types';
import { clock, esc, int, isNum } from './format';
import { ChartBox, markerEvents, niceTicks, placeLabels, plotArea, timeScale, timeTicks, valueScale } from '../../core/chart-geometry';

/** The timeline entries drawn as vertical markers. */
const MARKER_KINDS: readonly ScenarioTimelineEntry['kind'][] = ['fault', 'heal', 'maintenance'];
/** The chart's size and margins (viewBox units; it scales to the page). */
const REPORT_CHART_BOX: ChartBox = { width: 1100, height: 420, left: 78, right: 70, top: 86, bottom: 58 };
const tickMs = (v: number) => (v >= 1000 ? `${+(v / 1000).toFixed(2)} s` : `${v} ms`);
function shortLabel(e: ScenarioTimelineEntry): string {
  // an external fault: ⚠ and what happened (its style and the legend say "external")
  const t = (e.external ? `⚠ ${e.text.replace(/\s*\(external[^)]*\)\s*$/, '')}` : e.text).replace(/\s+/g, ' ').trim();
  return t.length > 26 ? `${t.slice(0, 25)}…` : t;
}
const markerClass = (e: ScenarioTimelineEntry) => `m-${e.kind}${e.external ? ' m-external' : ''}`;

export function latencyChart(run: { name: string; series: NamedRun['series'] }, timeline: ScenarioTimelineEntry[]): string {
  const series = [...run.series].filter((p) => isNum(p.atMs)).sort((a, b) => a.atMs - b.atMs);
  if (!series.length) return `<p class="empty chart-empty" data-run="${esc(run.name)}">No per-second samples were recorded for run “${esc(run.name)}”.</p>`;
  const { width: W, height: H, left: L, top: T } = REPORT_CHART_BOX;
  const plot = plotArea(REPORT_CHART_BOX);
  const pw = plot.width,
    ph = plot.height;
  let t0 = series[0]!.atMs,
    t1 = series[series.length - 1]!.atMs;
  const markers = markerEvents(
    timeline.filter((e) => isNum(e.atMs)),
    MARKER_KINDS,
    t0 - 10_000,
    t1 + 10_000,
  );
  for (const m of markers) [t0, t1] = [Math.min(t0, m.atMs), Math.max(t1, m.atMs)];
  if (t1 - t0 < 2000) [t0, t1] = [t0 - 1000, t1 + 1000];
  const fromS = t0 / 1000,
    toS = t1 / 1000;
  const x = timeScale(plot, t0, t1);
  const num = (v: number) => (isNum(v) ? Math.max(0, v) : 0);
  const yTicks = niceTicks(Math.max(...series.map((p) => Math.max(num(p.p50), num(p.p95), num(p.max)))), 5);
  const yMax = yTicks[yTicks.length - 1]!;
  const yScale = valueScale(plot, yMax);
  const y = (v: number) => yScale(num(v));
  const fTicks = niceTicks(Math.max(...series.map((p) => num(p.failures))), 4).filter((v, i, a) => Number.isInteger(v) || a.length < 3 || i === 0);
  const fMax = fTicks[fTicks.length - 1]!;
  const fScale = valueScale(plot, fMax);
  const yf = (v: number) => fScale(num(v));
  const f1 = (v: number) => v.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg class="latency-chart" data-run="${esc(run.name)}" viewBox="0 0 ${W} ${H}" role="img" aria-label="Latency and failures per second for run ${esc(run.name)}">`,
  );
  // grid + axes
  for (const v of yTicks)
    out.push(
      `<line class="grid" x1="${L}" x2="${L + pw}" y1="${f1(y(v))}" y2="${f1(y(v))}"/><text class="tick" x="${L - 8}" y="${f1(y(v) + 6)}" text-anchor="end">${tickMs(v)}</text>`,
    );
  for (const v of fTicks) out.push(`<text class="tick tick-fail" x="${L + pw + 8}" y="${f1(yf(v) + 6)}">${v}</text>`);
  for (const s of timeTicks(fromS, toS))
    out.push(
      `<line class="xtick" x1="${f1(x(s * 1000))}" x2="${f1(x(s * 1000))}" y1="${T + ph}" y2="${T + ph + 6}"/><text class="tick" x="${f1(x(s * 1000))}" y="${T + ph + 26}" text-anchor="middle">${s}</text>`,
    );
  out.push(
    `<line class="axis" x1="${L}" x2="${L}" y1="${T}" y2="${T + ph}"/><line class="axis" x1="${L}" x2="${L + pw}" y1="${T + ph}" y2="${T + ph}"/><line class="axis" x1="${L + pw}" x2="${L + pw}" y1="${T}" y2="${T + ph}"/>`,
  );
  out.push(`<text class="axis-title" x="${L + pw / 2}" y="${H - 8}" text-anchor="middle">seconds since scenario start</text>`);
  out.push(`<text class="axis-title" transform="translate(18 ${T + ph / 2}) rotate(-90)" text-anchor="middle">latency</text>`);
  out.push(`<text class="axis-title axis-fail" transform="translate(${W - 14} ${T + ph / 2}) rotate(90)" text-anchor="middle">failures / s</text>`);
  // failures per second: bars one second wide (or the spacing of the points, if coarser)
  const gaps = series
    .slice(1)
    .map((p, i) => p.atMs - series[i]!.atMs)
    .filter((g) => g > 0);
  const stepMs = gaps.length ? Math.min(...gaps) : 1000;
  const bw = Math.max(1.5, (stepMs / (t1 - t0)) * pw * 0.8);
  const bars = series
    .filter((p) => num(p.failures) > 0)
    .map(
      (p) =>
        `<rect x="${f1(x(p.atMs) - bw / 2)}" y="${f1(yf(p.failures))}" width="${f1(bw)}" height="${f1(T + ph - yf(p.failures))}"><title>${clock(p.atMs)}: ${int(p.failures)} failed</title></rect>`,
    );
  out.push(`<g class="fail-bars">${bars.join('')}</g>`);
  // lines (a single point gets a dot)
  const path = (k: 'p50' | 'p95' | 'max') => series.map((p, i) => `${i ? 'L' : 'M'}${f1(x(p.atMs))} ${f1(y(p[k]))}`).join(' ');
  for (const k of ['max', 'p95', 'p50'] as const) {
    out.push(
      series.length > 1
        ? `<path class="series s-${k}" d="${path(k)}"/>`
        : `<circle class="dot s-${k}" cx="${f1(x(series[0]!.atMs))}" cy="${f1(y(series[0]![k]))}" r="6"/>`,
    );
  }
  // Timeline markers: labels in three rows; one that fits in none is drawn as a number, spelled out below the chart.
  const sorted = [...markers].sort((a, b) => a.atMs - b.atMs);
  const labelWidth = (text: string) => text.length * 8.6 + 6; // ≈ 15px bold
  const places = placeLabels(
    sorted.map((m) => ({ x: x(m.atMs), width: labelWidth(shortLabel(m)) })),
    { right: W - 4, rows: 3, numberWidth: (n) => labelWidth(String(n)) },
  );
  const numbered: string[] = [];
  sorted.forEach((m, i) => {
    const { row, anchor, n, x: lx } = places[i]!;
    const mx = x(m.atMs);
    const ly = T - 62 + row * 20;
    if (n !== undefined) numbered.push(`<li value="${n}" class="${markerClass(m)}"><span class="at">${clock(m.atMs)}</span> ${esc(m.text)}</li>`);
    out.push(
      `<g class="marker ${markerClass(m)}" data-kind="${m.kind}"${m.external ? ' data-external="true"' : ''}><line x1="${f1(mx)}" x2="${f1(mx)}" y1="${ly + 4}" y2="${T + ph}"/>` +
        `<text x="${f1(lx)}" y="${ly}" text-anchor="${anchor}"${n !== undefined ? ' class="n"' : ''}>${n !== undefined ? n : esc(shortLabel(m))}</text><title>${clock(m.atMs)} ${m.external ? 'external fault (not injected)' : esc(m.kind)}: ${esc(m.text)}</title></g>`,
    );
  });
  out.push('</svg>');
  const legend = [
    ['s-p50', 'p50'],
    ['s-p95', 'p95'],
    ['s-max', 'max'],
    ['fail', 'failures / s (right axis)'],
    ['m-fault', 'fault (injected)'],
    ['m-fault m-external', 'external fault (not injected: a crash, another terminal)'],
    ['m-heal', 'heal'],
    ['m-maintenance', 'maintenance'],
  ]
    .map(([c, t]) => `<li><span class="sw ${c}"></span>${t}</li>`)
    .join('');
  const spelled = numbered.length ? `<ol class="marker-legend">${numbered.join('')}</ol>` : '';
  return `<figure class="chart">${out.join('')}<figcaption><ul class="legend">${legend}</ul>${spelled}</figcaption></figure>`;
}
