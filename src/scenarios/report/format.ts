/** The report's number, time and text formatting, shared by the HTML and the Markdown. */
import type { LoadResult } from '../../metrics/export';
import type { NamedRun, ScenarioResult } from '../types';

export const DASH = '—';
export type Num = number | null | undefined;
export const isNum = (x: Num): x is number => typeof x === 'number' && Number.isFinite(x);

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const int = (x: Num) => (isNum(x) ? Math.round(x).toLocaleString('en-US') : DASH);
/** A latency for a table whose header says "ms". */
export const ms = int;
/** A latency with its unit, switching to seconds above one. */
export function msUnit(x: Num): string {
  if (!isNum(x)) return DASH;
  if (Math.abs(x) < 1000) return `${Math.round(x)} ms`;
  return `${(x / 1000).toFixed(Math.abs(x) < 10_000 ? 2 : 1)} s`;
}
/** A fraction as a percentage: 0.0011 → "0.11 %". */
export function pct(x: Num): string {
  if (!isNum(x)) return DASH;
  const p = x * 100;
  if (p === 0 || p === 100) return `${p} %`;
  if (Math.abs(p) < 0.01) return `${p.toFixed(3)} %`;
  return `${p.toFixed(Math.abs(p) >= 10 ? 1 : 2)} %`;
}
export const apdex = (x: Num) => (isNum(x) ? x.toFixed(3) : DASH);
export const rps = (x: Num) => (isNum(x) ? `${x.toFixed(1)} req/s` : DASH);
/** Seconds since the scenario's start as m:ss.s */
export function clock(atMs: Num): string {
  if (!isNum(atMs)) return DASH;
  const s = Math.max(0, atMs) / 1000;
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
}
export function duration(x: Num): string {
  if (!isNum(x)) return DASH;
  if (x < 60_000) return `${(x / 1000).toFixed(1)} s`;
  const s = Math.round(x / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A comparison/metric row's value, formatted by what the metric is (METRIC_KEYS names and a few aliases). */
export function metricValue(metric: string, v: Num): string {
  const k = metric.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (k === 'apdex') return apdex(v);
  if (k === 'errorrate' || k === 'successrate' || k.endsWith('pct')) return pct(v);
  if (k === 'throughput' || k === 'throughputrps') return rps(v);
  if (/^(p\d+|max|min|mean|detection|blackout|recovery)(ms)?$/.test(k)) return msUnit(v);
  return int(v);
}

const METRIC_LABEL: Record<string, string> = {
  requests: 'requests',
  failures: 'failures',
  errorrate: 'error rate',
  successrate: 'success rate',
  apdex: 'Apdex',
  p50: 'p50 latency',
  p95: 'p95 latency',
  p99: 'p99 latency',
  max: 'max latency',
  throughput: 'throughput',
  detection: 'detection',
  blackout: 'blackout',
  recovery: 'recovery',
  failedduringfaults: 'failed during faults',
  lostwrites: 'lost DB writes',
  lostfiles: 'lost files',
  lostsessions: 'lost sessions',
};
export const metricLabel = (metric: string) => METRIC_LABEL[metric.toLowerCase().replace(/[^a-z0-9]/g, '')] ?? metric;

/** The runs whose numbers the report shows (the top-level fields are the main, last run). */
export function runsOf(result: ScenarioResult): (LoadResult & { name: string; series: NamedRun['series'] })[] {
  return result.runs.length ? result.runs : result.requests > 0 || result.faults.length ? [{ ...result, name: 'main', series: [] }] : [];
}

/**
 * The head of every self-contained page the lab writes (scenario report, class summary, audit):
 * no request may leave the file (CSP: inline styles and data: images only), light and dark.
 * `title` and `css` are trusted here: callers escape what a user wrote.
 */
export function pageHead(title: string, css: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<style>${css}</style>
</head>
`;
}
