/**
 * The lab's topology as data: roles (image folder, ports, volumes, capabilities, readiness,
 * dependencies) and presets (how many nodes of each role). Everything that creates or starts
 * containers reads these tables; nothing else decides names, counts or order.
 */

import type { Role } from '../protocol/status';

export type { Role };
export type PresetName = 'ha' | 'single';
export const PRESET_NAMES: readonly PresetName[] = ['ha', 'single'];

/** How the engine decides that a node is ready (see ./readiness.ts). */
export type Readiness = 'http-stats' | 'http-health' | 'galera-synced' | 'glusterd' | 'redis-ping';

export interface PortSpec {
  /** A name other code refers to: `moodle`, `stats`, `runtime`, `http`. */
  name: string;
  container: number;
  /** `preferred`: the state's chosen host port (default below, or the next free one); `ephemeral`: Docker picks. */
  publish: 'preferred' | 'ephemeral';
  defaultHostPort?: number;
}

export interface RoleSpec {
  role: Role;
  /** Node name: `prefix` alone for singletons, `prefix<n>` otherwise. */
  prefix: string;
  /** Build context under lab/. */
  image: string;
  ports: PortSpec[];
  volumes: { suffix: string; path: string }[];
  capAdd: string[];
  devices: string[];
  /** tmpfs mounts (path → mount options): runtime state that must not survive a stop/start. */
  tmpfs: Record<string, string>;
  stopTimeoutS: number;
  readiness: Readiness;
  /** The container port an HTTP readiness check reaches through its published host port. */
  readinessPort?: number;
  /** Roles whose nodes must all be ready before this role's nodes start. */
  dependsOn: Role[];
  /** Nodes of this role start one after another (each waits for the previous one to be ready). */
  sequential: boolean;
}

/**
 * Restarts are clean starts: /run (and /var/run, a link to it in the base image) is a fresh
 * tmpfs at every container start, so no pidfile, socket or lock of the previous run survives.
 * A stale pidfile whose PID number was reused made glusterd believe a brick still ran and never
 * start it again. Each entrypoint recreates the folders its daemon needs there.
 */
export const RUNTIME_TMPFS: Record<string, string> = { '/run': 'rw,nosuid,nodev,noexec,mode=0755,size=64m' };

export const ROLES: Record<Role, RoleSpec> = {
  cache: {
    role: 'cache', prefix: 'redis', image: 'redis', ports: [], volumes: [], capAdd: [], devices: [], tmpfs: RUNTIME_TMPFS,
    stopTimeoutS: 10, readiness: 'redis-ping', dependsOn: [], sequential: false,
  },
  db: {
    role: 'db', prefix: 'galera', image: 'galera', ports: [],
    volumes: [{ suffix: 'data', path: '/var/lib/mysql' }], capAdd: [], devices: [], tmpfs: RUNTIME_TMPFS,
    // A clean shutdown writes safe_to_bootstrap: give MariaDB time for it.
    stopTimeoutS: 60, readiness: 'galera-synced', dependsOn: [],
    // Joiners one at a time: each takes a full SST from a donor.
    sequential: true,
  },
  storage: {
    role: 'storage', prefix: 'gluster', image: 'gluster', ports: [],
    volumes: [{ suffix: 'glusterd', path: '/var/lib/glusterd' }, { suffix: 'bricks', path: '/bricks' }],
    capAdd: ['SYS_ADMIN'], devices: [], tmpfs: RUNTIME_TMPFS, stopTimeoutS: 15, readiness: 'glusterd', dependsOn: [], sequential: false,
  },
  lb: {
    role: 'lb', prefix: 'haproxy', image: 'haproxy',
    ports: [
      { name: 'moodle', container: 80, publish: 'preferred', defaultHostPort: 8080 },
      { name: 'stats', container: 8404, publish: 'preferred', defaultHostPort: 8404 },
      { name: 'runtime', container: 9999, publish: 'preferred', defaultHostPort: 9999 },
    ],
    volumes: [], capAdd: [], devices: [], tmpfs: RUNTIME_TMPFS, stopTimeoutS: 5, readiness: 'http-stats', readinessPort: 8404, dependsOn: [], sequential: false,
  },
  web: {
    role: 'web', prefix: 'web', image: 'web',
    ports: [{ name: 'http', container: 80, publish: 'ephemeral' }],
    volumes: [], capAdd: ['SYS_ADMIN'], devices: ['/dev/fuse'], tmpfs: RUNTIME_TMPFS,
    stopTimeoutS: 10, readiness: 'http-health', readinessPort: 80, dependsOn: ['lb', 'db', 'storage', 'cache'], sequential: false,
  },
};

export interface PresetSpec {
  name: PresetName;
  description: string;
  counts: Record<Role, number>;
  /** The node whose port `moodle` users type: HAProxy in `ha`, the lone web node in `single`. */
  entry: 'lb' | 'web';
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

export interface NodeSpec {
  name: string;
  role: Role;
  /** 1-based index within its role. */
  index: number;
  spec: RoleSpec;
  ports: PortSpec[];
}

export interface Topology {
  preset: PresetName;
  nodes: NodeSpec[];
  /** Roles in start order, grouped: every role of a group can start together. */
  stages: Role[][];
  entry: NodeSpec;
}

export const MAX_WEB_NODES = 9;

export function nodeName(role: Role, index: number, count: number): string {
  const { prefix } = ROLES[role];
  return count === 1 && (role === 'lb' || role === 'cache') ? prefix : `${prefix}${index}`;
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
  const order: Role[] = ['lb', 'web', 'db', 'storage', 'cache'];
  const nodes: NodeSpec[] = [];
  for (const role of order) {
    for (let i = 1; i <= counts[role]; i++) {
      const spec = ROLES[role];
      let ports = spec.ports;
      // In `single` the web node is what users type: it publishes the moodle port itself.
      if (role === 'web' && p.entry === 'web' && i === 1) {
        ports = [{ name: 'moodle', container: 80, publish: 'preferred', defaultHostPort: 8080 }];
      }
      nodes.push({ name: nodeName(role, i, counts[role]), role, index: i, spec, ports });
    }
  }
  const present = new Set(nodes.map((n) => n.role));
  const stages: Role[][] = [];
  const placed = new Set<Role>();
  while (placed.size < present.size) {
    const stage = [...present].filter((r) => !placed.has(r) && ROLES[r].dependsOn.every((d) => placed.has(d) || !present.has(d)));
    if (stage.length === 0) throw new Error('topology has a dependency cycle');
    stage.forEach((r) => placed.add(r));
    stages.push(stage);
  }
  const entry = nodes.find((n) => n.role === p.entry);
  if (!entry) throw new Error(`topology "${preset}" has no ${p.entry} node`);
  return { preset, nodes, stages, entry };
}

export function nodesOf(topology: Topology, role: Role): NodeSpec[] {
  return topology.nodes.filter((n) => n.role === role);
}
