/**
 * The lab's state as `status --json` prints it and as the dashboard renders it.
 * Field names are a contract (shared/docs/ARCHITECTURE.md): checks rely on them.
 * No node or vscode imports here: the webview imports this module too.
 */

/** `edge`: the forwarder in front of a virtual IP; `arbitrator`: Galera's garbd (both come as companions of other roles' options). */
export type Role = 'lb' | 'web' | 'db' | 'storage' | 'cache' | 'edge' | 'arbitrator';
export type LabState = 'running' | 'partial' | 'stopped' | 'absent';
export type ContainerStatus = 'running' | 'paused' | 'exited' | 'missing' | 'created' | 'restarting' | 'dead';

export interface NodeStatus {
  name: string;
  role: Role;
  container: ContainerStatus;
  healthy: boolean;
  /** Why the node is not healthy, in a few words. */
  detail?: string;
  /** Direct URL of a web node (bypassing HAProxy), when published. */
  url?: string;
}

export interface HaproxyServerStatus {
  backend: string;
  server: string;
  /** UP, DOWN, MAINT, DRAIN, NOLB, or a transition such as "UP 1/2". */
  status: string;
  /** HAProxy's own status text when it differs in form (e.g. "MAINT (resolution)" → status DOWN). */
  rawStatus?: string;
  checkStatus?: string;
  checkDurationMs?: number;
  lastChangeS?: number;
  checkFailures?: number;
  downtimeS?: number;
  sessions?: number;
  queue?: number;
  requestRate?: number;
  http5xx?: number;
  connErrors?: number;
  respErrors?: number;
  retries?: number;
  redispatches?: number;
  responseTimeMs?: number;
  totalTimeMs?: number;
}

export interface GaleraNodeStatus {
  name: string;
  state: string;
  ready: boolean;
  clusterSize?: number;
  clusterStatus?: string;
  connected?: boolean;
  flowControlPaused?: number;
  recvQueueAvg?: number;
  error?: string;
}

/** A fault in force, as recorded in the lab's state by whichever process applied it. */
export interface FaultStatus {
  /** stop, kill, pause, disconnect, delay, loss, partition. */
  kind: string;
  /** The node it acts on (a partition's first node; `nodes` lists them all). */
  node: string;
  /** When it was applied (ISO time). */
  since: string;
  id: string;
  nodes: string[];
  /** `partition`: the other side. */
  from?: string[];
  /** e.g. "loss web2 10%". */
  detail: string;
  /** When it reverts by itself (`--for`). */
  until?: string;
  delayMs?: number;
  jitterMs?: number;
  lossPct?: number;
  rateKbit?: number;
  /** Link faults: only the traffic between the node and these nodes. */
  to?: string[];
  /** A repeating fault's schedule (`--every`): its period and how long each time lasts. */
  everyMs?: number;
  forMs?: number;
  /** A cycle of the repeating fault with this id. */
  cycleOf?: string;
  /** Link faults: how it is applied. */
  method?: string;
}

/**
 * A link impairment (delay, loss, rate) as the node really has it: the method (`netem`, `nfqueue`
 * — the userspace delayer —, `tbf`) and whether it is in force now, read from Docker (the node's
 * and the delayer's start times and states), not from what was asked.
 */
export interface ImpairmentStatus {
  node: string;
  kind: string;
  /** `netem`, `nfqueue`, `tbf`; `pending` while it is being applied. */
  method: string;
  faultId: string;
  delayMs?: number;
  jitterMs?: number;
  lossPct?: number;
  rateKbit?: number;
  to?: string[];
  /** False when it is no longer applied (the node restarted since, the delayer exited): `problem` says why. */
  inForce: boolean;
  problem?: string;
  /** Not in force because its rules are outdated (the node restarted, a `to` peer has a new address): setting them again restores it. */
  stale?: boolean;
}

export interface LabStatus {
  lab: string;
  state: LabState;
  preset?: string;
  revision?: number;
  collectedAt: string;
  nodes: NodeStatus[];
  /** `node`: which HAProxy of a pair the servers were read from (the VIP holder's view). */
  haproxy: { up: boolean; servers: HaproxyServerStatus[]; error?: string; node?: string };
  /** A load-balancer pair holding a virtual IP (keepalived); absent without one. */
  lb?: LbStatus;
  /** `arbitrators`: garbd nodes, and whether a data node counts each as a cluster member. */
  galera: { clusterSize: number; status: string; nodes: GaleraNodeStatus[]; arbitrators?: { name: string; member: boolean }[] };
  gluster: {
    volume?: string;
    started: boolean;
    /** `arbiter`: an arbiter brick (`replica 3 arbiter 1`: metadata only), as the volume says. */
    bricks: { name: string; online: boolean; arbiter?: boolean }[];
    healPending: number;
    error?: string;
    /**
     * Whether moodledata really accepts a write right now: a web node created, fsynced and removed
     * a small file through its FUSE mount (`lab-storage-probe`). False when the client refused it
     * (e.g. client quorum lost with 2 of 3 bricks down: "Transport endpoint is not connected")
     * or it did not finish in 3 s.
     * Absent when no web node could run the probe (or the topology has no Gluster).
     */
    writable?: boolean;
    /** Why the write failed (the client's own words), or why no probe ran. */
    writeError?: string;
    /** The web node that ran the write probe. */
    writeNode?: string;
  };
  redis: RedisStatus;
  moodle: {
    installed: boolean;
    url?: string;
    release?: string;
    /** Short name of the generated test course the journeys use. */
    course?: string;
    maintenance: boolean;
    admin?: { username: string; password: string };
    users: { username: string; password: string }[];
  };
  endpoints: { moodle?: string; haproxyStats?: string; haproxyRuntime?: string };
  /** Every fault in force, whoever applied it (CLI, dashboard, VS Code); [] when none. */
  faults?: FaultStatus[];
  /** Link impairments (delay, loss, rate) and how each is applied; present while any is recorded. */
  impairments?: ImpairmentStatus[];
}

