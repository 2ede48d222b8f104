/**
 * Scenarios: a YAML file of steps (bring the lab up, start load, break things, heal, narrate,
 * assert), its parsed model, and the result a run produces. The parser (parse.ts) turns YAML
 * into `Scenario`; the runner (runner.ts) executes it on a lab; the report (report/) renders
 * a `ScenarioResult` as self-contained HTML and Markdown.
 * No node or vscode imports here: the webview shows step progress from these types.
 */
import type { FaultRequest } from '../protocol/faults';
import type { LoadResult } from '../metrics/export';
import type { LabDefinition } from '../roles/definition';

/** Where a step came from in its file (1-based), for error messages and the report. */
export interface SourcePos {
  line: number;
  col: number;
}

export type JourneyChoice = 'moodle' | 'probe' | 'auto';

export interface LoadStartStep {
  kind: 'load-start';
  /** Names the run for comparisons and the report (default `run<n>`). */
  name?: string;
  users: number;
  journey: JourneyChoice;
  durationMs: number;
  rampUpMs?: number;
  /** Think time between a user's requests, [min, max] ms (the generator's default when absent). */
  thinkMs?: [number, number];
  /** Samples per minute shared by all users (Moodle's JMeter plan: 120); 0 = unpaced. */
  throughputPerMin?: number;
}

/** `load: stop` ends the running load now; `load: wait` waits for it to reach its duration. */
export interface LoadEndStep {
  kind: 'load-stop' | 'load-wait';
}

export type Comparator = '<' | '<=' | '==' | '>=' | '>' | '!=';

/** `apdex: ">= 0.85"`, `p95: "<= 1500ms"`, `failures: 0` (bare value = `==`). */
export interface Threshold {
  op: Comparator;
  value: number;
  /** The text as written, for messages. */
  text: string;
}

