/** Tiles, component panels and the event timeline, updated from each snapshot. */
import type { LabSnapshot, TimelineEvent } from '../src/protocol/snapshot';
import type { PanelKind } from '../src/protocol/status';
import { el, fillTable, table } from './dom';
import { Sparkline } from './sparkline';

const DASH = '—';
const pct = (v: number | undefined, digits = 2) => (v === undefined ? DASH : `${(v * 100).toFixed(digits)} %`);

/** Tile texts; "—" when no load runs (metrics absent). Pure: unit-tested. */
export function tileValues(s: LabSnapshot): { key: string; label: string; value: string; state?: 'ok' | 'warn' | 'bad' }[] {
  // A run that has not completed a request yet has no figures.
  const m = s.metrics && (s.metrics.requests ?? 1) > 0 ? s.metrics : undefined;
  const up = s.nodes.filter((n) => n.container === 'running' && n.healthy).length;
  return [
    {
      key: 'availability',
      label: 'Availability',
      value: pct(m?.availability),
      state: m ? (m.availability >= 0.999 ? 'ok' : m.availability >= 0.99 ? 'warn' : 'bad') : undefined,
    },
    {
      key: 'errors',
      label: 'Error rate',
      value: pct(m?.errorRate),
      state: m ? (m.errorRate <= 0.001 ? 'ok' : m.errorRate <= 0.01 ? 'warn' : 'bad') : undefined,
    },
    { key: 'apdex', label: 'Apdex', value: m ? m.apdex.toFixed(2) : DASH, state: m ? (m.apdex >= 0.94 ? 'ok' : m.apdex >= 0.85 ? 'warn' : 'bad') : undefined },
    { key: 'p95', label: 'p95 latency', value: m ? `${Math.round(m.p95Ms)} ms` : DASH },
    { key: 'nodes', label: 'Nodes healthy', value: `${up}/${s.nodes.length}`, state: up === s.nodes.length ? 'ok' : 'bad' },
    { key: 'faults', label: 'Active faults', value: String(s.activeFaults.length), state: s.activeFaults.length ? 'warn' : 'ok' },
  ];
}

const time = (ms: number) => new Date(ms).toLocaleTimeString(undefined, { hour12: false });

/** One component panel's content: a table and a note. Pure: unit-tested. */
export interface PanelView {
  /** A status section (`haproxy`, `galera`, …), or `role-<role>` for a role without one. */
  key: string;
  title: string;
  headers: string[];
  rows: (string | number | undefined)[][];
  /** Row classes (`st-up`, `st-down`, `st-maint`). */
  classes: string[];
  note: string;
}

type PanelContent = Omit<PanelView, 'key' | 'title' | 'headers'>;

/** The panels of the status sections (one per section, whichever roles show their nodes there). */
const SECTION_PANELS: Record<PanelKind, { title: string; headers: string[]; content(s: LabSnapshot): PanelContent }> = {
  haproxy: {
    title: 'HAProxy servers',
    headers: ['backend', 'server', 'status', 'check', 'sessions', 'retries', 'redispatches', '5xx'],
    content(s) {
      const servers = s.haproxy.servers.filter((x) => x.server !== 'FRONTEND' && x.server !== 'BACKEND');
      return {
        rows: servers.map((x) => [x.backend, x.server, x.status, x.checkStatus, x.sessions, x.retries, x.redispatches, x.http5xx]),
        classes: servers.map((x) => `st-${/^UP/.test(x.status) ? 'up' : /^(DRAIN|MAINT)/.test(x.status) ? 'maint' : 'down'}`),
        note: [
          s.lb
            ? `virtual IP ${s.lb.vip} on ${s.lb.holder ?? 'no HAProxy'} (${s.lb.nodes.map((n) => `${n.name} ${n.vrrp}`).join(', ')})${s.haproxy.node ? `; servers as ${s.haproxy.node} sees them` : ''}`
            : '',
          s.haproxy.error ? `error: ${s.haproxy.error}` : s.haproxy.up ? '' : 'HAProxy does not answer',
        ]
          .filter(Boolean)
          .join('; '),
      };
    },
  },
  galera: {
    title: 'Galera (wsrep)',
    headers: ['node', 'state', 'ready', 'cluster size', 'cluster status', 'flow ctl paused', 'recv queue'],
    content: (s) => ({
      rows: s.galera.nodes.map((g) => [
        g.name,
        g.state,
        g.ready ? 'yes' : 'no',
        g.clusterSize,
        g.clusterStatus,
        g.flowControlPaused?.toFixed(3),
        g.recvQueueAvg?.toFixed(2),
      ]),
      classes: s.galera.nodes.map((g) => (g.ready ? 'st-up' : 'st-down')),
      note: `cluster: ${s.galera.status}, size ${s.galera.clusterSize}`,
    }),
  },
  gluster: {
    title: 'Gluster bricks',
    headers: ['brick', 'online'],
    content: (s) => ({
      rows: s.gluster.bricks.map((b) => [b.name, b.online ? 'online' : 'OFFLINE']),
      classes: s.gluster.bricks.map((b) => (b.online ? 'st-up' : 'st-down')),
      note: `${s.gluster.volume ?? 'volume'}${s.gluster.started ? '' : ' (not started)'} — pending heals: ${s.gluster.healPending}${s.gluster.error ? ` — ${s.gluster.error}` : ''}`,
    }),
  },
  redis: {
    title: 'Redis',
    // One row per node in a Sentinel group (its role by its own answer, what its sentinel names).
    headers: ['node', 'role', 'up', 'lag (bytes)', 'sentinel names', 'keys', 'memory'],
    content(s) {
      const memory = s.redis.usedMemoryBytes !== undefined ? `${(s.redis.usedMemoryBytes / 1048576).toFixed(1)} MiB` : undefined;
      if (s.redis.mode !== 'sentinel') {
        return {
          rows: [[s.redis.master ?? 'redis', 'single', s.redis.up ? 'up' : 'DOWN', undefined, undefined, s.redis.keys, memory]],
          classes: [s.redis.up ? 'st-up' : 'st-down'],
          note: s.redis.error ?? '',
        };
      }
      // The nodes of the role(s) this panel draws (the role modules' `display.panel`), not a role name.
      const panelRoles = new Set(s.roles.filter((d) => d.panel === 'redis').map((d) => d.role));
      const names = s.nodes.filter((n) => panelRoles.has(n.role)).map((n) => n.name);
      const rows = names.map((name) => {
        const r = s.redis.replicas?.find((x) => x.name === name);
        const master = s.redis.master === name;
        const sentinel = s.redis.sentinels?.find((x) => x.name === name);
        return {
          row: [
            name,
            master ? 'master' : r ? `replica of ${r.masterHost ?? '?'}` : '—',
            master ? (s.redis.up ? 'up' : 'DOWN') : r ? (r.linkUp ? 'link up' : 'link DOWN') : 'DOWN',
            r?.lagBytes,
            sentinel?.up ? (sentinel.master ?? 'nobody') : 'no answer',
            master ? s.redis.keys : undefined,
            master ? memory : undefined,
          ],
          cls: master ? (s.redis.up ? 'st-up' : 'st-down') : r?.linkUp ? 'st-up' : 'st-down',
        };
      });
      return {
        rows: rows.map((x) => x.row),
        classes: rows.map((x) => x.cls),
        note: `Sentinel: master ${s.redis.master ?? 'none'}${s.redis.error ? ` — ${s.redis.error}` : ''}`,
      };
    },
  },
};

