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
import type { UpRequest } from '../controller/lab-controller';
import type { Clock } from '../core/wait';
import { buildTopology, PresetName } from '../engine/topology';
import { loadTarget, statusSources } from '../load/command';
import type { FaultTarget } from '../load/faults';
import { DEFAULT_LOAD, defaultRampUp, journeyFor, LoadHandle, LoadOptions, LoadRun, LoadTarget, pacing, startLoad } from '../load/run';
import type { LoadDeps } from '../load/run';
import { LoadResult, loadResult } from '../metrics/export';
import type { WindowStats } from '../metrics/recorder';
import { describeFault } from '../protocol/faults';
import type { LabStatus } from '../protocol/status';
import type { AssertCheck, AssertStep, LoadStartStep, MetricKey, NamedRun, Scenario, ScenarioProgress, ScenarioResult, ScenarioTimelineEntry, StatePredicates, Step, StepResult, Threshold } from './types';

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
}

export interface RunnerDeps {
  labFor(name: string): ScenarioLab;
  startLoad?: (target: LoadTarget, opts: LoadOptions, deps: LoadDeps) => LoadHandle;
  clock?: Clock;
  progress?: Partial<ScenarioProgress>;
  /** Every closed second of a running load (live charts). */
  onWindow?: (run: string, w: WindowStats) => void;
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));
const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms))) };

class StepFailed extends Error {}

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

/** The lab an `up` with this preset uses. */
export function labForPreset(scenario: Scenario, baseLab: string, preset: PresetName): string {
  return preset === scenario.topology.preset ? baseLab : `${baseLab}-${preset}`;
}

export function compareOp(actual: number, t: Threshold): boolean {
  switch (t.op) {
    case '<':
      return actual < t.value;
    case '<=':
      return actual <= t.value;
    case '==':
      return actual === t.value;
    case '>=':
      return actual >= t.value;
    case '>':
      return actual > t.value;
    case '!=':
      return actual !== t.value;
  }
}

/** A metric of a load result (null when the run has nothing to say, e.g. no fault → no detection). */
export function metricOf(r: LoadResult, key: MetricKey): number | null {
  const worst = (f: (x: LoadResult['faults'][number]) => number | null | undefined) => {
    const xs = r.faults.map(f).filter((x): x is number => typeof x === 'number');
    return xs.length ? Math.max(...xs) : null;
  };
  switch (key) {
    case 'failures':
      return r.failures;
    case 'errorRate':
      return r.errorRate;
    case 'apdex':
      return r.apdex;
    case 'p50':
      return r.latencyMs.p50;
    case 'p95':
      return r.latencyMs.p95;
    case 'p99':
      return r.latencyMs.p99;
    case 'max':
      return r.latencyMs.max;
    case 'requests':
      return r.requests;
    case 'throughput':
      return r.throughputRps;
    case 'detection':
      return r.faults.length ? (r.faults.some((f) => f.detectedMs === null) ? Infinity : worst((f) => f.detectedMs)) : null;
    case 'blackout':
      return r.faults.length ? worst((f) => f.blackoutMs) : null;
    case 'recovery':
      return r.faults.length ? (r.faults.some((f) => f.recoveredMs === null) ? Infinity : worst((f) => f.recoveredMs)) : null;
    case 'failedDuringFaults':
      return r.faults.reduce((n, f) => n + f.failedRequests, 0);
    case 'lostWrites':
      return r.integrity ? r.integrity.lostDbWrites.length : null;
    case 'lostFiles':
      return r.integrity ? r.integrity.lostFiles.length : null;
    case 'lostSessions':
      return r.integrity ? r.integrity.lostSessions.length : null;
  }
}

