/**
 * The audit: under the same paced load, each node is faulted in turn (kill; pause; a partition
 * from its peers where it has any), healed, and the lab waited for until green before the next
 * one. Per fault: detection, failed requests, blackout, p99 during the fault, recovery, and what
 * the integrity probes lost. Per node: a verdict.
 *
 * Single point of failure (SPOF), decided here and documented in README.md: a node whose fault
 * - lost acknowledged data (a DB write, a file, a session), or
 * - left users without any successful answer for SPOF_BLACKOUT_MS or more beyond the lab's own
 *   longest gap (the fault-free baseline run first: the same load, the same window), or
 * - failed more than SPOF_FAILED_RATIO of the requests sent while it was faulted, beyond the
 *   baseline's own failure share.
 * A redundant tier loses a few in-flight requests until the health checks notice (web: ~2 s of
 * one node's share): well below both limits.
 *
 * Exempt: nodes of a role in EXEMPT_ROLES are not faulted (the reason goes in the verdict).
 */
import * as os from 'node:os';
import type { LoadFaultResult } from '../../metrics/export';
import type { ActiveFault, FaultRequest } from '../../protocol/faults';
import type { LabStatus } from '../../protocol/status';
import { analyseFaults } from '../../metrics/failover';
import { waitGreen } from '../../load/green';
import type { NodeEventSource } from '../../load/external';
import { statusSources, loadTarget } from '../../load/command';
import { DEFAULT_LOAD, JourneyName, LoadHandle, LoadOptions, LoadRun, pacing, startLoad as realStartLoad } from '../../load/run';

import { AUDIT_KINDS, AuditKind } from '../../protocol/audit';

export { AUDIT_KINDS };
export type { AuditKind };

export const SPOF_BLACKOUT_MS = 5_000;
export const SPOF_FAILED_RATIO = 0.1;
/** Roles never faulted by the audit, and why. */
export const EXEMPT_ROLES: Record<string, string> = {
  edge: 'stands for the network in front of the virtual IP: losing it is losing the network, not a node of the design',
};

export interface AuditLab {
  readonly lab: string;
  status(): Promise<LabStatus>;
  fault(req: FaultRequest): Promise<unknown>;
  heal(node?: string): Promise<unknown>;
  activeFaults?(): ActiveFault[];
}

export interface AuditOptions {
  kinds: AuditKind[];
  /** Only these nodes (default: every node not exempt). */
  nodes?: string[];
  users: number;
  perFaultMs: number;
  journey: JourneyName;
  /** Per fault: until the lab is green again (then the audit gives up on it and stops). */
  greenTimeoutMs: number;
}

export interface AuditStep {
  node: string;
  role: string;
  kind: AuditKind;
  req: FaultRequest;
}

export interface AuditResult {
  node: string;
  role: string;
  fault: string;
  kind: AuditKind;
  detectedMs: number | null;
  failedRequests: number;
  /** Requests sent while the node was faulted (fault → next fault or end of the run). */
  requests: number;
  blackoutMs: number;
  p99Ms: number | null;
  recoveredMs: number | null;
  /** Heal → the whole lab green again (ms). */
  greenMs: number | null;
  lost: { writes: number; files: number; sessions: number };
  /** What the cluster itself reported, in a few words (the status after the fault was applied). */
  reported: string;
  /** The 1-minute load average of the machine running the audit as the fault's run ended (see AuditReport.host). */
  hostLoad?: number;
  error?: string;
  /** false when the fault could not be applied (`error` says why): nothing of the node was measured. */
  applied?: boolean;
}

export interface AuditVerdict {
  node: string;
  role: string;
  spof: boolean;
  exempt?: boolean;
  reasons: string[];
}

export interface AuditReport {
  topology: string;
  lab: string;
  startedAt: string;
  durationMs: number;
  options: { kinds: AuditKind[]; users: number; perFaultS: number; journey: string };
  thresholds: { blackoutMs: number; failedRatio: number };
  results: AuditResult[];
  nodes: AuditVerdict[];
  /** Steady state: p95 (ms) of the fault-free run's requests. */
  steady?: { p95Ms: number };
  /**
   * The fault-free run, measured over the window a fault's is (its fault time → the end): what the
   * lab and the host do by themselves under the same load. A blackout near this one is not the
   * fault's.
   */
  baseline?: { blackoutMs: number; failedRequests: number; requests: number; p99Ms: number | null; hostLoad?: number; disturbed?: string[] };
  /**
   * The machine the audit ran on (its cores): with `hostLoad`, whether the figures are the
   * design's or a saturated host's. The lab's containers share it when Docker runs there (Linux).
   */
  host?: { cpus: number };
  /** Idle memory of the lab's containers before the audit (Docker's stats), bytes: `--compare` fills it. */
  idleMemoryBytes?: number;
  cancelled?: boolean;
}

