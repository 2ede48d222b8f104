/**
 * What a node role is, in one object (STYLE §11, containerlab's `nodes.Node`): its container
 * spec, environment, readiness, lifecycle hooks, the slice of `status --json` it collects, the
 * timeline events it derives, and how the UIs draw it. The engine, status, readiness and the UIs
 * loop over the registry (./index.ts); none of them switches on a role's name.
 */
import type { ContainerInfo, DockerClient } from '../docker/types';
import type { HaproxyRuntime } from './haproxy-runtime';
import type { Reporter } from '../core/reporter';
import type { HttpGet } from './http';
import type { Clock } from '../core/wait';
import type { EventSeverity, EventSource } from '../protocol/snapshot';
import type { LabStatus, Role, RoleDisplay } from '../protocol/status';
import type { WaitStrategy } from './wait-strategies';
import type { LabDefinition, RoleOptionName, RoleOptions } from './definition';
import type { LabNetworkPlan } from './lab-network';

/** The name of a role's readiness strategy (the timeout error quotes it). */
export type Readiness = 'http-stats' | 'http-health' | 'galera-synced' | 'galera-member' | 'glusterd' | 'redis-ping' | 'edge-forward';

export interface PortSpec {
  /** A name other code refers to: `moodle`, `stats`, `runtime`, `http`. */
  name: string;
  container: number;
  /** `preferred`: the state's chosen host port (default below, or the next free one); `ephemeral`: Docker picks. */
  publish: 'preferred' | 'ephemeral';
  defaultHostPort?: number;
}

/** The container spec of a role's nodes. */
export interface RoleSpec {
  role: Role;
  /** Node name: `prefix` alone for a lone node of a `bareWhenAlone` role, `prefix<n>` otherwise. */
  prefix: string;
  /** A role with one node names it `prefix` alone (`haproxy`, `redis`). */
  bareWhenAlone: boolean;
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
  /** Holds no data: a container running an older image is recreated. */
  stateless: boolean;
  /** Its nodes run Moodle's code: a Moodle lab builds the Moodle image on this role's image and runs it there. */
  runsMoodle?: boolean;
}

/**
 * Restarts are clean starts: /run (and /var/run, a link to it in the base image) is a fresh
 * tmpfs at every container start, so no pidfile, socket or lock of the previous run survives.
 * A stale pidfile whose PID number was reused made glusterd believe a brick still ran and never
 * start it again. Each entrypoint recreates the folders its daemon needs there.
 */
export const RUNTIME_TMPFS: Record<string, string> = { '/run': 'rw,nosuid,nodev,noexec,mode=0755,size=64m' };

/** What a readiness strategy is built for: one node's container. */
export interface ReadinessTarget {
  docker: DockerClient;
  state: RoleLabState;
  node: string;
  containerId: string;
  /** The host port published for `spec.readinessPort`. */
  hostPort?: number;
  http: HttpGet;
  /** The lab's topology (a role whose readiness depends on its options reads them here). */
  topology?: Topology;
}

/** What a lifecycle hook gets from the engine. */
export interface RoleHookContext {
  docker: DockerClient;
  lab: string;
  state: RoleLabState;
  topology: Topology;
  reporter: Reporter;
  clock: Clock;
  /** The labels of an object the lab creates. */
  labels: Record<string, string>;
  signal?: AbortSignal;
  /** HAProxy's runtime API on a host port (tests pass a fake). */
  runtime?: (port: number) => HaproxyRuntime;
}

export interface RoleHooks {
  /** Why an existing container cannot be reused (it is then recreated), beyond the engine's own reasons. */
  staleReason?(ctx: RoleHookContext, node: NodeSpec, found: ContainerInfo): Promise<string | undefined>;
  /** After a node's container is created, before it starts (e.g. HAProxy's configuration file). */
  afterCreate?(ctx: RoleHookContext, node: NodeSpec, id: string): Promise<void>;
  /** The order the role's nodes start in (e.g. Galera: the node to bootstrap from first). */
  startOrder?(
    ctx: RoleHookContext,
    nodes: NodeSpec[],
    ids: Map<string, string>,
    existing: Map<string, ContainerInfo>,
    created: Set<string>,
  ): Promise<NodeSpec[]>;
  /** After every node of the role is ready (e.g. the Gluster volume). */
  afterStart?(ctx: RoleHookContext, nodes: NodeSpec[], ids: Map<string, string>): Promise<void>;
  /** After every stage, before `up` returns (e.g. HAProxy's checks see every server UP). */
  afterUp?(ctx: RoleHookContext): Promise<void>;
  /** After `heal` restarted what it stopped: what the role does not repair by itself (e.g. Gluster's self-heal). */
  afterHeal?(ctx: RoleHookContext, nodes: NodeSpec[], ids: Map<string, string>): Promise<void>;
}

/** What a status collector gets: the lab's containers and the status being filled. */
export interface StatusContext {
  docker: DockerClient;
  http: HttpGet;
  runtime?: (port: number) => HaproxyRuntime;
  state: RoleLabState;
  topology: Topology;
  /** The status being collected: a collector fills its own section. */
  status: LabStatus;
  byNode: Map<string, ContainerInfo>;
  running(name: string): boolean;
  /** Each node's health verdict (nodes without one are unhealthy, "unknown"). */
  health: Map<string, { healthy: boolean; detail?: string }>;
}

/** How a failover analysis sees a fault on one of the role's nodes (src/metrics/failover.ts). */
export type FailoverSignal = 'haproxy-server' | 'galera-size' | 'brick';

