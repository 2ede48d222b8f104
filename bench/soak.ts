/**
 * Soak bench: seeded random faults (every kind that works on this host, on every role) for
 * `--minutes` under the 30-user load, each held for a drawn time, then healed, and the lab
 * waited for until green (every node healthy, HAProxy all UP, Galera Primary all Synced, Gluster
 * all bricks online with nothing pending heal, Redis up) before the next. Then everything
 * acknowledged is verified: every DB write on every Galera node, every file through every web
 * node, every session that should have survived (a Redis restart loses sessions by design:
 * memory only), and the lab green at the end.
 *
 *   npm run bench:soak -- --lab NAME --minutes 30 --seed 1 [--users 30] [--journey moodle|probe] [--json]
 *
 * Exit 0: nothing lost and the lab green at the end; 1: something lost or the lab not green;
 * 2: bad arguments (nothing touched); 3: the lab or the engine failed.
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { sql } from '../src/roles/galera';
import { PROBE_DB_NAME } from '../src/engine/env';
import { DEFAULT_LAB, validateLabName } from '../src/docker/labels';
import { LabController } from '../src/controller/lab-controller';
import { loadTarget, machineLine, openLab, pad } from './support';
import { IntegrityLedger } from '../src/load/integrity';
import { DEFAULT_LOAD, journeyFor, JourneyName, LoadHandle, LoadRun, pacing, startLoad } from '../src/load/run';
import { haproxySource, SnapshotSource } from '../src/load/snapshots';
import type { IntegrityReport } from '../src/metrics/export';
import { describeFault, FaultRequest } from '../src/protocol/faults';
import type { LabStatus } from '../src/protocol/status';
import { waitGreen } from '../src/load/green';
import { countByKindRole, FailedSplit, lastSuccessByThread, RanWindow, shouldSurvive, splitFailures, spread } from './soak-checks';
import { MoodleKeepers, SessionKeepers, SessionTally, UploadTally } from './soak-keepers';
import { describeWindow, SOAK_ROLES, soakPlan, SoakWindow } from './soak-plan';
import { errText } from '../src/core/errors';

class UsageError extends Error {}

interface SoakArgs {
  lab: string;
  minutes: number;
  seed: number;
  users: number;
  journey?: JourneyName;
  json: boolean;
}

const USAGE = 'usage: npm run bench:soak -- [--lab NAME] [--minutes 30] [--seed 1] [--users 30] [--journey moodle|probe] [--json]';

function soakArgs(argv: string[], env = process.env): SoakArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        lab: { type: 'string' },
        minutes: { type: 'string' },
        seed: { type: 'string' },
        users: { type: 'string' },
        journey: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(errText(err));
  }
  let lab: string;
  try {
    lab = validateLabName(values.lab ?? env.MOODLE_LAB ?? DEFAULT_LAB);
  } catch (err) {
    throw new UsageError(errText(err));
  }
  const minutes = Number(values.minutes ?? 30);
  if (!(Number.isFinite(minutes) && minutes > 0 && minutes <= 24 * 60)) throw new UsageError('--minutes must be a number of minutes above 0 (e.g. 30, or 0.5)');
  const seed = Number(values.seed ?? 1);
  if (!Number.isSafeInteger(seed)) throw new UsageError('--seed must be a whole number');
  const users = Number(values.users ?? DEFAULT_LOAD.users);
  if (!Number.isInteger(users) || users < 1 || users > 1000) throw new UsageError('--users must be a whole number from 1 to 1000');
  const journey = values.journey;
  if (journey !== undefined && journey !== 'moodle' && journey !== 'probe') throw new UsageError('--journey must be moodle or probe');
  return { lab, minutes, seed, users, journey, json: Boolean(values.json) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function faultRequest(w: SoakWindow): FaultRequest {
  const req: FaultRequest = { kind: w.kind, nodes: [w.node] };
  if (w.from) req.from = w.from;
  if (w.lossPct !== undefined) req.lossPct = w.lossPct;
  if (w.delayMs !== undefined) req.delayMs = w.delayMs;
  return req;
}

interface WindowResult extends RanWindow {
  index: number;
  node: string;
  fault: string;
  holdMs: number;
  /** heal → green again. */
  healMs?: number;
  skipReason?: string;
  error?: string;
  healError?: string;
  /** The lab did not come back to green: what was wrong. */
  notGreen?: string[];
  /** Requests sent from the fault until green again, and how many failed. */
  requests?: number;
  failed?: number;
}

