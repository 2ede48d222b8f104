/**
 * The dashboard page: header (lab state, controls), tiles, topology, node action menu,
 * component panels and timeline. It renders snapshots and sends intents; it decides nothing.
 */
import { faultEntry, FaultKind, FaultRequest, menuKinds, menuParams } from '../src/protocol/fault-catalog';
import { FaultIntent, HealIntent, Intent, MaintenanceIntent, OpenNodeIntent, RefreshIntent, ReplyParams } from '../src/protocol/messages';
import type { LabSnapshot } from '../src/protocol/snapshot';
import { button, checkbox, tag, textField } from './components';
import { Diagram, MermaidLike } from './diagram';
import { el } from './dom';
import { LiveView } from './live';
import { Panels } from './panels';
import { nodeActions } from './topology';
import type { LabClient } from './client';

/** The fault kinds the node menu may offer (the fault catalog's). */
const FAULT_ACTIONS: readonly string[] = menuKinds();

export interface DashboardStats {
  renders: number;
  updates: number;
  lastUpdateMs: number;
  totalUpdateMs: number;
}

export class Dashboard {
  readonly stats: DashboardStats = { renders: 0, updates: 0, lastUpdateMs: 0, totalUpdateMs: 0 };
  private readonly diagram: Diagram;
  private readonly panels = new Panels();
  readonly live = new LiveView(<P>(intent: Intent<P>, params: P) => this.send(() => this.client?.request(intent, params)));
  private readonly stateTag = tag('…', 'state');
  private readonly revision = el('span', 'revision');
  private readonly connection = el('span', 'connection', 'connecting…');
  private readonly toast = el('div', 'toast');
  private readonly menu = el('div', 'menu');
  private readonly errorBar = el('div', 'error-bar');
  private snapshot: LabSnapshot | undefined;
  private menuNode: string | undefined;
  client: LabClient | undefined;

