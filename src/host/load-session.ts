/**
 * One load run at a time, started from the UI (VS Code command or dashboard), with its live
 * figures published into the snapshot every second and frozen when it ends. Faults and heals
 * asked for while it runs go through the run (`handle.fault/heal`) so they land in its failover
 * analysis; when it ends, each fault's detection, blackout and recovery go on the timeline.
 * The scenario runner's loads go through `startLoadFn` and are published the same way.
 * Everything it talks to is injected (the lab, the store, startLoad, the clock).
 */
import type { NodeEventSource } from '../load/external';
import { loadTarget, statusSources } from '../load/command';
import type { FaultTarget } from '../load/faults';
import {
  DEFAULT_LOAD,
  defaultRampUp,
  journeyFor,
  JourneyName,
  pacing,
  LoadDeps,
  LoadHandle,
  LoadOptions,
  LoadRun,
  LoadTarget,
  startLoad as realStartLoad,
} from '../load/run';
import type { LoadResult } from '../metrics/export';
import type { LoadMetricsSource } from '../metrics/openmetrics';
import type { MetricsRecorder, WindowStats } from '../metrics/recorder';
import { describeFault, FaultRequest } from '../protocol/faults';
import type { JourneyChoice } from '../protocol/messages';
import type { LoadMetrics, SeriesPoint, TimelineEvent } from '../protocol/snapshot';
import type { LabStatus } from '../protocol/status';
import { errText } from '../core/errors';
import { runSummary } from '../core/summary';

/** What the session publishes into (SnapshotStore satisfies it). */
export interface LiveSink {
  setMetrics(m: LoadMetrics | undefined): void;
  note(e: Omit<TimelineEvent, 'seq' | 'atMs'>, atMs?: number): void;
}

export interface LoadLab extends FaultTarget {
  status(): Promise<LabStatus>;
}

export type StartLoadFn = (target: LoadTarget, opts: LoadOptions, deps: LoadDeps) => LoadHandle;

export interface LoadSessionDeps {
  lab: LoadLab;
  /** The host's latest view of the lab (the snapshot, at most a second old): spares a full status collection at start. */
  currentStatus?: () => LabStatus | undefined;
  sink: LiveSink;
  /** The lab's Docker events: a UI load analyses faults applied elsewhere too (source 'external'). */
  nodeEvents?: NodeEventSource;
  startLoad?: StartLoadFn;
  now?: () => number;
  log?: (line: string) => void;
}

export interface LoadRequest {
  users?: number;
  durationMs?: number;
  journey?: JourneyChoice;
}

export interface LoadInfo {
  label: string;
  users: number;
  durationMs: number;
  journey: JourneyName;
  startedAt: number;
}

export interface FinishedLoad {
  info: LoadInfo;
  /** Undefined when the run failed (then `error` says why). */
  run?: LoadRun;
  error?: string;
  series: SeriesPoint[];
  /** The lab's status when the run started (for the report's topology). */
  status?: LabStatus;
  endedAt: number;
}

/** Per-second points kept for the chart (two minutes). */
export const SERIES_POINTS = 120;

const round1 = (v: number) => Math.round(v * 10) / 10;

/** The live figures of a run so far (cumulative since its start) and its recent seconds. */
export function liveMetrics(recorder: MetricsRecorder, series: SeriesPoint[], info: LoadInfo): LoadMetrics {
  const requests = recorder.requests;
  const errorRate = recorder.errorRate();
  const lat = requests ? recorder.latency() : { p50: 0, p95: 0 };
  return {
    running: true,
    label: info.label,
    journey: info.journey,
    users: info.users,
    durationMs: info.durationMs,
    startedAtMs: info.startedAt,
    requests,
    failures: recorder.failures,
    availability: requests ? 1 - errorRate : 1,
    errorRate,
    apdex: requests ? recorder.apdex.score : 1,
    p95Ms: round1(lat.p95),
    p50Ms: round1(lat.p50),
    throughputRps: round1(recorder.throughputRps()),
    activeUsers: recorder.samples.at(-1)?.activeThreads ?? 0,
    series: series.slice(-SERIES_POINTS),
  };
}

/** The frozen figures of a finished run (the same numbers as its LoadResult). */
export function finalMetrics(result: LoadResult, series: SeriesPoint[], info: LoadInfo): LoadMetrics {
  return {
    running: false,
    label: info.label,
    journey: info.journey,
    users: info.users,
    durationMs: info.durationMs,
    startedAtMs: info.startedAt,
    requests: result.requests,
    failures: result.failures,
    availability: result.requests ? 1 - result.failures / result.requests : 1,
    errorRate: result.requests ? result.failures / result.requests : 0,
    apdex: result.apdex,
    p95Ms: result.latencyMs.p95,
    p50Ms: result.latencyMs.p50,
    throughputRps: result.throughputRps,
    activeUsers: 0,
    series: series.slice(-SERIES_POINTS),
  };
}