/**
 * The component panels, in role order: each role's section panel (once, however many roles show
 * their nodes there), and for a role without one, a table of its nodes. Pure: unit-tested.
 */
export function panelViews(s: LabSnapshot): PanelView[] {
  const out: PanelView[] = [];
  const seen = new Set<string>();
  for (const d of [...s.roles].sort((a, b) => a.order - b.order)) {
    const key = d.panel ?? `role-${d.role}`;
    if (seen.has(key)) continue;
    if (d.panel) {
      seen.add(key);
      const p = SECTION_PANELS[d.panel];
      out.push({ key, title: p.title, headers: p.headers, ...p.content(s) });
      continue;
    }
    const nodes = s.nodes.filter((n) => n.role === d.role);
    if (!nodes.length) continue;
    seen.add(key);
    out.push({
      key,
      title: d.label,
      headers: ['node', 'container', 'health'],
      rows: nodes.map((n) => [n.name, n.container, n.healthy ? 'healthy' : `unhealthy${n.detail ? ` (${n.detail})` : ''}`]),
      classes: nodes.map((n) => (n.container === 'running' && n.healthy ? 'st-up' : 'st-down')),
      note: '',
    });
  }
  return out;
}

export class Panels {
  readonly tiles = el('div', 'tiles');
  readonly components = el('div', 'components');
  readonly timeline = el('ol', 'timeline');
  private readonly tileEls = new Map<string, { box: HTMLElement; value: HTMLElement }>();
  /** Component panels by key, appended in the order they first appear. */
  private readonly panels = new Map<string, ReturnType<typeof table>>();
  private lastSeq = -1;
  private readonly latency = new Sparkline();

  constructor() {
    // The section panels exist from the start (empty until the first snapshot); a role without one gets its table when its nodes appear.
    for (const [key, p] of Object.entries(SECTION_PANELS)) {
      const ref = table(p.title, p.headers);
      this.components.append(ref.section);
      this.panels.set(key, ref);
    }
  }

  update(s: LabSnapshot): void {
    for (const t of tileValues(s)) {
      let ref = this.tileEls.get(t.key);
      if (!ref) {
        const value = el('div', 'tile-value');
        const box = el('div', 'tile', el('div', 'tile-label', t.label), value);
        box.dataset.tile = t.key;
        if (t.key === 'p95') box.append(this.latency.element);
        this.tiles.append(box);
        ref = { box, value };
        this.tileEls.set(t.key, ref);
      }
      if (ref.value.textContent !== t.value) ref.value.textContent = t.value;
      const cls = `tile ${t.state ?? 'none'}`;
      if (ref.box.className !== cls) ref.box.className = cls;
    }
    this.latency.update((s.metrics?.series ?? []).map((p) => p.p95Ms));
    for (const p of panelViews(s)) {
      let ref = this.panels.get(p.key);
      if (!ref) {
        ref = table(p.title, p.headers);
        this.components.append(ref.section);
        this.panels.set(p.key, ref);
      }
      fillTable(ref.body, p.rows, (i) => p.classes[i]);
      if (ref.note.textContent !== p.note) ref.note.textContent = p.note;
    }
    this.updateTimeline(s.events);
  }

  private updateTimeline(events: TimelineEvent[]): void {
    const last = events.at(-1)?.seq ?? 0;
    if (last === this.lastSeq) return;
    const fresh = events.filter((e) => e.seq > this.lastSeq).slice(-60);
    this.lastSeq = last;
    for (const e of fresh) {
      const li = el('li', `ev ${e.severity}`, el('time', undefined, time(e.atMs)), el('span', 'src', e.source), el('span', 'text', e.text));
      if (e.node) li.dataset.node = e.node;
      if (e.external) {
        li.classList.add('external');
        li.querySelector('.text')?.prepend(el('span', 'ext-tag', 'external'), ' ');
      }
      this.timeline.prepend(li);
    }
    while (this.timeline.childElementCount > 80) this.timeline.lastElementChild?.remove();
  }
}
