/**
 * What the repeated benches share, pure (no Docker, no clock): their command line (which lab, how
 * many runs, which journey, or a lab of their own), min/median/max of a figure over the runs and
 * the table that prints it beside its target, and the capacity search's next step.
 */
import { PRESET_NAMES } from '../src/engine/topology';
import { parseDuration } from '../src/load/faults';

export const JOURNEY_CHOICES = ['auto', 'moodle', 'probe'] as const;
export type JourneyChoice = (typeof JOURNEY_CHOICES)[number];

export interface BenchArgs {
  /** The lab to run on (an existing one, or the one the bench brings up with `topology`). */
  lab: string;
  runs: number;
  journey: JourneyChoice;
  /** Bring a lab of this topology up for the bench (and destroy it at the end). */
  topology?: string;
  /** With `topology`: Moodle from this source (else the lab comes up without Moodle). */
  moodleSource?: string;
  /** Flags a bench adds: name → value (durations already in ms when declared as such). */
  extra: Record<string, string>;
}

/** Bad command-line input: the bench prints it with its usage line and exits 2. */
export class UsageError extends Error {}

export interface ArgSpec {
  /** Default run count (0 = the bench takes no --runs). */
  runs: number;
  /** Extra flags this bench takes, each with its default ('' = none). */
  flags?: Record<string, string>;
}

/**
 * `--lab NAME`, `--runs N` (1–20), `--journey auto|moodle|probe`, `--topology single|ha|…`
 * (a lab of its own, destroyed at the end), `--moodle-source DIR` (with --topology), plus the
 * bench's own flags. The lab defaults to BENCH_LAB, then `fallbackLab`.
 */
export function parseBenchArgs(argv: string[], spec: ArgSpec, env: Record<string, string | undefined>, fallbackLab: string): BenchArgs {
  const a: BenchArgs = { lab: env.BENCH_LAB ?? fallbackLab, runs: spec.runs, journey: 'auto', extra: { ...(spec.flags ?? {}) } };
  let labGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--lab') {
      a.lab = value();
      labGiven = true;
      if (!/^[a-z][a-z0-9-]{0,30}$/.test(a.lab)) throw new UsageError(`--lab "${a.lab}": lower-case letters, digits and dashes, starting with a letter`);
    } else if (flag === '--runs' && spec.runs > 0) {
      const v = value();
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < 1 || n > 20) throw new UsageError(`--runs "${v}": an integer from 1 to 20`);
      a.runs = n;
    } else if (flag === '--journey') {
      const v = value();
      if (!(JOURNEY_CHOICES as readonly string[]).includes(v)) throw new UsageError(`--journey "${v}": ${JOURNEY_CHOICES.join(', ')}`);
      a.journey = v as JourneyChoice;
    } else if (flag === '--topology') {
      const v = value();
      if (!(PRESET_NAMES as readonly string[]).includes(v)) throw new UsageError(`--topology "${v}": ${PRESET_NAMES.join(', ')}`);
      a.topology = v;
    } else if (flag === '--moodle-source') a.moodleSource = value();
    else if (flag.startsWith('--') && spec.flags && flag.slice(2) in spec.flags) a.extra[flag.slice(2)] = value();
    else throw new UsageError(`unknown argument "${flag}"`);
  }
  if (a.moodleSource && !a.topology)
    throw new UsageError('--moodle-source needs --topology (the bench brings that lab up); for a running Moodle lab give --lab');
  if (a.topology && !labGiven && !env.BENCH_LAB) a.lab = `bench-${a.topology}`;
  return a;
}