/** The faults to run, in order; throws one clear Error for an unknown node (before anything is touched). */
export function auditPlan(status: LabStatus, kinds: AuditKind[], only?: string[]): { steps: AuditStep[]; exempt: AuditVerdict[] } {
  const names = status.nodes.map((n) => n.name);
  for (const n of only ?? []) if (!names.includes(n)) throw new Error(`unknown node "${n}" in --nodes: the lab has ${names.join(', ')}`);
  const steps: AuditStep[] = [];
  const exempt: AuditVerdict[] = [];
  for (const n of status.nodes) {
    if (only && !only.includes(n.name)) continue;
    const why = EXEMPT_ROLES[n.role];
    if (why) {
      exempt.push({ node: n.name, role: n.role, spof: false, exempt: true, reasons: [`not faulted: it ${why}`] });
      continue;
    }
    const peers = status.nodes.filter((p) => p.role === n.role && p.name !== n.name).map((p) => p.name);
    for (const kind of kinds) {
      if (kind === 'partition' && !peers.length) continue;
      steps.push({ node: n.name, role: n.role, kind, req: kind === 'partition' ? { kind, nodes: [n.name], from: peers } : { kind, nodes: [n.name] } });
    }
  }
  return { steps, exempt };
}

export function parseKinds(text: string | undefined): AuditKind[] {
  if (text === undefined) return ['kill', 'pause'];
  const kinds = text.split(',').map((k) => k.trim());
  for (const k of kinds)
    if (!(AUDIT_KINDS as readonly string[]).includes(k)) throw new Error(`unknown fault kind "${k}" in --faults: use ${AUDIT_KINDS.join(', ')}`);
  return [...new Set(kinds)] as AuditKind[];
}

/**
 * The verdict of one node from its results. With a baseline (the fault-free run), both limits
 * apply to what the fault added to it: a blackout counts from the lab's own longest gap under the
 * same load, and failed requests from its own failure share (without one: from 0).
 */
export function verdict(node: string, role: string, results: AuditResult[], baseline?: AuditReport['baseline']): AuditVerdict {
  const reasons: string[] = [];
  const unmeasured: string[] = [];
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const ownGap = baseline?.blackoutMs ?? 0;
  const ownShare = baseline?.requests ? baseline.failedRequests / baseline.requests : 0;
  const pct = (x: number) => `${Math.round(100 * x)} %`;
  for (const r of results) {
    const lost = Object.entries(r.lost).filter(([, v]) => v > 0);
    if (lost.length) reasons.push(`${r.fault}: lost ${lost.map(([k, v]) => `${v} ${k}`).join(', ')}`);
    if (r.applied === false) {
      unmeasured.push(`${r.fault}: not measured, the fault could not be applied (${r.error})`);
      continue;
    }
    if (r.blackoutMs - ownGap >= SPOF_BLACKOUT_MS)
      reasons.push(`${r.fault}: no request succeeded for ${s(r.blackoutMs)}${baseline ? ` (with no fault: ${s(ownGap)})` : ''}`);
    const share = r.requests > 0 ? r.failedRequests / r.requests : 0;
    if (share - ownShare > SPOF_FAILED_RATIO)
      reasons.push(`${r.fault}: ${r.failedRequests} of ${r.requests} requests failed (${pct(share)}${ownShare ? `; with no fault: ${pct(ownShare)}` : ''})`);
    if (r.error) reasons.push(`${r.fault}: ${r.error}`);
  }
  const spof = reasons.length > 0;
  reasons.push(...unmeasured);
  const measured = results.filter((r) => r.applied !== false);
  const mostFailed = Math.max(0, ...measured.map((r) => r.failedRequests));
  if (!spof && (measured.length || !results.length))
    reasons.push(
      `survived ${measured.map((r) => r.kind).join(', ') || 'nothing (no fault ran)'}: at most ${mostFailed} failed request${mostFailed === 1 ? '' : 's'}, blackout ≤ ${s(Math.max(0, ...measured.map((r) => r.blackoutMs)))}${baseline ? ` (with no fault: ${s(ownGap)})` : ''}, nothing lost`,
    );
  return { node, role, spof, reasons };
}

/** What the status says about the faulted node and its tier, in a few words. */
export function reported(s: LabStatus, node: string): string {
  const parts: string[] = [];
  const n = s.nodes.find((x) => x.name === node);
  if (n) parts.push(`${node} ${n.container}${n.healthy ? '' : ', unhealthy'}`);
  const hap = s.haproxy.servers.filter((x) => !/^UP/.test(x.status));
  if (hap.length) parts.push(`HAProxy ${hap.map((x) => `${x.server} ${x.status}`).join(', ')}`);
  if (s.galera.nodes.length) parts.push(`Galera ${s.galera.status} size ${s.galera.clusterSize}`);
  const off = s.gluster.bricks.filter((b) => !b.online);
  if (off.length) parts.push(`bricks offline: ${off.map((b) => b.name).join(', ')}`);
  if (!s.redis.up && s.redis.error) parts.push(`Redis down (${s.redis.error})`);
  return parts.join('; ');
}

