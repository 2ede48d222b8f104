/**
 * Pure functions from a snapshot to the diagram: the mermaid text (rendered once per topology)
 * and the per-node view (state class, status line, tooltip) applied to the rendered SVG on every
 * snapshot. No DOM here: unit-tested in node.
 */
import { faultActionsFor } from '../src/protocol/fault-catalog';
import { nodePart, withPart } from '../src/protocol/node-part';
import type { LabSnapshot } from '../src/protocol/snapshot';
import type { DiagramListener, NodeStateSource, NodeStatus, RoleDisplay } from '../src/protocol/status';

export type NodeVisual = 'up' | 'degraded' | 'down' | 'paused' | 'maint' | 'starting';
export const NODE_VISUALS: readonly NodeVisual[] = ['up', 'degraded', 'down', 'paused', 'maint', 'starting'];

export interface NodeView {
  /** Node name, also the mermaid node id. */
  node: string;
  state: NodeVisual;
  /** First line of the node's label: its name or its role's title, with its part now (`redis1 (master)`). */
  label: string;
  /** Second line of the node's label. */
  status: string;
  title: string;
  /** True for the lab's containers, false for virtual nodes (HAProxy's DB listeners). */
  container: boolean;
}

/** Changes only when the set of nodes changes: the diagram is rendered again only then. */
export function topologyKey(s: Pick<LabSnapshot, 'nodes'>): string {
  return s.nodes.map((n) => `${n.name}:${n.role}`).join(',');
}

