/**
 * The lab's topology as data: presets (how many nodes of each role), expanded into named nodes
 * and start stages. Each role's container spec is its role module's (src/roles); everything that
 * creates or starts containers reads these; nothing else decides names, counts or order.
 */

import type { Role } from '../protocol/status';
import { roleModule, roleModules } from '../roles';
import type { NodeSpec, PresetName, RoleSpec, Topology } from '../roles/types';

export type { NodeSpec, PresetName, Topology } from '../roles/types';
export { nodesOf } from '../roles/types';

export type { Role };
export const PRESET_NAMES: readonly PresetName[] = ['ha', 'single'];

/** Each role's container spec, from its role module (src/roles). */
export const ROLES: Readonly<Record<Role, RoleSpec>> = Object.freeze(Object.fromEntries(roleModules().map((m) => [m.role, m.spec])) as Record<Role, RoleSpec>);

export interface PresetSpec {
  name: PresetName;
  description: string;
  counts: Record<Role, number>;
  /** The node whose port `moodle` users type: HAProxy in `ha`, the lone web node in `single`. */
  entry: Role;
}

export const PRESETS: Record<PresetName, PresetSpec> = {
  ha: {
    name: 'ha',
    description: 'HAProxy, 3 web nodes, 3-node MariaDB Galera, 3-brick GlusterFS replica, Redis sessions',
    counts: { lb: 1, web: 3, db: 3, storage: 3, cache: 1 },
    entry: 'lb',
  },
  single: {
    name: 'single',
    description: 'One web node and one MariaDB: the baseline the HA setup is compared against',
    counts: { lb: 0, web: 1, db: 1, storage: 0, cache: 0 },
    entry: 'web',
  },
};

export const MAX_WEB_NODES = 9;

export function nodeName(role: Role, index: number, count: number): string {
  const { prefix, bareWhenAlone } = roleModule(role).spec;
  return count === 1 && bareWhenAlone ? prefix : `${prefix}${index}`;
}

/** Expands a preset (and an optional web-tier size) into named nodes and a start order. */
export function buildTopology(preset: PresetName, webCount?: number): Topology {
  const p = PRESETS[preset];
  if (!p) throw new Error(`unknown topology "${preset}": use one of ${PRESET_NAMES.join(', ')}`);
  const counts = { ...p.counts };
  if (webCount !== undefined) {
    if (!Number.isInteger(webCount) || webCount < 1 || webCount > MAX_WEB_NODES) {
      throw new Error(`--web must be a whole number from 1 to ${MAX_WEB_NODES}`);
    }
    if (preset === 'single' && webCount !== 1) throw new Error('the single topology has exactly one web node (use --topology ha for more)');
    counts.web = webCount;
  }
  const nodes: NodeSpec[] = [];
  for (const m of roleModules()) {
    const role = m.role;
    for (let i = 1; i <= (counts[role] ?? 0); i++) {
      const spec = m.spec;
      // The entry node publishes what users type (in `single` the web node: the moodle port itself).
      const ports = p.entry === role && i === 1 && m.entryPorts ? m.entryPorts : spec.ports;
      nodes.push({ name: nodeName(role, i, counts[role]), role, index: i, spec, ports });
    }
  }
  const present = new Set(nodes.map((n) => n.role));
  const stages: Role[][] = [];
  const placed = new Set<Role>();
  while (placed.size < present.size) {
    const stage = [...present].filter((r) => !placed.has(r) && roleModule(r).spec.dependsOn.every((d) => placed.has(d) || !present.has(d)));
    if (stage.length === 0) throw new Error('topology has a dependency cycle');
    stage.forEach((r) => placed.add(r));
    stages.push(stage);
  }
  const entry = nodes.find((n) => n.role === p.entry);
  if (!entry) throw new Error(`topology "${preset}" has no ${p.entry} node`);
  return { preset, nodes, stages, entry };
}