export interface RoleModule {
  role: Role;
  spec: RoleSpec;
  /** Its ports when its first node is the lab's entry (the preset's `entry`); default `spec.ports`. */
  entryPorts?: PortSpec[];
  /** The environment of a node's container (the contract is lab/README.md). */
  env?(node: NodeSpec, topology: Topology, state: RoleLabState): Record<string, string>;
  /** When a started node is ready. */
  readiness(target: ReadinessTarget): WaitStrategy;
  hooks?: RoleHooks;
  /** Fills the role's slice of the status; runs even when the topology has none of its nodes. Returns its tasks. */
  collectStatus?(ctx: StatusContext, nodes: NodeSpec[]): Promise<void>[];
  /**
   * The HAProxy backend its nodes are servers of in this topology (a scenario's `haproxy:` assert
   * may name them), or undefined when HAProxy does not front them (e.g. a single Redis).
   */
  haproxyBackend?(topology: Topology): string | undefined;
  /** A node's direct URL is `http://127.0.0.1:<host port of this container port>`. */
  directUrlPort?: number;
  /** Timeline entries from two consecutive statuses, for the section it owns. */
  diff?(prev: LabStatus, next: LabStatus): DerivedEvent[];
  /**
   * What keeps the section of the status it owns from green, in a few words each ([] = green);
   * asked only when the lab has nodes of the role (`count` of them). The whole definition: ./green.ts.
   */
  greenProblems?(s: LabStatus, count: number): string[];
  failover?: FailoverSignal;
  display: RoleDisplay;
  /** Most nodes a definition may give the role (default 1). */
  maxCount?: number;
  /** Every lab has at least one node of it. */
  required?: boolean;
  /** The options (besides `count`) it implements; any other is refused as "not available yet". */
  options?: readonly RoleOptionName[];
  /** Why its entry in a definition cannot work (e.g. a count its options exclude), or undefined. */
  checkOptions?(opts: RoleOptions, def: LabDefinition): string | undefined;
  /** Nodes of other roles its options imply (e.g. `db.arbitrator` → one `arbitrator` node). */
  companions?(opts: RoleOptions): { role: Role; count: number }[];
  /** Set on a role whose nodes only come as another role's companions: why it is not listed itself. */
  companionOnly?: string;
  /**
   * Memory one idle node takes, MiB, for the "does it fit" check of a definition: the lifecycle
   * bench's per-container figures (README "Measured figures", `bench/lab-lifecycle.ts`), rounded up.
   */
  memoryMiB?: number;
  /** Its first node is the lab's entry (what users type) when no present role has a higher priority. */
  entryPriority?: number;
  /**
   * Nodes a scenario may name by what the cluster says at that moment, as `@<role>.<name>`
   * (e.g. `@lb.master`: the HAProxy keepalived says is MASTER), resolved from the status when the step runs.
   */
  nodeRefs?: Record<string, NodeRef>;
  /** Its container spec for these options (default `spec`), e.g. NET_ADMIN only on a keepalived pair's nodes. */
  specFor?(opts: RoleOptions): RoleSpec;
  /** Fixed addresses the role needs on the lab network (node names, or e.g. `vip`): the lab network then gets an address plan (./lab-network.ts). */
  fixedAddresses?(topology: Topology): string[];
}

/** The built-in labs' names. */
export type PresetName = 'ha' | 'single' | 'ha-full';

/** A node of a lab's topology: its name, role and container spec. */
export interface NodeSpec {
  name: string;
  role: Role;
  /** 1-based index within its role. */
  index: number;
  spec: RoleSpec;
  ports: PortSpec[];
}

export interface Topology {
  /** The definition's name (a built-in's name, or a lab file's `name`); kept under its old field name. */
  preset: string;
  name: string;
  /** The resolved definition it was built from (web count applied). */
  definition: LabDefinition;
  /** Each present role's options, companions included (count ≥ 1). */
  roles: Partial<Record<Role, RoleOptions>>;
  nodes: NodeSpec[];
  /** Roles in start order, grouped: every role of a group can start together. */
  stages: Role[][];
  entry: NodeSpec;
}

export function nodesOf(topology: Topology, role: Role): NodeSpec[] {
  return topology.nodes.filter((n) => n.role === role);
}

/** A role's options in the topology (count 0 when it has none of its nodes). */
export function roleOptions(topology: Topology, role: Role): RoleOptions {
  return topology.roles[role] ?? { count: 0 };
}

/** The lab's generated passwords (the engine keeps them in the lab's state file). */
export interface LabSecrets {
  dbRootPassword: string;
  dbPassword: string;
  redisPassword: string;
  moodleAdminPassword: string;
  /** Password of the generated test users (tool_generator). */
  moodleUsersPassword: string;
}

/** What roles read of the lab's state: the engine's LabState is one. */
export interface RoleLabState {
  lab: string;
  secrets: LabSecrets;
  /** Host ports by port name (`moodle`, `stats`, `runtime`). */
  ports: Record<string, number>;
  extra: { haproxyProfile?: HaproxyProfile; network?: LabNetworkPlan };
}

/** A node named by what the cluster says (see RoleModule.nodeRefs). */
export interface NodeRef {
  /** What it names, e.g. `the HAProxy holding the virtual IP (keepalived's MASTER)`. */
  what: string;
  /** Whether a topology has such a node at all (e.g. only a keepalived pair has a MASTER). */
  available(topology: Topology): boolean;
  /** The node's name now, or undefined when none is (e.g. no MASTER during a failover). */
  resolve(status: LabStatus): string | undefined;
}

/** A timeline entry a role derives from two consecutive statuses (what Docker events do not say). */
export interface DerivedEvent {
  source: EventSource;
  severity: EventSeverity;
  node?: string;
  text: string;
}

/** HAProxy's timing profile, chosen at a lab's creation (./haproxy.ts renders it). */
export type HaproxyProfile = 'tuned' | 'defaults';
