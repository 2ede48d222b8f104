/**
 * The lab's topology as data: a lab definition (which roles, how many nodes, their options),
 * expanded into named nodes and start stages. Each role's container spec is its role module's
 * (src/roles); everything that creates or starts containers reads these; nothing else decides
 * names, counts or order.
 */

import type { Role } from '../protocol/status';
import { roleModule, roleModules } from '../roles';
import { MAX_WEB_NODES } from '../roles/web';
import type { LabDefinition, RoleOptionName, RoleOptions } from '../roles/definition';
import { ROLE_OPTION_NAMES } from '../roles/definition';
import type { NodeSpec, PresetName, RoleSpec, Topology } from '../roles/types';
import type { RoleModule } from '../roles/types';

export type { NodeSpec, PresetName, Topology } from '../roles/types';
export type { LabDefinition, RoleOptions } from '../roles/definition';
export { nodesOf, roleOptions } from '../roles/types';

export type { Role };

/** A role's container spec, from its role module (throws for a role this version has no module for). */
export function roleSpec(role: Role): RoleSpec {
  return roleModule(role).spec;
}

/** Each role's container spec, from its role module (src/roles). */
export const ROLES: Readonly<Partial<Record<Role, RoleSpec>>> = Object.freeze(
  Object.fromEntries(roleModules().map((m) => [m.role, m.spec])) as Partial<Record<Role, RoleSpec>>,
);

/** The built-in labs (their files: lab/topologies/<name>.lab.yaml; a unit test keeps both equal). */
export const BUILTIN_LABS: Readonly<Record<PresetName, LabDefinition>> = {
  ha: {
    name: 'ha',
    description: 'HAProxy, 3 web nodes, 3-node MariaDB Galera, 3-brick GlusterFS replica, Redis sessions',
    roles: { lb: { count: 1 }, web: { count: 3 }, db: { count: 3 }, storage: { count: 3 }, cache: { count: 1 } },
  },
  single: {
    name: 'single',
    description: 'One web node and one MariaDB: the baseline the HA setup is compared against',
    roles: { web: { count: 1 }, db: { count: 1 } },
  },
  'ha-full': {
    name: 'ha-full',
    description: 'Two HAProxy nodes with keepalived (VIP), 3 web nodes, 3-node Galera, 3-brick Gluster, Redis Sentinel',
    roles: { lb: { count: 2, keepalived: true }, web: { count: 3 }, db: { count: 3 }, storage: { count: 3 }, cache: { count: 3, mode: 'sentinel' } },
  },
};
export const PRESET_NAMES: readonly PresetName[] = Object.keys(BUILTIN_LABS) as PresetName[];

export function isPresetName(v: unknown): v is PresetName {
  return typeof v === 'string' && (PRESET_NAMES as readonly string[]).includes(v);
}

export { MAX_WEB_NODES } from '../roles/web';

/** Why a definition cannot be built; `role`/`option` say which entry (a lab file maps them to line:col). */
export class TopologyError extends Error {
  constructor(
    message: string,
    readonly role?: Role,
    readonly option?: RoleOptionName | 'count',
  ) {
    super(message);
    this.name = 'TopologyError';
  }
}

export function nodeName(role: Role, index: number, count: number): string {
  return specNodeName(roleModule(role).spec, index, count);
}

function specNodeName({ prefix, bareWhenAlone }: RoleSpec, index: number, count: number): string {
  return count === 1 && bareWhenAlone ? prefix : `${prefix}${index}`;
}

function moduleOf(role: string, modules: readonly RoleModule[]): RoleModule | undefined {
  return modules.find((m) => m.role === role);
}

/** The definition a built-in name (or a definition) stands for, with `webCount` applied. */
export function resolveDefinition(def: LabDefinition | PresetName, webCount?: number): LabDefinition {
  let d: LabDefinition;
  if (typeof def === 'string') {
    const b = BUILTIN_LABS[def];
    if (!b) throw new TopologyError(`unknown topology "${String(def)}": use one of ${PRESET_NAMES.join(', ')} or a lab file`);
    d = b;
  } else d = def;
  const roles: LabDefinition['roles'] = {};
  for (const [role, o] of Object.entries(d.roles) as [Role, RoleOptions][]) roles[role] = { ...o };
  if (webCount !== undefined) {
    if (!Number.isInteger(webCount) || webCount < 1 || webCount > MAX_WEB_NODES) {
      throw new TopologyError(`--web must be a whole number from 1 to ${MAX_WEB_NODES}`, 'web', 'count');
    }
    roles.web = { ...(roles.web ?? { count: 0 }), count: webCount };
  }
  return { ...d, roles };
}

/** A definition's web nodes. */
export function webCountOf(def: LabDefinition): number {
  return def.roles.web?.count ?? 0;
}

/** Whether two definitions give the same roles, counts and options (names and descriptions aside). */
export function sameRoles(a: LabDefinition, b: LabDefinition): boolean {
  const norm = (d: LabDefinition) =>
    JSON.stringify(
      Object.entries(d.roles)
        .filter(([, o]) => o.count > 0)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([r, o]) => [r, Object.entries(o).sort(([x], [y]) => x.localeCompare(y))]),
    );
  return norm(a) === norm(b);
}

/**
 * The memory a topology's nodes take idle (MiB), from each role's `memoryMiB` (measured figures);
 * a role without one counts 64 MiB.
 */
