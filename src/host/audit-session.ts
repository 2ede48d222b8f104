/**
 * The audit started from a UI (VS Code's Run Audit, the dashboard's dialog): one at a time, run by
 * the audit itself (src/scenarios/audit: runAudit, its cancel path heals the lab), each fault's
 * load through the host's load session (so the live chart and timeline show it), its progress
 * published as `LabSnapshot.audit` and told to listeners (VS Code's progress notification), and
 * at the end the self-contained HTML report (+ JSON) written into the reports folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AUDIT_DEFAULTS, AUDIT_KINDS, AUDIT_LIMITS, AuditStartParams, AuditView } from '../protocol/audit';
import type { TimelineEvent } from '../protocol/snapshot';
import type { LabStatus } from '../protocol/status';
import { auditPlan, AuditLab, AuditReport, runAudit } from '../scenarios/audit/audit';
import { renderAuditHtml } from '../scenarios/audit/report';
import { journeyFor } from '../load/run';
import type { NodeEventSource } from '../load/external';
import type { StartLoadFn } from './load-session';
import { errText } from '../core/errors';

export interface AuditSink {
  setLive(patch: { audit?: AuditView }): void;
  note(e: Omit<TimelineEvent, 'seq' | 'atMs'>): void;
}

export interface AuditSessionDeps {
  lab: AuditLab;
  sink: AuditSink;
  /** Each fault's load run (the host's load session publishes it live). */
  startLoad: StartLoadFn;
  nodeEvents?: NodeEventSource;
  reportsDir: string;
  /** Until the lab is green again after a fault (default 300 s, as the CLI). */
  greenTimeoutMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

export interface AuditEnd {
  report?: AuditReport;
  /** The HTML report written (absent when the audit could not run). */
  file?: string;
  error?: string;
}

/** The outcome in one sentence. */
export function auditSummary(r: AuditReport): string {
  const spof = r.nodes.filter((n) => n.spof).map((n) => n.node);
  return `Audit of ${r.topology}${r.cancelled ? ' (cancelled)' : ''}: ${r.results.length} fault${r.results.length === 1 ? '' : 's'} in ${Math.round(r.durationMs / 1000)} s — ${
    spof.length ? `${spof.length} single point${spof.length > 1 ? 's' : ''} of failure: ${spof.join(', ')}` : 'no single point of failure'
  }`;
}

/** The progress line's head for run `index` of the audit (0: the fault-free baseline before the faults). */
function stepHead(index: number, total: number, fault: string): string {
  return index === 0
    ? `before the ${total} fault${total === 1 ? '' : 's'}: ${fault}, the lab's own gaps under the same load`
    : `fault ${index}/${total}: ${fault}`;
}

/** What is wrong with an audit request (bounds, kinds), or undefined: the same rules whichever UI sent it. */
export function auditParamsProblem(p: AuditStartParams): string | undefined {
  if (!p.kinds?.length) return 'pick at least one fault kind';
  const bad = p.kinds.find((k) => !(AUDIT_KINDS as readonly string[]).includes(k));
  if (bad) return `unknown fault kind "${bad}": use ${AUDIT_KINDS.join(', ')}`;
  if (p.nodes && !p.nodes.length) return 'pick at least one node (or all)';
  const users = p.users ?? AUDIT_DEFAULTS.users;
  if (!Number.isInteger(users) || users < AUDIT_LIMITS.users.min || users > AUDIT_LIMITS.users.max)
    return `users must be a whole number from ${AUDIT_LIMITS.users.min} to ${AUDIT_LIMITS.users.max}`;
  const s = p.perFaultS ?? AUDIT_DEFAULTS.perFaultS;
  if (!Number.isInteger(s) || s < AUDIT_LIMITS.perFaultS.min || s > AUDIT_LIMITS.perFaultS.max)
    return `seconds per fault must be a whole number from ${AUDIT_LIMITS.perFaultS.min} to ${AUDIT_LIMITS.perFaultS.max}`;
  return undefined;
}

