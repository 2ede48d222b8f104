/**
 * What a step's run works with: the lab in force (the scenario's, then each `up`'s), the load
 * runs started so far and the one running, the timeline, and the runner's dependencies. One
 * `RunContext` per run of a scenario; the runner (../runner.ts) creates it and dispatches each
 * step to its module's `run`.
 */
import type { UpRequest } from '../../controller/lab-controller';
import type { Clock } from '../../core/wait';
import type { FaultTarget } from '../../load/faults';
import type { LoadDeps, LoadHandle, LoadOptions, LoadRun, LoadTarget } from '../../load/run';
import { loadResult } from '../../metrics/export';
import type { LoadResult } from '../../metrics/export';
import type { WindowStats } from '../../metrics/recorder';
import type { LabStatus } from '../../protocol/status';
import type { NamedRun, PredictAnswer, PredictStep, Scenario, ScenarioProgress, ScenarioResult, ScenarioTimelineEntry } from '../types';
import { runSummary } from '../../core/summary';

/** What the runner needs of a lab (LabController has all of it). */
export interface ScenarioLab extends FaultTarget {
  readonly lab: string;
  status(): Promise<LabStatus>;
  up(req: UpRequest): Promise<LabStatus>;
  down(): Promise<void>;
  maintenance(on: boolean, node?: string): Promise<string>;
  /** Waits for faults given a duration (`for:`) to revert themselves. */
  settled?(): Promise<void>;
}

export interface RunnerOptions {
  /** The lab the scenario was started for (its topology's preset). */
  lab: string;
  /** How `up` steps create a lab that does not exist yet. */
  moodleSource?: string;
  noMoodle?: boolean;
  /** Poll interval of state asserts (ms). */
  pollMs?: number;
  /** Who answers the predictions (recorded in the result for the class summary). */
  learner?: string;
}

export interface RunnerDeps {
  labFor(name: string): ScenarioLab;
  startLoad?: (target: LoadTarget, opts: LoadOptions, deps: LoadDeps) => LoadHandle;
  clock?: Clock;
  progress?: Partial<ScenarioProgress>;
  /** Every closed second of a running load (live charts). */
  onWindow?: (run: string, w: WindowStats) => void;
  /** Where `predict` steps get their answers (answers file, prompt, quick pick, dashboard dialog); absent: not answered. */
  answers?: PredictionSource;
}

/**
 * Asks a learner one prediction. Resolves with the answer, or undefined when there is none (no
 * answer source, the learner dismissed the question); rejects only when the run is cancelled.
 */
export interface PredictionSource {
  ask(question: PredictStep): Promise<PredictAnswer | undefined>;
}

/** A step that could not do its job: ends the scenario (the rest is reported as not run). */
export class StepFailed extends Error {}

/** The lab an `up` with this preset uses. */
export function labForPreset(scenario: Scenario, baseLab: string, preset: string): string {
  return preset === scenario.topology.preset ? baseLab : `${baseLab}-${preset}`;
}

export interface ActiveRun {
  name: string;
  lab: string;
  preset: string;
  handle: LoadHandle;
  users: number;
  journey: string;
  durationMs: number;
  series: NamedRun['series'];
  finished?: LoadRun;
}

/** The state of one run of a scenario, shared by its steps. */
export class RunContext {
  lab: ScenarioLab;
  preset: string;
  web: number | undefined;
  readonly runs = new Map<string, ActiveRun>();
  current: ActiveRun | undefined;
  comparison: ScenarioResult['comparison'];
  readonly timeline: ScenarioTimelineEntry[] = [];
  /** The answers of the `predict` steps run so far, by question id. */
  readonly answers = new Map<string, PredictAnswer>();

  constructor(
    readonly scenario: Scenario,
    readonly opts: RunnerOptions,
    readonly deps: RunnerDeps,
    readonly clock: Clock,
    readonly startLoad: NonNullable<RunnerDeps['startLoad']>,
    readonly progress: ScenarioProgress,
    readonly t0: number,
  ) {
    this.preset = scenario.topology.preset;
    this.web = scenario.topology.web;
    this.lab = deps.labFor(opts.lab);
  }

  /** ms since the scenario's start. */
  rel(): number {
    return Math.round(this.clock.now() - this.t0);
  }

  note(kind: ScenarioTimelineEntry['kind'], text: string, ok?: boolean): void {
    this.timeline.push({ atMs: this.rel(), kind, text, ok });
  }

  /** Waits for a load run to end (stopping it first when `stop`), once; it is no longer the current one. */
  async finish(r: ActiveRun, stop: boolean): Promise<LoadRun> {
    if (!r.finished) {
      if (stop) r.handle.stop();
      r.finished = await r.handle.done;
      this.note('load', `load ${r.name} ended: ${runSummary(r.finished.result)}`);
      this.noteExternal(r);
    }
    if (this.current === r) this.current = undefined;
    return r.finished;
  }

  /** The faults a run noticed that no step injected, on the timeline where they happened (marked external). */
  private noteExternal(r: ActiveRun): void {
    const ext = (r.finished?.result.faults ?? []).filter((f) => f.source === 'external');
    if (!ext.length) return;
    for (const f of ext)
      this.timeline.push({
        atMs: Math.round(r.handle.startedAt + f.atMs - this.t0),
        kind: 'fault',
        text: `${f.fault} (external)`,
        ok: !f.error,
        external: true,
      });
    this.timeline.sort((a, b) => a.atMs - b.atMs);
  }

  /** A run's result: final when it ended, else what it measured so far. */
  resultOf(r: ActiveRun): LoadResult {
    return (
      r.finished?.result ??
      loadResult({
        recorder: r.handle.recorder,
        users: r.users,
        durationMs: Math.min(r.durationMs, this.clock.now() - r.handle.startedAt),
        startMs: r.handle.startedAt,
        faults: [],
        journey: r.journey,
      })
    );
  }
}
