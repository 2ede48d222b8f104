/**
 * One host-side handler for one dashboard view, whatever carries its messages (a VS Code webview
 * or a WebSocket). It waits for `ready`, then sends snapshots as they change; every intent gets a
 * reply, invalid or unknown ones an error; an intent quoting a revision older than the last change
 * of the node it targets is refused as stale and answered with a fresh snapshot.
 */
import * as path from 'node:path';
import { describeFault } from '../protocol/faults';
import {
  AuditStartIntent,
  AuditStopIntent,
  ExportReportIntent,
  FaultIntent,
  HealIntent,
  LoadStartIntent,
  LoadStopIntent,
  MaintenanceIntent,
  OpenNodeIntent,
  Ready,
  RefreshIntent,
  Reply,
  ScenarioRunIntent,
  PredictAnswerIntent,
  ScenarioStopIntent,
  ReplyParams,
  SnapshotMessage,
  validateIncoming,
  WireMessage,
} from '../protocol/messages';
import { REPAIR_KINDS } from '../protocol/fault-catalog';
import type { LabSnapshot, TimelineEvent } from '../protocol/snapshot';
import type { SnapshotStore } from '../state/snapshot-store';
import type { LabActions, LiveControls } from '../host/controls';
import { errText as errorText } from '../core/errors';

export type { LabActions, LiveControls } from '../host/controls';

export interface Transport {
  post(message: WireMessage): void;
  /** Returns an unsubscribe function. */
  onMessage(listener: (raw: unknown) => void): () => void;
}