interface GaleraCheck {
  node: string;
  missing: number[];
  error?: string;
}

interface SoakReport {
  lab: string;
  seed: number;
  minutes: number;
  users: number;
  journey: JourneyName;
  machine: string;
  wallMs: number;
  planned: number;
  windows: WindowResult[];
  applied: Record<string, Record<string, number>>;
  skipped: { kind: string; count: number; reason: string }[];
  injectErrors: string[];
  requests: FailedSplit;
  healMs?: { min: number; median: number; max: number };
  writes: { acknowledged: number; lostThroughHaproxy: string[]; galera: GaleraCheck[]; lost: number[] };
  files: {
    acknowledged: number;
    lostThroughHaproxy: string[];
    byWebNode: { node: string; lost: string[]; unchecked: number }[];
    moodleUploads?: UploadTally;
    lost: string[];
  };
  sessions: { journeyLost: number; journeyLostLegit: number; keepers: SessionTally; moodleLogins?: SessionTally; lostShouldSurvive: string[] };
  unchecked: number;
  labHealthyAtEnd: boolean;
  endProblems: string[];
  ok: boolean;
}

async function galeraHas(controller: LabController, ids: number[], values: Map<number, string>): Promise<GaleraCheck[]> {
  const state = controller.engine.state();
  if (!state) throw new Error(`lab "${controller.lab}" has no state`);
  const dbNodes = controller.engine
    .topology(state)
    .nodes.filter((n) => n.role === 'db')
    .map((n) => n.name);
  const containers = await controller.engine.containers();
  const lo = Math.min(...ids);
  const hi = Math.max(...ids);
  return Promise.all(
    dbNodes.map(async (node): Promise<GaleraCheck> => {
      const c = containers.get(node);
      if (!c) return { node, missing: ids, error: 'no container' };
      try {
        const out = await sql(
          controller.docker.containers,
          c.id,
          state.secrets.dbRootPassword,
          `SET SESSION wsrep_sync_wait=1; SELECT id, value FROM ${PROBE_DB_NAME}.probes WHERE id BETWEEN ${lo} AND ${hi}`,
          60_000,
        );
        const found = new Map<number, string>();
        for (const line of out.split('\n')) {
          const [id, value] = line.split('\t');
          if (id && value !== undefined) found.set(Number(id), value);
        }
        return { node, missing: ids.filter((id) => found.get(id) !== values.get(id)) };
      } catch (err) {
        return { node, missing: [], error: errText(err) };
      }
    }),
  );
}

