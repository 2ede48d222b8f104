/**
 * What a fault kind is, as data: one `FaultEntry` per kind (one file each, beside this one),
 * registered in `index.ts`. Every surface (CLI options and usage, the `--fault` parser, the
 * protocol check, the scenario fields and schema, the VS Code commands and menus, the webview
 * menus) is derived from these entries.
 *
 * Browser-safe and dependency-free (the webview bundles the catalog): apply/revert get everything
 * that touches Docker through an injected context (the injector's, src/faults/injector.ts), typed
 * here by the little of the Docker client they use.
 */

/**
 * The longest duration a user or a page may ask for (`--for`, `--duration`, a scenario's `wait:`…):
 * 24 h. Far below 2^31-1 ms (24.8 days), where Node's setTimeout overflows and fires after 1 ms.
 */
export const MAX_DURATION_MS = 24 * 3_600_000;

/** A node's container state as `status --json` shows it. */
export type NodeState = 'running' | 'paused' | 'exited' | 'missing' | 'created' | 'restarting' | 'dead';

/** The numeric fields of a fault request (a new parameter adds its field here). */
export type ParamField = 'delayMs' | 'jitterMs' | 'lossPct' | 'rateKbit';

/** A fault request's fields, whatever its kind. */
export interface FaultFields {
  /** The node (for a `groups` kind, e.g. partition: the first group, comma-separated in the CLI). */
  nodes: string[];
  /** `groups` kinds (partition): the other group. */
  from?: string[];
  /** `delay`: added latency and jitter, ms. */
  delayMs?: number;
  jitterMs?: number;
  /** `loss`: packet loss, percent. */
  lossPct?: number;
  /** `rate`: bandwidth limit, kbit/s. */
  rateKbit?: number;
  /** Link kinds (delay, loss, rate): only the traffic between the node and these nodes (both directions). */
  to?: string[];
  /** Revert by itself after this long (with `everyMs`: how long each cycle lasts). */
  forMs?: number;
  /** Repeats: applied every this long, for `forMs` each time, until `heal`. */
  everyMs?: number;
}

/** A request or a recorded fault of any kind (what entries see). */
export interface AnyFault extends FaultFields {
  kind: string;
  params?: Partial<Record<ParamField, number>>;
  /** How a link kind was applied (`netem`, `nfqueue`, `tbf`), once it was. */
  method?: string;
}

/** One numeric parameter of a fault kind, with its unit and bounds. */
export interface FaultParam {
  /** The request's field. */
  field: ParamField;
  /** The CLI option (`--ms`) and the scenario mapping key (`ms:`). */
  option: string;
  unit: 'ms' | '%' | 'kbit';
  min: number;
  max: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** The finest step (e.g. 0.01 for loss: what iptables applies exactly). */
  step?: number;
  /** Needed by the kind (else optional). */
  required: boolean;
  /** The kind's positional value (`delay web1 200`, `--fault "delay web1 200@3s"`). */
  positional?: boolean;
  /** The value a menu offers (dashboard field, VS Code input box). */
  uiDefault: number;
  /** The value `--fault "<kind> <node>@t"` uses when none is written. */
  specDefault?: number;
  /** The protocol's coarse wire check: `above` min (exclusive) instead of min..max. */
  wireAbove?: number;
  /** The one-line problem when the value is missing or out of range (CLI, protocol, injector). */
  problem(value: unknown): string;
  /** Scenario files: the sentence when the kind needs it and it is missing. */
  scenarioNeeds?: string;
  /** Scenario files: the sentence when it is out of range. */
  scenarioRange(value: unknown): string;
  /** JSON Schema description of the scenario key. */
  schemaDescription: string;
  /** VS Code input box when the menu command asks for it. */
  ask?: { title(node: string): string; prompt: string; valid(text: string): boolean; invalid: string };
}

/** A node's container as apply/revert see it (src/docker's ContainerInfo fits). */
export interface FaultContainer {
  id: string;
  state: string;
  /** IP per network name. */
  ips?: Record<string, string>;
}

/** The Docker actions faults use (src/docker's DockerClient fits). */
export interface FaultDocker {
  containers: {
    start(id: string): Promise<void>;
    stop(id: string, timeoutS: number): Promise<void>;
    kill(id: string, signal?: string): Promise<void>;
    pause(id: string): Promise<void>;
    unpause(id: string): Promise<void>;
  };
  networks: {
    connect(network: string, container: string, aliases: string[]): Promise<void>;
    disconnect(network: string, container: string): Promise<void>;
  };
}

