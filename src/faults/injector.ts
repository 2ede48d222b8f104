/**
 * Faults on the lab's nodes, through the Engine API only (argv arrays, never shell strings).
 * Every fault is validated against the lab's topology before anything changes, recorded in the
 * lab's state (so a restarted CLI or extension still knows it), and can be reverted (`heal`).
 *
 * The record is written under the lab's lock BEFORE the Docker action and removed again if the
 * action fails: several processes (CLI, dashboard, VS Code) faulting the same lab at once never
 * lose one another's faults, and a fault in force is never missing from the record, so `heal`
 * always finds it. The Docker actions themselves run outside the lock.
 *
 * Network faults run in a short-lived sidecar that joins the node's network namespace with
 * CAP_NET_ADMIN (lab/netem): `tc netem` for delay, `iptables-restore` for loss and partitions.
 * The nodes themselves never get NET_ADMIN.
 */
import { randomBytes } from 'node:crypto';
import type { ContainerInfo, DockerClient } from '../docker/types';
import type { LabEngine, Reporter } from '../engine/lab';
import { NETWORK_SUFFIX } from '../engine/lab';
import { LABEL_IMPAIRS, LABEL_TOOL, objectName, TOOL_DELAYER } from '../docker/labels';
import type { LabState } from '../engine/state';
import { impairmentStatus } from '../engine/status';
import { roleSpec } from '../engine/topology';
import type { Clock } from '../core/wait';
import { notYet, ready, realClock, waitFor } from '../core/wait';
import {
  ActiveFault,
  describeFault,
  FAULT_CATALOG,
  FaultContainer,
  FaultContext,
  FaultEntry,
  faultEntry,
  FaultRequest,
  FaultRequestError,
  faultRequestProblem,
  IMPAIR_GROUP,
  isSchedule,
  NetnsContext,
} from '../protocol/fault-catalog';
import { errText } from '../core/errors';

// The network rules live with their fault kinds (src/protocol/fault-catalog); re-exported for their users.
export { LOSS_CHAIN, lossRules, partitionRules } from '../protocol/fault-catalog';

export const NETEM_IMAGE = 'netem';
/** The long-lived sidecar of an impairment applied with the userspace delayer (`lab-impair run`). */
const DELAYER_TOOL = TOOL_DELAYER;

export interface FaultDeps {
  docker: DockerClient;
  engine: LabEngine;
  reporter: Reporter;
  clock?: Clock;
  /** The fault kinds (default: the fault catalog's). */
  catalog?: readonly FaultEntry[];
}

export function validateRequest(req: FaultRequest, known: string[], catalog?: readonly FaultEntry[]): void {
  const problem = faultRequestProblem(req, known, catalog);
  if (problem) throw new FaultRequestError(problem);
}

/**
 * Runs `argv` in a short-lived sidecar (the netem tool image) sharing a node's network namespace,
 * with CAP_NET_ADMIN only, and removes it. Its output is read when it failed, or when `output`
 * asks for it (e.g. to list the rules a fault left).
 */
export async function inNodeNetns(
  deps: { docker: DockerClient; engine: Pick<LabEngine, 'lab' | 'labels' | 'toolImage'> },
  containerId: string,
  nodeName: string,
  argv: string[],
  opts: { file?: { path: string; content: string }; output?: boolean; tool?: string } = {},
): Promise<{ code: number; out: string }> {
  const id = await deps.docker.containers.create({
    name: objectName(deps.engine.lab, `${opts.tool ?? 'netem'}-${nodeName}-${randomBytes(3).toString('hex')}`),
    image: await deps.engine.toolImage(NETEM_IMAGE),
    hostname: '',
    labels: { ...deps.engine.labels(), [LABEL_TOOL]: opts.tool ?? 'netem' },
    env: {},
    network: `container:${containerId}`,
    aliases: [],
    ports: [],
    volumes: [],
    capAdd: ['NET_ADMIN'],
    devices: [],
    stopTimeoutS: 1,
    cmd: argv,
  });
  try {
    if (opts.file) await deps.docker.containers.putFile(id, opts.file.path, opts.file.content);
    await deps.docker.containers.start(id);
    const code = await deps.docker.containers.wait(id);
    const out = code !== 0 || opts.output ? await deps.docker.containers.logs(id, opts.output ? 200 : 10).catch(() => '') : '';
    return { code, out };
  } finally {
    await deps.docker.containers.remove(id);
  }
}

export class FaultInjector {
  private readonly clock: Clock;
  private readonly catalog: readonly FaultEntry[];
  /** What this process learnt of the Docker host's kernel (whether it has netem), for every node. */
  private readonly kernel: { netem?: boolean } = {};

