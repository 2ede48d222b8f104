/**
 * Runs a parsed scenario on a lab, step by step: `up`, background load runs, faults, heals,
 * maintenance, narration, asserts and comparisons. Action steps that fail end the scenario (the
 * rest is reported as not run); asserts that fail are recorded and the scenario goes on, so the
 * report shows every verdict. Whatever happens, a running load is stopped and analysed.
 *
 * Labs: the scenario's own topology runs on the lab it was started for; an `up` with another
 * preset uses a sibling lab `<lab>-<preset>` (single-vs-ha keeps both). Before any step, every
 * lab the scenario will use is checked: an existing lab of another preset is an error, and
 * nothing is touched.
 */
import type { Clock } from '../core/wait';
import { buildTopology, PresetName } from '../engine/topology';
import { startLoad } from '../load/run';
import type { LoadResult } from '../metrics/export';
import { stepOfKind } from './steps';
import { labForPreset, RunContext } from './steps/run-context';
import type { RunnerDeps, RunnerOptions } from './steps/run-context';
import type { AssertCheck, NamedRun, Scenario, ScenarioProgress, ScenarioResult, Step, StepImpairment, StepResult } from './types';
import { errText } from '../core/errors';
import { grade, questionsOf } from './predictions';
import { reportNodes } from './report/svg-topology';
import { roleModule } from '../roles';

export { checkState, metricOf } from './steps/checks';
export type { PredictionSource, RunnerDeps, RunnerOptions, ScenarioLab } from './steps/run-context';

const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms))) };

const EMPTY_RESULT: LoadResult = {
  users: 0,
  durationS: 0,
  requests: 0,
  failures: 0,
  errorRate: 0,
  apdex: 0,
  latencyMs: { p50: 0, p95: 0, p99: 0, max: 0 },
  throughputRps: 0,
  byLabel: {},
  faults: [],
};

export class ScenarioRunner {
  private readonly clock: Clock;
  private readonly startLoad: NonNullable<RunnerDeps['startLoad']>;
  private readonly progress: ScenarioProgress;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly opts: RunnerOptions,
  ) {
    this.clock = deps.clock ?? realClock;
    this.startLoad = deps.startLoad ?? startLoad;
    const p = deps.progress ?? {};
    this.progress = {
      step: p.step ?? (() => undefined),
      stepDone: p.stepDone ?? (() => undefined),
      say: p.say ?? (() => undefined),
      log: p.log ?? (() => undefined),
    };
  }

  /** Checks every lab the scenario will use, without changing anything. */
  async preflight(scenario: Scenario): Promise<void> {
    const presets = new Set<string>([scenario.topology.preset]);
    for (const s of scenario.steps) if (s.kind === 'up' && s.preset) presets.add(s.preset);
    for (const preset of presets) {
      const name = labForPreset(scenario, this.opts.lab, preset);
      const st = await this.deps.labFor(name).status();
      if (st.state !== 'absent' && st.preset && st.preset !== preset) {
        throw new Error(
          `scenario "${scenario.name}" needs lab "${name}" with the ${preset} topology, but it exists with the ${st.preset} topology: destroy it first or pick another lab with --lab`,
        );
      }
    }
  }

  async run(scenario: Scenario): Promise<ScenarioResult> {
    await this.preflight(scenario);
    const t0 = this.clock.now();
    const startedAt = new Date().toISOString();
    const ctx = new RunContext(scenario, this.opts, this.deps, this.clock, this.startLoad, this.progress, t0);
    const rel = () => ctx.rel();
    const results: StepResult[] = [];

    const steps: Step[] =
      scenario.steps[0]?.kind === 'up'
        ? scenario.steps
        : [{ kind: 'up', pos: { line: 0, col: 0 }, text: 'up (implicit: the scenario starts with the lab running)' }, ...scenario.steps];
    let aborted: string | undefined;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      if (aborted) {
        results.push({
          step: step.text,
          kind: step.kind,
          passed: false,
          detail: `not run: ${aborted}`,
          atMs: rel(),
          durationMs: 0,
          line: step.pos.line || undefined,
        });
        continue;
      }
      this.progress.step(i, steps.length, step);
      const start = rel();
      let detail: string | undefined;
      let passed = true;
      let checks: AssertCheck[] | undefined;
      let impairments: StepImpairment[] | undefined;
      try {
        const outcome = await stepOfKind(step.kind).run(step, ctx);
        if (outcome) ({ passed = true, detail, checks, impairments } = outcome);
      } catch (err) {
        passed = false;
        detail = errText(err);
        aborted = `step ${i + 1} (${step.text}) failed`;
        ctx.note('state', `${step.text} failed: ${detail}`, false);
      }
      const res: StepResult = {
        step: step.text,
        kind: step.kind,
        passed,
        detail,
        checks,
        ...(impairments ? { impairments } : {}),
        atMs: start,
        durationMs: rel() - start,
        line: step.pos.line || undefined,
      };
      results.push(res);
      this.progress.stepDone(i, res);
    }

    // A load still running at the end runs to its duration (or is stopped when the scenario failed).
    for (const r of ctx.runs.values()) {
      try {
        await ctx.finish(r, Boolean(aborted));
      } catch (err) {
        results.push({ step: `load ${r.name}`, passed: false, detail: errText(err), atMs: rel(), durationMs: 0 });
      }
    }
    try {
      await ctx.lab.settled?.();
    } catch {
      // a fault that could not revert itself shows in the lab's status
    }

    const named: NamedRun[] = [...ctx.runs.values()].map((r) => ({ ...r.finished!.result, name: r.name, lab: r.lab, preset: r.preset, series: r.series }));
    const main = named[named.length - 1];
    const { name: _n, lab: _l, preset: _p, series: _s, ...mainResult } = main ?? { ...EMPTY_RESULT, name: '', lab: '', preset: '', series: [] };
    const topo = buildTopology(scenario.topology.definition ?? (scenario.topology.preset as PresetName), scenario.topology.web);
    // The nodes' parts at the end (a Sentinel group's master after a failover): one more status,
    // only when a role with parts has several nodes (a lone node has no part to tell apart).
    const withParts = topo.nodes.filter((n) => roleModule(n.role).display.part);
    const parts = new Set(withParts.map((n) => n.role)).size < withParts.length ? await ctx.lab.status().catch(() => undefined) : undefined;
    const questions = questionsOf(scenario.steps);
    const predictions = questions.length ? questions.map((q) => grade(q, ctx.answers.get(q.id), named)) : undefined;
    return {
      ...mainResult,
      name: scenario.name,
      description: scenario.description,
      passed: results.every((r) => r.passed),
      steps: results,
      runs: named,
      comparison: ctx.comparison,
      timeline: ctx.timeline,
      topology: { preset: scenario.topology.preset, nodes: reportNodes(topo.nodes, parts) },
      startedAt,
      durationMs: rel(),
      ...(predictions ? { predictions } : {}),
      ...(this.opts.learner ? { learner: this.opts.learner } : {}),
    };
  }
}