  constructor(
    private readonly root: HTMLElement,
    mermaid: MermaidLike,
    private readonly inVsCode: boolean,
  ) {
    const diagramHost = el('div', 'diagram');
    diagramHost.id = 'diagram';
    this.diagram = new Diagram(diagramHost, mermaid, (node, anchor) => this.openMenu(node, anchor));
    const presenter = checkbox('Presenter', false, (on) => document.body.classList.toggle('presenter', on));
    const header = el(
      'header',
      undefined,
      el('h1', undefined, 'Moodle HA Lab'),
      this.stateTag,
      this.revision,
      this.connection,
      el('span', 'spacer'),
      button('Heal all', () => void this.send(() => this.client?.request(HealIntent, {})), { appearance: 'primary', action: 'heal-all' }),
      button('Refresh', () => void this.send(() => this.client?.request(RefreshIntent, {})), { action: 'refresh' }),
      presenter,
    );
    this.menu.hidden = true;
    this.toast.hidden = true;
    this.menu.setAttribute('role', 'menu');
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.menu.hidden = true;
    });
    const timelineBox = el('section', 'panel timeline-box', el('h3', undefined, 'Timeline'), this.panels.timeline);
    root.replaceChildren(
      header,
      this.errorBar,
      this.panels.tiles,
      el('div', 'live', this.live.loadPanel, el('div', 'live-side', this.live.scenarioPanel, this.live.audit.element)),
      el('div', 'main', el('section', 'panel topology', el('h3', undefined, 'Topology'), diagramHost, this.menu), timelineBox),
      this.panels.components,
      this.toast,
    );
    root.removeAttribute('aria-busy');
  }

  setConnection(state: 'open' | 'closed'): void {
    this.connection.textContent = state === 'open' ? '● live' : '○ reconnecting…';
    this.connection.className = `connection ${state}`;
  }

  /** Applies one snapshot; returns when the diagram is up to date. */
  async update(s: LabSnapshot): Promise<void> {
    const t0 = performance.now();
    this.snapshot = s;
    this.stateTag.textContent = s.state;
    this.stateTag.className = `state ${s.state}`;
    this.revision.textContent = `rev ${s.revision}`;
    const problem = s.error
      ? `Last refresh failed: ${s.error}`
      : s.state === 'absent'
        ? `Lab "${s.lab}" does not exist yet: start it (Start Lab, or \`npm run lab -- up\`).`
        : '';
    this.errorBar.textContent = problem;
    this.errorBar.hidden = !problem;
    this.panels.update(s);
    this.live.update(s);
    if (!this.diagram.applyIfRendered(s)) await this.diagram.update(s);
    if (this.menuNode && !this.menu.hidden) this.fillMenu(this.menuNode);
    this.stats.renders = this.diagram.renders;
    this.stats.updates += 1;
    this.stats.lastUpdateMs = performance.now() - t0;
    this.stats.totalUpdateMs += this.stats.lastUpdateMs;
  }

  private openMenu(node: string, anchor: Element): void {
    this.menuNode = node;
    const box = anchor.getBoundingClientRect();
    const host = this.menu.parentElement?.getBoundingClientRect();
    this.menu.style.left = `${Math.max(0, box.right - (host?.left ?? 0) + 4)}px`;
    this.menu.style.top = `${Math.max(0, box.top - (host?.top ?? 0))}px`;
    this.fillMenu(node);
    this.menu.hidden = false;
  }

  private fillMenu(node: string): void {
    if (!this.snapshot) return;
    const key = `${node}|${nodeActions(this.snapshot, node).join(',')}`;
    if (this.menu.dataset.key === key) return;
    this.menu.dataset.key = key;
    this.menu.dataset.node = node;
    // One field per parameter a fault action needs (delay: ms, loss: %), named after its kind.
    const fields = new Map<string, { value: string }>();
    const items: HTMLElement[] = [];
    for (const a of nodeActions(this.snapshot, node)) {
      items.push(button(a, () => void this.act(node, a, fields), { action: a, appearance: a === 'heal' ? 'primary' : 'secondary' }));
      menuParams(a).forEach((p, i) => {
        const field = textField(p.unit, String(p.uiDefault), { name: i === 0 ? a : `${a}-${p.option}` });
        fields.set(`${a}.${p.field}`, field);
        items.push(field);
      });
    }
    if (this.inVsCode) {
      items.push(button('logs', () => void this.send(() => this.client?.request(OpenNodeIntent, { node, what: 'logs' })), { action: 'logs' }));
      items.push(button('shell', () => void this.send(() => this.client?.request(OpenNodeIntent, { node, what: 'shell' })), { action: 'shell' }));
    }
    const close = button('×', () => (this.menu.hidden = true), { appearance: 'icon', title: 'Close', action: 'close' });
    this.menu.replaceChildren(el('div', 'menu-title', el('strong', undefined, node), close), el('div', 'menu-items', ...items));
  }

  private act(node: string, action: string, fields: ReadonlyMap<string, { value: string }>): Promise<void> {
    const c = this.client;
    if (!c) return Promise.resolve();
    this.menu.hidden = true;
    if (action === 'heal') return this.send(() => c.request(HealIntent, { node }));
    if (action === 'drain' || action === 'ready') return this.send(() => c.request(MaintenanceIntent, { on: action === 'drain', node }));
    if (FAULT_ACTIONS.includes(action) && faultEntry(action)) {
      const request: FaultRequest = { kind: action as FaultKind, nodes: [node] };
      for (const p of menuParams(action)) {
        const v = Number(fields.get(`${action}.${p.field}`)?.value);
        request[p.field] = Number.isFinite(v) ? v : p.uiDefault;
      }
      return this.send(() => c.request(FaultIntent, { request }));
    }
    return Promise.resolve();
  }

  private async send(fn: () => Promise<ReplyParams> | undefined): Promise<void> {
    this.showToast('working…', 'info');
    const r = await fn();
    if (!r) return;
    this.showToast(
      r.ok ? (r.detail ?? 'done') : r.stale ? `The lab changed under you: ${r.error}` : `Failed: ${r.error}`,
      r.ok ? 'ok' : 'error',
      r.ok ? r.url : undefined,
    );
  }

  private showToast(text: string, kind: 'ok' | 'error' | 'info', url?: string): void {
    this.toast.textContent = text;
    if (url) {
      const a = el('a', 'toast-link', 'open the report');
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener';
      this.toast.append(' — ', a);
    }
    this.toast.className = `toast ${kind}`;
    this.toast.hidden = false;
  }
}