  constructor(private readonly deps: FaultDeps) {
    this.clock = deps.clock ?? realClock;
    this.catalog = deps.catalog ?? FAULT_CATALOG;
  }

  private get lab(): string {
    return this.deps.engine.lab;
  }

  private loadState(): LabState {
    const state = this.deps.engine.state();
    if (!state) throw new Error(`lab "${this.lab}" does not exist: run \`up\` first`);
    return state;
  }

  /** Faults in force, as recorded by any process. */
  active(): ActiveFault[] {
    return this.deps.engine.state()?.extra.faults ?? [];
  }

  /** Changes the recorded faults under the lab's lock; returns them as written. */
  private async record(what: string, change: (faults: ActiveFault[]) => ActiveFault[]): Promise<ActiveFault[]> {
    const state = await this.deps.engine.updateState((s) => {
      s.extra.faults = change(s.extra.faults ?? []);
    }, what);
    return state.extra.faults ?? [];
  }

  /**
   * Sets a node's network rules (the kind's `netns`) from the recorded faults, then checks the
   * record again: another process may have recorded a fault on the same node meanwhile and set
   * rules from a record without ours. Rules are recomputed until they match the record.
   */
  private async applyNetwork(
    entry: FaultEntry,
    nodes: string[],
    containers: Map<string, ContainerInfo>,
    faults: ActiveFault[],
    view: () => ActiveFault[],
  ): Promise<void> {
    const netns = entry.netns;
    if (!netns) return;
    // The kind's group (delay, loss and rate are one impairment per node); a repeating fault's schedule is not itself in force.
    const group = (kind: string) => kind === entry.kind || (entry.netnsGroup !== undefined && faultEntry(kind, this.catalog)?.netnsGroup === entry.netnsGroup);
    const touches = (f: ActiveFault, n: string) => group(f.kind) && f.nodes.includes(n) && !isSchedule(f);
    const signature = (list: ActiveFault[]) =>
      nodes
        .map((n) =>
          list
            .filter((f) => touches(f, n))
            .map((f) => f.id)
            .sort()
            .join(','),
        )
        .join('|');
    const network = objectName(this.lab, NETWORK_SUFFIX);
    // Each node's address as the rules were written for it (a `to` peer's, recorded with the method).
    const seen = new Map<string, string>();
    const ctx: NetnsContext = {
      network,
      container: async (node) => {
        const c = await this.container(node, containers);
        const ip = c.ips?.[network];
        if (ip) seen.set(node, ip);
        return c;
      },
      run: (c, node, argv, file) => this.sidecar(c, node, argv, file),
      attempt: (c, node, argv, file) => inNodeNetns(this.deps, c.id, node, argv, { file, tool: 'netem' }),
      daemon: (c, node, spec) => this.daemon(c, node, spec),
      kernel: this.kernel,
    };
    let used = faults;
    for (let round = 0; round < 3; round++) {
      const methods = new Map<string, string>();
      for (const n of nodes) {
        const method = await netns(
          n,
          used.filter((f) => touches(f, n)),
          ctx,
        );
        if (method) methods.set(n, method);
      }
      const now = view();
      if (signature(now) === signature(used)) {
        if (methods.size) await this.recordMethods(methods, (f, n) => touches(f, n), seen);
        return;
      }
      used = now;
    }
  }

  /** Notes on the faults in force how their node's impairment was applied, and when. */
  private async recordMethods(methods: Map<string, string>, touches: (f: ActiveFault, n: string) => boolean, ips: Map<string, string>): Promise<void> {
    const at = new Date(this.clock.now()).toISOString();
    await this.record(`note how ${[...methods.keys()].join(', ')} ${methods.size > 1 ? 'are' : 'is'} impaired`, (faults) =>
      faults.map((f) => {
        const n = [...methods.keys()].find((node) => touches(f, node));
        if (!n) return f;
        const peerIps = Object.fromEntries((f.to ?? []).flatMap((p) => (ips.has(p) ? [[p, ips.get(p)!]] : [])));
        return { ...f, method: methods.get(n), methodAt: at, ...(Object.keys(peerIps).length ? { peerIps } : {}) };
      }),
    );
  }