/** Container actions and network rules an entry's apply/revert may use (the injector provides them). */
export interface FaultContext {
  /** The (first) node and its container, inspected just now. */
  node: string;
  nodes: string[];
  container: FaultContainer;
  docker: FaultDocker;
  /** The lab's network. */
  network: string;
  /** The node's stop timeout (its role's). */
  stopTimeoutS: number;
  /** Re-applies this kind's network rules (`netns`) on these nodes from the recorded faults. */
  sync(nodes: string[]): Promise<void>;
}

/** What an entry's `netns` rules may use. */
export interface NetnsContext {
  network: string;
  /** A node's container, inspected. */
  container(node: string): Promise<FaultContainer>;
  /** Runs argv in a sidecar in the node's network namespace (CAP_NET_ADMIN); throws on failure. */
  run(container: FaultContainer, node: string, argv: string[], file?: { path: string; content: string }): Promise<void>;
  /**
   * Like `run`, but returns the exit code and output instead of throwing (to read a refusal, e.g.
   * a kernel without netem: "Specified qdisc kind is unknown").
   */
  attempt(container: FaultContainer, node: string, argv: string[], file?: { path: string; content: string }): Promise<{ code: number; out: string }>;
  /**
   * The node's long-lived impairment sidecar: with `files`, (re)starts it running argv with those
   * files and waits until its output shows `readyLines` lines starting with `ready`; without,
   * removes it (if any). One per node.
   */
  daemon(container: FaultContainer, node: string, spec?: { argv: string[]; files: { path: string; content: string }[]; readyLines: number }): Promise<void>;
  /** What this process learnt of the kernel (e.g. whether it has netem), shared by every node. */
  kernel: { netem?: boolean };
}

export interface FaultEntry<K extends string = string> {
  kind: K;
  /** Breaks something (recorded, healable, `--for` allowed) or repairs (applied at once). */
  effect: 'break' | 'repair';
  /** Repairs: the recorded kinds on the node it ends. */
  ends?: readonly string[];
  /** Repairs that bring a node back to running (listed first in the dashboard's menu). */
  resumes?: boolean;
  /** `node`: one node; `groups`: `nodes` and `from` (partition). */
  targets: 'node' | 'groups';
  params: readonly FaultParam[];
  /** A new fault of this kind replaces the node's earlier one (delay, loss). */
  replaces?: boolean;
  /** Link kinds: `--to <nodes>` narrows it to the traffic between the node and those nodes. */
  link?: boolean;
  /**
   * Kinds whose network rules are set together (`netns` gets the recorded faults of every kind of
   * the group that touch the node): delay, loss and rate are one impairment per node.
   */
  netnsGroup?: string;
  /** The node states it applies to: the dashboard offers it in these. */
  states: readonly NodeState[];
  /** Refused before anything changes when the node is in this state (the injector's check). */
  refuse?(node: string, state: string): string | undefined;
  /** The text after the kind, when not `<nodes>`. */
  describe?(f: AnyFault): string;
  /** CLI usage synopsis when not `fault <kinds> <node> [--for 10s]`. */
  usage?: string;
  /** VS Code: a command `moodleLab.node.<kind>` in the tree's context menu (absent: no menu). */
  menu?: {
    title: string;
    icon: string;
    group: 'container' | 'network';
    /** The tree menu's states when they differ from `states`. */
    treeStates?: readonly NodeState[];
    /** Also the inline action of the tree item. */
    inline?: boolean;
  };
  /** Breaks: do it (after it was recorded). Repairs: do it. */
  apply(ctx: FaultContext): Promise<void>;
  /** Undo a recorded fault (`heal`); absent: `up` starts the node again. */
  revert?(ctx: FaultContext): Promise<void>;
  /**
   * Network rules: set the node's rules from this kind's (or its `netnsGroup`'s) recorded faults
   * that touch it. May return how it did it (`netem`, `nfqueue`, `tbf`), recorded on those faults.
   */
  netns?(node: string, faults: AnyFault[], ctx: NetnsContext): Promise<string | void>;
}

/** Keeps an entry's kind as a literal type. */
export function defineFault<K extends string>(entry: FaultEntry<K>): FaultEntry<K> {
  return entry;
}

/** A parameter's value is in bounds (and on its step). */
export function paramOk(p: FaultParam, v: unknown): v is number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < p.min || v > p.max) return false;
  if (p.integer && !Number.isInteger(v)) return false;
  if (p.step) {
    const k = Math.round(1 / p.step);
    if (Math.abs(v * k - Math.round(v * k)) >= 1e-6) return false;
  }
  return true;
}
