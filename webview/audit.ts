/**
 * The dashboard's audit panel: "Audit…" opens a dialog (fault kinds, nodes, users, seconds per
 * fault) that starts the audit on the host; while it runs, its live progress line ("fault 3/22:
 * pause galera2 …") and Cancel (the host heals the lab); at the end, the outcome and a link to the
 * report. It renders `LabSnapshot.audit` and sends intents; the host decides.
 */
import { AUDIT_DEFAULTS, AUDIT_KINDS, AuditKind } from '../src/protocol/audit';
import { AuditStartIntent, AuditStopIntent, Intent } from '../src/protocol/messages';
import type { LabSnapshot } from '../src/protocol/snapshot';
import { button, setDisabled, textField } from './components';
import { el } from './dom';

export type SendAudit = <P>(intent: Intent<P>, params: P) => Promise<void>;

const box = (cls: string, label: string, data: Record<string, string>, checked: boolean): HTMLLabelElement => {
  const input = el('input');
  input.type = 'checkbox';
  input.checked = checked;
  for (const [k, v] of Object.entries(data)) input.dataset[k] = v;
  return el('label', cls, input, ` ${label}`);
};

export class AuditPanel {
  readonly element: HTMLElement;
  private readonly dialog = el('section', 'audit-dialog');
  private readonly kindsBox = el('div', 'audit-kinds');
  private readonly nodesBox = el('div', 'audit-nodes');
  private readonly users = textField('users', String(AUDIT_DEFAULTS.users), { name: 'audit-users', size: 4 });
  private readonly perFault = textField('s per fault', String(AUDIT_DEFAULTS.perFaultS), { name: 'audit-per-fault', size: 4 });
  private readonly problem = el('p', 'note audit-problem');
  private readonly openBtn: HTMLElement;
  private readonly startBtn: HTMLElement;
  private readonly cancelBtn: HTMLElement;
  private readonly line = el('p', 'note audit-line', 'No audit has run yet.');
  private readonly result = el('p', 'audit-result');
  private nodesKey = '';
  private resultKey = '';

  constructor(private readonly send: SendAudit) {
    this.dialog.setAttribute('role', 'dialog');
    this.dialog.setAttribute('aria-label', 'Run the audit');
    this.dialog.hidden = true;
    this.dialog.addEventListener('change', () => (this.problem.textContent = ''));
    this.kindsBox.append(...AUDIT_KINDS.map((k) => box('audit-kind', k, { kind: k }, (AUDIT_DEFAULTS.kinds as readonly string[]).includes(k))));
    this.openBtn = button('Audit…', () => this.toggle(true), {
      action: 'audit-open',
      title: 'Fault each node in turn under load; find the single points of failure',
    });
    this.startBtn = button('Start audit', () => void this.start(), { appearance: 'primary', action: 'audit-start' });
    this.cancelBtn = button('Cancel audit', () => void this.send(AuditStopIntent, {}), { action: 'audit-stop', title: 'Stops the audit; the lab is healed' });
    const close = button('Close', () => this.toggle(false), { action: 'audit-close' });
    this.dialog.append(
      el('h4', undefined, 'Audit: each node faulted in turn, under the same load'),
      el('p', 'note', 'fault kinds'),
      this.kindsBox,
      el('p', 'note', 'nodes'),
      this.nodesBox,
      el('div', 'controls', this.users, this.perFault),
      this.problem,
      el('div', 'controls', this.startBtn, close),
    );
    this.result.hidden = true;
    this.line.setAttribute('aria-live', 'polite');
    this.element = el(
      'section',
      'panel audit-box',
      el('h3', undefined, 'Audit'),
      el('div', 'controls', this.openBtn, this.cancelBtn),
      this.dialog,
      this.line,
      this.result,
    );
  }

  private toggle(open: boolean): void {
    this.dialog.hidden = !open;
    this.problem.textContent = '';
  }

  private checked(sel: string, key: string): string[] {
    return Array.from(this.dialog.querySelectorAll<HTMLInputElement>(`${sel} input:checked`))
      .map((i) => i.dataset[key]!)
      .filter(Boolean);
  }

  private async start(): Promise<void> {
    const kinds = this.checked('.audit-kinds', 'kind') as AuditKind[];
    const nodes = this.checked('.audit-nodes', 'node');
    const all = this.nodesBox.querySelectorAll('input').length;
    const users = Number(this.users.value);
    const perFaultS = Number(this.perFault.value);
    const problem = !kinds.length
      ? 'pick at least one fault kind'
      : !nodes.length
        ? 'pick at least one node'
        : !Number.isInteger(users) || users < 1
          ? 'users: a whole number'
          : !Number.isInteger(perFaultS) || perFaultS < 8
            ? 'seconds per fault: a whole number, at least 8'
            : '';
    this.problem.textContent = problem;
    if (problem) return;
    this.dialog.hidden = true;
    await this.send(AuditStartIntent, { kinds, ...(nodes.length < all ? { nodes } : {}), users, perFaultS });
  }

  update(s: LabSnapshot): void {
    const names = s.nodes.map((n) => n.name);
    const key = names.join(',');
    if (key !== this.nodesKey) {
      this.nodesKey = key;
      this.nodesBox.replaceChildren(...s.nodes.map((n) => box('audit-node', n.name, { node: n.name }, true)));
    }
    const a = s.audit;
    const busy = Boolean(a?.running || s.scenario?.running || s.metrics?.running);
    setDisabled(this.openBtn, busy || s.state === 'absent');
    setDisabled(this.startBtn, busy);
    setDisabled(this.cancelBtn, !a?.running || Boolean(a.cancelling));
    if (busy && !this.dialog.hidden && a?.running) this.dialog.hidden = true;
    if (!a) return;
    const text = a.running ? `${a.cancelling ? 'Cancelling' : 'Running'} — ${a.line}` : a.line;
    if (this.line.textContent !== text) this.line.textContent = text;
    this.line.className = `note audit-line ${a.running ? 'running' : a.error ? 'failed' : a.spof?.length ? 'spof' : 'passed'}`;
    this.line.dataset.done = String(a.done);
    this.line.dataset.total = String(a.total);
    const rk = JSON.stringify([a.running, a.report, a.reportUrl, a.spof, a.cancelled]);
    if (rk === this.resultKey) return;
    this.resultKey = rk;
    this.result.replaceChildren();
    this.result.hidden = a.running || (!a.report && !a.spof);
    if (a.running) return;
    if (a.spof)
      this.result.append(
        el('span', a.spof.length ? 'audit-spof' : 'audit-ok', a.spof.length ? `Single points of failure: ${a.spof.join(', ')}` : 'No single point of failure'),
        a.cancelled ? ' (cancelled: the lab was healed)' : '',
      );
    if (a.reportUrl) {
      const link = el('a', 'audit-report', 'open the report');
      link.href = a.reportUrl;
      link.target = '_blank';
      link.rel = 'noopener';
      this.result.append(' — ', link);
    } else if (a.report) this.result.append(' — report: ', el('code', 'audit-report', a.report));
  }
}