  /**
   * The node's long-lived delayer sidecar (see NetnsContext.daemon): removes the one it has (SIGTERM
   * first: the delayer releases the packets it holds), then with `spec` starts a new one and waits
   * until it says every queue and its rules are ready.
   */
  private async daemon(
    node: FaultContainer,
    nodeName: string,
    spec?: { argv: string[]; files: { path: string; content: string }[]; readyLines: number },
  ): Promise<void> {
    const { docker, engine } = this.deps;
    const labels = { ...engine.labels(), [LABEL_TOOL]: DELAYER_TOOL, [LABEL_IMPAIRS]: nodeName };
    for (const old of await docker.containers.list(labels)) {
      if (old.state === 'running') await docker.containers.stop(old.id, 2).catch(() => undefined);
      await docker.containers.remove(old.id);
    }
    if (!spec) return;
    if (node.state !== 'running') throw new Error(`${nodeName} is ${node.state}: network faults need a running node`);
    const id = await docker.containers.create({
      name: objectName(engine.lab, `${DELAYER_TOOL}-${nodeName}-${randomBytes(3).toString('hex')}`),
      image: await engine.toolImage(NETEM_IMAGE),
      hostname: '',
      labels,
      env: {},
      network: `container:${node.id}`,
      aliases: [],
      ports: [],
      volumes: [],
      capAdd: ['NET_ADMIN'],
      devices: [],
      stopTimeoutS: 2,
      cmd: spec.argv,
    });
    try {
      for (const f of spec.files) await docker.containers.putFile(id, f.path, f.content);
      await docker.containers.start(id);
      const up = await waitFor(
        async () => {
          const out = await docker.containers.logs(id, 100);
          const n = out.split('\n').filter((l) => l.startsWith('ready')).length;
          if (n >= spec.readyLines) return ready({ ok: true, out });
          if ((await docker.containers.inspect(id)).state !== 'running') return ready({ ok: false, out });
          return notYet(`${n} of ${spec.readyLines} delayer queues and rules ready`);
        },
        { what: `the delayer in ${nodeName}'s network namespace`, timeoutMs: 60_000, intervalMs: 100, clock: this.clock },
      );
      if (!up.ok) throw new Error(`the delayer in ${nodeName}'s network namespace exited: ${up.out.trim().split('\n').slice(-3).join(' | ')}`);
    } catch (err) {
      await docker.containers.remove(id).catch(() => undefined);
      throw err;
    }
  }

  private async container(node: string, containers: Map<string, ContainerInfo>): Promise<ContainerInfo> {
    const c = containers.get(node);
    if (!c) throw new Error(`${node} has no container (the lab is not up?): run \`up\` first`);
    return this.deps.docker.containers.inspect(c.id);
  }

  /** Runs a command in a sidecar sharing the node's network namespace, with CAP_NET_ADMIN only. */
  private async sidecar(node: FaultContainer, nodeName: string, argv: string[], file?: { path: string; content: string }): Promise<void> {
    if (node.state !== 'running') throw new Error(`${nodeName} is ${node.state}: network faults need a running node`);
    const { code, out } = await inNodeNetns(this.deps, node.id, nodeName, argv, { file, tool: 'netem' });
    if (code !== 0) throw new Error(`${argv[0]} in ${nodeName}'s network namespace failed (exit ${code}): ${out.trim()}`);
  }

  /** What a catalog entry's apply/revert may use, for one fault on `nodes` (the first: `container`). */
  private context(
    entry: FaultEntry,
    nodes: string[],
    container: ContainerInfo,
    containers: Map<string, ContainerInfo>,
    stopTimeoutS: number,
    faults: () => ActiveFault[],
    view: () => ActiveFault[],
  ): FaultContext {
    return {
      node: nodes[0]!,
      nodes,
      container,
      docker: this.deps.docker,
      network: objectName(this.lab, NETWORK_SUFFIX),
      address: this.loadState().extra.network?.addresses[nodes[0]!],
      stopTimeoutS,
      sync: (on) => this.applyNetwork(entry, on, containers, faults(), view),
    };
  }