const secs = (ms: number | null | undefined) => (ms === null || ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

/** One timeline sentence per fault of a finished run: detection, failed requests, blackout, recovery. */
export function faultAnalysisTexts(result: LoadResult): { text: string; ok: boolean }[] {
  return result.faults.map((f) =>
    f.error
      ? { text: `${f.fault}: ${f.error}`, ok: false }
      : {
          text: `${f.fault} at ${secs(f.atMs)}: detected after ${secs(f.detectedMs)}, ${f.failedRequests} failed requests, blackout ${secs(f.blackoutMs)}, recovered ${f.recoveredMs === null ? 'never (not within the run)' : `after ${secs(f.recoveredMs)}`}`,
          ok: f.detectedMs !== null && f.recoveredMs !== null,
        },
  );
}

/** The faults a finished run noticed that nobody injected through it: fault markers (marked external) at the time they happened. */
export function externalMarkers(f: Pick<FinishedLoad, 'run' | 'info'>): { event: Omit<TimelineEvent, 'seq' | 'atMs'>; atMs: number }[] {
  const run = f.run;
  if (!run) return [];
  return run.result.faults
    .filter((x) => x.source === 'external')
    .map((x) => {
      const node = run.faultEvents.find((e) => e.source === 'external' && e.fault === x.fault)?.nodes[0];
      return {
        event: {
          source: 'load',
          severity: 'warn',
          kind: 'fault',
          external: true,
          text: `${x.fault} (external: not injected through this run)`,
          ...(node ? { node } : {}),
        },
        atMs: f.info.startedAt + x.atMs,
      };
    });
}

interface ActiveLoad {
  info: LoadInfo;
  handle: LoadHandle;
  series: SeriesPoint[];
  status?: LabStatus;
  finished: Promise<FinishedLoad>;
}

export class LoadSession {
  private active: ActiveLoad | undefined;
  private starting = false;
  /** Set while something else (a scenario) owns the load: UI starts are refused with this reason. */
  busy: string | undefined;
  last: FinishedLoad | undefined;
  private readonly endListeners: ((f: FinishedLoad) => void)[] = [];
  private readonly windowListeners: ((m: LoadMetrics) => void)[] = [];
  private readonly startLoad: StartLoadFn;
  private readonly now: () => number;

  constructor(private readonly deps: LoadSessionDeps) {
    this.startLoad = deps.startLoad ?? realStartLoad;
    this.now = deps.now ?? Date.now;
  }

  get running(): boolean {
    return this.active !== undefined || this.starting;
  }

  get current(): LoadInfo | undefined {
    return this.active?.info;
  }

  /** The running load's samples for Prometheus (else the last finished run's), or undefined. */
  metricsSource(): LoadMetricsSource | undefined {
    if (this.active) return { samples: this.active.handle.recorder.samples, users: this.active.info.users, running: true };
    const last = this.last?.run;
    return last ? { samples: last.recorder.samples, users: this.last!.info.users, running: false } : undefined;
  }

  /** Called with every finished run. Returns an unsubscribe. */
  onEnd(listener: (f: FinishedLoad) => void): () => void {
    this.endListeners.push(listener);
    return () => void this.endListeners.splice(this.endListeners.indexOf(listener) >>> 0, 1);
  }

  /** Called with the live figures every second. Returns an unsubscribe. */
  onMetrics(listener: (m: LoadMetrics) => void): () => void {
    this.windowListeners.push(listener);
    return () => void this.windowListeners.splice(this.windowListeners.indexOf(listener) >>> 0, 1);
  }

  /** Starts a run on the lab (defaults: 30 users, 60 s, journey auto); refuses a second one. */
  async start(req: LoadRequest = {}): Promise<LoadInfo> {
    if (this.busy) throw new Error(`${this.busy}: it drives the load; stop it first`);
    if (this.running) throw new Error(`a load is already running (${this.describe(this.active?.info)}): stop it first`);
    const users = req.users ?? DEFAULT_LOAD.users;
    const durationMs = req.durationMs ?? DEFAULT_LOAD.durationMs;
    if (!Number.isInteger(users) || users < 1 || users > 1000) throw new Error('users must be a whole number from 1 to 1000');
    if (!Number.isFinite(durationMs) || durationMs < 1000 || durationMs > 3600_000) throw new Error('the duration must be 1 s to 1 h');
    this.starting = true;
    try {
      const cached = this.deps.currentStatus?.();
      const status = cached && cached.state === 'running' && cached.endpoints.moodle ? cached : await this.deps.lab.status();
      if (status.state === 'absent') throw new Error(`lab "${status.lab}" does not exist: start it first`);
      if (!status.endpoints.moodle) throw new Error(`lab "${status.lab}" has no published entry point (state ${status.state})`);
      const journey = journeyFor(req.journey, status.moodle.installed);
      if (journey === 'moodle' && !status.moodle.installed) throw new Error('the moodle journey needs Moodle installed on the lab: use the probe journey');
      const opts: LoadOptions = { ...DEFAULT_LOAD, ...pacing(journey), journey, users, durationMs, rampUpMs: defaultRampUp(durationMs) };
      const info = this.launch(
        loadTarget(status),
        opts,
        { injector: this.deps.lab, sources: statusSources(status, this.deps.lab, true), nodeEvents: this.deps.nodeEvents },
        'load',
        status,
      );
      this.deps.sink.note({ source: 'load', severity: 'info', kind: 'load', text: `load started: ${this.describe(info)}` });
      return info;
    } finally {
      this.starting = false;
    }
  }

  /** The scenario runner's startLoad: the same engine, published the same way. */
  readonly startLoadFn =
    (label: string): StartLoadFn =>
    (target, opts, deps) => {
      if (this.active) throw new Error(`a load is already running (${this.describe(this.active.info)})`);
      this.launch(target, opts, deps, label, undefined);
      return this.active!.handle;
    };

  private launch(target: LoadTarget, opts: LoadOptions, deps: LoadDeps, label: string, status: LabStatus | undefined): LoadInfo {
    const series: SeriesPoint[] = [];
    let info: LoadInfo = { label, users: opts.users, durationMs: opts.durationMs, journey: opts.journey, startedAt: this.now() };
    const publish = (recorder: MetricsRecorder) => {
      const m = liveMetrics(recorder, series, info);
      this.deps.sink.setMetrics(m);
      for (const l of this.windowListeners) l(m);
    };
    const ref: { handle?: LoadHandle } = {};
    const handle = this.startLoad(target, opts, {
      ...deps,
      progress: (line) => {
        deps.progress?.(line);
        this.deps.log?.(line);
      },
      onWindow: (w: WindowStats) => {
        deps.onWindow?.(w);
        series.push({ atMs: w.atMs, p95Ms: Math.round(w.p95), p50Ms: Math.round(w.p50), maxMs: Math.round(w.max), errors: w.failures, requests: w.requests });
        if (series.length > SERIES_POINTS) series.splice(0, series.length - SERIES_POINTS);
        if (ref.handle) publish(ref.handle.recorder);
      },
    });
    ref.handle = handle;
    info = { ...info, startedAt: handle.startedAt || info.startedAt };
    const h = handle;
    const finished = h.done.then(
      (run) => this.finish({ info, run, series, status, endedAt: this.now() }),
      (err: unknown) => this.finish({ info, error: errText(err), series, status, endedAt: this.now() }),
    );
    this.active = { info, handle: h, series, status, finished };
    publish(h.recorder);
    return info;
  }

  private finish(f: FinishedLoad): FinishedLoad {
    this.active = undefined;
    this.last = f;
    const { sink } = this.deps;
    if (f.run) {
      const r = f.run.result;
      sink.setMetrics(finalMetrics(r, f.series, f.info));
      sink.note({
        source: 'load',
        severity: r.failures ? 'warn' : 'ok',
        kind: 'load',
        text: `${f.info.label} ended: ${runSummary(r, { p95Ms: r.latencyMs.p95 })}`,
      });
      for (const x of externalMarkers(f)) sink.note(x.event, x.atMs);
      for (const a of faultAnalysisTexts(r)) sink.note({ source: 'load', severity: a.ok ? 'info' : 'warn', kind: 'analysis', text: a.text });
    } else {
      sink.setMetrics(undefined);
      sink.note({ source: 'load', severity: 'error', kind: 'load', text: `${f.info.label} failed: ${f.error ?? 'unknown error'}` });
    }
    for (const l of this.endListeners) {
      try {
        l(f);
      } catch (err) {
        this.deps.log?.(`load end listener failed: ${errText(err)}`);
      }
    }
    return f;
  }

  /** Ends the running load now; resolves when it has been analysed (undefined when none ran). */
  async stop(): Promise<FinishedLoad | undefined> {
    const a = this.active;
    if (!a) return undefined;
    if (!a.handle.stopped) a.handle.stop();
    return a.finished;
  }

  /** Resolves when the running load (if any) has ended. */
  async finished(): Promise<FinishedLoad | undefined> {
    return this.active?.finished;
  }

  /** A fault through the running load (so it is analysed); false when no load runs. */
  async fault(req: FaultRequest): Promise<boolean> {
    const a = this.active;
    if (!a || a.handle.stopped) return false;
    await a.handle.fault(req, describeFault(req));
    return true;
  }

  async heal(node?: string): Promise<boolean> {
    const a = this.active;
    if (!a || a.handle.stopped) return false;
    await a.handle.heal(node);
    return true;
  }

  describe(info: LoadInfo | undefined): string {
    if (!info) return 'starting';
    return `${info.label}: ${info.users} users, ${Math.round(info.durationMs / 1000)} s, ${info.journey} journey`;
  }
}
