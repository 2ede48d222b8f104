/**
 * Predictions (the `predict` step): what a bound figure measures and in which unit, how an answer
 * is read (a prompt's text, an answers file's value, a dashboard dialog's field) and checked, and
 * how a finished run grades each prediction against its measurement. Pure functions: no node or
 * vscode imports, so the dashboard's page may import the answer checks too.
 */
import type { LoadResult } from '../metrics/export';
import { compareOp, fmt, metricOf } from './steps/checks';
import { FAULT_FIGURES, FaultFigure, MetricKey, PredictAnswer, PredictBinding, PredictChoice, PredictionResult, PredictStep, Step, Threshold } from './types';

/** What a figure counts, for units, thresholds and display. */
export type FigureKind = 'ms' | 'fraction' | 'rate' | 'count';

const DURATION_FIGURES: readonly string[] = ['p50', 'p95', 'p99', 'max', 'detection', 'blackout', 'recovery'];

export function figureKind(metric: MetricKey | FaultFigure): FigureKind {
  if (DURATION_FIGURES.includes(metric)) return 'ms';
  if (metric === 'apdex' || metric === 'errorRate') return 'fraction';
  if (metric === 'throughput') return 'rate';
  return 'count';
}

export const isFaultFigure = (m: string): m is FaultFigure => (FAULT_FIGURES as readonly string[]).includes(m);

/** Time units a duration answer may be given in, as ms per unit. */
export const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** The unit choices show a figure in (durations in seconds, the rest as measured). */
export function displayUnit(metric: MetricKey | FaultFigure): { unit: string; scale: number } {
  const k = figureKind(metric);
  if (k === 'ms') return { unit: 's', scale: 1000 };
  if (k === 'rate') return { unit: 'req/s', scale: 1 };
  if (metric === 'errorRate') return { unit: '%', scale: 0.01 };
  return { unit: '', scale: 1 };
}

const round = (v: number) => Math.round(v * 1000) / 1000;
const withUnit = (v: number, unit: string) => `${fmt(round(v))}${unit ? (unit === '%' ? '%' : ` ${unit}`) : ''}`;

type RunFigures = Pick<LoadResult, 'faults'> & Partial<LoadResult> & { name: string };

/** The measured figure a binding names, in the figure's own unit (ms, fraction, count), or why there is none. */
export function measure(b: PredictBinding, runs: readonly RunFigures[]): { value: number | null; why?: string } {
  const run = runs.find((r) => r.name === b.run);
  if (!run) return { value: null, why: `load run ${b.run} did not run` };
  if (b.node !== undefined) {
    const re = new RegExp(`(^|[^a-z0-9-])${b.node.replace(/[^a-z0-9-]/g, '')}($|[^a-z0-9-])`);
    const f = run.faults.find((x) => re.test(x.fault));
    if (!f) return { value: null, why: `no fault on ${b.node} in load run ${b.run}` };
    switch (b.metric as FaultFigure) {
      case 'detection':
        return f.detectedMs === null ? { value: null, why: `the fault on ${b.node} was never detected` } : { value: f.detectedMs };
      case 'blackout':
        return { value: f.blackoutMs };
      case 'recovery':
        return f.recoveredMs === null ? { value: null, why: `${b.node} never recovered during the run` } : { value: f.recoveredMs };
      case 'failedRequests':
        return { value: f.failedRequests };
      default:
        return typeof f.p99Ms === 'number' ? { value: f.p99Ms } : { value: null, why: `no p99 for the fault on ${b.node}` };
    }
  }
  const v = metricOf(run as LoadResult, b.metric as MetricKey);
  if (v === null)
    return {
      value: null,
      why: ['lostWrites', 'lostFiles', 'lostSessions'].includes(b.metric) ? 'no integrity probes ran' : `no fault during load run ${b.run}`,
    };
  if (!Number.isFinite(v)) return { value: null, why: `a fault of load run ${b.run} was never ${b.metric === 'detection' ? 'detected' : 'recovered from'}` };
  return { value: v };
}

/** The choices that hold for a measured value (a choice without `when` holds when no other does). */
export function matchingChoices(choices: readonly PredictChoice[], v: number): number[] {
  const hit = choices.map((c, i) => (c.when && compareOp(v, c.when) ? i : -1)).filter((i) => i >= 0);
  if (hit.length) return hit;
  const other = choices.findIndex((c) => !c.when);
  return other >= 0 ? [other] : [];
}

/**
 * A measured value that two choices match, or that none does, if there is one: thresholds are
 * tried at, just below and just above every value they name (whole numbers only for counts).
 */
export function choiceGap(choices: readonly PredictChoice[], kind: FigureKind): { value: number; hits: number[] } | undefined {
  const eps = kind === 'count' ? 1 : 1e-6;
  const points = new Set<number>([0]);
  for (const c of choices) if (c.when) for (const d of [-eps, 0, eps]) points.add(c.when.value + d);
  for (const v of [...points].filter((x) => x >= 0 && (kind !== 'count' || Number.isInteger(x))).sort((a, b) => a - b)) {
    const hits = matchingChoices(choices, v);
    if (hits.length !== 1) return { value: v, hits };
  }
  return undefined;
}

export const letter = (i: number) => String.fromCharCode(97 + i);

/** What a question asks for, as a hint after a wrong answer ("a letter from a to c", "a number of s"). */
export function answerHint(q: PredictStep): string {
  if (q.choices) return `a letter from a to ${letter(q.choices.length - 1)}, or a choice's text`;
  const n = q.number!;
  return `a number from ${n.min} to ${n.max}${n.unit ? ` (${n.unit})` : ''}`;
}