/** Mermaid label text: no quotes, no markup. */
const safe = (t: string | undefined) => (t ?? '…').replace(/["<>#;`]/g, ' ');

const byRole = (s: Pick<LabSnapshot, 'nodes'>, role: NodeStatus['role']) => s.nodes.filter((n) => n.role === role).map((n) => n.name);

/**
 * A node's first line: a lone node of an ungrouped role shows the role's title (`HAProxy`, `Redis`),
 * other nodes their name; either with the node's part in its service when the status gives one.
 */
function nodeLabel(s: LabSnapshot, n: NodeStatus, d: RoleDisplay | undefined): string {
  const lone = d && !d.diagram.group && byRole(s, n.role).length === 1;
  return withPart(lone ? d.diagram.title : n.name, n.container === 'running' ? nodePart(s, n.name, d) : undefined);
}

/** The roles the snapshot carries, in order. */
const rolesOf = (s: Pick<LabSnapshot, 'roles'>): RoleDisplay[] => [...s.roles].sort((a, b) => a.order - b.order);

/** A role's listeners, when the role they belong to has nodes (HAProxy's DB writer/reader in front of Galera). */
function listenersOf(s: Pick<LabSnapshot, 'nodes'>, d: RoleDisplay): DiagramListener[] {
  const via = d.diagram.via;
  return via && byRole(s, via.role).length > 0 && byRole(s, d.role).length > 0 ? via.listeners : [];
}

/**
 * The flowchart, from each role's display: single nodes or a tier box per role, users → the
 * entry, and each role linked from the one it is reached from (through listeners, when it has
 * them): HAProxy → web nodes; web → DB writer/reader listeners → Galera; web → Gluster; web → Redis.
 */
export function toMermaid(s: LabSnapshot): string {
  const views = new Map(nodeViews(s).map((v) => [v.node, v]));
  const label = (id: string) => `${id}["${safe(views.get(id)?.label)}<br/>${safe(views.get(id)?.status)}"]`;
  const roles = rolesOf(s);
  const display = new Map(roles.map((d) => [d.role, d]));
  const lines = ['flowchart LR', '  users(("users"))'];
  const sub = (id: string, title: string, nodes: string[]) => {
    if (!nodes.length) return;
    lines.push(`  subgraph ${id}["${title}"]`, '    direction TB');
    for (const n of nodes) lines.push(`    ${label(n)}`);
    lines.push('  end');
  };
  const listeners: DiagramListener[] = [];
  for (const d of roles) {
    const nodes = byRole(s, d.role);
    const own = listenersOf(s, d);
    for (const l of own) lines.push(`  ${l.id}[/"${l.label}<br/>${safe(views.get(l.id)?.status)}"/]`);
    listeners.push(...own);
    if (d.diagram.group) sub(`tier_${d.role}`, d.diagram.title, nodes);
    else for (const n of nodes) lines.push(`  ${label(n)}`);
  }
  const entry = roles
    .filter((d) => d.diagram.entry)
    .map((d) => byRole(s, d.role)[0])
    .find((n) => n !== undefined);
  if (entry) lines.push(`  users --> ${entry}`);
  for (const d of roles) {
    const from = d.diagram.from ? display.get(d.diagram.from) : undefined;
    if (!from) continue;
    const sources = byRole(s, from.role);
    const targets = byRole(s, d.role);
    if (!sources.length) continue;
    // Every node of an ungrouped role links on (both HAProxy nodes of a pair reach the web tier).
    const from_ = from.diagram.group ? [`tier_${from.role}`] : sources;
    const own = listenersOf(s, d);
    if (own.length) {
      for (const source of from_) for (const l of own) lines.push(`  ${source} --> ${l.id}`);
      for (const t of targets) for (const l of own) lines.push(`  ${l.id} -.-> ${t}`);
    } else if (d.diagram.group && from.diagram.group) {
      if (targets.length) lines.push(`  ${from_[0]} --> tier_${d.role}`);
    } else for (const source of from_) for (const t of targets) lines.push(`  ${source} --> ${t}`);
  }
  const real = s.nodes.map((n) => n.name);
  if (real.length) lines.push(`  class ${real.join(',')} labnode`);
  if (listeners.length) lines.push(`  class ${listeners.map((l) => l.id).join(',')} listener`);
  return lines.join('\n') + '\n';
}

function containerVisual(n: NodeStatus): NodeVisual | undefined {
  switch (n.container) {
    case 'running':
      return undefined;
    case 'paused':
      return 'paused';
    case 'created':
    case 'restarting':
      return 'starting';
    default:
      return 'down';
  }
}

/** What a running node's status line and colour come from: by status section, not by role. */
const SOURCE_VIEWS: Record<NodeStateSource, (s: LabSnapshot, n: NodeStatus, d: RoleDisplay) => { status: string; state?: NodeVisual } | undefined> = {
  'haproxy-server': (s, n, d) => {
    const hap = hapRow(s, n, d);
    if (!hap) return undefined;
    const st = hap.status.split(' ')[0] ?? hap.status;
    const state: NodeVisual | undefined =
      st === 'DOWN' ? 'down' : st === 'MAINT' || st === 'DRAIN' || st === 'NOLB' ? 'maint' : hap.status.includes('/') ? 'degraded' : undefined;
    return { status: hap.status, state };
  },
  galera: (s, n) => {
    const galera = s.galera.nodes.find((g) => g.name === n.name);
    if (!galera) return undefined;
    return { status: galera.state, state: galera.state === 'Donor/Desynced' ? 'maint' : !galera.ready ? 'degraded' : undefined };
  },
  brick: (s, n) => {
    const brick = s.gluster.bricks.find((b) => b.name === n.name);
    if (!brick) return undefined;
    return { status: brick.online ? 'brick online' : 'brick offline', state: brick.online ? undefined : 'degraded' };
  },
  redis: (s, n) => {
    // A Sentinel group: each node is the master or a replica (with its lag), by its own answer.
    if (s.redis.mode === 'sentinel') {
      // (The part, master or replica, is on the first line: `redis1 (master)`.)
      if (s.redis.master === n.name) return { status: s.redis.keys !== undefined ? `${s.redis.keys} keys` : 'up' };
      const r = s.redis.replicas?.find((x) => x.name === n.name);
      if (!r) return { status: 'no role', state: 'degraded' };
      return r.linkUp ? { status: r.lagBytes !== undefined ? `lag ${r.lagBytes} B` : 'link up' } : { status: 'link down', state: 'degraded' };
    }
    return { status: s.redis.up ? 'up' : 'no answer', state: s.redis.up ? undefined : 'degraded' };
  },
  haproxy: (s, n) => {
    // A node of a keepalived pair: keepalived's state, and whether it holds the virtual IP.
    const vrrp = s.lb?.nodes.find((x) => x.name === n.name);
    if (vrrp) return { status: `${vrrp.vrrp}${vrrp.holdsVip ? ' · VIP' : ''}`, state: vrrp.vrrp === 'FAULT' ? 'degraded' : undefined };
    return { status: s.haproxy.up ? 'up' : 'no answer', state: s.haproxy.up ? undefined : 'degraded' };
  },
  vip: (s) =>
    s.lb ? { status: `→ VIP ${s.lb.vip}${s.lb.holder ? ` on ${s.lb.holder}` : ' (no holder)'}`, state: s.lb.holder ? undefined : 'down' } : undefined,
};

/** The node's row among HAProxy's servers (in its role's backend, when it is a server of several). */
function hapRow(s: LabSnapshot, n: NodeStatus, d: RoleDisplay | undefined) {
  return s.haproxy.servers.find((x) => x.server === n.name && (!d?.haproxyBackend || x.backend === d.haproxyBackend));
}

/** One view per node (and per listener, e.g. HAProxy's DB writer/reader): its state class, status line and tooltip. */
export function nodeViews(s: LabSnapshot): NodeView[] {
  const views: NodeView[] = [];
  const roles = rolesOf(s);
  const display = new Map(roles.map((d) => [d.role, d]));
  const faults = (node: string) => s.activeFaults.filter((f) => f.nodes.includes(node) || f.from?.includes(node)).map((f) => f.detail);
  for (const n of s.nodes) {
    const d = display.get(n.role);
    const hap = hapRow(s, n, d);
    const galera = s.galera.nodes.find((g) => g.name === n.name);
    let state: NodeVisual = containerVisual(n) ?? (n.healthy ? 'up' : 'degraded');
    let status: string = n.container === 'running' ? (n.healthy ? 'up' : 'unhealthy') : n.container;
    const lines = [`${n.name} (${n.role}) — container ${n.container}, ${n.healthy ? 'healthy' : `unhealthy${n.detail ? `: ${n.detail}` : ''}`}`];
    if (n.container === 'running' && d?.status) {
      const v = SOURCE_VIEWS[d.status](s, n, d);
      if (v) {
        status = v.status;
        if (v.state) state = v.state;
      }
    }
    if (hap) lines.push(`HAProxy ${hap.backend}/${hap.server}: ${hap.status}${hap.checkStatus ? ` (${hap.checkStatus})` : ''}`);
    if (galera) lines.push(`wsrep ${galera.state}${galera.clusterSize !== undefined ? `, cluster size ${galera.clusterSize}` : ''}`);
    const f = faults(n.name);
    if (f.length) lines.push(`faults: ${f.join('; ')}`);
    views.push({ node: n.name, label: nodeLabel(s, n, d), state, status, title: lines.join('\n'), container: true });
  }
  for (const d of roles) {
    for (const l of d.diagram.via?.listeners ?? []) {
      const servers = s.haproxy.servers.filter((x) => x.backend === l.backend && x.server !== 'BACKEND' && x.server !== 'FRONTEND');
      if (!servers.length && !s.nodes.some((n) => n.role === d.role)) continue;
      const up = servers.filter((x) => x.status.startsWith('UP'));
      const active = l.single ? up[0]?.server : undefined;
      const state: NodeVisual = !s.haproxy.up || up.length === 0 ? 'down' : !l.single && up.length < servers.length ? 'degraded' : 'up';
      const status = l.single ? (active ? `→ ${active}` : 'none') : `${up.length}/${servers.length} up`;
      views.push({
        node: l.id,
        label: l.label,
        state,
        status,
        title: `HAProxy DB ${l.what}: ${servers.map((x) => `${x.server} ${x.status}`).join(', ') || 'no servers'}`,
        container: false,
      });
    }
  }
  return views;
}

/** The views that differ from the previous ones (what the DOM has to change). */
export function changedViews(prev: ReadonlyMap<string, NodeView>, next: NodeView[]): NodeView[] {
  return next.filter((v) => {
    const p = prev.get(v.node);
    return !p || p.state !== v.state || p.label !== v.label || p.status !== v.status || p.title !== v.title;
  });
}

/** The mermaid node id of a rendered node group (`<renderId>-flowchart-<nodeId>-<n>`). */
export function nodeIdOf(elementId: string): string | undefined {
  return /-flowchart-(.+)-\d+$/.exec(elementId)?.[1];
}

/** Actions offered for a node: what its role and state allow. */
export function nodeActions(s: LabSnapshot, node: string): string[] {
  const n = s.nodes.find((x) => x.name === node);
  if (!n) return [];
  // The fault catalog's kinds for the node's state (running: stop, kill, pause, …; paused: unpause first).
  const acts: string[] = faultActionsFor(n.container);
  const backend = s.roles.find((d) => d.role === n.role)?.drainIn;
  if (backend && n.container === 'running') {
    const hap = s.haproxy.servers.find((x) => x.server === node && x.backend === backend);
    acts.push(hap && /^(DRAIN|MAINT)/.test(hap.status) ? 'ready' : 'drain');
  }
  acts.push('heal');
  return acts;
}