async function soak(args: SoakArgs, log: (m: string) => void): Promise<SoakReport> {
  const wall0 = Date.now();
  const { controller } = openLab(args.lab);
  let status = await controller.status();
  if (status.state === 'absent') throw new Error(`lab "${args.lab}" does not exist: run \`npm run lab -- up --lab ${args.lab}\` first`);
  const journey = journeyFor(args.journey, status.moodle.installed);
  if (journey === 'moodle' && !status.moodle.installed) throw new UsageError(`lab "${args.lab}" has no Moodle (started with --no-moodle): use --journey probe`);
  if (journey === 'moodle' && (!status.moodle.course || !status.moodle.users.length))
    throw new Error('the moodle journey needs the test course and users (status.moodle.course is empty)');
  const plan = soakPlan({ seed: args.seed, minutes: args.minutes, nodes: status.nodes.map((n) => ({ name: n.name, role: n.role })) });
  log(
    `soak on ${args.lab}: ${args.minutes} min, seed ${args.seed}, ${args.users} users, ${journey} journey; plan of ${plan.length} windows (the run takes those that fit): ${plan.slice(0, 8).map(describeWindow).join('; ')}${plan.length > 8 ? '; …' : ''}`,
  );

  let latest = status;
  const seen = (s: LabStatus) => (latest = s);
  log('waiting for the lab to be green before the first fault…');
  const before = await waitGreen(controller, 300_000, seen);
  if (before.problems.length) throw new Error(`the lab is not green before the soak: ${before.problems.join('; ')}`);
  status = before.status!;
  const target = loadTarget(status);

  const runId = randomBytes(3).toString('hex');
  const keepers = new SessionKeepers(target.entry, 8, runId);
  log(`session keepers: ${await keepers.fill()} of 8 set`);
  const moodle = journey === 'moodle' ? new MoodleKeepers(target.wwwroot ?? target.entry, status.moodle.users.slice(-3), runId) : undefined;
  if (moodle) log(`Moodle keepers: ${await moodle.login()} of 3 logged in${moodle.loginErrors.length ? ` (${moodle.loginErrors.join('; ')})` : ''}`);

  // The status this soak polls anyway, handed to the load run as its cluster snapshots (so the
  // run's end-of-load recovery check needs no second poller of its own).
  const cached: SnapshotSource = {
    name: 'cluster (soak)',
    intervalMs: 1000,
    poll: async () => ({ galeraSize: latest.galera.clusterSize, bricks: latest.gluster.bricks.map((b) => ({ name: b.name, online: b.online })) }),
  };
  let tick = 0;
  const handle: LoadHandle = startLoad(
    target,
    {
      ...DEFAULT_LOAD,
      journey,
      users: args.users,
      durationMs: args.minutes * 60_000 + 3_600_000,
      rampUpMs: DEFAULT_LOAD.rampUpMs,
      ...pacing(journey),
      faults: [],
      probeHz: 0,
    },
    {
      injector: controller,
      sources: [...(status.endpoints.haproxyRuntime ? [haproxySource(status.endpoints.haproxyRuntime, 500)] : []), cached],
      progress: (line) => {
        if (/^\[\s*\d+ s\]/.test(line) && ++tick % 30) return; // the per-second line every 30 s only
        log(line);
      },
    },
  );
  const deadline = handle.startedAt + args.minutes * 60_000;
  // Ctrl-C (or a timeout's SIGTERM) mid-fault: heal before leaving, so the lab is not left broken.
  const interrupted = (sig: string) => {
    log(`${sig}: healing every fault before leaving…`);
    handle.stop();
    controller.heal().then(
      () => process.exit(1),
      (err: unknown) => {
        log(`heal failed: ${errText(err)}; run \`npm run lab -- heal --lab ${args.lab}\``);
        process.exit(3);
      },
    );
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  const windows: WindowResult[] = [];
  for (const w of plan) {
    if (Date.now() + w.holdMs + 15_000 > deadline) break;
    const req = faultRequest(w);
    const r: WindowResult = {
      index: w.index,
      kind: w.kind,
      role: w.role,
      node: w.node,
      fault: describeWindow(w),
      holdMs: w.holdMs,
      appliedAtMs: Date.now(),
      greenAtMs: 0,
    };
    windows.push(r);
    log(`window ${w.index}: ${r.fault}`);
    try {
      await handle.fault(req, describeFault(req));
    } catch (err) {
      if (w.kind === 'delay' && /netem/i.test(errText(err))) {
        r.skipped = true;
        r.skipReason = errText(err);
      } else r.error = errText(err);
    }
    if (r.skipped) {
      log(`window ${w.index}: delay skipped: ${r.skipReason}`);
      r.greenAtMs = Date.now();
      continue;
    }
    if (!r.error) await sleep(w.holdMs); // the fault's drawn duration (not a readiness wait)
    const healAt = Date.now();
    try {
      await handle.heal();
    } catch (err) {
      r.healError = errText(err);
      log(`window ${w.index}: heal failed: ${r.healError}`);
    }
    let green = await waitGreen(controller, 300_000, seen);
    if (green.problems.length) {
      log(`window ${w.index}: not green 5 min after the heal (${green.problems.join('; ')}): healing once more`);
      await controller.heal().catch((err: unknown) => log(`second heal failed: ${errText(err)}`));
      green = await waitGreen(controller, 300_000, seen);
    }
    r.greenAtMs = Date.now();
    if (green.problems.length) {
      r.notGreen = green.problems;
      log(`window ${w.index}: the lab did not come back green: ${green.problems.join('; ')}; no more faults`);
      break;
    }
    r.healMs = r.greenAtMs - healAt;
    log(`window ${w.index}: green ${secs(r.healMs)} after the heal`);
    const after = `window ${w.index} (${describeFault(req)})`;
    await keepers.check(windows, after);
    if (moodle) await moodle.check(windows, after);
  }

  // The load runs on, on a green lab, until the time is up.
  const gaveUp = windows.some((w) => w.notGreen);
  if (!gaveUp && Date.now() < deadline) {
    log(`no fault window fits in the ${secs(deadline - Date.now())} left: the load runs on the green lab until the end`);
    await sleep(deadline - Date.now());
  }
  handle.stop();
  log('load stopping; reading back every acknowledged write…');
  const run: LoadRun = await handle.done;
  for (const w of windows) {
    const inWindow = run.recorder.samples.filter((x) => x.startMs >= w.appliedAtMs && x.startMs <= w.greenAtMs);
    Object.assign(w, { requests: inWindow.length, failed: inWindow.filter((x) => !x.success).length });
  }
  const integrity: IntegrityReport = run.result.integrity ?? {
    dbWrites: 0,
    files: 0,
    sessions: 0,
    lostDbWrites: [],
    lostFiles: [],
    lostSessions: [],
    unchecked: [],
  };

  // Lab green at the end (after a last wait, should the last heal still be settling).
  const end = await waitGreen(controller, gaveUp ? 10_000 : 180_000, seen);
  status = end.status ?? status;

  // Every acknowledged write on every Galera node.
  const ids = [...run.ledger.dbWrites.keys()];
  log(`checking ${ids.length} acknowledged writes on every Galera node…`);
  const galera = ids.length ? await galeraHas(controller, ids, run.ledger.dbWrites) : [];
  // Every file through every web node (directly, not through HAProxy).
  const webNodes = status.nodes.filter((n) => n.role === 'web' && n.url).map((n) => ({ name: n.name, url: n.url!, port: Number(new URL(n.url!).port) }));
  const byWebNode: SoakReport['files']['byWebNode'] = [];
  if (run.ledger.files.size) {
    log(`reading ${run.ledger.files.size} files through ${webNodes.map((n) => n.name).join(', ')}…`);
    for (const n of webNodes) {
      const only = new IntegrityLedger();
      for (const [name, value] of run.ledger.files) only.file(name, value);
      const rep = await only.verify(n.url);
      byWebNode.push({ node: n.name, lost: rep.lostFiles.map((f) => f.replace(/^file:/, '')), unchecked: rep.unchecked.length });
    }
  }
  if (moodle) {
    log('downloading every Moodle upload through every web node…');
    await moodle.verifyFiles(webNodes);
  }
  // Sessions: the keepers once more; the journey's last sessions judged by when they were set.
  await keepers.check(windows, 'the end');
  if (moodle) {
    // A last login check only (no upload after the end).
    await moodle.check(windows, 'the end').catch(() => undefined);
  }
  const setAt = lastSuccessByThread(run.recorder.samples, 'session-set');
  let journeyLostLegit = 0;
  const journeyLost: string[] = [];
  for (const id of integrity.lostSessions) {
    const key = id.replace(/^session:/, '');
    const at = key === 'integrity' ? handle.startedAt : (setAt.get(`vu ${key.replace(/^u/, '')}`) ?? handle.startedAt);
    if (shouldSurvive(at, windows)) journeyLost.push(`journey session ${key}`);
    else journeyLostLegit++;
  }

  const lostWrites = [...new Set([...integrity.lostDbWrites.map((x) => Number(x.replace(/^db:/, ''))), ...galera.flatMap((g) => g.missing)])].sort(
    (a, b) => a - b,
  );
  const lostFiles = [
    ...new Set([...integrity.lostFiles.map((x) => x.replace(/^file:/, '')), ...byWebNode.flatMap((b) => b.lost), ...(moodle?.uploads.lost ?? [])]),
  ];
  const lostSessions = [...keepers.tally.lostShouldSurvive, ...(moodle?.sessions.lostShouldSurvive ?? []), ...journeyLost];
  const skippedKinds = new Map<string, { count: number; reason: string }>();
  for (const w of windows.filter((x) => x.skipped)) skippedKinds.set(w.kind, { count: (skippedKinds.get(w.kind)?.count ?? 0) + 1, reason: w.skipReason! });
  const labHealthyAtEnd = end.problems.length === 0;
  const galeraErrors = galera.filter((g) => g.error);
  return {
    lab: args.lab,
    seed: args.seed,
    minutes: args.minutes,
    users: args.users,
    journey,
    machine: machineLine(),
    wallMs: Date.now() - wall0,
    planned: plan.length,
    windows,
    applied: countByKindRole(windows),
    skipped: [...skippedKinds].map(([kind, v]) => ({ kind, ...v })),
    injectErrors: windows.filter((w) => w.error).map((w) => `${w.fault}: ${w.error}`),
    requests: splitFailures(run.recorder.samples, windows),
    healMs: spread(windows.filter((w) => w.healMs !== undefined).map((w) => w.healMs!)),
    writes: { acknowledged: ids.length, lostThroughHaproxy: integrity.lostDbWrites, galera, lost: lostWrites },
    files: { acknowledged: run.ledger.files.size, lostThroughHaproxy: integrity.lostFiles, byWebNode, moodleUploads: moodle?.uploads, lost: lostFiles },
    sessions: { journeyLost: journeyLost.length, journeyLostLegit, keepers: keepers.tally, moodleLogins: moodle?.sessions, lostShouldSurvive: lostSessions },
    unchecked:
      integrity.unchecked.length +
      byWebNode.reduce((n, b) => n + b.unchecked, 0) +
      keepers.tally.unchecked +
      (moodle ? moodle.sessions.unchecked + moodle.uploads.unchecked : 0),
    labHealthyAtEnd,
    endProblems: [...end.problems, ...galeraErrors.map((g) => `${g.node}: could not read the writes back: ${g.error}`)],
    ok: lostWrites.length === 0 && lostFiles.length === 0 && lostSessions.length === 0 && labHealthyAtEnd && galeraErrors.length === 0,
  };
}

function formatSoak(r: SoakReport): string {
  const out: string[] = [];
  out.push(`soak: lab ${r.lab}, seed ${r.seed}, ${r.minutes} min, ${r.users} users, ${r.journey} journey`, r.machine, '');
  const roles = SOAK_ROLES.filter((role) => Object.values(r.applied).some((row) => row[role]));
  const kinds = Object.keys(r.applied);
  const rows: (string | number)[][] = [['faults applied', ...roles, 'total']];
  for (const k of kinds) rows.push([k, ...roles.map((role) => r.applied[k]![role] ?? 0), Object.values(r.applied[k]!).reduce((a, b) => a + b, 0)]);
  rows.push([
    'total',
    ...roles.map((role) => kinds.reduce((n, k) => n + (r.applied[k]![role] ?? 0), 0)),
    kinds.reduce((n, k) => n + Object.values(r.applied[k]!).reduce((a, b) => a + b, 0), 0),
  ]);
  out.push(pad(rows), '');
  for (const s of r.skipped) out.push(`skipped: ${s.kind} ×${s.count}: ${s.reason}`);
  for (const e of r.injectErrors) out.push(`could not inject: ${e}`);
  out.push(
    `windows run: ${r.windows.length} of ${r.planned} drawn: ${r.windows.map((w) => `${w.index}. ${w.fault}${w.skipped ? ' (skipped)' : w.healMs !== undefined ? ` → green in ${secs(w.healMs)}` : w.notGreen ? ' → NOT green' : ''}${w.skipped ? '' : `, ${w.failed ?? 0}/${w.requests ?? 0} requests failed`}`).join('; ')}`,
  );
  const q = r.requests;
  out.push(
    `requests: ${q.requests}, failed ${q.failed} (during lb/cache faults ${q.duringLbCache}, during other faults ${q.duringOther}, lab green ${q.betweenFaults})`,
  );
  out.push(`heal → green: ${r.healMs ? `min ${secs(r.healMs.min)}, median ${secs(r.healMs.median)}, max ${secs(r.healMs.max)}` : '—'}`);
  const g = r.writes.galera.map((x) => `${x.node} ${x.error ? `unreadable (${x.error})` : `${x.missing.length} missing`}`).join(', ');
  out.push(
    `lost writes: ${r.writes.lost.length} of ${r.writes.acknowledged} acknowledged (through HAProxy: ${r.writes.lostThroughHaproxy.length} lost${g ? `; on every Galera node: ${g}` : ''})`,
  );
  const w = r.files.byWebNode.map((x) => `${x.node} ${x.lost.length} lost`).join(', ');
  const up = r.files.moodleUploads;
  out.push(
    `lost files: ${r.files.lost.length} of ${r.files.acknowledged} probe files${up ? ` + ${up.uploaded} Moodle uploads` : ''} (through HAProxy: ${r.files.lostThroughHaproxy.length} lost${w ? `; through ${w}` : ''}${up ? `; uploads through every web node: ${up.lost.length} lost of ${up.reads} reads${up.uploadFailed.length ? `, ${up.uploadFailed.length} uploads refused during recovery` : ''}` : ''})`,
  );
  const k = r.sessions.keepers;
  const m = r.sessions.moodleLogins;
  out.push(
    `lost sessions that should have survived: ${r.sessions.lostShouldSurvive.length} (session keepers: ${k.checks} checks, ${k.lostLegit} lost to Redis restarts as expected${m ? `; Moodle logins: ${m.checks} checks, ${m.lostLegit} lost to Redis restarts` : ''}; journey sessions: ${r.sessions.journeyLostLegit} lost to Redis restarts)`,
  );
  for (const x of [
    ...r.writes.lost.slice(0, 20).map((id) => `LOST write ${id}`),
    ...r.files.lost.slice(0, 20).map((f) => `LOST file ${f}`),
    ...r.sessions.lostShouldSurvive.slice(0, 20).map((s) => `LOST ${s}`),
  ])
    out.push(`  ${x}`);
  if (r.unchecked) out.push(`unchecked (the read itself failed 3 times; not counted as lost): ${r.unchecked}`);
  out.push(`lab healthy at end: ${r.labHealthyAtEnd ? 'yes' : `NO (${r.endProblems.join('; ')})`}`);
  out.push(`wall time: ${secs(r.wallMs)}`);
  out.push(`verdict: ${r.ok ? 'PASS (0 lost, lab green)' : 'FAIL'}`);
  return out.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  let args: SoakArgs;
  try {
    args = soakArgs(argv);
  } catch (err) {
    process.stderr.write(`error: ${errText(err)}\n${USAGE}\n`);
    return 2;
  }
  const t0 = Date.now();
  const log = (m: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(7)} s] ${m}\n`);
  try {
    const report = await soak(args, log);
    process.stdout.write(args.json ? JSON.stringify(report, null, 2) + '\n' : formatSoak(report));
    return report.ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`error: ${errText(err)}\n`);
    return err instanceof UsageError ? 2 : 3;
  }
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