export class AuditSession {
  private abort: AbortController | undefined;
  private done: Promise<AuditEnd> | undefined;
  private view: AuditView | undefined;
  private readonly listeners: ((v: AuditView) => void)[] = [];
  private readonly endListeners: ((e: AuditEnd) => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly deps: AuditSessionDeps) {
    this.now = deps.now ?? Date.now;
  }

  get running(): boolean {
    return this.abort !== undefined;
  }

  /** The running (or last) audit's view. */
  get current(): AuditView | undefined {
    return this.view ? { ...this.view } : undefined;
  }

  /** Called with the view on every change; returns an unsubscribe. */
  onProgress(listener: (v: AuditView) => void): () => void {
    this.listeners.push(listener);
    return () => void this.listeners.splice(this.listeners.indexOf(listener) >>> 0, 1);
  }

  onEnd(listener: (e: AuditEnd) => void): () => void {
    this.endListeners.push(listener);
    return () => void this.endListeners.splice(this.endListeners.indexOf(listener) >>> 0, 1);
  }

  /**
   * Checks the request against the lab (bounds, kinds, nodes: one clear error, nothing touched),
   * then starts; resolves once it started, `done` at its end (never rejects: `error` says why).
   */
  async start(p: AuditStartParams): Promise<{ total: number; done: Promise<AuditEnd> }> {
    if (this.abort) throw new Error('an audit is already running: cancel it first');
    const problem = auditParamsProblem(p);
    if (problem) throw new Error(problem);
    const abort = new AbortController();
    this.abort = abort;
    let status: LabStatus;
    let total: number;
    try {
      status = await this.deps.lab.status();
      if (status.state === 'absent') throw new Error(`lab "${status.lab}" does not exist: start it first`);
      if (!status.endpoints.moodle) throw new Error(`lab "${status.lab}" has no published entry point (state ${status.state})`);
      total = auditPlan(status, p.kinds, p.nodes).steps.length;
      if (!total) throw new Error('nothing to audit: the nodes picked are exempt or have no fault of these kinds');
    } catch (err) {
      this.abort = undefined;
      throw err;
    }
    const kinds = [...p.kinds];
    const perFaultMs = (p.perFaultS ?? AUDIT_DEFAULTS.perFaultS) * 1000;
    const users = p.users ?? AUDIT_DEFAULTS.users;
    this.view = {
      running: true,
      kinds,
      done: 0,
      total,
      line: `starting: ${total} faults, ${users} users, ${perFaultMs / 1000} s each — waiting for the lab to be green`,
    };
    this.publish();
    this.deps.sink.note({
      source: 'scenario',
      severity: 'info',
      kind: 'scenario',
      text: `audit started: ${total} fault${total === 1 ? '' : 's'} (${kinds.join(', ')})`,
    });
    const done = this.run(status, { ...p, kinds }, users, perFaultMs, abort.signal);
    this.done = done;
    return { total, done };
  }

  private async run(status: LabStatus, p: AuditStartParams, users: number, perFaultMs: number, signal: AbortSignal): Promise<AuditEnd> {
    let end: AuditEnd;
    try {
      const report = await runAudit(
        this.deps.lab,
        {
          kinds: p.kinds,
          nodes: p.nodes,
          users,
          perFaultMs,
          journey: journeyFor('auto', status.moodle.installed),
          greenTimeoutMs: this.deps.greenTimeoutMs ?? 300_000,
        },
        {
          startLoad: (t, o, d) => this.deps.startLoad(t, o, d ?? {}),
          nodeEvents: this.deps.nodeEvents,
          signal,
          now: this.now,
          progress: (line) => this.onLine(line),
          onStep: (e) => {
            const v = this.view;
            if (!v) return;
            v.current = { index: e.index, fault: e.fault };
            if (e.result) {
              v.done = e.index;
              const r = e.result;
              v.line = `${stepHead(e.index, e.total, e.fault)} — ${r.failedRequests}/${r.requests} failed, blackout ${(r.blackoutMs / 1000).toFixed(1)} s`;
            } else v.line = `${stepHead(e.index, e.total, e.fault)} …`;
            this.publish();
          },
        },
      );
      const file = this.writeReport(report, status);
      end = { report, file };
    } catch (err) {
      end = { error: errText(err) };
    }
    this.finish(end);
    return end;
  }

