/**
 * One load run, start to finish: node probes and status polling start, the virtual users ramp
 * up and replay their journey, faults fire on schedule (and heal, if asked), then the
 * acknowledged writes are read back and the timeline is analysed.
 */
import { randomBytes } from 'node:crypto';
import { analyseFaults, componentOf, showsFailed } from '../metrics/failover';
import { LoadResult, loadResult } from '../metrics/export';
import { MetricsRecorder, WindowStats } from '../metrics/recorder';
import type { FaultEvent } from '../metrics/types';
import { MoodleClient } from '../moodle/client';
import type { FaultTarget, ScheduledFault } from './faults';
import { describeFault, FaultRequest } from '../protocol/faults';
import { Journey, runUsers } from './generator';
import { IntegrityLedger } from './integrity';
import { moodleJourney } from './journey-moodle';
import { probeJourney } from './journey-probe';
import { NodeProbes, ProbeTarget } from './node-probes';
import { SnapshotPoller, SnapshotSource } from './snapshots';
import { ExternalWatch, externalFaults, NodeEventSource } from './external';
import { errText } from '../core/errors';

export type JourneyName = 'moodle' | 'probe';

export interface LoadTarget {
  /** Through HAProxy (status.endpoints.moodle): the probe journey, integrity probes. */
  entry: string;
  /** Moodle's wwwroot (status.moodle.url). */
  wwwroot?: string;
  course?: string;
  users: { username: string; password: string }[];
  /** For the continuous per-node probes. */
  probeTargets: ProbeTarget[];
  /** The lab's nodes (status.nodes): whose status transitions count as external faults. */
  nodes?: string[];
}

export interface LoadOptions {
  journey: JourneyName;
  users: number;
  durationMs: number;
  rampUpMs: number;
  thinkMinMs: number;
  thinkMaxMs: number;
  /** Samples per minute shared by all users (Moodle's JMeter plan: 120); 0 = unpaced. */
  throughputPerMin: number;
  faults: ScheduledFault[];
  /** Heal every fault this long after the start. */
  healAtMs?: number;
  /** Node probes per second (1–5); 0 = none. */
  probeHz: number;
  /** Background integrity writes (DB row + file) per second during a Moodle-journey run; 0 = none. */
  integrityHz: number;
  timeoutMs: number;
}

export const DEFAULT_LOAD: Omit<LoadOptions, 'journey'> = {
  users: 30,
  durationMs: 60_000,
  rampUpMs: 5_000,
  thinkMinMs: 500,
  thinkMaxMs: 1000,
  throughputPerMin: 0,
  faults: [],
  probeHz: 2,
  integrityHz: 2,
  timeoutMs: 30_000,
};

/** Samples per minute of Moodle's JMeter test plan (tool_generator's testplan.template.jmx), shared by all threads. */
export const MOODLE_PLAN_THROUGHPUT = 120;

/** "auto" (or nothing): Moodle's journey when Moodle is installed, else the lab's probes. */
export function journeyFor(choice: JourneyName | 'auto' | undefined, moodleInstalled: boolean): JourneyName {
  return choice === undefined || choice === 'auto' ? (moodleInstalled ? 'moodle' : 'probe') : choice;
}

/**
 * Pace and think time, the same for the CLI, scenarios and the UI: the Moodle journey follows
 * Moodle's own JMeter plan (120 samples per minute shared by all users, no other think time)
 * unless a pace or a think time is given; a think time alone means unpaced users; a pace alone
 * means no think time.
 */
export function pacing(
  journey: JourneyName,
  throughputPerMin?: number,
  thinkMs?: [number, number],
): Pick<LoadOptions, 'throughputPerMin' | 'thinkMinMs' | 'thinkMaxMs'> {
  const pace = throughputPerMin ?? (journey === 'moodle' && !thinkMs ? MOODLE_PLAN_THROUGHPUT : DEFAULT_LOAD.throughputPerMin);
  const [thinkMinMs, thinkMaxMs] = thinkMs ?? (pace > 0 ? [0, 0] : [DEFAULT_LOAD.thinkMinMs, DEFAULT_LOAD.thinkMaxMs]);
  return { throughputPerMin: pace, thinkMinMs, thinkMaxMs };
}

/** Ramp-up when none is given: the default, but at most a quarter of the run. */
export function defaultRampUp(durationMs: number): number {
  return Math.min(DEFAULT_LOAD.rampUpMs, durationMs / 4);
}

export interface LoadDeps {
  injector?: FaultTarget;
  sources?: SnapshotSource[];
  /** The lab's Docker events: faults nobody injected through this run are analysed too (source 'external'). */
  nodeEvents?: NodeEventSource;
  progress?: (line: string) => void;
  /** Live charts: every closed second of the load, and every node probe. */
  onWindow?: (w: WindowStats) => void;
  onProbes?: (probes: NodeProbes) => void;
}