/** One HAProxy node of a pair: keepalived's own state and whether the kernel lists the VIP on it. */
export interface LbNodeStatus {
  name: string;
  /** keepalived's state (its notify script's record); FAULT also when it cannot be read (the node is down, paused, …: see `detail`). */
  vrrp: 'MASTER' | 'BACKUP' | 'FAULT';
  /** `ip -j addr` in the node's namespace lists the VIP. */
  holdsVip: boolean;
  /** keepalived's process runs. */
  keepalived: boolean;
  /** When keepalived entered `vrrp` (ISO time). */
  since?: string;
  detail?: string;
}

export interface LbStatus {
  vip: string;
  /** The node keepalived says is MASTER (the VIP holder among several). */
  master?: string;
  /** The node whose namespace holds the VIP. */
  holder?: string;
  /** More than one node holds the VIP. */
  splitBrain?: boolean;
  nodes: LbNodeStatus[];
}

/** A Redis replica as the cluster reports it (its own `INFO replication`). */
export interface RedisReplicaStatus {
  name: string;
  /** The master it replicates from, by its own word. */
  masterHost?: string;
  /** Its link to the master is up (`master_link_status:up`). */
  linkUp: boolean;
  /** How far behind the master's replication offset it is (bytes); absent while the link is down. */
  lagBytes?: number;
}

/** One Sentinel's answer (absent fields: it did not answer). */
export interface RedisSentinelStatus {
  name: string;
  up: boolean;
  /** The master it names (`SENTINEL get-master-addr-by-name`). */
  master?: string;
  /** Other sentinels it knows of. */
  otherSentinels?: number;
}

/**
 * Redis: `up` is an authenticated PING answered PONG by the master (the lone node in `single`).
 * In `sentinel` mode `master` is the node the sentinels name and that answers `role:master`
 * itself; `replicas` and `sentinels` are each node's own answers.
 */
export interface RedisStatus {
  up: boolean;
  mode?: 'single' | 'sentinel' | 'cluster';
  master?: string;
  replicas?: RedisReplicaStatus[];
  sentinels?: RedisSentinelStatus[];
  keys?: number;
  usedMemoryBytes?: number;
  error?: string;
}

/**
 * Which status section describes a running node of a role (its diagram status line and colour):
 * its row among HAProxy's servers, its wsrep row, its brick, or a service section's `up`.
 */
export type NodeStateSource = 'haproxy-server' | 'galera' | 'brick' | 'redis' | 'haproxy' | 'vip';

/** Where a node's part in its service (a Sentinel group's `master`, `replica`) is read from: a status section. */
export type NodePartSource = 'redis';

/** A dashboard component panel (one per status section). */
export type PanelKind = 'haproxy' | 'galera' | 'gluster' | 'redis';

/** A virtual node of the diagram: a listener of another role's container (HAProxy's DB listeners). */
export interface DiagramListener {
  /** Mermaid node id, e.g. `dbwriter`. */
  id: string;
  /** Label in the diagram, e.g. `DB writer`. */
  label: string;
  /** The HAProxy backend it fronts. */
  backend: string;
  /** Tooltip word: `writer`, `readers`. */
  what: string;
  /** One active server (status `→ galera1`) rather than a count of servers up (`2/3 up`). */
  single: boolean;
}

/**
 * How the UIs draw a role, declared by its role module (src/roles) and carried in the snapshot
 * (`LabSnapshot.roles`): the tree, the diagram and the panels read this, never a role's name.
 * Not part of `status --json`.
 */
export interface RoleDisplay {
  role: Role;
  /** Position among tiers (tree, diagram, report), ascending. */
  order: number;
  /** Tree tier label, e.g. `Database (Galera)`. */
  label: string;
  /** Codicon id of the tree tier. */
  icon: string;
  /** Tier title in the scenario report. */
  reportTitle: string;
  /** What gives a running node's status line and colour in the diagram. */
  status?: NodeStateSource;
  /**
   * Its nodes' part in their service, read from this status section when the status gives one (a
   * Sentinel group: `master`, `replica`): the diagram draws `redis1 (master)`, the tree and the report too.
   */
  part?: NodePartSource;
  /** The HAProxy backend whose row is the node's, when its servers sit in several backends. */
  haproxyBackend?: string;
  /** What the tree's "open" action opens: the node's direct URL, or HAProxy's stats page. */
  opens?: 'url' | 'haproxy-stats';
  /** Its nodes can be drained and made ready again (`maintenance --node`) in this HAProxy backend. */
  drainIn?: string;
  /** The dashboard panel listing its nodes; absent: a table of its nodes (container, health). */
  panel?: PanelKind;
  diagram: {
    /** A tier box's title (group), or every node's label (single nodes). */
    title: string;
    /** Its nodes in one box (`tier_<role>`), or each node on its own. */
    group: boolean;
    /** Users reach the lab through this role's first node (the first role in order that has nodes wins). */
    entry?: boolean;
    /** The role whose nodes (or box) link to this one. */
    from?: Role;
    /** When `role` has nodes, `from` reaches this role through these listeners of it. */
    via?: { role: Role; listeners: DiagramListener[] };
  };
}
