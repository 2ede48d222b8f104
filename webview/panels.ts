/** Tiles, component panels and the event timeline, updated from each snapshot. */
import type { LabSnapshot, TimelineEvent } from '../src/protocol/snapshot';
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
    { key: 'availability', label: 'Availability', value: pct(m?.availability), state: m ? (m.availability >= 0.999 ? 'ok' : m.availability >= 0.99 ? 'warn' : 'bad') : undefined },
    { key: 'errors', label: 'Error rate', value: pct(m?.errorRate), state: m ? (m.errorRate <= 0.001 ? 'ok' : m.errorRate <= 0.01 ? 'warn' : 'bad') : undefined },
    { key: 'apdex', label: 'Apdex', value: m ? m.apdex.toFixed(2) : DASH, state: m ? (m.apdex >= 0.94 ? 'ok' : m.apdex >= 0.85 ? 'warn' : 'bad') : undefined },
    { key: 'p95', label: 'p95 latency', value: m ? `${Math.round(m.p95Ms)} ms` : DASH },
    { key: 'nodes', label: 'Nodes healthy', value: `${up}/${s.nodes.length}`, state: up === s.nodes.length ? 'ok' : 'bad' },
    { key: 'faults', label: 'Active faults', value: String(s.activeFaults.length), state: s.activeFaults.length ? 'warn' : 'ok' },
  ];
}

const time = (ms: number) => new Date(ms).toLocaleTimeString(undefined, { hour12: false });

export class Panels {
  readonly tiles = el('div', 'tiles');
  readonly components = el('div', 'components');
  readonly timeline = el('ol', 'timeline');
  private readonly tileEls = new Map<string, { box: HTMLElement; value: HTMLElement }>();
  private readonly hap = table('HAProxy servers', ['backend', 'server', 'status', 'check', 'sessions', 'retries', 'redispatches', '5xx']);
  private readonly galera = table('Galera (wsrep)', ['node', 'state', 'ready', 'cluster size', 'cluster status', 'flow ctl paused', 'recv queue']);
  private readonly gluster = table('Gluster bricks', ['brick', 'online']);
  private readonly redis = table('Redis', ['up', 'keys', 'memory']);
  private lastSeq = -1;
  private readonly latency = new Sparkline();

  constructor() {
    this.components.append(this.hap.section, this.galera.section, this.gluster.section, this.redis.section);
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
    const servers = s.haproxy.servers.filter((x) => x.server !== 'FRONTEND' && x.server !== 'BACKEND');
    fillTable(
      this.hap.body,
      servers.map((x) => [x.backend, x.server, x.status, x.checkStatus, x.sessions, x.retries, x.redispatches, x.http5xx]),
      (i) => `st-${/^UP/.test(servers[i]?.status ?? '') ? 'up' : /^(DRAIN|MAINT)/.test(servers[i]?.status ?? '') ? 'maint' : 'down'}`,
    );
    this.hap.note.textContent = s.haproxy.error ? `error: ${s.haproxy.error}` : s.haproxy.up ? '' : 'HAProxy does not answer';
    fillTable(
      this.galera.body,
      s.galera.nodes.map((g) => [g.name, g.state, g.ready ? 'yes' : 'no', g.clusterSize, g.clusterStatus, g.flowControlPaused?.toFixed(3), g.recvQueueAvg?.toFixed(2)]),
      (i) => (s.galera.nodes[i]?.ready ? 'st-up' : 'st-down'),
    );
    this.galera.note.textContent = `cluster: ${s.galera.status}, size ${s.galera.clusterSize}`;
    fillTable(this.gluster.body, s.gluster.bricks.map((b) => [b.name, b.online ? 'online' : 'OFFLINE']), (i) => (s.gluster.bricks[i]?.online ? 'st-up' : 'st-down'));
    this.gluster.note.textContent = `${s.gluster.volume ?? 'volume'}${s.gluster.started ? '' : ' (not started)'} — pending heals: ${s.gluster.healPending}${s.gluster.error ? ` — ${s.gluster.error}` : ''}`;
    fillTable(this.redis.body, [[s.redis.up ? 'up' : 'DOWN', s.redis.keys, s.redis.usedMemoryBytes !== undefined ? `${(s.redis.usedMemoryBytes / 1048576).toFixed(1)} MiB` : undefined]], () => (s.redis.up ? 'st-up' : 'st-down'));
    this.redis.note.textContent = s.redis.error ?? '';
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
      this.timeline.prepend(li);
    }
    while (this.timeline.childElementCount > 80) this.timeline.lastElementChild?.remove();
  }
}