export interface SessionDeps {
  live?: LiveControls;
  /** A URL the viewer can open for a written report file (browser dashboard). */
  reportUrl?: (file: string) => string | undefined;
  store: SnapshotStore;
  actions: LabActions;
  /** Opens a node's logs/shell/page in the host UI; absent in the plain browser. */
  openNode?: (node: string, what: 'logs' | 'shell' | 'browser') => Promise<string | void> | string | void;
  log?: (line: string) => void;
  /** Periodic refresh while this view is open. */
  intervalMs?: number;
  /**
   * Scenario files (absolute paths) this view may start besides the built-ins in the catalog:
   * the files open in VS Code, or those named on the dashboard's command line. No other name runs.
   */
  scenarioFiles?: () => readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class DashboardSession {
  private ready = false;
  private unsubscribeStore: (() => void) | undefined;
  private readonly unsubscribeTransport: () => void;
  private lastSent = -1;

  constructor(
    private readonly transport: Transport,
    private readonly deps: SessionDeps,
  ) {
    this.unsubscribeTransport = transport.onMessage((raw) => void this.handle(raw));
  }

  dispose(): void {
    this.unsubscribeTransport();
    this.unsubscribeStore?.();
    this.unsubscribeStore = undefined;
  }

  /**
   * Handles one incoming message; resolves once its reply was posted (tests await it). Never
   * rejects: a handler that fails is logged and answered with an error reply.
   */
  async handle(raw: unknown): Promise<void> {
    try {
      await this.dispatch(raw);
    } catch (err) {
      this.log(`dashboard: handling a message failed: ${errorText(err)}`);
      try {
        const id = isRecord(raw) && typeof raw.id === 'string' && raw.id.length <= 64 ? raw.id : '';
        this.reply(id, { ok: false, error: `internal error: ${errorText(err).slice(0, 500)}` });
      } catch (e) {
        this.log(`dashboard: the error reply failed too: ${errorText(e)}`);
      }
    }
  }

  private log(line: string): void {
    try {
      this.deps.log?.(line);
    } catch {
      // a broken logger must not break the session
    }
  }

  private async dispatch(raw: unknown): Promise<void> {
    const check = validateIncoming(raw);
    if (!check.ok) {
      this.log(`dashboard: rejected message: ${check.error}`);
      this.reply(check.id ?? '', { ok: false, error: check.error });
      return;
    }
    const m = check.message;
    if (Ready.is(m)) {
      this.onReady();
      return;
    }
    const id = m.id ?? '';
    try {
      const stale = this.staleness(m);
      if (stale) {
        this.reply(id, { ok: false, stale: true, error: stale });
        this.sendSnapshot(this.deps.store.current(), true);
        return;
      }
      if (ExportReportIntent.is(m)) {
        const r = await this.live().exportReport();
        const url = r.file ? this.deps.reportUrl?.(r.file) : undefined;
        this.reply(id, { ok: true, detail: r.detail, ...(url ? { url } : {}) });
        return;
      }
      const detail = await this.run(m);
      this.reply(id, { ok: true, detail: detail || undefined });
    } catch (err) {
      this.reply(id, { ok: false, error: errorText(err) });
    }
  }

  private onReady(): void {
    if (this.ready) {
      this.sendSnapshot(this.deps.store.current(), true);
      return;
    }
    this.ready = true;
    this.unsubscribeStore = this.deps.store.subscribe((s) => this.sendSnapshot(s, false), { intervalMs: this.deps.intervalMs ?? 1000 });
  }

  /** A node-targeted intent based on a view older than the node's last change is stale. */
  private staleness(m: WireMessage): string | undefined {
    if (m.revision === undefined) return undefined;
    let node: string | undefined;
    if (FaultIntent.is(m)) node = m.params.request.nodes[0];
    else if (MaintenanceIntent.is(m)) node = m.params.node;
    if (!node) return undefined;
    const changed = this.deps.store.nodeChangedAt(node);
    return changed > m.revision ? `${node} changed since you looked (revision ${m.revision} < ${changed}): here is the fresh state, try again` : undefined;
  }

  private live(): LiveControls {
    if (!this.deps.live) throw new Error('load, scenarios and reports are not available in this dashboard');
    return this.deps.live;
  }

  private async run(m: WireMessage): Promise<string | void> {
    const { store, actions } = this.deps;
    const act = async (what: string, fn: () => Promise<string>, extra: Pick<TimelineEvent, 'kind' | 'node'> = {}) => {
      store.note({ source: 'action', severity: 'info', text: `dashboard: ${what}`, ...extra });
      try {
        const detail = await fn();
        store.note({ source: 'action', severity: 'ok', text: detail });
        return detail;
      } catch (err) {
        store.note({ source: 'action', severity: 'error', text: `${what} failed: ${errorText(err)}` });
        throw err;
      } finally {
        void store.refresh().catch(() => undefined);
      }
    };
    if (FaultIntent.is(m)) {
      const req = m.params.request;
      // repairs (start, unpause, connect: the catalog's) are not faults: no marker for them
      const kind = REPAIR_KINDS.includes(req.kind) ? 'heal' : 'fault';
      return act(`fault ${describeFault(req)}`, () => actions.fault(req), { kind, node: req.nodes[0] });
    }
    if (HealIntent.is(m)) return act(`heal ${m.params.node ?? 'all'}`, () => actions.heal(m.params.node), { kind: 'heal', node: m.params.node });
    if (LoadStartIntent.is(m)) return this.live().startLoad(m.params);
    if (LoadStopIntent.is(m)) return this.live().stopLoad();
    if (ScenarioRunIntent.is(m)) {
      const live = this.live();
      return live.runScenario(this.offeredScenario(m.params.name));
    }
    if (ScenarioStopIntent.is(m)) return this.live().stopScenario();
    if (PredictAnswerIntent.is(m)) {
      const live = this.live();
      if (!live.answerPrediction) throw new Error('this dashboard runs no scenarios: there is no prediction to answer');
      return live.answerPrediction(m.params);
    }
    if (AuditStartIntent.is(m)) {
      const live = this.live();
      if (!live.startAudit) throw new Error('this dashboard cannot run the audit');
      return live.startAudit(m.params);
    }
    if (AuditStopIntent.is(m)) {
      const live = this.live();
      if (!live.stopAudit) throw new Error('this dashboard cannot run the audit');
      return live.stopAudit();
    }
    if (MaintenanceIntent.is(m)) {
      const { on, node } = m.params;
      return act(`maintenance ${on ? 'on' : 'off'}${node ? ` ${node}` : ''}`, () => actions.maintenance(on, node));
    }
    if (OpenNodeIntent.is(m)) {
      if (!this.deps.openNode) throw new Error('opening logs or a shell works in VS Code only');
      return this.deps.openNode(m.params.node, m.params.what ?? 'logs');
    }
    if (RefreshIntent.is(m)) {
      this.sendSnapshot(await store.refresh(), true);
      return;
    }
    throw new Error(`unhandled message "${m.method}"`);
  }

  /** The allowed scenario files, absolute (a failing host callback offers none). */
  private scenarioFiles(): string[] {
    try {
      return (this.deps.scenarioFiles?.() ?? []).map((f) => path.resolve(f));
    } catch (err) {
      this.log(`dashboard: the scenario file list failed: ${errorText(err)}`);
      return [];
    }
  }

  /** The name itself when it is a built-in of the catalog or an allowed file; anything else is refused unread. */
  private offeredScenario(name: string): string {
    const builtins = (this.deps.store.liveFields().scenarios ?? []).map((b) => b.name);
    if (builtins.includes(name) || this.scenarioFiles().includes(name)) return name;
    const shown = name.length > 200 ? `${name.slice(0, 200)}…` : name;
    throw new Error(
      `"${shown}" is not a scenario this dashboard offers: pick a built-in (${builtins.join(', ') || 'none found'}) or an offered scenario file (in VS Code: a .yaml file open in the editor)`,
    );
  }

  private sendSnapshot(s: LabSnapshot | undefined, force: boolean): void {
    if (!s || !this.ready || (!force && s.revision === this.lastSent)) return;
    this.lastSent = s.revision;
    const files = this.scenarioFiles().filter((f) => !s.scenarios?.some((b) => b.name === f));
    // the allowed files join this view's catalog (a copy: the store's snapshot is shared)
    let shown = files.length
      ? { ...s, scenarios: [...(s.scenarios ?? []), ...files.map((f) => ({ name: f, description: `scenario file ${path.basename(f)}` }))] }
      : s;
    // the audit's report as a link this view can open (the browser dashboard serves the reports folder)
    const reportUrl = s.audit?.report ? this.deps.reportUrl?.(s.audit.report) : undefined;
    if (reportUrl) shown = { ...shown, audit: { ...s.audit!, reportUrl } };
    this.transport.post(SnapshotMessage.create({ snapshot: shown }));
  }

  private reply(id: string, params: ReplyParams): void {
    this.transport.post({ ...Reply.create(params), id });
  }
}
