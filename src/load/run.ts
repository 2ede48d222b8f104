/**
 * One load run, start to finish: node probes and status polling start, the virtual users ramp
 * up and replay their journey, faults fire on schedule (and heal, if asked), then the
 * acknowledged writes are read back and the timeline is analysed.
 */
import { randomBytes } from 'node:crypto';
import { analyseFaults } from '../metrics/failover';
import { LoadResult, loadResult } from '../metrics/export';
import { MetricsRecorder, WindowStats } from '../metrics/recorder';
import type { FaultEvent } from '../metrics/types';
import { MoodleClient } from '../moodle/client';
import { componentOf, showsFailed } from '../metrics/failover';
import type { FaultTarget, ScheduledFault } from './faults';
import { Journey, runUsers } from './generator';
import { IntegrityLedger } from './integrity';
import { moodleJourney } from './journey-moodle';
import { probeJourney } from './journey-probe';
import { NodeProbes, ProbeTarget } from './node-probes';
import { SnapshotPoller, SnapshotSource } from './snapshots';

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
}

export interface LoadOptions {
  journey: JourneyName;
  users: number;
  durationMs: number;
  rampUpMs: number;
  thinkMinMs: number;
  thinkMaxMs: number;
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
  faults: [],
  probeHz: 2,
  integrityHz: 2,
  timeoutMs: 30_000,
};

export interface LoadDeps {
  injector?: FaultTarget;
  sources?: SnapshotSource[];
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
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function runLoad(target: LoadTarget, opts: LoadOptions, deps: LoadDeps = {}): Promise<LoadRun> {
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
  const probes = opts.probeHz > 0 && target.probeTargets.length ? new NodeProbes(target.probeTargets, { hz: opts.probeHz }) : undefined;
  if (probes) {
    deps.onProbes?.(probes);
    probes.start();
  }

  let t0 = Date.now();
  const ticker = setInterval(() => {
    for (const w of recorder.tick(Date.now())) {
      deps.onWindow?.(w);
      progress(`[${String(Math.round((w.atMs + 1000 - t0) / 1000)).padStart(4)} s] ${recorder.requests} requests, ${recorder.failures} failed; this second: ${w.requests} req, p95 ${Math.round(w.p95)} ms${w.failures ? `, ${w.failures} FAILED` : ''}`);
    }
  }, 1000);

  // Background integrity writes (the probe journey writes through its users already).
  const integrityStop = new AbortController();
  const integrity = opts.journey === 'moodle' && opts.integrityHz > 0 ? integrityWriter(target.entry, ledger, runId, opts.integrityHz, integrityStop.signal) : Promise.resolve();

  // Faults on the timeline.
  const faultEvents: FaultEvent[] = [];
  const timers: NodeJS.Timeout[] = [];
  const firing: Promise<void>[] = [];
  const at = (ms: number, fn: () => Promise<void>) => {
    timers.push(setTimeout(() => firing.push(fn()), Math.max(0, ms)));
  };
  t0 = Date.now();
  for (const f of opts.faults) {
    at(f.atMs, async () => {
      const ev: FaultEvent = { fault: f.text, kind: f.req.kind, nodes: f.req.nodes, atMs: Date.now() };
      faultEvents.push(ev);
      progress(`fault: ${f.text}`);
      try {
        await deps.injector!.fault(f.req);
        progress(`fault: ${f.text} injected (${Date.now() - ev.atMs} ms)`);
      } catch (err) {
        ev.error = `could not inject: ${errText(err)}`;
        progress(`fault: ${f.text} FAILED: ${errText(err)}`);
      }
    });
  }
  if (opts.healAtMs !== undefined && opts.faults.length) {
    at(opts.healAtMs, async () => {
      const healAt = Date.now();
      for (const ev of faultEvents) if (ev.healAtMs === undefined) ev.healAtMs = healAt;
      progress('heal');
      try {
        await deps.injector!.heal();
        progress(`healed (${Date.now() - healAt} ms)`);
      } catch (err) {
        for (const ev of faultEvents) ev.healError = errText(err);
        progress(`heal FAILED: ${errText(err)}`);
      }
    });
  }

  const { startMs, endMs } = await runUsers(journey, { users: opts.users, durationMs: opts.durationMs, rampUpMs: opts.rampUpMs, thinkMinMs: opts.thinkMinMs, thinkMaxMs: opts.thinkMaxMs }, (s) => recorder.record(s));
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
    while (Date.now() < until) {
      const last = poller.snapshots.filter((s) => s.atMs >= healed[0]!.healAtMs!);
      const back = healed.every((e) => e.nodes.every((n) => componentOf(n) === 'other' || last.some((s) => showsFailed(s, n, baseline || undefined) === false)));
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
  for (const [src, e] of poller.errors) progress(`status polling (${src}) had errors, last: ${e}`);

  const analyses = analyseFaults(recorder.samples, faultEvents, poller.snapshots, endMs);
  const result = loadResult({ recorder, users: opts.users, durationMs: opts.durationMs, startMs, faults: analyses, journey: opts.journey, integrity: integrityReport });
  return { result, recorder, probes, faultEvents, ledger };
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