export interface LoadRun {
  result: LoadResult;
  recorder: MetricsRecorder;
  probes?: NodeProbes;
  faultEvents: FaultEvent[];
  /** Every acknowledged write of the run (to read back again later, e.g. after a node rejoined). */
  ledger: IntegrityLedger;
  /** The users' own clock (epoch ms): their start, and when the last request ended (a fault's window ends there). */
  window: { startMs: number; endMs: number };
}

/** A load run under way: faults and heals applied through it land on its timeline. */
export interface LoadHandle {
  /** Epoch ms the users started. */
  readonly startedAt: number;
  readonly recorder: MetricsRecorder;
  /** Applies a fault through the injector and records it for the failover analysis. */
  fault(req: FaultRequest, text?: string): Promise<void>;
  /** Heals (every fault, or one node's) and marks the recorded faults healed. */
  heal(node?: string): Promise<void>;
  /** Ends the run now: requests in flight complete, then the analysis runs. */
  stop(): void;
  readonly stopped: boolean;
  readonly done: Promise<LoadRun>;
}

/** One run to the end, with `opts.faults` (and `opts.healAtMs`) fired on schedule. */
export async function runLoad(target: LoadTarget, opts: LoadOptions, deps: LoadDeps = {}): Promise<LoadRun> {
  return startLoad(target, opts, deps).done;
}