  /**
   * Validates, applies and records one fault. Returns the recorded fault (undefined for repairs).
   * With `everyMs` it only records the schedule (the caller drives the cycles, each applied with
   * `cycleOf` = the schedule's id and `forMs` = how long it lasts).
   */
  async apply(req: FaultRequest, cycle?: { cycleOf: string }): Promise<ActiveFault | undefined> {
    await this.deps.docker.ping();
    const state = this.loadState();
    const topology = this.deps.engine.topology(state);
    validateRequest(
      req,
      topology.nodes.map((n) => n.name),
      this.catalog,
    );
    const entry = faultEntry(req.kind, this.catalog)!;
    const containers = await this.deps.engine.containers();
    const node = req.nodes[0]!;
    const c = await this.container(node, containers);
    for (const n of [...req.nodes, ...(req.from ?? [])]) await this.container(n, containers);
    const now = this.clock.now();
    const fault: ActiveFault = {
      id: `f${now.toString(36)}${randomBytes(2).toString('hex')}`,
      kind: req.kind,
      nodes: req.nodes,
      from: req.from,
      detail: describeFault(req, this.catalog),
      appliedAt: new Date(now).toISOString(),
      expiresAt: req.forMs && req.everyMs === undefined ? new Date(now + req.forMs).toISOString() : undefined,
      ...(req.everyMs !== undefined ? { everyMs: req.everyMs, forMs: req.forMs } : {}),
      ...(cycle ? { cycleOf: cycle.cycleOf } : {}),
      ...(req.to?.length ? { to: req.to } : {}),
      params: { delayMs: req.delayMs, jitterMs: req.jitterMs, lossPct: req.lossPct, rateKbit: req.rateKbit },
    };
    const stopTimeoutS = topology.nodes.find((n) => n.name === node)?.spec.stopTimeoutS ?? roleSpec('web').stopTimeoutS;
    this.deps.reporter.step(`fault: ${fault.detail}`);
    if (entry.effect === 'repair') {
      await entry.apply(
        this.context(
          entry,
          req.nodes,
          c,
          containers,
          stopTimeoutS,
          () => this.active(),
          () => this.active(),
        ),
      );
      // A repair ends the matching recorded fault, if any.
      const ended = entry.ends ?? [];
      await this.record(`record ${fault.detail}`, (faults) => faults.filter((f) => !(f.nodes[0] === node && ended.includes(f.kind))));
      return undefined;
    }
    const refused = entry.refuse?.(node, c.state);
    if (refused) throw new Error(refused);

    // Recorded first (under the lab's lock): some kinds (delay, loss) replace an earlier fault of the same kind on the node.
    const sameSlot = (f: ActiveFault) => entry.replaces === true && f.kind === req.kind && f.nodes[0] === node && !isSchedule(f) && !isSchedule(fault);
    let replaced: ActiveFault[] = [];
    // A cycle is recorded only while its schedule is (in the same locked change): once `heal`, `down`
    // or `destroy` ended the repetition, no cycle starts, whatever the driving process saw before.
    let ended = false;
    const written = await this.deps.engine.updateState((s) => {
      const faults = s.extra.faults ?? [];
      if (cycle && (s.extra.stopping || !faults.some((f) => f.id === cycle.cycleOf))) {
        ended = true;
        return;
      }
      replaced = faults.filter(sameSlot);
      s.extra.faults = [...faults.filter((f) => !sameSlot(f)), fault];
    }, `record fault ${fault.detail}`);
    if (ended) return undefined;
    const recorded = written.extra.faults ?? [];
    if (isSchedule(fault)) return fault; // its cycles do the work
    try {
      await entry.apply(
        this.context(
          entry,
          req.nodes,
          c,
          containers,
          stopTimeoutS,
          () => recorded,
          () => this.active(),
        ),
      );
    } catch (err) {
      // Not in force: forget it again (and bring back the fault it replaced, still in force).
      await this.record(`forget failed fault ${fault.detail}`, (faults) => [
        ...faults.filter((f) => f.id !== fault.id),
        ...replaced.filter((r) => !faults.some((f) => f.id === r.id)),
      ]).catch((e: unknown) => {
        this.deps.reporter.step(`could not remove the record of the failed fault "${fault.detail}": ${errText(e)}`);
      });
      throw err;
    }
    if (cycle && !this.active().some((f) => f.id === fault.id)) {
      // Ended while its Docker action ran (a `heal` from another process reverted it first): undo ours, which came last.
      await this.undoLate(fault, entry, node);
      return undefined;
    }
    return fault;
  }

  /**
   * Undoes a cycle whose record was removed while it was being applied: its kind's revert (pause:
   * unpause if paused; link kinds: the rules again from the record), or for a kind without one
   * (stop, kill) the repair that ends it (start) if the node is in a state that repair applies to.
   * Nothing when the lab is being stopped or removed (`down`, `destroy`): there the node stays down.
   */
  private async undoLate(fault: ActiveFault, entry: FaultEntry, node: string): Promise<void> {
    if (this.deps.engine.stopping()) return;
    const containers = await this.deps.engine.containers();
    const c = await this.container(node, containers).catch(() => undefined);
    if (!c) return;
    this.deps.reporter.step(`${fault.detail}: ended while it was applied (healed meanwhile): undone`);
    if (entry.revert) {
      await entry.revert(
        this.context(
          entry,
          fault.nodes,
          c,
          containers,
          0,
          () => this.active(),
          () => this.active(),
        ),
      );
      return;
    }
    const repair = this.catalog.find((e) => e.effect === 'repair' && e.ends?.includes(fault.kind) && (e.states as readonly string[]).includes(c.state));
    if (repair)
      await repair.apply(
        this.context(
          repair,
          [node],
          c,
          containers,
          0,
          () => this.active(),
          () => this.active(),
        ),
      );
  }