/** A written answer (prompt, answers file, dialog) read for this question: the answer, or what is wrong with it. */
export function readAnswer(q: PredictStep, raw: unknown): PredictAnswer | { problem: string } {
  if (q.choices) {
    if (typeof raw !== 'string' || !raw.trim()) return { problem: `answer "${q.id}" with ${answerHint(q)}` };
    const t = raw.trim().toLowerCase();
    const byLetter = /^[a-z]\)?$/.test(t) ? t.charCodeAt(0) - 97 : -1;
    const i = byLetter >= 0 && byLetter < q.choices.length ? byLetter : q.choices.findIndex((c) => c.text.toLowerCase() === t);
    if (i < 0) return { problem: `"${raw.trim().slice(0, 60)}" is not a choice of "${q.id}": answer with ${answerHint(q)}` };
    return { choice: i };
  }
  const n = q.number!;
  let v: number;
  if (typeof raw === 'number') v = raw;
  else if (typeof raw === 'string') {
    const m = /^\s*(-?\d+(?:\.\d+)?|-?\.\d+)\s*([a-z%/]*)\s*$/i.exec(raw);
    if (!m) return { problem: `"${raw.trim().slice(0, 60)}" is not a number: answer "${q.id}" with ${answerHint(q)}` };
    v = Number(m[1]);
    const unit = m[2]!.toLowerCase();
    if (unit && unit !== n.unit.toLowerCase()) {
      if (TIME_UNITS[unit] !== undefined && TIME_UNITS[n.unit] !== undefined) v = (v * TIME_UNITS[unit]!) / TIME_UNITS[n.unit]!;
      else return { problem: `"${raw.trim().slice(0, 60)}": "${q.id}" is answered in ${n.unit || 'plain numbers'}, not ${unit}` };
    }
  } else return { problem: `answer "${q.id}" with ${answerHint(q)}` };
  if (!Number.isFinite(v) || v < n.min || v > n.max) return { problem: `${fmt(v)} is out of range for "${q.id}": answer with ${answerHint(q)}` };
  return { value: v };
}

/** What is wrong with an answer a UI handed back for this question, or undefined. */
export function answerProblem(q: PredictStep, a: unknown): string | undefined {
  if (typeof a !== 'object' || a === null) return 'no answer';
  const x = a as Record<string, unknown>;
  if (q.choices)
    return Number.isInteger(x.choice) && (x.choice as number) >= 0 && (x.choice as number) < q.choices.length ? undefined : `not a choice of "${q.id}"`;
  const r = readAnswer(q, x.value);
  return 'problem' in r ? r.problem : undefined;
}

/** The `predict` steps of a scenario, in order. */
export function questionsOf(steps: readonly Step[]): PredictStep[] {
  return steps.filter((s): s is Extract<Step, { kind: 'predict' }> => s.kind === 'predict');
}

/** Grades one prediction against the runs a scenario made. */
export function grade(q: PredictStep & { pos?: { line: number } }, answer: PredictAnswer | undefined, runs: readonly RunFigures[]): PredictionResult {
  const { value: raw, why } = measure(q.bound, runs);
  const base = {
    id: q.id,
    question: q.question,
    line: q.pos?.line || undefined,
    bound: q.bound.text,
    explain: q.explain,
  };
  if (q.choices) {
    const { unit, scale } = displayUnit(q.bound.metric);
    const hits = raw === null ? [] : matchingChoices(q.choices, raw);
    const right = hits.length === 1 ? hits[0]! : undefined;
    const chosen = answer && 'choice' in answer ? answer.choice : undefined;
    return prunePrediction({
      ...base,
      kind: 'choice',
      choices: q.choices.map((c) => c.text),
      unit: unit || undefined,
      answer: chosen !== undefined ? (q.choices[chosen]?.text ?? null) : null,
      measured: raw === null ? null : round(raw / scale),
      measuredText: raw === null ? `no value: ${why ?? 'not measured'}` : withUnit(raw / scale, unit),
      expected:
        right !== undefined ? q.choices[right]!.text : raw === null ? 'unknown (nothing measured)' : `no single choice matches ${withUnit(raw / scale, unit)}`,
      grade: chosen === undefined ? 'not answered' : right === undefined ? 'ungraded' : chosen === right ? 'right' : 'wrong',
    });
  }
  const n = q.number!;
  const measured = raw === null ? null : round(raw / n.scale);
  const given = answer && 'value' in answer ? answer.value : undefined;
  const tol = measured === null ? 0 : n.tolerance.percent ? (Math.abs(measured) * n.tolerance.value) / 100 : n.tolerance.value;
  return prunePrediction({
    ...base,
    kind: 'number',
    unit: n.unit || undefined,
    answer: given ?? null,
    measured,
    measuredText: measured === null ? `no value: ${why ?? 'not measured'}` : withUnit(measured, n.unit),
    expected: measured === null ? 'unknown (nothing measured)' : `${withUnit(measured, n.unit)} ± ${n.tolerance.text}`,
    grade: given === undefined ? 'not answered' : measured === null ? 'ungraded' : Math.abs(given - measured) <= tol + 1e-9 ? 'right' : 'wrong',
  });
}

function prunePrediction(p: PredictionResult): PredictionResult {
  for (const k of Object.keys(p) as (keyof PredictionResult)[]) if (p[k] === undefined) delete p[k];
  return p;
}

/** An answer as the learner sees it back ("b) Nobody notices", "4 s"). */
export function showAnswer(q: PredictStep, a: PredictAnswer): string {
  if ('choice' in a) return `${letter(a.choice)}) ${q.choices?.[a.choice]?.text ?? '?'}`;
  return withUnit(a.value, q.number?.unit ?? '');
}

export type { Threshold };