/** A duration flag of parseBenchArgs' `extra`, in ms (> 0). */
export function durationFlag(args: BenchArgs, name: string): number {
  let ms: number;
  try {
    ms = parseDuration(args.extra[name] ?? '', `--${name}`);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (ms <= 0) throw new UsageError(`--${name} must be more than 0`);
  return ms;
}

/** A whole-number flag of `extra`, within [min, max]. */
export function intFlag(args: BenchArgs, name: string, min: number, max: number): number {
  const v = args.extra[name] ?? '';
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new UsageError(`--${name} "${v}": an integer from ${min} to ${max}`);
  return n;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
  /** Runs with the figure. */
  n: number;
  /** Runs without it (not seen, e.g. a detection that never came). */
  missing: number;
}

/** min/median/max over the runs that have the figure; undefined when none has it. Median of an even count: the mean of the middle two. */
export function spread(values: readonly (number | null | undefined)[]): Spread | undefined {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (!xs.length) return undefined;
  const mid = Math.floor(xs.length / 2);
  const median = xs.length % 2 ? xs[mid]! : Math.round((xs[mid - 1]! + xs[mid]!) / 2);
  return { min: xs[0]!, median, max: xs[xs.length - 1]!, n: xs.length, missing: values.length - xs.length };
}

export interface Figure {
  name: string;
  /** One per run; undefined = not measured in that run. */
  values: (number | null | undefined)[];
  /** The target the median must not exceed (ms). */
  targetMs?: number;
}

/** Whether a figure's median meets its target: 'yes', 'NO', or '-' (no target, or no value). */
export function meets(f: Figure): 'yes' | 'NO' | '-' {
  const s = spread(f.values);
  if (f.targetMs === undefined || !s) return '-';
  // A run where the figure never came (e.g. no detection) fails the target whatever the others say.
  return s.missing === 0 && s.median <= f.targetMs ? 'yes' : 'NO';
}

/** The summary table: a row per figure, with min/median/max over the runs and the target. */
export function summaryRows(figures: readonly Figure[]): (string | number)[][] {
  return [
    ['figure', 'runs', 'min', 'median', 'max', 'target (median)', 'met'],
    ...figures.map((f) => {
      const s = spread(f.values);
      return [
        f.name,
        s ? `${s.n}/${f.values.length}` : `0/${f.values.length}`,
        s?.min ?? '—',
        s?.median ?? '—',
        s?.max ?? '—',
        f.targetMs === undefined ? '—' : `≤ ${f.targetMs}`,
        meets(f),
      ];
    }),
  ];
}

// ---------------------------------------------------------------- capacity search

export interface CapacityStep {
  /** Paced requests per minute offered. */
  perMin: number;
  p95Ms: number;
  failures: number;
  requests: number;
  /** Requests per minute the generator really sent (a step that fell short of its rate did not pass). */
  achievedPerMin?: number;
}

/** Share of the offered rate a step must really reach. */
export const RATE_REACHED = 0.9;

/** A step passes when p95 ≤ the limit, nothing failed, and the rate was really offered. */
export const stepPasses = (s: CapacityStep, p95LimitMs: number) =>
  s.failures === 0 && s.p95Ms <= p95LimitMs && (s.achievedPerMin === undefined || s.achievedPerMin >= RATE_REACHED * s.perMin);

/**
 * The next rate to try, or undefined when the search is over. Doubling from `start` while steps
 * pass; after the first failing step, one bisection between the highest pass and the lowest
 * fail; then over. `max` caps the doubling (its step is the last one if it passes).
 */
export function nextRate(steps: readonly CapacityStep[], p95LimitMs: number, start: number, max: number): number | undefined {
  if (!steps.length) return start;
  const passes = steps.filter((s) => stepPasses(s, p95LimitMs)).map((s) => s.perMin);
  const fails = steps.filter((s) => !stepPasses(s, p95LimitMs)).map((s) => s.perMin);
  const best = passes.length ? Math.max(...passes) : 0;
  if (!fails.length) {
    const last = steps[steps.length - 1]!.perMin;
    return last >= max ? undefined : Math.min(max, last * 2);
  }
  const worst = Math.min(...fails);
  // Only one bisection: the step after the first failure.
  const bisected = steps.length - 1 > steps.findIndex((s) => !stepPasses(s, p95LimitMs));
  if (bisected) return undefined;
  const mid = Math.round((best + worst) / 2);
  return mid > best && mid < worst ? mid : undefined;
}

/** The highest rate that passed (undefined: none did). */
export function capacityOf(steps: readonly CapacityStep[], p95LimitMs: number): number | undefined {
  const passes = steps.filter((s) => stepPasses(s, p95LimitMs)).map((s) => s.perMin);
  return passes.length ? Math.max(...passes) : undefined;
}

/** A run's first fault, only when it was really injected (Docker refused a pause under load: then the run measured no fault). */
export function injectedFault<F extends { error?: string }>(r: { faults: F[] }): F | undefined {
  const f = r.faults[0];
  return f && !f.error ? f : undefined;
}

/** The flags every fault-under-load bench takes (--users, --duration, --node, --at), defaults from BENCH_* or the bench's own. */
export function faultLoadFlags(env: Record<string, string | undefined>, d: { duration: string; node: string; at: string }): Record<string, string> {
  return { users: env.BENCH_USERS ?? '30', duration: env.BENCH_DURATION ?? d.duration, node: env.BENCH_NODE ?? d.node, at: env.BENCH_AT ?? d.at };
}

/** Those flags read and checked: the fault's time must fall within the load. */
export function faultLoadArgs(args: BenchArgs): { users: number; duration: number; at: number; node: string } {
  const users = intFlag(args, 'users', 1, 500);
  const duration = durationFlag(args, 'duration');
  const at = durationFlag(args, 'at');
  if (at >= duration) throw new UsageError(`--at ${args.extra.at} is not within --duration ${args.extra.duration}`);
  return { users, duration, at, node: args.extra.node! };
}