  /** runAudit's own lines: the current fault's detail (its load, the wait for green, the heal after a cancel). */
  private onLine(line: string): void {
    this.deps.log?.(`audit: ${line}`);
    const v = this.view;
    if (!v) return;
    const text = line.trim();
    if (/^\[(\d+\/\d+|baseline)\]/.test(text)) return; // a run's start: onStep said it
    const head = v.current ? stepHead(v.current.index, v.total, v.current.fault) : 'audit';
    v.line = `${head} — ${text}`;
    this.publish();
  }

  private writeReport(report: AuditReport, status: LabStatus): string | undefined {
    try {
      const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-').slice(0, 19);
      const file = path.join(this.deps.reportsDir, `audit-${stamp}.html`);
      fs.mkdirSync(this.deps.reportsDir, { recursive: true });
      fs.writeFileSync(file, renderAuditHtml([{ report, nodes: status.nodes.map((n) => ({ name: n.name, role: n.role })) }]));
      fs.writeFileSync(file.replace(/\.html$/, '.json'), JSON.stringify(report, null, 2) + '\n');
      return file;
    } catch (err) {
      this.deps.log?.(`audit: the report could not be written: ${errText(err)}`);
      return undefined;
    }
  }

  private finish(e: AuditEnd): void {
    this.abort = undefined;
    const v = this.view ?? { running: false, kinds: [], done: 0, total: 0, line: '' };
    v.running = false;
    v.cancelling = undefined;
    v.current = undefined;
    if (e.report) {
      v.cancelled = e.report.cancelled || undefined;
      v.spof = e.report.nodes.filter((n) => n.spof).map((n) => n.node);
      v.summary = auditSummary(e.report);
      v.line = v.summary;
    } else {
      v.error = e.error;
      v.line = `the audit could not run: ${e.error ?? ''}`;
    }
    if (e.file) v.report = e.file;
    this.view = v;
    this.publish();
    this.deps.sink.note({
      source: 'scenario',
      severity: e.error ? 'error' : v.spof?.length ? 'warn' : 'ok',
      kind: 'scenario',
      text: v.line + (e.file ? ` (report: ${path.basename(e.file)})` : ''),
    });
    for (const l of this.endListeners) {
      try {
        l(e);
      } catch (err) {
        this.deps.log?.(`audit end listener failed: ${errText(err)}`);
      }
    }
  }

  /** Cancels the running audit: its load stops, runAudit heals the lab and waits for green, then it ends (cancelled). */
  stop(): string {
    if (!this.abort) throw new Error('no audit is running');
    if (this.view) {
      this.view.cancelling = true;
      this.view.line = 'cancelling: stopping the load, healing the lab and waiting for it to be green…';
      this.publish();
    }
    this.abort.abort();
    return 'audit: cancelling (the current fault is healed, the lab waited for until green)';
  }

  private publish(): void {
    const v = this.view;
    this.deps.sink.setLive({ audit: v ? { ...v, kinds: [...v.kinds], ...(v.spof ? { spof: [...v.spof] } : {}) } : undefined });
    if (!v) return;
    for (const l of this.listeners) {
      try {
        l({ ...v });
      } catch (err) {
        this.deps.log?.(`audit progress listener failed: ${errText(err)}`);
      }
    }
  }

  /** Extension deactivation, dashboard Ctrl-C: cancels (the lab is healed by runAudit's cancel path). */
  async dispose(): Promise<void> {
    this.abort?.abort();
    await this.done;
  }
}