export function memoryEstimateMiB(topology: Topology): number {
  return topology.nodes.reduce((sum, n) => sum + (moduleOf(n.role, roleModules())?.memoryMiB ?? 64), 0);
}

/**
 * Why a topology does not fit the memory Docker has, or undefined. It must fit in half of it idle:
 * the other half is for what load, Moodle (PHP workers, caches) and Galera's state transfers add.
 */
export function memoryProblem(topology: Topology, dockerMemBytes: number): string | undefined {
  const need = memoryEstimateMiB(topology);
  const have = Math.floor(dockerMemBytes / 1024 / 1024);
  if (need * 2 <= have) return undefined;
  return `too many nodes for the memory Docker has: ${topology.nodes.length} nodes take about ${need} MiB idle, and a lab needs twice that (load, Moodle, state transfers), but Docker has ${have} MiB (\`docker info\` MemTotal): use fewer nodes or give Docker more memory`;
}

/** Checks a definition against the role modules: every role known, counts and options possible. */
export function checkDefinition(def: LabDefinition, modules: readonly RoleModule[] = roleModules()): void {
  for (const [role, opts] of Object.entries(def.roles) as [Role, RoleOptions][]) {
    const m = moduleOf(role, modules);
    if (!m) throw new TopologyError(`unknown role "${role}": roles are ${modules.map((x) => x.role).join(', ')}`, role);
    if (m.companionOnly) throw new TopologyError(`role "${role}" is not listed itself: ${m.companionOnly}`, role);
    for (const o of ROLE_OPTION_NAMES) {
      if (opts[o] === undefined) continue;
      if (!(m.options ?? []).includes(o)) {
        throw new TopologyError(
          `${role}: option "${o}" is not available yet in this version (the ${role} role takes ${m.options?.length ? m.options.join(', ') : 'no options'} besides count)`,
          role,
          o,
        );
      }
    }
    const max = m.maxCount ?? 1;
    const min = m.required ? 1 : 0;
    if (!Number.isInteger(opts.count) || opts.count < min || opts.count > max) {
      throw new TopologyError(
        `the ${role} count must be a whole number from ${min} to ${max}${max === 1 && min <= 1 ? ` (this version's ${role} role has at most one node)` : ''}`,
        role,
        'count',
      );
    }
    const why = m.checkOptions?.(opts, def);
    if (why) throw new TopologyError(`${role}: ${why}`, role, why.startsWith('count') ? 'count' : undefined);
  }
  for (const m of modules) {
    if (m.required && !(def.roles[m.role]?.count ?? 0)) throw new TopologyError(`a lab needs the ${m.role} role (at least one node)`, m.role);
  }
}

/** Expands a definition (or a built-in's name, and an optional web-tier size) into named nodes and a start order. */
/** `modules`: the role registry (tests pass their own). */
export function buildTopology(input: LabDefinition | PresetName, webCount?: number, modules: readonly RoleModule[] = roleModules()): Topology {
  const def = resolveDefinition(input, webCount);
  checkDefinition(def, modules);
  const counts = new Map<Role, number>();
  const roles: Topology['roles'] = {};
  for (const [role, o] of Object.entries(def.roles) as [Role, RoleOptions][]) {
    if (o.count > 0) {
      counts.set(role, o.count);
      roles[role] = o;
    }
  }
  // Companion nodes: what a role's options imply (an arbitrator, an edge forwarder).
  for (const [role, o] of [...counts.keys()].map((r) => [r, roles[r]!] as const)) {
    for (const c of moduleOf(role, modules)!.companions?.(o) ?? []) {
      if (!moduleOf(c.role, modules))
        throw new TopologyError(`${role}: its options need an ${c.role} node, and the ${c.role} role is not available yet in this version`, role);
      counts.set(c.role, (counts.get(c.role) ?? 0) + c.count);
      roles[c.role] = { count: counts.get(c.role)! };
    }
  }
  const present = modules.filter((m) => (counts.get(m.role) ?? 0) > 0);
  // The entry (what users type): the present role that claims it most.
  const entryRole = [...present].filter((m) => m.entryPriority !== undefined).sort((a, b) => b.entryPriority! - a.entryPriority!)[0];
  if (!entryRole) throw new TopologyError(`topology "${def.name}" has no node users could reach`);
  const nodes: NodeSpec[] = [];
  for (const m of present) {
    const n = counts.get(m.role)!;
    for (let i = 1; i <= n; i++) {
      // The entry node publishes what users type (in `single` the web node: the moodle port itself).
      const ports = m === entryRole && i === 1 && m.entryPorts ? m.entryPorts : m.spec.ports;
      nodes.push({ name: specNodeName(m.spec, i, n), role: m.role, index: i, spec: m.spec, ports });
    }
  }
  const presentRoles = new Set(present.map((m) => m.role));
  const stages: Role[][] = [];
  const placed = new Set<Role>();
  while (placed.size < presentRoles.size) {
    const stage = [...presentRoles].filter((r) => !placed.has(r) && moduleOf(r, modules)!.spec.dependsOn.every((d) => placed.has(d) || !presentRoles.has(d)));
    if (stage.length === 0) throw new TopologyError('topology has a dependency cycle');
    stage.forEach((r) => placed.add(r));
    stages.push(stage);
  }
  const entry = nodes.find((n) => n.role === entryRole.role)!;
  return { preset: def.name, name: def.name, definition: def, roles, nodes, stages, entry };
}
