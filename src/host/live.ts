/**
 * The host's live services for one lab, shared by the VS Code extension and the browser
 * dashboard: the load session, scenario runs with narration and step progress published into
 * the snapshot, and the report export (the last scenario, or the last load run as a scenario
 * named "load"). One load or scenario at a time.
 */
import * as path from 'node:path';
import type { LabActions, LiveControls } from './controls';
import { describeFault } from '../protocol/faults';
import type { LoadStartParams, PredictAnswerParams } from '../protocol/messages';
import type { LabSnapshot, PredictionQuestion, ScenarioView, TimelineEvent } from '../protocol/snapshot';
import type { LabStatus } from '../protocol/status';
import { listBuiltins, loadScenario } from '../scenarios/parse';
import { reportNodes, writeReports } from '../scenarios/report';
import { RunnerOptions, ScenarioLab, ScenarioRunner } from '../scenarios/runner';
import type { NamedRun, PredictAnswer, PredictStep, Scenario, ScenarioResult, ScenarioTimelineEntry } from '../scenarios/types';
import { answerProblem, showAnswer } from '../scenarios/predictions';
import type { Clock } from '../core/wait';
import type { NodeEventSource } from '../load/external';
import { FinishedLoad, LiveSink, LoadSession, StartLoadFn } from './load-session';
import { AuditSession } from './audit-session';
import type { AuditStartParams, AuditView } from '../protocol/audit';
import { errText } from '../core/errors';
import { runSummary } from '../core/summary';

export interface LiveStore extends LiveSink {
  current?(): LabStatus | undefined;
  setLive(patch: Partial<Pick<LabSnapshot, 'scenario' | 'scenarios' | 'reportReady' | 'audit'>>): void;
}

export interface LabLiveDeps {
  /** The lab the UI drives (LabController). */
  lab: ScenarioLab;
  store: LiveStore;
  /** Labs a scenario may use (its own, or a sibling for another preset). */
  labFor?: (name: string) => ScenarioLab;
  builtinDir: string;
  /** Where reports go when no file is chosen. */
  reportsDir: string;
  /** Moodle source for a scenario's `up` of a lab that does not exist yet. */
  moodleSource?: () => string | undefined;
  startLoad?: StartLoadFn;
  /** The lab's Docker events, for the external faults of a UI load. */
  nodeEvents?: NodeEventSource;
  now?: () => number;
  log?: (line: string) => void;
}

export interface ScenarioEnd {
  name: string;
  result?: ScenarioResult;
  error?: string;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled by the user');
  }
}

/** A clock whose sleeps end (with CancelledError) when the signal aborts: a scenario's waits become cancellable. */
export function abortableClock(signal: AbortSignal, now: () => number = Date.now): Clock {
  return {
    now,
    sleep: (ms) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(new CancelledError());
        const onAbort = () => {
          clearTimeout(t);
          reject(new CancelledError());
        };
        const t = setTimeout(
          () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
          Math.max(0, ms),
        );
        signal.addEventListener('abort', onAbort, { once: true });
      }),
  };
}

/** A `predict` step as a UI shows it. */
export function questionView(q: PredictStep): PredictionQuestion {
  return q.choices
    ? { id: q.id, question: q.question, choices: q.choices.map((c) => c.text) }
    : { id: q.id, question: q.question, unit: q.number!.unit || undefined, min: q.number!.min, max: q.number!.max };
}

/** A finished load run as a ScenarioResult named "load" (no steps), for the report. */
export function loadAsScenarioResult(f: FinishedLoad, lab: string): ScenarioResult {
  if (!f.run) throw new Error(`the last load run failed (${f.error ?? 'no result'}): nothing to report`);
  const r = f.run.result;
  const t0 = f.info.startedAt;
  const series: NamedRun['series'] = f.series.map((p) => ({
    atMs: p.atMs - t0,
    requests: p.requests ?? 0,
    failures: p.errors,
    p50: p.p50Ms ?? 0,
    p95: p.p95Ms,
    max: p.maxMs ?? p.p95Ms,
  }));
  const timeline: ScenarioTimelineEntry[] = [
    { atMs: 0, kind: 'load', text: `load started: ${f.info.users} users, ${f.info.durationMs / 1000} s, ${f.info.journey} journey` },
    ...r.faults.map((x) => ({
      atMs: x.atMs,
      kind: 'fault' as const,
      text: x.source === 'external' ? `${x.fault} (external)` : x.fault,
      ok: !x.error,
      ...(x.source === 'external' ? { external: true } : {}),
    })),
    { atMs: Math.max(0, f.endedAt - t0), kind: 'load', text: `load ended: ${r.requests} requests, ${r.failures} failed` },
  ];
  const preset = f.status?.preset ?? 'ha';
  return {
    ...r,
    name: 'load',
    description: `A load run started from the UI on lab ${lab}`,
    passed: r.faults.every((x) => !x.error),
    steps: [],
    runs: [{ ...r, name: 'load', lab, preset, series }],
    timeline,
    topology: { preset, nodes: reportNodes(f.status?.nodes ?? [], f.status) },
    startedAt: new Date(t0).toISOString(),
    durationMs: Math.max(0, f.endedAt - t0),
  };
}