/** Which state predicates fail on this status, as short sentences (empty = all hold). */
export function checkState(s: LabStatus, p: StatePredicates): string[] {
  const bad: string[] = [];
  const node = (n: string) => s.nodes.find((x) => x.name === n);
  for (const n of p.healthy ?? []) {
    const x = node(n);
    if (!x?.healthy) bad.push(`${n} is not healthy (${x ? `${x.container}${x.detail ? `, ${x.detail}` : ''}` : 'missing'})`);
  }
  for (const n of p.unhealthy ?? []) if (node(n)?.healthy) bad.push(`${n} is still healthy`);
  for (const [n, want] of Object.entries(p.haproxy ?? {})) {
    const got = s.haproxy.servers.find((x) => x.backend === 'web' && x.server === n)?.status ?? s.haproxy.servers.find((x) => x.server === n)?.status;
    if (!got || !got.toUpperCase().startsWith(want.toUpperCase())) bad.push(`HAProxy shows ${n} ${got ?? 'absent'}, expected ${want}`);
  }
  if (p.galeraSize && !compareOp(s.galera.clusterSize, p.galeraSize)) bad.push(`Galera cluster size is ${s.galera.clusterSize}, expected ${p.galeraSize.text}`);
  if (p.galeraStatus && s.galera.status.toLowerCase() !== p.galeraStatus.toLowerCase()) bad.push(`Galera status is ${s.galera.status || 'unknown'}, expected ${p.galeraStatus}`);
  const online = s.gluster.bricks.filter((b) => b.online).length;
  if (p.bricksOnline && !compareOp(online, p.bricksOnline)) bad.push(`${online} bricks online, expected ${p.bricksOnline.text}`);
  if (p.healPending && !compareOp(s.gluster.healPending, p.healPending)) bad.push(`${s.gluster.healPending} heals pending, expected ${p.healPending.text}`);
  if (p.redisUp !== undefined && s.redis.up !== p.redisUp) bad.push(`Redis is ${s.redis.up ? 'up' : 'down'}, expected ${p.redisUp ? 'up' : 'down'}`);
  if (p.moodleMaintenance !== undefined && s.moodle.maintenance !== p.moodleMaintenance) bad.push(`Moodle maintenance is ${s.moodle.maintenance ? 'on' : 'off'}, expected ${p.moodleMaintenance ? 'on' : 'off'}`);
  return bad;
}

/** The state predicates as one line, for reports (`healthy web1,web3; galeraSize >= 2`). */
export function describeState(p: StatePredicates): string {
  const parts: string[] = [];
  if (p.healthy?.length) parts.push(`healthy ${p.healthy.join(',')}`);
  if (p.unhealthy?.length) parts.push(`unhealthy ${p.unhealthy.join(',')}`);
  for (const [n, want] of Object.entries(p.haproxy ?? {})) parts.push(`HAProxy ${n} ${want}`);
  if (p.galeraSize) parts.push(`Galera size ${p.galeraSize.text}`);
  if (p.galeraStatus) parts.push(`Galera ${p.galeraStatus}`);
  if (p.bricksOnline) parts.push(`bricks online ${p.bricksOnline.text}`);
  if (p.healPending) parts.push(`heals pending ${p.healPending.text}`);
  if (p.redisUp !== undefined) parts.push(`Redis ${p.redisUp ? 'up' : 'down'}`);
  if (p.moodleMaintenance !== undefined) parts.push(`maintenance ${p.moodleMaintenance ? 'on' : 'off'}`);
  return parts.join('; ');
}

/** Comparison rows, named by their metric key (the report pairs them with the paper's numbers). */
const COMPARE_ROWS: MetricKey[] = ['requests', 'failures', 'errorRate', 'apdex', 'p50', 'p95', 'p99', 'max', 'throughput'];