export function startLoad(target: LoadTarget, opts: LoadOptions, deps: LoadDeps = {}): LoadHandle {
  const progress = deps.progress ?? (() => undefined);
  const recorder = new MetricsRecorder();
  const ledger = new IntegrityLedger();
  const runId = `r${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

  let journey: Journey;
  if (opts.journey === 'moodle') {
    if (!target.wwwroot || !target.course) throw new Error('the Moodle journey needs an installed Moodle with its test course (status.moodle.course)');
    journey = moodleJourney({ wwwroot: target.wwwroot, course: target.course, users: target.users, timeoutMs: opts.timeoutMs });
  } else {
    journey = probeJourney({ entry: target.entry, ledger, runId, timeoutMs: opts.timeoutMs });
  }
  if (opts.faults.length && !deps.injector) throw new Error('faults were scheduled but nothing can inject them');

  const poller = new SnapshotPoller(deps.sources ?? []);
  poller.start();
  const watch = new ExternalWatch(deps.nodeEvents);
  const watching = watch.start();
  const probes = opts.probeHz > 0 && target.probeTargets.length ? new NodeProbes(target.probeTargets, { hz: opts.probeHz }) : undefined;
  if (probes) {
    deps.onProbes?.(probes);
    probes.start();
  }

  let t0 = Date.now();
  const ticker = setInterval(() => {
    for (const w of recorder.tick(Date.now())) {
      deps.onWindow?.(w);
      progress(
        `[${String(Math.round((w.atMs + 1000 - t0) / 1000)).padStart(4)} s] ${recorder.requests} requests, ${recorder.failures} failed; this second: ${w.requests} req, p95 ${Math.round(w.p95)} ms${w.failures ? `, ${w.failures} FAILED` : ''}`,
      );
    }
  }, 1000);

  // Background integrity writes (the probe journey writes through its users already).
  const integrityStop = new AbortController();
  const integrity =
    opts.journey === 'moodle' && opts.integrityHz > 0
      ? integrityWriter(target.entry, ledger, runId, opts.integrityHz, integrityStop.signal)
      : Promise.resolve();

  const faultEvents: FaultEvent[] = [];
  const firing: Promise<void>[] = [];
  const applyFault = async (req: FaultRequest, text = describeFault(req)): Promise<void> => {
    if (!deps.injector) throw new Error('this load run has nothing to inject faults through');
    const ev: FaultEvent = { fault: text, kind: req.kind, nodes: req.nodes, atMs: Date.now() };
    faultEvents.push(ev);
    progress(`fault: ${text}`);
    try {
      await deps.injector.fault(req);
      progress(`fault: ${text} injected (${Date.now() - ev.atMs} ms)`);
    } catch (err) {
      ev.error = `could not inject: ${errText(err)}`;
      progress(`fault: ${text} FAILED: ${errText(err)}`);
      throw err;
    }
  };
  const applyHeal = async (node?: string): Promise<void> => {
    if (!deps.injector) throw new Error('this load run has nothing to heal through');
    const healAt = Date.now();
    const mine = faultEvents.filter((ev) => ev.healAtMs === undefined && (node === undefined || ev.nodes.includes(node)));
    for (const ev of mine) ev.healAtMs = healAt;
    progress(node ? `heal ${node}` : 'heal');
    try {
      await deps.injector.heal(node);
      progress(`healed (${Date.now() - healAt} ms)`);
    } catch (err) {
      for (const ev of mine) ev.healError = errText(err);
      progress(`heal FAILED: ${errText(err)}`);
      throw err;
    }
  };
  const track = (p: Promise<void>) => {
    const quiet = p.catch(() => undefined);
    firing.push(quiet);
    return p;
  };

  // Scheduled faults on the timeline (the CLI's --fault/--heal-at).
  const timers: NodeJS.Timeout[] = [];
  const at = (ms: number, fn: () => Promise<void>) => {
    timers.push(setTimeout(() => void track(fn()).catch(() => undefined), Math.max(0, ms)));
  };
  t0 = Date.now();
  for (const f of opts.faults) at(f.atMs, () => applyFault(f.req, f.text));
  if (opts.healAtMs !== undefined && opts.faults.length) at(opts.healAtMs, () => applyHeal());

  const abort = new AbortController();
  const usersDone = runUsers(
    journey,
    {
      users: opts.users,
      durationMs: opts.durationMs,
      rampUpMs: opts.rampUpMs,
      thinkMinMs: opts.thinkMinMs,
      thinkMaxMs: opts.thinkMaxMs,
      throughputPerMin: opts.throughputPerMin,
    },
    (s) => recorder.record(s),
    abort.signal,
  );
  const startedAt = Date.now();

  const done = (async (): Promise<LoadRun> => {
    const { startMs, endMs } = await usersDone;
    t0 = startMs;
    integrityStop.abort();
    await integrity;
    for (const t of timers) clearTimeout(t);
    // Faults (and a heal) already firing finish; those not yet due never fire.
    await Promise.all(firing);
    clearInterval(ticker);
    recorder.tick(Number.MAX_SAFE_INTEGER);

    // After a heal, keep watching until the faulted components are back (at most 60 s), so that
    // recovery is measured, and before reading the writes back.
    const healed = faultEvents.filter((e) => e.healAtMs !== undefined && !e.error && !e.healError);
    if (healed.length) {
      progress('waiting for the healed components to come back…');
      const until = Date.now() + 60_000;
      const baseline = Math.max(0, ...poller.snapshots.filter((s) => s.atMs <= Math.min(...healed.map((e) => e.atMs))).map((s) => s.galeraSize ?? 0));
      const healStart = Math.min(...healed.map((e) => e.healAtMs!));
      while (Date.now() < until) {
        const last = poller.snapshots.filter((s) => s.atMs >= healStart);
        const back = healed.every((e) =>
          e.nodes.every((n) => componentOf(n) === 'other' || last.some((s) => showsFailed(s, n, baseline || undefined) === false)),
        );
        if (back) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    let integrityReport;
    if (ledger.size) {
      progress(`reading back ${ledger.size} acknowledged writes…`);
      integrityReport = await ledger.verify(target.entry);
    }
    probes?.stop();
    await poller.stop();
    await watching;
    watch.stop();
    if (watch.error) progress(`Docker events could not be watched: ${watch.error}`);
    for (const [src, e] of poller.errors) progress(`status polling (${src}) had errors, last: ${e}`);

    const runMs = Math.max(0, endMs - startMs);
    const external = externalFaults(watch.events, poller.snapshots, faultEvents, target.nodes ?? [], startMs, endMs);
    for (const e of external) progress(`external fault noticed: ${e.fault} at ${((e.atMs - startMs) / 1000).toFixed(1)} s`);
    const analyses = analyseFaults(recorder.samples, [...faultEvents, ...external], poller.snapshots, endMs);
    const result = loadResult({
      recorder,
      users: opts.users,
      durationMs: abort.signal.aborted ? runMs : opts.durationMs,
      startMs,
      faults: analyses,
      journey: opts.journey,
      integrity: integrityReport,
    });
    return { result, recorder, probes, faultEvents: [...faultEvents, ...external].sort((a, b) => a.atMs - b.atMs), ledger, window: { startMs, endMs } };
  })();

  return {
    startedAt,
    recorder,
    fault: (req, text) => track(applyFault(req, text)),
    heal: (node) => track(applyHeal(node)),
    stop: () => abort.abort(),
    get stopped() {
      return abort.signal.aborted;
    },
    done,
  };
}

/** A DB row and a file written every 1/hz s through HAProxy; acknowledged ones go in the ledger. */
async function integrityWriter(entry: string, ledger: IntegrityLedger, runId: string, hz: number, signal: AbortSignal): Promise<void> {
  const c = new MoodleClient({ wwwroot: entry, timeoutMs: 10_000 });
  const sessionKey = `${runId}-live`;
  try {
    const s = await c.get(`/lab/probe/session.php?set=${sessionKey}`);
    if (s.status === 200) ledger.session({ key: 'integrity', value: sessionKey, client: c });
  } catch {
    // no session: nothing to check later
  }
  for (let i = 0; !signal.aborted; i++) {
    const t = Date.now();
    const key = `${runId}-w${i}`;
    try {
      const r = await c.get(`/lab/probe/db.php?write=${key}`);
      const j = JSON.parse(r.text()) as { ok?: boolean; id?: number };
      if (r.status === 200 && j.ok && j.id) ledger.dbWrite(j.id, key);
    } catch {
      // not acknowledged: nothing to remember
    }
    try {
      const r = await c.get(`/lab/probe/file.php?write=${key}&value=${key}`);
      if (r.status === 200) ledger.file(key, key);
    } catch {
      // not acknowledged
    }
    const wait = 1000 / hz - (Date.now() - t);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