/** The lab as a cancelled scenario sees it: every action refused once the signal aborted. */
export function guardLab(lab: ScenarioLab, signal: AbortSignal): ScenarioLab {
  const guard = <T>(fn: () => Promise<T>): Promise<T> => (signal.aborted ? Promise.reject(new CancelledError()) : fn());
  return {
    lab: lab.lab,
    status: () => guard(() => lab.status()),
    up: (req) => guard(() => lab.up(req)),
    down: () => guard(() => lab.down()),
    maintenance: (on, node) => guard(() => lab.maintenance(on, node)),
    fault: (req) => guard(() => lab.fault(req)),
    heal: (node) => guard(() => lab.heal(node)),
    ...(lab.settled ? { settled: () => lab.settled!() } : {}),
  };
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'report';

export class LabLive {
  readonly load: LoadSession;
  /** The audit started from a UI (one at a time; never beside a scenario or a UI load). */
  readonly audit: AuditSession;
  private scenarioAbort: AbortController | undefined;
  private scenarioName: string | undefined;
  private view: ScenarioView | undefined;
  private lastScenario: { result: ScenarioResult; endedAt: number } | undefined;
  /** The `predict` step waiting for an answer (from the dashboard's dialog or VS Code's quick pick, whichever comes first). */
  private pending: { q: PredictStep; resolve: (a: PredictAnswer | undefined) => void } | undefined;
  private readonly questionListeners: ((q: PredictionQuestion, gone: AbortSignal) => void)[] = [];
  private readonly scenarioListeners: ((e: ScenarioEnd) => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly deps: LabLiveDeps) {
    this.now = deps.now ?? Date.now;
    this.load = new LoadSession({
      lab: deps.lab,
      sink: deps.store,
      currentStatus: () => deps.store.current?.(),
      startLoad: deps.startLoad,
      nodeEvents: deps.nodeEvents,
      now: this.now,
      log: deps.log,
    });
    this.load.onEnd(() => this.publishReportReady());
    this.audit = new AuditSession({
      lab: deps.lab,
      sink: deps.store,
      startLoad: (target, opts, d) => this.load.startLoadFn(`audit: ${opts.faults[0]?.text ?? 'fault'}`)(target, opts, d),
      nodeEvents: deps.nodeEvents,
      reportsDir: deps.reportsDir,
      now: this.now,
      log: deps.log,
    });
    this.audit.onEnd(() => (this.load.busy = undefined));
    this.refreshCatalog();
  }

  /** Publishes the built-in scenarios (the dashboard's select). */
  refreshCatalog(): { name: string; description: string }[] {
    let list: { name: string; description: string }[] = [];
    try {
      list = listBuiltins(this.deps.builtinDir);
    } catch (err) {
      this.deps.log?.(`built-in scenarios unreadable: ${errText(err)}`);
    }
    this.deps.store.setLive({ scenarios: list });
    return list;
  }

  get scenarioRunning(): boolean {
    return this.scenarioAbort !== undefined;
  }

  onScenarioEnd(listener: (e: ScenarioEnd) => void): () => void {
    this.scenarioListeners.push(listener);
    return () => void this.scenarioListeners.splice(this.scenarioListeners.indexOf(listener) >>> 0, 1);
  }

  /** The dashboard's fault/heal routed through a running load (so they are analysed), else straight to the lab. */
  actions(base: LabActions): LabActions {
    return {
      fault: async (req) => ((await this.load.fault(req)) ? `${describeFault(req)}: done, recorded in the running load's failover analysis` : base.fault(req)),
      heal: async (node) => ((await this.load.heal(node)) ? `healed ${node ?? 'every fault'}: recovery measured by the running load` : base.heal(node)),
      maintenance: (on, node) => base.maintenance(on, node),
    };
  }

  /**
   * Starts the audit (kinds, nodes, users, seconds per fault); one clear error before anything is
   * touched when the request or the lab does not fit. Resolves once it started; `done` at its end.
   */
  async startAudit(p: AuditStartParams): ReturnType<AuditSession['start']> {
    if (this.scenarioRunning) throw new Error(`scenario ${this.scenarioName ?? ''} is running: stop it before the audit`);
    if (this.load.running) throw new Error('a load is running: stop it before the audit (the audit runs its own load)');
    const started = await this.audit.start(p);
    this.load.busy = 'the audit is running';
    return started;
  }

  /** Cancels the running audit (the lab is healed before it ends). */
  stopAudit(): string {
    return this.audit.stop();
  }

  /** The running (or last) audit as the UIs show it. */
  get auditView(): AuditView | undefined {
    return this.audit.current;
  }

  async startLoad(p: LoadStartParams): Promise<string> {
    if (this.audit.running) throw new Error('the audit is running: it drives the load; cancel it first');
    if (this.scenarioRunning) throw new Error(`scenario ${this.scenarioName ?? ''} is running: it drives the load; stop it first`);
    const info = await this.load.start({ users: p.users, durationMs: p.durationS !== undefined ? p.durationS * 1000 : undefined, journey: p.journey });
    return `load started: ${info.users} users, ${info.durationMs / 1000} s, ${info.journey} journey`;
  }

  async stopLoad(): Promise<string> {
    if (this.scenarioRunning) throw new Error(`scenario ${this.scenarioName ?? ''} drives the load: stop the scenario instead`);
    const f = await this.load.stop();
    if (!f) throw new Error('no load is running');
    return f.run ? `load stopped: ${runSummary(f.run.result)}` : `load ended with an error: ${f.error ?? ''}`;
  }

  /**
   * Starts a scenario (a built-in name, a .yaml path or a parsed one); resolves once it started,
   * with `done` resolving at its end. Parsing errors throw before anything runs.
   */
  async startScenario(ref: string | Scenario): Promise<{ scenario: Scenario; done: Promise<ScenarioResult> }> {
    if (this.scenarioRunning) throw new Error(`scenario ${this.scenarioName ?? ''} is already running`);
    if (this.load.running) throw new Error('a load is running: stop it before starting a scenario');
    if (this.audit.running) throw new Error('the audit is running: cancel it before starting a scenario');
    const scenario = typeof ref === 'string' ? loadScenario(ref, this.deps.builtinDir) : ref;
    const abort = new AbortController();
    this.scenarioAbort = abort;
    this.scenarioName = scenario.name;
    this.load.busy = `scenario ${scenario.name} is running`;
    let status: LabStatus | undefined;
    try {
      status = await this.deps.lab.status();
    } catch {
      // the runner's preflight reports it
    }
    const opts: RunnerOptions = {
      lab: this.deps.lab.lab,
      noMoodle: status && status.state !== 'absent' && !status.moodle.installed ? true : undefined,
      moodleSource: this.deps.moodleSource?.() || undefined,
    };
    const steps = scenario.steps[0]?.kind === 'up' ? scenario.steps : [{ text: 'up (implicit: the scenario starts with the lab running)' }, ...scenario.steps];
    this.view = { name: scenario.name, running: true, steps: steps.map((s) => ({ text: s.text, state: 'pending' })) };
    this.publishView();
    this.note({ source: 'scenario', severity: 'info', kind: 'scenario', text: `scenario ${scenario.name} started (${steps.length} steps)` });
    const startLoad = this.load.startLoadFn(`scenario ${scenario.name}`);
    const runner = new ScenarioRunner(
      {
        labFor: (name) => guardLab(name === this.deps.lab.lab || !this.deps.labFor ? this.deps.lab : this.deps.labFor(name), abort.signal),
        startLoad: (target, o, d) => {
          if (abort.signal.aborted) throw new CancelledError();
          return startLoad(target, o, { nodeEvents: this.deps.nodeEvents, ...d });
        },
        clock: abortableClock(abort.signal, this.now),
        progress: {
          step: (i, total, step) => {
            const v = this.view;
            if (!v) return;
            while (v.steps.length < total) v.steps.push({ text: '', state: 'pending' });
            v.steps[i] = { text: step.text, state: 'running' };
            v.current = i;
            this.publishView();
            if (step.kind === 'fault')
              this.note({ source: 'scenario', severity: 'warn', kind: 'fault', node: step.fault.nodes[0], text: `scenario: ${describeFault(step.fault)}` });
            if (step.kind === 'heal')
              this.note({ source: 'scenario', severity: 'info', kind: 'heal', node: step.node, text: `scenario: heal ${step.node ?? 'all'}` });
          },
          stepDone: (i, r) => {
            const v = this.view;
            if (!v) return;
            v.steps[i] = { text: v.steps[i]?.text || r.step, state: r.passed ? 'passed' : 'failed', detail: r.detail };
            this.publishView();
          },
          say: (m) => {
            if (this.view) this.view.narration = m;
            this.publishView();
            this.note({ source: 'scenario', severity: 'info', kind: 'say', text: `» ${m}` });
          },
          log: (l) => this.deps.log?.(l),
        },
        answers: { ask: (q) => this.ask(q, abort.signal) },
      },
      opts,
    );
    const done = (async () => {
      try {
        const result = await runner.run(scenario);
        this.endScenario({ name: scenario.name, result });
        return result;
      } catch (err) {
        this.endScenario({ name: scenario.name, error: errText(err) });
        throw err;
      }
    })();
    abort.signal.addEventListener('abort', () => void this.load.stop(), { once: true });
    return { scenario, done };
  }

  /** Publishes the question in the view and waits for `answerPrediction` (or the run's cancellation: no answer). */
  private ask(q: PredictStep, signal: AbortSignal): Promise<PredictAnswer | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const gone = new AbortController();
      const done = (a: PredictAnswer | undefined) => {
        gone.abort();
        signal.removeEventListener('abort', cancel);
        if (this.pending?.q === q) this.pending = undefined;
        if (this.view?.question?.id === q.id) this.view.question = undefined;
        this.publishView();
        resolve(a);
      };
      const cancel = () => done(undefined);
      signal.addEventListener('abort', cancel, { once: true });
      this.pending = { q, resolve: done };
      if (this.view) this.view.question = questionView(q);
      this.publishView();
      for (const l of this.questionListeners) {
        try {
          l(questionView(q), gone.signal);
        } catch (err) {
          this.deps.log?.(`prediction listener failed: ${errText(err)}`);
        }
      }
    });
  }

  /** Tells a UI each question a scenario waits on (VS Code's quick pick); `gone` aborts once it is answered or the run ends. */
  onQuestion(listener: (q: PredictionQuestion, gone: AbortSignal) => void): () => void {
    this.questionListeners.push(listener);
    return () => void this.questionListeners.splice(this.questionListeners.indexOf(listener) >>> 0, 1);
  }

  /** The question the running scenario waits on, if any (VS Code asks it with a quick pick). */
  get waitingQuestion(): PredictionQuestion | undefined {
    return this.pending ? questionView(this.pending.q) : undefined;
  }

  /** Answers the waiting `predict` step (neither choice nor value: skipped). Throws when nothing waits or the answer does not fit. */
  answerPrediction(p: PredictAnswerParams): string {
    const w = this.pending;
    if (!w) throw new Error('no prediction is waiting for an answer');
    if (w.q.id !== p.id) throw new Error(`the question waiting is "${w.q.id}", not "${p.id}"`);
    if (p.choice === undefined && p.value === undefined) {
      w.resolve(undefined);
      return `prediction ${p.id}: skipped`;
    }
    const a: PredictAnswer = p.choice !== undefined ? { choice: p.choice } : { value: p.value! };
    const problem = answerProblem(w.q, a);
    if (problem) throw new Error(`prediction ${p.id}: ${problem}`);
    w.resolve(a);
    return `prediction ${p.id}: ${showAnswer(w.q, a)} — graded after the run`;
  }

  private endScenario(e: ScenarioEnd): void {
    this.scenarioAbort = undefined;
    this.scenarioName = undefined;
    this.load.busy = undefined;
    if (e.result) this.lastScenario = { result: e.result, endedAt: this.now() };
    if (this.view) {
      this.view.running = false;
      this.view.current = undefined;
      this.view.passed = e.result?.passed ?? false;
      this.view.question = undefined;
      if (e.result?.predictions)
        this.view.predictions = e.result.predictions.map((p) => ({
          id: p.id,
          question: p.question,
          answer: p.answer,
          unit: p.kind === 'number' ? p.unit : undefined,
          measuredText: p.measuredText,
          expected: p.expected,
          grade: p.grade,
          explain: p.explain,
        }));
      if (e.error) this.view.error = e.error;
      for (const s of this.view.steps) if (s.state === 'running' || s.state === 'pending') s.state = e.result ? 'failed' : s.state;
      this.publishView();
    }
    const verdict = e.result ? (e.result.passed ? 'PASSED' : 'FAILED') : `could not run: ${e.error ?? ''}`;
    this.note({ source: 'scenario', severity: e.result?.passed ? 'ok' : 'error', kind: 'scenario', text: `scenario ${e.name}: ${verdict}` });
    this.publishReportReady();
    for (const l of this.scenarioListeners) {
      try {
        l(e);
      } catch (err) {
        this.deps.log?.(`scenario end listener failed: ${errText(err)}`);
      }
    }
  }

  /** Cancels the running scenario: its waits end, its load stops, the rest is reported as not run. */
  stopScenario(): string {
    if (!this.scenarioAbort) throw new Error('no scenario is running');
    this.scenarioAbort.abort();
    return `scenario ${this.scenarioName ?? ''}: cancelling (the load stops, the steps left are not run)`;
  }

  /** The last finished scenario, or the last load run as a scenario named "load", whichever ended last. */
  lastResult(): ScenarioResult | undefined {
    const load = this.load.last?.run ? this.load.last : undefined;
    if (this.lastScenario && (!load || this.lastScenario.endedAt >= load.endedAt)) return this.lastScenario.result;
    return load ? loadAsScenarioResult(load, this.deps.lab.lab) : undefined;
  }

  /** Writes the report (HTML + JSON + Markdown) to `file`, or into the reports folder. */
  exportReport(file?: string): { html: string; json: string; md: string; name: string } {
    const result = this.lastResult();
    if (!result) throw new Error('nothing to report yet: run a scenario or a load first');
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-').slice(0, 19);
    const target = file ?? path.join(this.deps.reportsDir, `${slug(result.name)}-${stamp}.html`);
    return { ...writeReports(result, target), name: result.name };
  }

  /** The protocol side for DashboardSession. */
  controls(): LiveControls {
    return {
      startLoad: (p) => this.startLoad(p),
      stopLoad: () => this.stopLoad(),
      runScenario: async (name) => {
        const { scenario, done } = await this.startScenario(name);
        done.catch(() => undefined);
        return `scenario ${scenario.name} started: follow its steps here`;
      },
      stopScenario: async () => this.stopScenario(),
      answerPrediction: async (p) => this.answerPrediction(p),
      startAudit: async (p) => {
        const { total, done } = await this.startAudit(p);
        done.catch(() => undefined);
        return `audit started: ${total} fault${total === 1 ? '' : 's'} — follow its progress here`;
      },
      stopAudit: async () => this.stopAudit(),
      exportReport: async () => {
        const r = this.exportReport();
        return { detail: `report of ${r.name} written to ${r.html}`, file: r.html };
      },
    };
  }

  private publishView(): void {
    const v = this.view;
    this.deps.store.setLive({ scenario: v ? { ...v, steps: v.steps.map((s) => ({ ...s })) } : undefined });
  }

  private publishReportReady(): void {
    const r =
      this.lastScenario && (!this.load.last?.run || this.lastScenario.endedAt >= this.load.last.endedAt)
        ? `scenario ${this.lastScenario.result.name}`
        : this.load.last?.run
          ? 'load'
          : undefined;
    this.deps.store.setLive({ reportReady: r });
  }

  private note(e: Omit<TimelineEvent, 'seq' | 'atMs'>): void {
    this.deps.store.note(e);
  }

  /** Stops whatever runs (extension deactivation, dashboard Ctrl-C). */
  async dispose(): Promise<void> {
    this.scenarioAbort?.abort();
    await this.audit.dispose();
    await this.load.stop().catch(() => undefined);
  }
}
