/**
 * Pure functions from a snapshot to the diagram: the mermaid text (rendered once per topology)
 * and the per-node view (state class, status line, tooltip) applied to the rendered SVG on every
 * snapshot. No DOM here: unit-tested in node.
 */
import { faultActionsFor } from '../src/protocol/fault-catalog';
import type { LabSnapshot } from '../src/protocol/snapshot';
import type { NodeStatus } from '../src/protocol/status';

export type NodeVisual = 'up' | 'degraded' | 'down' | 'paused' | 'maint' | 'starting';
export const NODE_VISUALS: readonly NodeVisual[] = ['up', 'degraded', 'down', 'paused', 'maint', 'starting'];

export interface NodeView {
  /** Node name, also the mermaid node id. */
  node: string;
  state: NodeVisual;
  /** Second line of the node's label. */
  status: string;
  title: string;
  /** True for the lab's containers, false for virtual nodes (HAProxy's DB listeners). */
  container: boolean;
}

/** Virtual nodes: HAProxy's DB listeners (they live in the haproxy container). */
export const LISTENERS = { writer: 'dbwriter', reader: 'dbreader' } as const;

/** Changes only when the set of nodes changes: the diagram is rendered again only then. */
export function topologyKey(s: Pick<LabSnapshot, 'nodes'>): string {
  return s.nodes.map((n) => `${n.name}:${n.role}`).join(',');
}