interface ActiveRun {
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
    this.progress = { step: p.step ?? (() => undefined), stepDone: p.stepDone ?? (() => undefined), say: p.say ?? (() => undefined), log: p.log ?? (() => undefined) };
  }

  /** Checks every lab the scenario will use, without changing anything. */
  async preflight(scenario: Scenario): Promise<void> {
    const presets = new Set<PresetName>([scenario.topology.preset]);
    for (const s of scenario.steps) if (s.kind === 'up' && s.preset) presets.add(s.preset);
    for (const preset of presets) {
      const name = labForPreset(scenario, this.opts.lab, preset);
      const st = await this.deps.labFor(name).status();
      if (st.state !== 'absent' && st.preset && st.preset !== preset) {
        throw new Error(`scenario "${scenario.name}" needs lab "${name}" with the ${preset} topology, but it exists with the ${st.preset} topology: destroy it first or pick another lab with --lab`);
      }
    }
  }

  async run(scenario: Scenario): Promise<ScenarioResult> {
    await this.preflight(scenario);
    const t0 = this.clock.now();
    const startedAt = new Date().toISOString();
    const rel = () => Math.round(this.clock.now() - t0);
    const timeline: ScenarioTimelineEntry[] = [];
    const note = (kind: ScenarioTimelineEntry['kind'], text: string, ok?: boolean) => timeline.push({ atMs: rel(), kind, text, ok });
    const results: StepResult[] = [];
    const runs = new Map<string, ActiveRun>();
    let current: ActiveRun | undefined;
    let preset: PresetName = scenario.topology.preset;
    let web = scenario.topology.web;
    let lab = this.deps.labFor(this.opts.lab);
    let comparison: ScenarioResult['comparison'];

    const finish = async (r: ActiveRun, stop: boolean): Promise<LoadRun> => {
      if (!r.finished) {
        if (stop) r.handle.stop();
        r.finished = await r.handle.done;
        note('load', `load ${r.name} ended: ${r.finished.result.requests} requests, ${r.finished.result.failures} failed, Apdex ${r.finished.result.apdex}`);
      }
      if (current === r) current = undefined;
      return r.finished;
    };
    const resultOf = (r: ActiveRun): LoadResult =>
      r.finished?.result ??
      loadResult({ recorder: r.handle.recorder, users: r.users, durationMs: Math.min(r.durationMs, this.clock.now() - r.handle.startedAt), startMs: r.handle.startedAt, faults: [], journey: r.journey });

    const steps: Step[] = scenario.steps[0]?.kind === 'up' ? scenario.steps : [{ kind: 'up', pos: { line: 0, col: 0 }, text: 'up (implicit: the scenario starts with the lab running)' }, ...scenario.steps];
    let aborted: string | undefined;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      if (aborted) {
        results.push({ step: step.text, kind: step.kind, passed: false, detail: `not run: ${aborted}`, atMs: rel(), durationMs: 0, line: step.pos.line || undefined });
        continue;
      }
      this.progress.step(i, steps.length, step);
      const start = rel();
      let detail: string | undefined;
      let passed = true;
      let checks: AssertCheck[] | undefined;
      try {
        switch (step.kind) {
          case 'up': {
            preset = step.preset ?? preset;
            if (step.preset) web = step.preset === scenario.topology.preset ? scenario.topology.web : step.web;
            if (step.web !== undefined) web = step.web;
            const name = labForPreset(scenario, this.opts.lab, preset);
            lab = this.deps.labFor(name);
            const noMoodle = step.moodle === false || (step.moodle === undefined && this.opts.noMoodle);
            if (step.moodle === true && this.opts.noMoodle) throw new StepFailed('this step needs Moodle, but the scenario was run with --no-moodle');
            const st = await lab.up({ preset, webCount: web, noMoodle: noMoodle || undefined, moodleSource: noMoodle ? undefined : this.opts.moodleSource });
            detail = `lab ${name} (${preset}): ${st.state}, ${st.nodes.filter((n) => n.healthy).length} of ${st.nodes.length} healthy${st.moodle.installed ? ', Moodle installed' : ''}`;
            note('up', `up ${name} (${preset})`);
            break;
          }
          case 'down':
            if (current) await finish(current, true);
            await lab.down();
            detail = `lab ${lab.lab} stopped`;
            note('down', `down ${lab.lab}`);
            break;
          case 'load-start':
            current = await this.startRun(step, runs.size, lab, preset, t0, (s) => this.progress.log(s));
            runs.set(current.name, current);
            detail = `${current.name}: ${current.users} users, ${current.journey} journey, ${current.durationMs / 1000} s`;
            note('load', `load ${detail}`);
            break;
          case 'load-stop':
          case 'load-wait': {
            if (!current) throw new StepFailed('no load is running');
            const r = await finish(current, step.kind === 'load-stop');
            detail = `${r.result.requests} requests, ${r.result.failures} failed, Apdex ${r.result.apdex}, p95 ${r.result.latencyMs.p95} ms`;
            break;
          }
          case 'wait':
            await this.clock.sleep(step.ms);
            break;
          case 'fault': {
            const text = describeFault(step.fault);
            if (current && !current.finished) await current.handle.fault(step.fault, text);
            else await lab.fault(step.fault);
            note('fault', text);
            detail = text;
            break;
          }
          case 'heal':
            if (current && !current.finished) await current.handle.heal(step.node);
            else await lab.heal(step.node);
            note('heal', step.node ? `heal ${step.node}` : 'heal');
            break;
          case 'maintenance':
            detail = await lab.maintenance(step.on, step.node);
            note('maintenance', `maintenance ${step.on ? 'on' : 'off'}${step.node ? ` ${step.node}` : ''}: ${detail}`);
            break;
          case 'say':
            this.progress.say(step.message);
            note('say', step.message);
            break;
          case 'assert':
            ({ passed, detail, checks } = await this.check(step, lab, runs, current, resultOf));
            note('assert', `${step.text}: ${passed ? 'passed' : `FAILED: ${detail}`}`, passed);
            break;
          case 'compare': {
            const missing = step.runs.filter((n) => !runs.has(n));
            if (missing.length) throw new StepFailed(`no load run named ${missing.join(', ')}`);
            const rs = await Promise.all(step.runs.map(async (n) => (await finish(runs.get(n)!, false)).result));
            comparison = { runs: step.runs, rows: COMPARE_ROWS.map((key) => ({ metric: key, values: rs.map((r) => metricOf(r, key)) })) };
            detail = comparison.rows
              .filter((r) => ['failures', 'apdex', 'p95', 'max'].includes(r.metric))
              .map((r) => `${r.metric}: ${r.values.map((v, j) => `${step.runs[j]} ${v ?? '—'}`).join(' vs ')}`)
              .join('; ');
            break;
          }
        }
      } catch (err) {
        passed = false;
        detail = errText(err);
        aborted = `step ${i + 1} (${step.text}) failed`;
        note('state', `${step.text} failed: ${detail}`, false);
      }
      const res: StepResult = { step: step.text, kind: step.kind, passed, detail, checks, atMs: start, durationMs: rel() - start, line: step.pos.line || undefined };
      results.push(res);
      this.progress.stepDone(i, res);
    }

    // A load still running at the end runs to its duration (or is stopped when the scenario failed).
    for (const r of runs.values()) {
      try {
        await finish(r, Boolean(aborted));
      } catch (err) {
        results.push({ step: `load ${r.name}`, passed: false, detail: errText(err), atMs: rel(), durationMs: 0 });
      }
    }
    try {
      await lab.settled?.();
    } catch {
      // a fault that could not revert itself shows in the lab's status
    }

    const named: NamedRun[] = [...runs.values()].map((r) => ({ ...r.finished!.result, name: r.name, lab: r.lab, preset: r.preset, series: r.series }));
    const main = named[named.length - 1];
    const { name: _n, lab: _l, preset: _p, series: _s, ...mainResult } = main ?? { ...EMPTY_RESULT, name: '', lab: '', preset: '', series: [] };
    const topo = buildTopology(scenario.topology.preset, scenario.topology.web);
    return {
      ...mainResult,
      name: scenario.name,
      description: scenario.description,
      passed: results.every((r) => r.passed),
      steps: results,
      runs: named,
      comparison,
      timeline,
      topology: { preset: scenario.topology.preset, nodes: topo.nodes.map((n) => ({ name: n.name, role: n.role })) },
      startedAt,
      durationMs: rel(),
    };
  }

  private async startRun(step: LoadStartStep, index: number, lab: ScenarioLab, preset: string, t0: number, log: (s: string) => void): Promise<ActiveRun> {
    const status = await lab.status();
    if (status.state !== 'running') throw new StepFailed(`lab ${lab.lab} is ${status.state}: add an \`up\` step before the load`);
    const journey = journeyFor(step.journey, status.moodle.installed);
    if (journey === 'moodle' && !status.moodle.installed) throw new StepFailed('the moodle journey needs Moodle installed on the lab (use journey: auto or probe)');
    const opts: LoadOptions = {
      ...DEFAULT_LOAD,
      journey,
      users: step.users,
      durationMs: step.durationMs,
      rampUpMs: step.rampUpMs ?? defaultRampUp(step.durationMs),
      ...pacing(journey, step.throughputPerMin, step.thinkMs),
    };
    const name = step.name ?? `run${index + 1}`;
    const series: NamedRun['series'] = [];
    const handle = this.startLoad(loadTarget(status), opts, {
      injector: lab,
      sources: statusSources(status, lab, true),
      progress: (line) => log(`[${name}] ${line}`),
      onWindow: (w) => {
        series.push({ atMs: w.atMs - t0, requests: w.requests, failures: w.failures, p50: Math.round(w.p50), p95: Math.round(w.p95), max: Math.round(w.max) });
        this.deps.onWindow?.(name, w);
      },
    });
    return { name, lab: lab.lab, preset, handle, users: opts.users, journey, durationMs: opts.durationMs, series };
  }

  private async check(step: AssertStep, lab: ScenarioLab, runs: Map<string, ActiveRun>, current: ActiveRun | undefined, resultOf: (r: ActiveRun) => LoadResult): Promise<{ passed: boolean; detail: string; checks: AssertCheck[] }> {
    const problems: string[] = [];
    const seen: string[] = [];
    const checks: AssertCheck[] = [];
    const keys = Object.keys(step.metrics) as MetricKey[];
    if (keys.length) {
      const run = step.run ? runs.get(step.run) : (current ?? [...runs.values()].pop());
      if (!run) throw new StepFailed(step.run ? `no load run named ${step.run}` : 'no load run to assert on');
      // Fault analysis and read-back integrity exist once a run is over: wait for it then.
      const needsEnd = keys.some((k) => ['detection', 'blackout', 'recovery', 'failedDuringFaults', 'lostWrites', 'lostFiles', 'lostSessions'].includes(k));
      if (needsEnd && !run.finished) {
        this.progress.log(`waiting for load ${run.name} to end (the assert reads its failover analysis)`);
        run.finished = await run.handle.done;
      }
      const r = resultOf(run);
      for (const k of keys) {
        const t = step.metrics[k]!;
        const v = metricOf(r, k);
        checks.push({ name: k, measured: v, expected: t.text, passed: v !== null && compareOp(v, t) });
        if (v === null) problems.push(`${k}: the run has no value for it${k === 'lostWrites' || k === 'lostFiles' || k === 'lostSessions' ? ' (no integrity probes ran)' : ' (no fault during the run)'}`);
        else if (!compareOp(v, t)) problems.push(`${k} is ${fmt(v)}, expected ${t.text}`);
        else seen.push(`${k} ${fmt(v)}`);
      }
    }
    if (step.state) {
      const deadline = this.clock.now() + (step.withinMs ?? 0);
      let bad: string[];
      for (;;) {
        bad = checkState(await lab.status(), step.state);
        if (!bad.length || this.clock.now() >= deadline) break;
        await this.clock.sleep(this.opts.pollMs ?? 500);
      }
      const stated = bad.map((b) => (step.withinMs ? `${b} (after ${step.withinMs / 1000} s)` : b));
      checks.push({ name: 'state', measured: stated.length ? stated.join('; ') : 'as expected', expected: describeState(step.state), passed: !bad.length });
      if (bad.length) problems.push(...stated);
      else seen.push('state as expected');
    }
    return problems.length ? { passed: false, detail: problems.join('; '), checks } : { passed: true, detail: seen.join(', '), checks };
  }
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v === Infinity ? 'never' : String(Math.round(v * 1000) / 1000));