/** Metrics of a load run (the current one so far, the last finished one, or one named). */
export const METRIC_KEYS = [
  'failures',
  'errorRate',
  'apdex',
  'p50',
  'p95',
  'p99',
  'max',
  'requests',
  'throughput',
  'detection',
  'blackout',
  'recovery',
  'failedDuringFaults',
  'lostWrites',
  'lostFiles',
  'lostSessions',
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

/** The cluster's state now (from `status`). */
export interface StatePredicates {
  /** Nodes that must be running and healthy. */
  healthy?: string[];
  /** Nodes that must not be (stopped, killed, down). */
  unhealthy?: string[];
  /** HAProxy server status per node, e.g. { web2: DOWN }. */
  haproxy?: Record<string, string>;
  galeraSize?: Threshold;
  galeraStatus?: string;
  bricksOnline?: Threshold;
  healPending?: Threshold;
  redisUp?: boolean;
  /** A keepalived pair: one MASTER holds the virtual IP. */
  vipHeld?: boolean;
  moodleMaintenance?: boolean;
}

export interface AssertStep {
  kind: 'assert';
  /** Which load run the metric thresholds read: a run's name; default the current/last run. */
  run?: string;
  metrics: Partial<Record<MetricKey, Threshold>>;
  state?: StatePredicates;
  /** Keep checking the state predicates for up to this long before failing (default 0). */
  withinMs?: number;
}

/** The measured figures a prediction may be bound to beside a run's metrics: one fault's own figures (`ha.blackout@web2`). */
export const FAULT_FIGURES = ['detection', 'blackout', 'recovery', 'failedRequests', 'p99'] as const;
export type FaultFigure = (typeof FAULT_FIGURES)[number];

/**
 * What a prediction is graded against: `<run>.<metric>` (a load run's metric, as `assert` reads
 * it) or `<run>.<figure>@<node>` (the figure of the first fault on that node in that run).
 */
export interface PredictBinding {
  run: string;
  metric: MetricKey | FaultFigure;
  node?: string;
  /** As written, with the run filled in (`ha.blackout@web2`). */
  text: string;
}

/** One answer of a multiple-choice prediction; the right one is the choice whose `when` holds for the measured figure. */
export interface PredictChoice {
  text: string;
  /** Absent: "otherwise" (at most one choice). */
  when?: Threshold;
}

export interface PredictNumber {
  /** The unit the learner answers in (`s`, `ms`, `requests`, `%`). */
  unit: string;
  /** Measured units per answer unit (s → 1000: figures in ms). */
  scale: number;
  /** Right when |answer − measured| ≤ tolerance (in the answer's unit, or a percentage of the measured value). */
  tolerance: { value: number; percent: boolean; text: string };
  min: number;
  max: number;
}

export interface PredictStep {
  kind: 'predict';
  /** Names the question in answers files and the class summary. */
  id: string;
  question: string;
  choices?: PredictChoice[];
  number?: PredictNumber;
  bound: PredictBinding;
  explain?: string;
}

/** An answer to a prediction: a choice's index (0-based), or a number in the question's unit. */
export type PredictAnswer = { choice: number } | { value: number };

/** One graded prediction of a run (`ScenarioResult.predictions`). */
export interface PredictionResult {
  id: string;
  question: string;
  line?: number;
  kind: 'choice' | 'number';
  bound: string;
  choices?: string[];
  /** The unit of `answer` and `measured` (number questions: the question's; choices: the figure's: s, requests, …). */
  unit?: string;
  /** The learner's choice (its text) or number; null when not answered. */
  answer: string | number | null;
  /** The measured figure in `unit`; null when the run has no value for it. */
  measured: number | null;
  /** The measured value as a sentence fragment ("3.2 s"), or why there is none. */
  measuredText: string;
  /** What was right: the choice that held, or the measured value with its tolerance. */
  expected: string;
  grade: 'right' | 'wrong' | 'not answered' | 'ungraded';
  explain?: string;
}

export type Step = { pos: SourcePos; text: string } & (
  | { kind: 'up'; /** A built-in's name, or the scenario's own lab file's name. */ preset?: string; web?: number; moodle?: boolean }
  | { kind: 'down' }
  | LoadStartStep
  | LoadEndStep
  | { kind: 'wait'; ms: number }
  | { kind: 'fault'; fault: FaultRequest }
  | { kind: 'heal'; node?: string }
  | { kind: 'maintenance'; on: boolean; node?: string }
  | { kind: 'say'; message: string }
  | AssertStep
  | { kind: 'compare'; runs: string[] }
  | PredictStep
);

export interface Scenario {
  name: string;
  description?: string;
  /** The lab the scenario expects (the first `up` uses it unless the step says otherwise). */
  /** `preset`: a built-in's name, or the lab file's `name` (then `definition` is that file's). */
  topology: { preset: string; web?: number; definition?: LabDefinition };
  steps: Step[];
  /** The file it came from (or `builtin:<name>`). */
  source: string;
}

/** One threshold or state check of an assert step: what was measured beside what was expected. */
export interface AssertCheck {
  /** The metric key (`p95`, `failures`, …) or `state`. */
  name: string;
  /** The measured value (a number for metrics; the problems seen for state; null when the run had none). */
  measured: number | string | null;
  /** The threshold as written (`<= 1500ms`) or the expected state. */
  expected: string;
  passed: boolean;
}

/**
 * A link fault's impairment as the lab reported it right after the step applied it (status
 * `impairments[]`): the method the injector used (`netem`, `tbf`, `nfqueue`) and whether it was in force.
 */
export interface StepImpairment {
  node: string;
  kind: string;
  method: string;
  inForce: boolean;
  problem?: string;
}

export interface StepResult {
  step: string;
  /** The step's kind (`assert`, `fault`, …); absent for results that are no step (a load that failed to end). */
  kind?: Step['kind'];
  passed: boolean;
  /** Assert steps: each check with its measured value and threshold (the JUnit export's failures). */
  checks?: AssertCheck[];
  detail?: string;
  /** Fault steps of a link kind (delay, loss, rate): how the lab applied it, read from its status then. */
  impairments?: StepImpairment[];
  /** ms after the scenario's start. */
  atMs: number;
  durationMs: number;
  line?: number;
}

export interface NamedRun extends LoadResult {
  name: string;
  lab: string;
  preset: string;
  /** Per-second points for the chart: ms after the scenario's start. */
  series: { atMs: number; requests: number; failures: number; p50: number; p95: number; max: number }[];
}

export interface ScenarioTimelineEntry {
  atMs: number;
  kind: 'say' | 'fault' | 'heal' | 'maintenance' | 'load' | 'assert' | 'up' | 'down' | 'state' | 'predict';
  text: string;
  ok?: boolean;
  /** A fault of `kind: 'fault'` that no step injected: a load run noticed it (faults[].source 'external'). */
  external?: boolean;
}

/**
 * `scenario run --json`: the load contract of the main run (the last one; all zero when the
 * scenario ran no load) plus name, passed, steps (shared/docs/ARCHITECTURE.md), and beyond it
 * every run, the comparison table and the timeline.
 */
export interface ScenarioResult extends LoadResult {
  name: string;
  description?: string;
  passed: boolean;
  steps: StepResult[];
  runs: NamedRun[];
  comparison?: { runs: string[]; rows: { metric: string; values: (number | null)[] }[] };
  timeline: ScenarioTimelineEntry[];
  /** The topology the scenario ran on, for the report's diagram; `part`: a node's part at the end (`master`, `replica`). */
  topology: { preset: string; nodes: { name: string; role: string; part?: string }[] };
  startedAt: string;
  durationMs: number;
  /** Every `predict` step, graded against what the run measured (never part of `passed`). */
  predictions?: PredictionResult[];
  /** Who answered (the answers file's `learner:`), for the class summary. */
  learner?: string;
}

/** Raised by the parser: one clear message naming file, line and column. */
export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${col}: ${reason}`);
  }
}

/** What the runner tells a live view (CLI progress, dashboard narration) while it runs. */
export interface ScenarioProgress {
  step(index: number, total: number, step: Step): void;
  stepDone(index: number, result: StepResult): void;
  say(message: string): void;
  log(line: string): void;
}
