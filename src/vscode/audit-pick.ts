/**
 * VS Code's Run Audit: a quick pick of fault kinds (several), then the nodes (all, or some), then
 * the audit through the host (LabLive: the same run the dashboard shows) inside a cancellable
 * progress notification — each fault's line as it runs; Cancel heals the lab (the audit's own
 * cancel path) — and at the end the report (written by the host where reports go) offered to
 * open. No vscode import here: the UI comes in as `AuditUi` (src/vscode/ui.ts has the real one),
 * so the unit tests drive it with a fake.
 */
import { AUDIT_DEFAULTS, AUDIT_KINDS, AuditKind, AuditStartParams, AuditView } from '../protocol/audit';
import type { AuditEnd } from '../host/audit-session';

export interface AuditPickItem {
  label: string;
  description?: string;
  picked?: boolean;
  id: string;
}

export interface AuditUi {
  /** A quick pick; undefined when dismissed. `many`: several items may be picked (those `picked` start ticked). */
  pick(items: AuditPickItem[], o: { title: string; placeHolder: string; many: boolean }): Promise<AuditPickItem[] | undefined>;
  /** Runs `work` in a cancellable progress notification; `report` shows a line, `cancelled` fires on Cancel. */
  progress<T>(title: string, work: (report: (line: string) => void, onCancel: (fn: () => void) => void) => Promise<T>): Promise<T>;
  /** An information (or warning) message with buttons; the button picked. */
  tell(text: string, warn: boolean, ...actions: string[]): Promise<string | undefined>;
  openFile(file: string): Promise<void>;
  fail(what: string, err: unknown): void;
  log(line: string): void;
}

/** What the command asks of the host (LabLive has it). */
export interface AuditHost {
  readonly scenarioRunning: boolean;
  readonly load: { readonly running: boolean };
  readonly audit: { readonly running: boolean; onProgress(listener: (v: AuditView) => void): () => void };
  startAudit(p: AuditStartParams): Promise<{ total: number; done: Promise<AuditEnd> }>;
  stopAudit(): string;
}

const KIND_TEXT: Record<AuditKind, string> = {
  kill: 'a crash: the container killed',
  pause: 'a hung host: the container paused',
  partition: 'cut off from its peers (nodes of the same role)',
};

/** The kinds and nodes, asked in two quick picks; undefined when dismissed. */
export async function askAudit(ui: AuditUi, nodes: { name: string; role: string; exempt?: string }[]): Promise<AuditStartParams | undefined> {
  const kinds = await ui.pick(
    AUDIT_KINDS.map((k) => ({ label: k, description: KIND_TEXT[k], picked: (AUDIT_DEFAULTS.kinds as readonly string[]).includes(k), id: k })),
    { title: 'Run Audit (1/2): fault kinds', placeHolder: 'each node gets each kind picked, one after the other, under load', many: true },
  );
  if (!kinds?.length) return undefined;
  const auditable = nodes.filter((n) => !n.exempt);
  const scope = await ui.pick(
    [
      { label: `All nodes (${auditable.length})`, description: auditable.map((n) => n.name).join(', '), id: 'all' },
      { label: 'Choose nodes…', description: 'some of them', id: 'some' },
    ],
    { title: 'Run Audit (2/2): nodes', placeHolder: 'which nodes to fault', many: false },
  );
  if (!scope?.length) return undefined;
  let picked: string[] | undefined;
  if (scope[0]!.id === 'some') {
    const some = await ui.pick(
      auditable.map((n) => ({ label: n.name, description: n.role, id: n.name })),
      { title: 'Run Audit: the nodes to fault', placeHolder: 'tick the nodes', many: true },
    );
    if (!some?.length) return undefined;
    picked = some.map((s) => s.id);
  }
  return { kinds: kinds.map((k) => k.id as AuditKind), ...(picked ? { nodes: picked } : {}) };
}

/** The whole command; resolves when the audit ended (or was not started). */
export async function runAuditCommand(
  host: AuditHost,
  ui: AuditUi,
  lab: string,
  nodes: () => Promise<{ name: string; role: string; exempt?: string }[]>,
): Promise<AuditEnd | undefined> {
  if (host.audit.running) {
    await ui.tell('An audit is already running: follow it in its notification or the dashboard.', true);
    return undefined;
  }
  if (host.scenarioRunning || host.load.running) {
    await ui.tell(`${host.scenarioRunning ? 'A scenario' : 'A load'} is running: stop it before the audit (the audit runs its own load).`, true);
    return undefined;
  }
  let list: { name: string; role: string; exempt?: string }[];
  try {
    list = await nodes();
  } catch (err) {
    ui.fail('Run Audit', err);
    return undefined;
  }
  const req = await askAudit(ui, list);
  if (!req) return undefined;
  const end = await ui.progress(`Audit of ${lab}`, async (report, onCancel) => {
    let started;
    try {
      started = await host.startAudit(req);
    } catch (err) {
      ui.fail('Run Audit', err);
      return undefined;
    }
    report(`${started.total} faults — Cancel heals the lab`);
    let last = '';
    const off = host.audit.onProgress((v) => {
      if (v.line !== last) report((last = v.line));
    });
    onCancel(() => {
      ui.log('audit: cancelled by the user');
      try {
        host.stopAudit();
      } catch {
        // it ended meanwhile
      }
    });
    try {
      return await started.done;
    } finally {
      off();
    }
  });
  if (!end) return undefined;
  if (!end.report) {
    ui.fail('Run Audit', new Error(end.error ?? 'the audit could not run'));
    return end;
  }
  const r = end.report;
  const spof = r.nodes.filter((n) => n.spof).map((n) => n.node);
  const text = `Audit of ${r.topology}${r.cancelled ? ' (cancelled, lab healed)' : ''}: ${r.results.length} fault${r.results.length === 1 ? '' : 's'} — ${
    spof.length ? `single point${spof.length > 1 ? 's' : ''} of failure: ${spof.join(', ')}` : 'no single point of failure'
  }`;
  ui.log(`${text}${end.file ? ` — report: ${end.file}` : ''}`);
  const pick = await ui.tell(text, spof.length > 0 || Boolean(r.cancelled), ...(end.file ? ['Open Report'] : []));
  if (pick === 'Open Report' && end.file) await ui.openFile(end.file);
  return end;
}