/** Mermaid label text: no quotes, no markup. */
const safe = (t: string | undefined) => (t ?? '…').replace(/["<>#;`]/g, ' ');

const byRole = (s: Pick<LabSnapshot, 'nodes'>, role: NodeStatus['role']) => s.nodes.filter((n) => n.role === role).map((n) => n.name);

/** The flowchart: HAProxy → web nodes; web → DB writer/reader listeners → Galera; web → Gluster; web → Redis. */
export function toMermaid(s: LabSnapshot): string {
  const views = new Map(nodeViews(s).map((v) => [v.node, v]));
  const label = (id: string, name: string) => `${id}["${name}<br/>${safe(views.get(id)?.status)}"]`;
  const lb = byRole(s, 'lb');
  const web = byRole(s, 'web');
  const db = byRole(s, 'db');
  const storage = byRole(s, 'storage');
  const cache = byRole(s, 'cache');
  const lines = ['flowchart LR', '  users(("users"))'];
  const sub = (id: string, title: string, nodes: string[]) => {
    if (!nodes.length) return;
    lines.push(`  subgraph ${id}["${title}"]`, '    direction TB');
    for (const n of nodes) lines.push(`    ${label(n, n)}`);
    lines.push('  end');
  };
  for (const n of lb) lines.push(`  ${label(n, 'HAProxy')}`);
  sub('tier_web', 'Moodle web', web);
  const listeners = lb.length > 0 && db.length > 0;
  if (listeners) {
    lines.push(`  ${LISTENERS.writer}[/"DB writer<br/>${safe(views.get(LISTENERS.writer)?.status)}"/]`);
    lines.push(`  ${LISTENERS.reader}[/"DB readers<br/>${safe(views.get(LISTENERS.reader)?.status)}"/]`);
  }
  sub('tier_db', 'Galera', db);
  sub('tier_storage', 'Gluster', storage);
  for (const n of cache) lines.push(`  ${label(n, 'Redis')}`);
  const entry = lb[0] ?? web[0];
  if (entry) lines.push(`  users --> ${entry}`);
  if (lb[0]) for (const w of web) lines.push(`  ${lb[0]} --> ${w}`);
  if (web.length) {
    if (listeners) {
      lines.push(`  tier_web --> ${LISTENERS.writer}`, `  tier_web --> ${LISTENERS.reader}`);
      for (const g of db) lines.push(`  ${LISTENERS.writer} -.-> ${g}`, `  ${LISTENERS.reader} -.-> ${g}`);
    } else if (db.length) lines.push('  tier_web --> tier_db');
    if (storage.length) lines.push('  tier_web --> tier_storage');
    for (const r of cache) lines.push(`  tier_web --> ${r}`);
  }
  const real = s.nodes.map((n) => n.name);
  if (real.length) lines.push(`  class ${real.join(',')} labnode`);
  if (listeners) lines.push(`  class ${LISTENERS.writer},${LISTENERS.reader} listener`);
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

/** One view per node (and per DB listener): its state class, status line and tooltip. */
export function nodeViews(s: LabSnapshot): NodeView[] {
  const views: NodeView[] = [];
  const faults = (node: string) => s.activeFaults.filter((f) => f.nodes.includes(node) || f.from?.includes(node)).map((f) => f.detail);
  for (const n of s.nodes) {
    const hap = s.haproxy.servers.find((x) => x.server === n.name && (n.role !== 'db' || x.backend === 'db_writer'));
    const galera = s.galera.nodes.find((g) => g.name === n.name);
    const brick = s.gluster.bricks.find((b) => b.name === n.name);
    let state: NodeVisual = containerVisual(n) ?? (n.healthy ? 'up' : 'degraded');
    let status: string = n.container === 'running' ? (n.healthy ? 'up' : 'unhealthy') : n.container;
    const lines = [`${n.name} (${n.role}) — container ${n.container}, ${n.healthy ? 'healthy' : `unhealthy${n.detail ? `: ${n.detail}` : ''}`}`];
    if (n.container === 'running') {
      if (n.role === 'web' && hap) {
        const st = hap.status.split(' ')[0] ?? hap.status;
        status = hap.status;
        if (st === 'DOWN') state = 'down';
        else if (st === 'MAINT' || st === 'DRAIN' || st === 'NOLB') state = 'maint';
        else if (hap.status.includes('/')) state = 'degraded';
      } else if (n.role === 'db' && galera) {
        status = galera.state;
        if (galera.state === 'Donor/Desynced') state = 'maint';
        else if (!galera.ready) state = 'degraded';
      } else if (n.role === 'storage' && brick) {
        status = brick.online ? 'brick online' : 'brick offline';
        if (!brick.online) state = 'degraded';
      } else if (n.role === 'cache') {
        status = s.redis.up ? 'up' : 'no answer';
        if (!s.redis.up) state = 'degraded';
      } else if (n.role === 'lb') {
        status = s.haproxy.up ? 'up' : 'no answer';
        if (!s.haproxy.up) state = 'degraded';
      }
    }
    if (hap) lines.push(`HAProxy ${hap.backend}/${hap.server}: ${hap.status}${hap.checkStatus ? ` (${hap.checkStatus})` : ''}`);
    if (galera) lines.push(`wsrep ${galera.state}${galera.clusterSize !== undefined ? `, cluster size ${galera.clusterSize}` : ''}`);
    const f = faults(n.name);
    if (f.length) lines.push(`faults: ${f.join('; ')}`);
    views.push({ node: n.name, state, status, title: lines.join('\n'), container: true });
  }
  for (const [key, backend, what] of [
    [LISTENERS.writer, 'db_writer', 'writer'],
    [LISTENERS.reader, 'db_reader', 'readers'],
  ] as const) {
    const servers = s.haproxy.servers.filter((x) => x.backend === backend && x.server !== 'BACKEND' && x.server !== 'FRONTEND');
    if (!servers.length && !s.nodes.some((n) => n.role === 'db')) continue;
    const up = servers.filter((x) => x.status.startsWith('UP'));
    const active = backend === 'db_writer' ? up[0]?.server : undefined;
    const state: NodeVisual = !s.haproxy.up || up.length === 0 ? 'down' : backend === 'db_reader' && up.length < servers.length ? 'degraded' : 'up';
    const status = backend === 'db_writer' ? (active ? `→ ${active}` : 'none') : `${up.length}/${servers.length} up`;
    views.push({ node: key, state, status, title: `HAProxy DB ${what}: ${servers.map((x) => `${x.server} ${x.status}`).join(', ') || 'no servers'}`, container: false });
  }
  return views;
}

/** The views that differ from the previous ones (what the DOM has to change). */
export function changedViews(prev: ReadonlyMap<string, NodeView>, next: NodeView[]): NodeView[] {
  return next.filter((v) => {
    const p = prev.get(v.node);
    return !p || p.state !== v.state || p.status !== v.status || p.title !== v.title;
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
  if (n.role === 'web' && n.container === 'running') {
    const hap = s.haproxy.servers.find((x) => x.server === node && x.backend === 'web');
    acts.push(hap && /^(DRAIN|MAINT)/.test(hap.status) ? 'ready' : 'drain');
  }
  acts.push('heal');
  return acts;
}
