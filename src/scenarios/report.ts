/**
 * A scenario's report: one self-contained HTML file (inline CSS and SVG, no script, no network:
 * its CSP forbids every fetch), a Markdown summary and the JSON result, written side by side.
 * Every string from the result is escaped: scenario names, `say` lines and details are
 * user-written YAML.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadFaultResult, LoadResult } from '../metrics/export';
import { roleDisplays } from '../roles';
import type { NamedRun, ScenarioResult, ScenarioTimelineEntry } from './types';

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

// ---------------------------------------------------------------- formatting

const DASH = '—';
type Num = number | null | undefined;
const isNum = (x: Num): x is number => typeof x === 'number' && Number.isFinite(x);

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const int = (x: Num) => (isNum(x) ? Math.round(x).toLocaleString('en-US') : DASH);
/** A latency for a table whose header says "ms". */
const ms = int;
/** A latency with its unit, switching to seconds above one. */
function msUnit(x: Num): string {
  if (!isNum(x)) return DASH;
  if (Math.abs(x) < 1000) return `${Math.round(x)} ms`;
  return `${(x / 1000).toFixed(Math.abs(x) < 10_000 ? 2 : 1)} s`;
}
/** A fraction as a percentage: 0.0011 → "0.11 %". */
function pct(x: Num): string {
  if (!isNum(x)) return DASH;
  const p = x * 100;
  if (p === 0 || p === 100) return `${p} %`;
  if (Math.abs(p) < 0.01) return `${p.toFixed(3)} %`;
  return `${p.toFixed(Math.abs(p) >= 10 ? 1 : 2)} %`;
}
const apdex = (x: Num) => (isNum(x) ? x.toFixed(3) : DASH);
const rps = (x: Num) => (isNum(x) ? `${x.toFixed(1)} req/s` : DASH);
/** Seconds since the scenario's start as m:ss.s */
function clock(atMs: Num): string {
  if (!isNum(atMs)) return DASH;
  const s = Math.max(0, atMs) / 1000;
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
}
function duration(x: Num): string {
  if (!isNum(x)) return DASH;
  if (x < 60_000) return `${(x / 1000).toFixed(1)} s`;
  const s = Math.round(x / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A comparison/metric row's value, formatted by what the metric is (METRIC_KEYS names and a few aliases). */
function metricValue(metric: string, v: Num): string {
  const k = metric.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (k === 'apdex') return apdex(v);
  if (k === 'errorrate' || k === 'successrate' || k.endsWith('pct')) return pct(v);
  if (k === 'throughput' || k === 'throughputrps') return rps(v);
  if (/^(p\d+|max|min|mean|detection|blackout|recovery)(ms)?$/.test(k)) return msUnit(v);
  return int(v);
}

const METRIC_LABEL: Record<string, string> = {
  requests: 'requests', failures: 'failures', errorrate: 'error rate', successrate: 'success rate', apdex: 'Apdex', p50: 'p50 latency', p95: 'p95 latency',
  p99: 'p99 latency', max: 'max latency', throughput: 'throughput', detection: 'detection', blackout: 'blackout', recovery: 'recovery',
  failedduringfaults: 'failed during faults', lostwrites: 'lost DB writes', lostfiles: 'lost files', lostsessions: 'lost sessions',
};
const metricLabel = (metric: string) => METRIC_LABEL[metric.toLowerCase().replace(/[^a-z0-9]/g, '')] ?? metric;

/** The paper's figure for a comparison row, when the paper has one. */
function paperValue(metric: string, f: PaperFigures): number | null {
  const k = metric.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (k === 'errorrate') return f.errorRate;
  if (k === 'successrate') return f.successRate;
  if (k === 'apdex') return f.apdex;
  if (k === 'max' || k === 'maxms') return f.maxMs;
  return null;
}

function paperColumns(result: ScenarioResult): PaperFigures[] {
  return (PAPER_REFERENCE.scenarios[result.name] ?? []).map((k) => PAPER_REFERENCE.figures[k]);
}

/** The runs whose numbers the report shows (the top-level fields are the main, last run). */
function runsOf(result: ScenarioResult): (LoadResult & { name: string; series: NamedRun['series'] })[] {
  return result.runs.length ? result.runs : result.requests > 0 || result.faults.length ? [{ ...result, name: 'main', series: [] }] : [];
}

const MARKER_KINDS = new Set<ScenarioTimelineEntry['kind']>(['fault', 'heal', 'maintenance']);

function nodesIn(text: string, names: string[]): string[] {
  return names.filter((n) => new RegExp(`(^|[^A-Za-z0-9_-])${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_-])`).test(text));
}

// ---------------------------------------------------------------- SVG: topology

const TIER_ORDER: string[] = roleDisplays().map((d) => d.role);
const TIER_TITLE: Record<string, string> = Object.fromEntries(roleDisplays().map((d) => [d.role, d.reportTitle]));

function topologySvg(result: ScenarioResult): string {
  const nodes = result.topology.nodes;
  if (!nodes.length) return '<p class="empty">No topology recorded.</p>';
  const faultTexts = [
    ...result.timeline.filter((e) => e.kind === 'fault').map((e) => e.text),
    ...result.runs.flatMap((r) => r.faults.map((f) => f.fault)),
    ...(result.runs.length ? [] : result.faults.map((f) => f.fault)),
  ];
  const names = nodes.map((n) => n.name);
  const faultCount = new Map<string, number>();
  for (const t of result.timeline.filter((e) => e.kind === 'fault')) for (const n of nodesIn(t.text, names)) faultCount.set(n, (faultCount.get(n) ?? 0) + 1);
  if (!faultCount.size) for (const t of faultTexts) for (const n of nodesIn(t, names)) faultCount.set(n, (faultCount.get(n) ?? 0) + 1);

  const byRole = new Map<string, { name: string; role: string }[]>();
  for (const n of nodes) byRole.set(n.role, [...(byRole.get(n.role) ?? []), n]);
  const roles = [...byRole.keys()].sort((a, b) => (TIER_ORDER.indexOf(a) + 1 || 99) - (TIER_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const top = roles.filter((r) => r === 'lb');
  const mid = roles.filter((r) => r === 'web');
  const bottom = roles.filter((r) => r !== 'lb' && r !== 'web');
  const rows = [top, mid, bottom].filter((r) => r.length);

  const NW = 132, NH = 52, GAP = 16, PAD = 18, ROW_H = 150, W = 1100;
  type Group = { role: string; x: number; y: number; w: number; h: number; nodes: { name: string; x: number; y: number }[] };
  const groups: Group[] = [];
  const rowWidths = rows.map((row) => row.map((role) => byRole.get(role)!.length * NW + (byRole.get(role)!.length - 1) * GAP + 2 * PAD));
  const rowTotals = rowWidths.map((ws) => ws.reduce((a, b) => a + b, 0) + (ws.length - 1) * 40);
  const width = Math.max(W, ...rowTotals.map((t) => t + 20));
  rows.forEach((row, ri) => {
    const widths = rowWidths[ri]!;
    let x = (width - rowTotals[ri]!) / 2;
    row.forEach((role, gi) => {
      const y = 20 + ri * ROW_H;
      const g: Group = { role, x, y, w: widths[gi]!, h: NH + 2 * PAD + 14, nodes: [] };
      byRole.get(role)!.forEach((n, i) => g.nodes.push({ name: n.name, x: x + PAD + i * (NW + GAP), y: y + PAD + 14 }));
      groups.push(g);
      x += widths[gi]! + 40;
    });
  });
  const height = 20 + rows.length * ROW_H - 30;
  const edges: string[] = [];
  const line = (x1: number, y1: number, x2: number, y2: number) => `<line class="edge" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>`;
  const lbs = groups.filter((g) => g.role === 'lb');
  const webs = groups.filter((g) => g.role === 'web');
  const backs = groups.filter((g) => g.role !== 'lb' && g.role !== 'web');
  for (const lb of lbs) for (const w of webs) for (const n of w.nodes) for (const l of lb.nodes) edges.push(line(l.x + NW / 2, l.y + NH, n.x + NW / 2, n.y));
  // below the web tier one edge per back-end tier, from the tier box (every web node talks to each)
  const from = webs[0] ?? lbs[0];
  if (from) backs.forEach((b, i) => edges.push(line(from.x + (from.w * (i + 1)) / (backs.length + 1), from.y + from.h, b.x + b.w / 2, b.y)));

  const body = groups.map((g) => {
    const ns = g.nodes.map((n) => {
      const count = faultCount.get(n.name) ?? 0;
      return `<g class="node${count ? ' faulted' : ''}" data-node="${esc(n.name)}" data-faults="${count}">` +
        `<rect x="${n.x}" y="${n.y}" width="${NW}" height="${NH}" rx="8"/>` +
        `<text x="${n.x + NW / 2}" y="${n.y + (count ? 22 : 32)}" class="node-name">${esc(n.name)}</text>` +
        (count ? `<text x="${n.x + NW / 2}" y="${n.y + 42}" class="node-fault">⚡ fault${count > 1 ? ` ×${count}` : ''}</text>` : '') +
        '</g>';
    }).join('');
    return `<g class="tier" data-role="${esc(g.role)}"><rect class="tier-box" x="${g.x}" y="${g.y}" width="${g.w}" height="${g.h}" rx="12"/>` +
      `<text class="tier-title" x="${g.x + 12}" y="${g.y + 20}">${esc(TIER_TITLE[g.role] ?? g.role)}</text>${ns}</g>`;
  }).join('');
  return `<svg class="topology" viewBox="0 0 ${width} ${height}" role="img" aria-label="Topology: ${esc(nodes.map((n) => n.name).join(', '))}">` +
    `<g class="edges">${edges.join('')}</g>${body}</svg>`;
}

// ---------------------------------------------------------------- SVG: latency chart

/** Round ticks covering [0, max] (about `n` of them). */
function niceTicks(max: number, n = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}
function timeTicks(fromS: number, toS: number): number[] {
  const span = Math.max(toS - fromS, 1);
  const step = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600].find((s) => span / s <= 10) ?? 7200;
  const out: number[] = [];
  for (let t = Math.ceil(fromS / step) * step; t <= toS + 1e-9; t += step) out.push(t);
  return out;
}
const tickMs = (v: number) => (v >= 1000 ? `${+(v / 1000).toFixed(2)} s` : `${v} ms`);
function shortLabel(e: ScenarioTimelineEntry): string {
  const t = e.text.replace(/\s+/g, ' ').trim();
  return t.length > 26 ? `${t.slice(0, 25)}…` : t;
}

function latencyChart(run: { name: string; series: NamedRun['series'] }, timeline: ScenarioTimelineEntry[]): string {
  const series = [...run.series].filter((p) => isNum(p.atMs)).sort((a, b) => a.atMs - b.atMs);
  if (!series.length) return `<p class="empty chart-empty" data-run="${esc(run.name)}">No per-second samples were recorded for run “${esc(run.name)}”.</p>`;
  const W = 1100, H = 420, L = 78, R = 70, T = 86, B = 58;
  const pw = W - L - R, ph = H - T - B;
  let t0 = series[0]!.atMs, t1 = series[series.length - 1]!.atMs;
  const markers = timeline.filter((e) => MARKER_KINDS.has(e.kind) && isNum(e.atMs) && e.atMs >= t0 - 10_000 && e.atMs <= t1 + 10_000);
  for (const m of markers) [t0, t1] = [Math.min(t0, m.atMs), Math.max(t1, m.atMs)];
  if (t1 - t0 < 2000) [t0, t1] = [t0 - 1000, t1 + 1000];
  const fromS = t0 / 1000, toS = t1 / 1000;
  const x = (atMs: number) => L + ((atMs - t0) / (t1 - t0)) * pw;
  const num = (v: number) => (isNum(v) ? Math.max(0, v) : 0);
  const yTicks = niceTicks(Math.max(...series.map((p) => Math.max(num(p.p50), num(p.p95), num(p.max)))), 5);
  const yMax = yTicks[yTicks.length - 1]!;
  const y = (v: number) => T + ph - (num(v) / yMax) * ph;
  const fTicks = niceTicks(Math.max(...series.map((p) => num(p.failures))), 4).filter((v, i, a) => Number.isInteger(v) || a.length < 3 || i === 0);
  const fMax = fTicks[fTicks.length - 1]!;
  const yf = (v: number) => T + ph - (num(v) / fMax) * ph;
  const f1 = (v: number) => v.toFixed(1);

  const out: string[] = [];
  out.push(`<svg class="latency-chart" data-run="${esc(run.name)}" viewBox="0 0 ${W} ${H}" role="img" aria-label="Latency and failures per second for run ${esc(run.name)}">`);
  // grid + axes
  for (const v of yTicks) out.push(`<line class="grid" x1="${L}" x2="${L + pw}" y1="${f1(y(v))}" y2="${f1(y(v))}"/><text class="tick" x="${L - 8}" y="${f1(y(v) + 6)}" text-anchor="end">${tickMs(v)}</text>`);
  for (const v of fTicks) out.push(`<text class="tick tick-fail" x="${L + pw + 8}" y="${f1(yf(v) + 6)}">${v}</text>`);
  for (const s of timeTicks(fromS, toS)) out.push(`<line class="xtick" x1="${f1(x(s * 1000))}" x2="${f1(x(s * 1000))}" y1="${T + ph}" y2="${T + ph + 6}"/><text class="tick" x="${f1(x(s * 1000))}" y="${T + ph + 26}" text-anchor="middle">${s}</text>`);
  out.push(`<line class="axis" x1="${L}" x2="${L}" y1="${T}" y2="${T + ph}"/><line class="axis" x1="${L}" x2="${L + pw}" y1="${T + ph}" y2="${T + ph}"/><line class="axis" x1="${L + pw}" x2="${L + pw}" y1="${T}" y2="${T + ph}"/>`);
  out.push(`<text class="axis-title" x="${L + pw / 2}" y="${H - 8}" text-anchor="middle">seconds since scenario start</text>`);
  out.push(`<text class="axis-title" transform="translate(18 ${T + ph / 2}) rotate(-90)" text-anchor="middle">latency</text>`);
  out.push(`<text class="axis-title axis-fail" transform="translate(${W - 14} ${T + ph / 2}) rotate(90)" text-anchor="middle">failures / s</text>`);
  // failures per second: bars one second wide (or the spacing of the points, if coarser)
  const gaps = series.slice(1).map((p, i) => p.atMs - series[i]!.atMs).filter((g) => g > 0);
  const stepMs = gaps.length ? Math.min(...gaps) : 1000;
  const bw = Math.max(1.5, (stepMs / (t1 - t0)) * pw * 0.8);
  const bars = series.filter((p) => num(p.failures) > 0).map((p) => `<rect x="${f1(x(p.atMs) - bw / 2)}" y="${f1(yf(p.failures))}" width="${f1(bw)}" height="${f1(T + ph - yf(p.failures))}"><title>${clock(p.atMs)}: ${int(p.failures)} failed</title></rect>`);
  out.push(`<g class="fail-bars">${bars.join('')}</g>`);
  // lines (a single point gets a dot)
  const path = (k: 'p50' | 'p95' | 'max') => series.map((p, i) => `${i ? 'L' : 'M'}${f1(x(p.atMs))} ${f1(y(p[k]))}`).join(' ');
  for (const k of ['max', 'p95', 'p50'] as const) {
    out.push(series.length > 1 ? `<path class="series s-${k}" d="${path(k)}"/>` : `<circle class="dot s-${k}" cx="${f1(x(series[0]!.atMs))}" cy="${f1(y(series[0]![k]))}" r="6"/>`);
  }
  // timeline markers, labels staggered in three rows so neighbours don't collide
  const rowEnds = [-Infinity, -Infinity, -Infinity];
  for (const m of [...markers].sort((a, b) => a.atMs - b.atMs)) {
    const mx = x(m.atMs);
    const label = shortLabel(m);
    const lw = label.length * 8.6 + 6; // ≈ 15px bold
    const anchor = mx + 4 + lw > W - 4 ? 'end' : 'start';
    const [left, right] = anchor === 'end' ? [mx - 4 - lw, mx] : [mx, mx + 4 + lw];
    let row = rowEnds.findIndex((end) => left > end + 8);
    if (row < 0) row = rowEnds.indexOf(Math.min(...rowEnds));
    rowEnds[row] = right;
    const ly = T - 62 + row * 20;
    const lx = anchor === 'end' ? mx - 4 : mx + 4;
    out.push(`<g class="marker m-${m.kind}" data-kind="${m.kind}"><line x1="${f1(mx)}" x2="${f1(mx)}" y1="${ly + 4}" y2="${T + ph}"/>` +
      `<text x="${f1(lx)}" y="${ly}" text-anchor="${anchor}">${esc(label)}</text><title>${clock(m.atMs)} ${esc(m.kind)}: ${esc(m.text)}</title></g>`);
  }
  out.push('</svg>');
  const legend = [['s-p50', 'p50'], ['s-p95', 'p95'], ['s-max', 'max'], ['fail', 'failures / s (right axis)'], ['m-fault', 'fault'], ['m-heal', 'heal'], ['m-maintenance', 'maintenance']]
    .map(([c, t]) => `<li><span class="sw ${c}"></span>${t}</li>`).join('');
  return `<figure class="chart">${out.join('')}<figcaption><ul class="legend">${legend}</ul></figcaption></figure>`;
}

// ---------------------------------------------------------------- HTML sections

/** `numeric(col)`: right-aligned, no wrapping (default: every column but the first). */
function table(cls: string, head: string[], rows: string[][], numeric: (col: number) => boolean = (i) => i >= 1, rowClass: (row: number) => string = () => ''): string {
  const nc = (i: number) => (numeric(i) ? ' class="num"' : '');
  const th = head.map((h, i) => `<th${nc(i)}>${h}</th>`).join('');
  const tr = rows.map((r, ri) => `<tr${rowClass(ri) ? ` class="${rowClass(ri)}"` : ''}>${r.map((c, i) => `<td${nc(i)}>${c}</td>`).join('')}</tr>`).join('');
  return `<div class="scroll"><table class="${cls}"><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table></div>`;
}

function tiles(r: LoadResult): string {
  // the unit smaller than the number, so a projected tile reads at a glance
  const u = (v: string) => v.replace(/^([^ ]+) (.+)$/, (_, n: string, unit: string) => `${n}<small>${unit}</small>`);
  const t = (key: string, label: string, value: string, bad = false) => `<div class="tile${bad ? ' bad' : ''}" data-tile="${key}"><div class="tile-value">${u(value)}</div><div class="tile-label">${label}</div></div>`;
  return `<div class="tiles">${[
    t('requests', 'requests', int(r.requests)),
    t('failures', 'failures', int(r.failures), r.failures > 0),
    t('errorRate', 'error rate', pct(r.errorRate), r.errorRate > 0),
    t('apdex', 'Apdex (T 500 ms)', apdex(r.apdex)),
    t('throughput', 'throughput', rps(r.throughputRps)),
  ].join('')}</div><div class="tiles">${[
    t('p50', 'p50 latency', msUnit(r.latencyMs?.p50)),
    t('p95', 'p95 latency', msUnit(r.latencyMs?.p95)),
    t('p99', 'p99 latency', msUnit(r.latencyMs?.p99)),
    t('max', 'max latency', msUnit(r.latencyMs?.max)),
  ].join('')}</div>`;
}

const FAULT_HEAD = ['fault', 'at s', 'detected ms', 'failed requests', 'blackout ms', 'recovered ms', 'p99 ms', 'max ms', 'error'];
function faultRow(f: LoadFaultResult): string[] {
  return [
    `<strong>${esc(f.fault)}</strong>`, isNum(f.atMs) ? (f.atMs / 1000).toFixed(1) : DASH, ms(f.detectedMs), int(f.failedRequests), ms(f.blackoutMs),
    `${ms(f.recoveredMs)}${f.recoveredBy && isNum(f.recoveredMs) ? ` <span class="muted">(${esc(f.recoveredBy)})</span>` : ''}`, ms(f.p99Ms), ms(f.maxMs),
    f.error ? `<span class="err">${esc(f.error)}</span>` : DASH,
  ];
}

function comparisonSection(result: ScenarioResult): string {
  const c = result.comparison;
  const paper = paperColumns(result);
  if (c) {
    const head = ['metric', ...c.runs.map((r) => esc(r)), ...paper.map((p) => `<span class="paper">${esc(p.label)}</span>`)];
    const rows = c.rows.map((row) => [esc(metricLabel(row.metric)), ...c.runs.map((_, i) => metricValue(row.metric, row.values[i])), ...paper.map((p) => `<span class="paper">${metricValue(row.metric, paperValue(row.metric, p))}</span>`)]);
    return `<section id="comparison"><h2>Comparison</h2>${table('comparison', head, rows)}${paper.length ? `<p class="muted">${esc(PAPER_REFERENCE.source)}.</p>` : ''}</section>`;
  }
  if (!paper.length) return '';
  const metrics: [string, (r: LoadResult) => Num][] = [['successRate', (r) => 1 - r.errorRate], ['errorRate', (r) => r.errorRate], ['apdex', (r) => r.apdex], ['p95', (r) => r.latencyMs.p95], ['max', (r) => r.latencyMs.max]];
  const head = ['metric', 'measured', ...paper.map((p) => `<span class="paper">${esc(p.label)}</span>`)];
  const rows = metrics.map(([k, get]) => [metricLabel(k), metricValue(k, result.requests > 0 ? get(result) : null), ...paper.map((p) => `<span class="paper">${metricValue(k, paperValue(k, p))}</span>`)]);
  return `<section id="comparison"><h2>Against the paper</h2>${table('comparison paper-table', head, rows)}<p class="muted">${esc(PAPER_REFERENCE.source)}.</p></section>`;
}

function integritySection(result: ScenarioResult): string {
  const items = runsOf(result).filter((r) => r.integrity);
  if (!items.length) return '';
  const parts = items.map((r) => {
    const i = r.integrity!;
    const lost = (ids: string[]) => (ids.length ? `<span class="err">${ids.length} lost: ${ids.map((id) => `<code>${esc(id)}</code>`).join(', ')}</span>` : '<span class="ok">none lost</span>');
    return `<h3>${esc(r.name)}</h3>${table('integrity', ['checked', 'count', 'result'], [
      ['acknowledged DB writes', int(i.dbWrites), lost(i.lostDbWrites)],
      ['files', int(i.files), lost(i.lostFiles)],
      ['sessions', int(i.sessions), lost(i.lostSessions)],
    ], (c) => c === 1)}${i.unchecked.length ? `<p class="muted">${i.unchecked.length} could not be checked (not counted as lost): ${i.unchecked.slice(0, 20).map((id) => `<code>${esc(id)}</code>`).join(', ')}${i.unchecked.length > 20 ? ', …' : ''}</p>` : ''}`;
  });
  return `<section id="integrity"><h2>Data integrity</h2>${parts.join('')}</section>`;
}

const CSS = `
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;--p50:#0969da;--p95:#8250df;--max:#8c959f;--fail:#cf222e;--ok:#1a7f37;--warn:#9a6700;--okbg:#dafbe1;--failbg:#ffebe9;--say:#ddf4ff;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--card:#161b22;--p50:#4493f8;--p95:#b78cf9;--max:#6e7681;--fail:#ff6a5f;--ok:#3fb950;--warn:#d29922;--okbg:#12361e;--failbg:#4a1519;--say:#0c2d4a}}
*{box-sizing:border-box}
html{font-size:20px}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;font-variant-numeric:tabular-nums}
main{max-width:1280px;margin:0 auto;padding:1.5rem 2rem 3rem}
h1{font-size:2.2rem;margin:.2rem 0}h2{font-size:1.5rem;margin:2.2rem 0 .8rem;border-bottom:2px solid var(--line);padding-bottom:.2rem}h3{font-size:1.15rem;margin:1.2rem 0 .4rem}
.muted{color:var(--muted)}.ok{color:var(--ok);font-weight:600}.err{color:var(--fail);font-weight:600}code{font-size:.85em}
.meta{display:flex;flex-wrap:wrap;gap:.4rem 2rem;color:var(--muted);margin:.4rem 0 1rem}.meta b{color:var(--fg)}
.description{font-size:1.1rem;max-width:60em}
.verdict{display:flex;align-items:center;gap:1rem;padding:1rem 1.5rem;border-radius:12px;border:3px solid;font-size:2.4rem;font-weight:800;letter-spacing:.04em;margin:1rem 0}
.verdict small{font-size:1rem;font-weight:500;letter-spacing:0}
.verdict.passed{color:var(--ok);border-color:var(--ok);background:var(--okbg)}.verdict.failed{color:var(--fail);border-color:var(--fail);background:var(--failbg)}
.tiles{display:grid;grid-template-columns:repeat(5,1fr);gap:.8rem}@media (max-width:900px){.tiles{grid-template-columns:repeat(2,1fr)}}.tiles+.tiles{margin-top:.8rem}
.tile{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.7rem 1rem}.tile.bad{border-color:var(--fail)}
.tile-value{font-size:1.8rem;font-weight:700;white-space:nowrap}.tile-value small{font-size:.55em;font-weight:600;color:var(--muted);margin-left:.15em}.tile.bad .tile-value{color:var(--fail)}.tile-label{color:var(--muted);font-size:.9rem}
svg{display:block;width:100%;height:auto;font-family:inherit}
.topology .edge{stroke:var(--muted);stroke-width:1.5;opacity:.6}.topology .tier-box{fill:var(--card);stroke:var(--line);stroke-width:1.5}
.topology .tier-title{fill:var(--muted);font-size:15px}.topology .node rect{fill:var(--bg);stroke:var(--fg);stroke-width:2}
.topology .node-name{fill:var(--fg);font-size:19px;font-weight:600;text-anchor:middle}
.topology .faulted rect{stroke:var(--fail);stroke-width:4;stroke-dasharray:8 4;fill:var(--failbg)}.topology .node-fault{fill:var(--fail);font-size:14px;font-weight:700;text-anchor:middle}
.chart{margin:0 0 1.5rem}.chart svg{background:var(--card);border:1px solid var(--line);border-radius:10px}
.latency-chart .grid{stroke:var(--line);stroke-width:1}.latency-chart .axis,.latency-chart .xtick{stroke:var(--muted);stroke-width:1.5}
.latency-chart .tick{fill:var(--muted);font-size:16px}.latency-chart .tick-fail,.latency-chart .axis-fail{fill:var(--fail)}.latency-chart .axis-title{fill:var(--fg);font-size:16px}
path.series{fill:none;stroke-width:3;stroke-linejoin:round}.s-p50{stroke:var(--p50)}.s-p95{stroke:var(--p95)}path.s-max{stroke:var(--max);stroke-width:1.5;opacity:.8}circle.s-p50{fill:var(--p50)}circle.s-p95{fill:var(--p95)}circle.s-max{fill:var(--max)}
.fail-bars rect{fill:var(--fail);opacity:.75}
.marker line{stroke-width:2;stroke-dasharray:6 5}.marker text{font-size:15px;font-weight:600}
.m-fault line{stroke:var(--fail)}.m-fault text{fill:var(--fail)}.m-heal line{stroke:var(--ok)}.m-heal text{fill:var(--ok)}.m-maintenance line{stroke:var(--warn)}.m-maintenance text{fill:var(--warn)}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1.4rem;list-style:none;padding:0;margin:.5rem 0 0;font-size:.9rem}
.sw{display:inline-block;width:1.6rem;height:.3rem;margin-right:.4rem;vertical-align:middle;background:currentColor}
.sw.s-p50{background:var(--p50)}.sw.s-p95{background:var(--p95)}.sw.s-max{background:var(--max);height:.15rem}.sw.fail{background:var(--fail);height:.8rem;width:.8rem}
.sw.m-fault,.sw.m-heal,.sw.m-maintenance{background:none;border-top:3px dashed;height:0}.sw.m-fault{color:var(--fail)}.sw.m-heal{color:var(--ok)}.sw.m-maintenance{color:var(--warn)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem;font-size:.95rem}
th,td{padding:.4rem .7rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}th{background:var(--card);font-weight:700}
.num{text-align:right;white-space:nowrap}th.num{white-space:normal}table.failover{font-size:.9rem}table.failover td:last-child{min-width:12em}.steps .ok,.steps .err{white-space:nowrap}table.failover td:first-child{white-space:nowrap}
.paper{font-style:italic;color:var(--warn)}
tr.failed td{background:var(--failbg)}
.timeline{list-style:none;padding:0;margin:0}
.timeline li{display:grid;grid-template-columns:5.5rem 7.5rem 1fr;gap:.8rem;padding:.35rem .8rem;border-bottom:1px solid var(--line)}
.timeline .t{color:var(--muted);font-variant-numeric:tabular-nums}.timeline .k{font-weight:600;color:var(--muted)}
.timeline li.say{font-size:1.25rem;background:var(--say);border-left:6px solid var(--p50);padding:.6rem .8rem .6rem calc(.8rem - 6px);border-radius:6px;margin:.4rem 0}.timeline li.say .t{font-size:1rem;padding-top:.2rem}
.timeline li.say .k{color:var(--p50)}.timeline li.k-fault .k{color:var(--fail)}.timeline li.k-heal .k{color:var(--ok)}.timeline li.k-maintenance .k{color:var(--warn)}
.timeline li.bad .x{color:var(--fail)}
.empty{color:var(--muted);font-style:italic;padding:1rem;border:1px dashed var(--line);border-radius:10px}
@media print{html{font-size:12pt}:root{--bg:#fff;--fg:#000;--card:#fff;--say:#f3f8ff}main{max-width:none;padding:0}section,figure,tr,li{break-inside:avoid}h2{break-after:avoid}.scroll{overflow:visible}}
`;

/** The whole report as one HTML document with no external resources. */
export function renderHtml(result: ScenarioResult): string {
  const passedSteps = result.steps.filter((s) => s.passed).length;
  const verdict = result.passed
    ? `<div class="verdict passed" id="verdict" data-verdict="passed" role="status"><span aria-hidden="true">✓</span> PASSED <small>${passedSteps} of ${result.steps.length} steps passed</small></div>`
    : `<div class="verdict failed" id="verdict" data-verdict="failed" role="status"><span aria-hidden="true">✗</span> FAILED <small>${result.steps.length - passedSteps} of ${result.steps.length} steps failed</small></div>`;
  const runs = runsOf(result);
  const multi = runs.length > 1;

  const charts = runs.length
    ? runs.map((r) => `${multi ? `<h3>${esc(r.name)}${'preset' in r ? ` <span class="muted">(${esc((r as NamedRun).preset)}, ${int(r.users)} users)</span>` : ''}</h3>` : ''}${latencyChart(r, result.timeline)}`).join('')
    : '<p class="empty">This scenario ran no load.</p>';
  const failover = runs.some((r) => r.faults.length)
    ? runs.filter((r) => r.faults.length).map((r) => `${multi ? `<h3>${esc(r.name)}</h3>` : ''}${table('failover', FAULT_HEAD, r.faults.map(faultRow), (i) => i >= 1 && i <= 7)}`).join('')
    : '<p class="empty">No fault was measured under load.</p>';
  const failoverNote = runs.some((r) => r.faults.length)
    ? '<p class="muted">at: seconds into the run · detected: until the cluster showed the fault (HAProxy DOWN, Galera shrank, brick offline) · blackout: the longest stretch with no request succeeding · recovered: after a heal, until the component was healthy again (heal); otherwise until the last failed request ended (service).</p>'
    : '';
  const runTiles = multi ? runs.map((r) => `<h3>${esc(r.name)}</h3>${tiles(r)}`).join('') : tiles(result);

  const steps = result.steps.length
    ? table('steps', ['#', 'step', 'line', 'result', 'detail', 'at', 'took'], result.steps.map((s, i) => [
      String(i + 1), esc(s.step), isNum(s.line) ? String(s.line) : DASH,
      s.passed ? '<span class="ok">✓ pass</span>' : '<span class="err">✗ FAIL</span>',
      s.detail ? esc(s.detail) : '', clock(s.atMs), msUnit(s.durationMs),
    ]), (c) => c === 0 || c === 2 || c >= 5, (i) => (result.steps[i]!.passed ? '' : 'failed'))
    : '<p class="empty">No steps.</p>';

  const timeline = result.timeline.length
    ? `<ol class="timeline">${result.timeline.map((e) => `<li class="k-${esc(e.kind)}${e.kind === 'say' ? ' say' : ''}${e.ok === false ? ' bad' : ''}" data-kind="${esc(e.kind)}">` +
      `<span class="t">${clock(e.atMs)}</span><span class="k">${esc(e.kind)}${e.ok === undefined ? '' : e.ok ? ' <span class="ok">✓</span>' : ' <span class="x">✗</span>'}</span><span class="text">${esc(e.text)}</span></li>`).join('')}</ol>`
    : '<p class="empty">Nothing happened.</p>';

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(result.name)}: ${result.passed ? 'PASSED' : 'FAILED'} — Moodle HA Lab</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<p class="muted">Moodle HA Lab · scenario report</p>
<h1>${esc(result.name)}</h1>
${result.description ? `<p class="description">${esc(result.description)}</p>` : ''}
${verdict}
<div class="meta"><span>started <b>${esc(when(result.startedAt))}</b></span><span>duration <b>${duration(result.durationMs)}</b></span><span>topology <b>${esc(result.topology.preset)}</b> (${result.topology.nodes.length} nodes)</span>${result.journey ? `<span>journey <b>${esc(result.journey)}</b></span>` : ''}${result.users ? `<span>users <b>${int(result.users)}</b></span>` : ''}</div>
</header>
<section id="topology"><h2>Topology</h2>${topologySvg(result)}</section>
<section id="summary"><h2>Load${multi ? ' per run' : ''}</h2>${runTiles}</section>
<section id="latency"><h2>Latency and failures over time</h2>${charts}</section>
<section id="failover"><h2>Failover per fault</h2>${failover}${failoverNote}</section>
${comparisonSection(result)}
${integritySection(result)}
<section id="steps"><h2>Steps and assertions</h2>${steps}</section>
<section id="timeline"><h2>Timeline</h2>${timeline}</section>
</main>
</body>
</html>
`;
}

// ---------------------------------------------------------------- Markdown

/** A table cell: no pipes or newlines, and no raw HTML (say lines are user-written). */
function md(s: unknown): string {
  return String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\s*[\r\n]+\s*/g, ' ');
}
function mdTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i ? '---:' : '---')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** A compact summary: verdict, tiles, faults, comparison (with the paper), failed steps. */
export function renderMarkdown(result: ScenarioResult): string {
  const out: string[] = [];
  const failed = result.steps.filter((s) => !s.passed);
  out.push(`# ${md(result.name)}: ${result.passed ? '✅ PASSED' : '❌ FAILED'}`, '');
  if (result.description) out.push(md(result.description), '');
  out.push(`Started ${md(when(result.startedAt))}, ${duration(result.durationMs)}, topology \`${md(result.topology.preset)}\` (${result.topology.nodes.length} nodes); ` +
    `${result.steps.length - failed.length} of ${result.steps.length} steps passed.`, '');
  const runs = runsOf(result);
  const shown = runs.length > 1 ? runs : [{ ...result, name: runs[0]?.name ?? 'main' }];
  out.push('## Load', '');
  out.push(mdTable(['run', 'requests', 'failures', 'error rate', 'Apdex', 'p50', 'p95', 'p99', 'max', 'throughput'], shown.map((r) => [
    md(r.name), int(r.requests), int(r.failures), pct(r.errorRate), apdex(r.apdex), msUnit(r.latencyMs?.p50), msUnit(r.latencyMs?.p95), msUnit(r.latencyMs?.p99), msUnit(r.latencyMs?.max), rps(r.throughputRps),
  ])), '');
  const faults = runs.flatMap((r) => r.faults.map((f) => ({ run: r.name, f })));
  if (faults.length) {
    out.push('## Failover', '');
    out.push(mdTable(['run', 'fault', 'at s', 'detected ms', 'failed', 'blackout ms', 'recovered ms', 'p99 ms', 'max ms', 'error'], faults.map(({ run, f }) => [
      md(run), md(f.fault), isNum(f.atMs) ? (f.atMs / 1000).toFixed(1) : DASH, ms(f.detectedMs), int(f.failedRequests), ms(f.blackoutMs),
      `${ms(f.recoveredMs)}${f.recoveredBy && isNum(f.recoveredMs) ? ` (${md(f.recoveredBy)})` : ''}`, ms(f.p99Ms), ms(f.maxMs), f.error ? md(f.error) : DASH,
    ])), '');
  }
  const paper = paperColumns(result);
  if (result.comparison) {
    const c = result.comparison;
    out.push('## Comparison', '');
    out.push(mdTable(['metric', ...c.runs.map(md), ...paper.map((p) => `*${md(p.label)}*`)], c.rows.map((row) => [
      md(metricLabel(row.metric)), ...c.runs.map((_, i) => metricValue(row.metric, row.values[i])), ...paper.map((p) => metricValue(row.metric, paperValue(row.metric, p))),
    ])), '');
    if (paper.length) out.push(`*${md(PAPER_REFERENCE.source)}.*`, '');
  } else if (paper.length) {
    out.push('## Against the paper', '');
    const has = result.requests > 0;
    out.push(mdTable(['metric', 'measured', ...paper.map((p) => `*${md(p.label)}*`)], [
      ['success rate', pct(has ? 1 - result.errorRate : null), ...paper.map((p) => pct(p.successRate))],
      ['error rate', pct(has ? result.errorRate : null), ...paper.map((p) => pct(p.errorRate))],
      ['Apdex', apdex(has ? result.apdex : null), ...paper.map((p) => apdex(p.apdex))],
      ['max latency', msUnit(has ? result.latencyMs.max : null), ...paper.map((p) => msUnit(p.maxMs))],
    ]), '', `*${md(PAPER_REFERENCE.source)}.*`, '');
  }
  const lost = runs.flatMap((r) => (r.integrity ? [...r.integrity.lostDbWrites, ...r.integrity.lostFiles, ...r.integrity.lostSessions].map((id) => `${r.name}: ${id}`) : []));
  if (runs.some((r) => r.integrity)) out.push(`**Integrity:** ${lost.length ? `LOST ${lost.map(md).join(', ')}` : 'nothing lost'}.`, '');
  if (failed.length) {
    out.push('## Failed steps', '');
    out.push(mdTable(['step', 'line', 'detail'], failed.map((s) => [md(s.step), isNum(s.line) ? String(s.line) : DASH, md(s.detail ?? '')])), '');
  }
  return out.join('\n');
}

// ---------------------------------------------------------------- files

/**
 * Writes the HTML report to `htmlPath`, and `<same basename>.json` (the `scenario run --json`
 * result) and `.md` beside it. Returns the three paths.
 */
export function writeReports(result: ScenarioResult, htmlPath: string): { html: string; json: string; md: string } {
  const html = path.resolve(htmlPath);
  const base = html.replace(/\.html?$/i, '');
  const paths = { html, json: `${base}.json`, md: `${base}.md` };
  fs.mkdirSync(path.dirname(html), { recursive: true });
  fs.writeFileSync(paths.html, renderHtml(result));
  fs.writeFileSync(paths.json, JSON.stringify(result, null, 2) + '\n');
  fs.writeFileSync(paths.md, renderMarkdown(result));
  return paths;
}