  /** Reverts one recorded fault (containers stopped or killed are started again by the caller's `up`). */
  private async revert(f: ActiveFault, remaining: () => ActiveFault[], containers: Map<string, ContainerInfo>): Promise<void> {
    const node = f.nodes[0]!;
    const c = await this.container(node, containers).catch(() => undefined);
    if (!c) return;
    this.deps.reporter.step(`heal: ${f.detail}`);
    if (isSchedule(f)) return; // forgetting it ends the repetition (its driver checks the record before each cycle)
    const entry = faultEntry(f.kind, this.catalog);
    // no revert (stop/kill): the node is started by `up`, which also waits for it to be ready
    await entry?.revert?.(this.context(entry, f.nodes, c, containers, 0, remaining, remaining));
  }

  /**
   * Reverts every active fault (or those touching one node), oldest last. Returns what was
   * reverted; the caller then runs `up` to start whatever is down and wait until it is ready.
   */
  async heal(node?: string, only?: (f: ActiveFault) => boolean): Promise<ActiveFault[]> {
    await this.deps.docker.ping();
    const state = this.loadState();
    if (node !== undefined)
      validateRequest(
        { kind: 'start', nodes: [node] },
        this.deps.engine.topology(state).nodes.map((n) => n.name),
      );
    const touches = (f: ActiveFault) => node === undefined || f.nodes.includes(node) || (f.from ?? []).includes(node);
    const picked = (f: ActiveFault) => touches(f) && (!only || only(f));
    // Repetitions end first (one locked change): no cycle can be recorded after it (see apply), so
    // the cycles read next are all there are — reverted below with everything else chosen.
    const schedules = this.active().filter((f) => picked(f) && isSchedule(f));
    const ended = new Set(schedules.map((f) => f.id));
    if (schedules.length) await this.record(`end ${schedules.map((f) => f.detail).join(', ')}`, (faults) => faults.filter((f) => !ended.has(f.id)));
    const chosen = [...schedules, ...this.active().filter((f) => picked(f) || (f.cycleOf !== undefined && ended.has(f.cycleOf)))];
    const ids = new Set(chosen.map((f) => f.id));
    // What stays in force: read afresh each time (other processes may record faults meanwhile).
    const remaining = () => this.active().filter((f) => !ids.has(f.id));
    const containers = await this.deps.engine.containers();
    for (const f of [...chosen].reverse()) {
      await this.revert(f, remaining, containers);
      // Forgotten once reverted (a failure later leaves the rest recorded, for the next `heal`).
      await this.record(`heal ${f.detail}`, (faults) => faults.filter((x) => x.id !== f.id));
    }
    return chosen;
  }

  /**
   * Sets again the link impairments whose rules are outdated (status `stale`: the node restarted
   * into a new network namespace, or a `to` peer came back with a new address), from the record and
   * the addresses Docker gives now. Returns the nodes re-impaired. Nothing while `down` or
   * `destroy` is under way.
   */
  async reimpair(): Promise<string[]> {
    if (this.deps.engine.stopping()) return [];
    const faults = this.active();
    if (!faults.some((f) => faultEntry(f.kind, this.catalog)?.netnsGroup === IMPAIR_GROUP && !isSchedule(f))) return [];
    const rows = await impairmentStatus(this.deps.docker, faults, await this.deps.docker.containers.list(this.deps.engine.labels()));
    const stale = rows.filter((r) => r.stale);
    const kind = faults.find((f) => f.id === stale[0]?.faultId)?.kind;
    const entry = kind && faultEntry(kind, this.catalog);
    if (!entry) return [];
    const nodes = [...new Set(stale.map((r) => r.node))];
    this.deps.reporter.step(`impairment set again on ${nodes.join(', ')}: ${stale.map((r) => r.problem).join('; ')}`);
    await this.applyNetwork(entry, nodes, await this.deps.engine.containers(), faults, () => this.active());
    return nodes;
  }

  /** Faults whose `--for` has run out (e.g. the process that set them died): revert them now. */
  async expire(): Promise<ActiveFault[]> {
    const now = this.clock.now();
    const due = (f: ActiveFault) => f.expiresAt !== undefined && Date.parse(f.expiresAt) <= now;
    if (!this.active().some(due)) return [];
    return this.heal(undefined, due);
  }
}