export interface AuditDeps {
  startLoad?: typeof realStartLoad;
  nodeEvents?: NodeEventSource;
  progress?: (line: string) => void;
  /** The same progress, structured for a UI: each fault as it starts (index 1-based; 0 is the fault-free baseline run) and its result as it ends. */
  onStep?: (e: { index: number; total: number; fault: string; result?: AuditResult }) => void;
  signal?: AbortSignal;
  now?: () => number;
  /** The host's 1-minute load average and its cores (default: node:os). */
  host?: () => { load: number; cpus: number };
}

/**
 * Runs the plan: one load run per fault (fault at 20 % of --per-fault, heal at 70 %), then waits
 * for green. Cancelling stops the current run, heals the lab and waits for green before returning.
 */
export async function runAudit(lab: AuditLab, opts: AuditOptions, deps: AuditDeps = {}): Promise<AuditReport> {
  const now = deps.now ?? Date.now;
  const progress = deps.progress ?? (() => undefined);
  const startLoad = deps.startLoad ?? realStartLoad;
  const host = deps.host ?? (() => ({ load: os.loadavg()[0]!, cpus: os.cpus().length }));
  const hostLoad = () => Math.round(host().load * 10) / 10;
  const t0 = now();
  const status = await lab.status();
  if (status.state === 'absent') throw new Error(`lab "${status.lab}" does not exist: run \`up\` first`);
  const { steps, exempt } = auditPlan(status, opts.kinds, opts.nodes);
  const results: AuditResult[] = [];
  let steady: AuditReport['steady'];
  let baseline: AuditReport['baseline'];
  let cancelled = false;
  let current: LoadHandle | undefined;
  const onAbort = () => current?.stop();
  deps.signal?.addEventListener('abort', onAbort);
  const faultAt = Math.max(2000, Math.round(opts.perFaultMs * 0.2));
  const healAt = Math.max(faultAt + 1000, Math.round(opts.perFaultMs * 0.7));
  try {
    const first = await waitGreen(lab, opts.greenTimeoutMs);
    if (first.problems.length) throw new Error(`the lab is not green before the audit: ${first.problems.join('; ')}`);
    const runOpts = (faults: LoadOptions['faults']): LoadOptions => ({
      ...DEFAULT_LOAD,
      ...pacing(opts.journey),
      journey: opts.journey,
      users: opts.users,
      durationMs: opts.perFaultMs,
      rampUpMs: Math.min(1000, faultAt / 2),
      faults,
      ...(faults.length ? { healAtMs: healAt } : {}),
      probeHz: 0,
    });
    /** One load run with these faults; `started` runs as its users start (the load's own clock). */
    const runLoad = async (faults: LoadOptions['faults'], started?: () => void): Promise<LoadRun> => {
      const st = await lab.status();
      const handle = (current = startLoad(loadTarget(st), runOpts(faults), {
        injector: lab,
        sources: statusSources(st, lab, true),
        nodeEvents: deps.nodeEvents,
        progress: (l) => (/^\[\s*\d+ s\]/.test(l) ? undefined : progress(`  ${l}`)),
      }));
      started?.();
      try {
        return await handle.done;
      } finally {
        current = undefined;
      }
    };
    // The fault-free run first: the lab's own gaps under the same load.
    if (steps.length) {
      const text = 'no fault (baseline)';
      deps.onStep?.({ index: 0, total: steps.length, fault: text });
      progress(`[baseline] ${text}: load ${opts.users} users for ${opts.perFaultMs / 1000} s, measured from ${faultAt / 1000} s as a fault's would be`);
      const run = await runLoad([]);
      if (deps.signal?.aborted) cancelled = true;
      else {
        // The same figures as a fault's, over the same window (the fault's time → the run's end on
        // its own clock): a mark at the fault's time, no node.
        const [m] = analyseFaults(run.recorder.samples, [{ fault: text, kind: 'none', nodes: [], atMs: run.window.startMs + faultAt }], [], run.window.endMs);
        baseline = {
          blackoutMs: m!.blackoutMs,
          failedRequests: m!.failedRequests,
          requests: m!.requests,
          p99Ms: m!.requests ? Math.round(m!.p99Ms) : null,
          hostLoad: hostLoad(),
        };
        steady = { p95Ms: run.result.latencyMs.p95 };
        const ext = run.result.faults.filter((f) => f.source === 'external');
        if (ext.length) baseline.disturbed = ext.map((f) => f.fault);
        progress(
          `  baseline: ${baseline.failedRequests}/${baseline.requests} failed, longest gap ${baseline.blackoutMs} ms, p99 ${baseline.p99Ms ?? '—'} ms, p95 ${steady.p95Ms} ms, host load ${baseline.hostLoad}${ext.length ? ` (external faults meanwhile: ${ext.map((f) => f.fault).join(', ')})` : ''}`,
        );
      }
    }
    for (const [i, step] of steps.entries()) {
      if (deps.signal?.aborted) {
        cancelled = true;
        break;
      }
      const text = `${step.kind} ${step.node}${step.req.from ? ` from ${step.req.from.join(',')}` : ''}`;
      deps.onStep?.({ index: i + 1, total: steps.length, fault: text });
      progress(
        `[${i + 1}/${steps.length}] ${text}: load ${opts.users} users for ${opts.perFaultMs / 1000} s, fault at ${faultAt / 1000} s, heal at ${healAt / 1000} s`,
      );
      let seenDuring = '';
      let snoop: NodeJS.Timeout | undefined;
      const snoopAt = faultAt + Math.min(3000, (healAt - faultAt) / 2);
      let run: LoadRun;
      try {
        run = await runLoad([{ req: step.req, atMs: faultAt, text }], () => {
          snoop = setTimeout(
            () =>
              void lab.status().then(
                (s) => (seenDuring = reported(s, step.node)),
                () => undefined,
              ),
            snoopAt,
          );
        });
      } finally {
        clearTimeout(snoop);
      }
      if (deps.signal?.aborted) {
        cancelled = true;
        break;
      }
      const f: LoadFaultResult | undefined = run.result.faults.find((x) => x.source !== 'external') ?? run.result.faults[0];
      const loadAtEnd = hostLoad();
      const healedAt = now();
      progress(`  waiting for the lab to be green again…`);
      const green = await waitGreen(lab, opts.greenTimeoutMs);
      const integ = run.result.integrity;
      const r: AuditResult = {
        node: step.node,
        role: step.role,
        fault: text,
        kind: step.kind,
        detectedMs: f?.detectedMs ?? null,
        failedRequests: f?.failedRequests ?? 0,
        requests: f?.requests ?? 0,
        blackoutMs: f?.blackoutMs ?? 0,
        p99Ms: f?.p99Ms ?? null,
        recoveredMs: f?.recoveredMs ?? null,
        greenMs: green.problems.length ? null : now() - healedAt,
        lost: { writes: integ?.lostDbWrites.length ?? 0, files: integ?.lostFiles.length ?? 0, sessions: integ?.lostSessions.length ?? 0 },
        reported: seenDuring,
        hostLoad: loadAtEnd,
        ...(f?.applied === false ? { applied: false } : {}),
        ...(f?.error ? { error: f.error } : green.problems.length ? { error: `not green again: ${green.problems.join('; ')}` } : {}),
      };
      results.push(r);
      deps.onStep?.({ index: i + 1, total: steps.length, fault: text, result: r });
      progress(
        `  ${text}: detected ${r.detectedMs ?? '—'} ms, ${r.failedRequests}/${r.requests} failed, blackout ${r.blackoutMs} ms, p99 ${r.p99Ms ?? '—'} ms, recovered ${r.recoveredMs ?? '—'} ms, lost ${r.lost.writes} writes/${r.lost.files} files/${r.lost.sessions} sessions, host load ${r.hostLoad}`,
      );
      if (green.problems.length) {
        progress(`  the lab did not come back to green: the audit stops here`);
        break;
      }
    }
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    if (deps.signal?.aborted) {
      progress('cancelled: healing the lab…');
      await lab.heal().catch(() => undefined);
      await waitGreen(lab, opts.greenTimeoutMs);
    }
  }
  const verdicts = status.nodes
    .filter((n) => results.some((r) => r.node === n.name))
    .map((n) =>
      verdict(
        n.name,
        n.role,
        results.filter((r) => r.node === n.name),
        baseline,
      ),
    );
  return {
    topology: status.preset ?? 'ha',
    lab: status.lab,
    startedAt: new Date(t0).toISOString(),
    durationMs: now() - t0,
    options: { kinds: opts.kinds, users: opts.users, perFaultS: opts.perFaultMs / 1000, journey: opts.journey },
    thresholds: { blackoutMs: SPOF_BLACKOUT_MS, failedRatio: SPOF_FAILED_RATIO },
    results,
    nodes: [...verdicts, ...exempt],
    ...(steady ? { steady } : {}),
    ...(baseline ? { baseline } : {}),
    host: { cpus: host().cpus },
    ...(cancelled ? { cancelled } : {}),
  };
}
