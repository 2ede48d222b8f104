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
import { objectName } from '../engine/labels';
import type { LabState } from '../engine/state';
import { ROLES } from '../engine/topology';
import type { Clock } from '../engine/wait';
import { realClock } from '../engine/wait';
import { ActiveFault, describeFault, FaultRequest, FaultRequestError, faultRequestProblem } from '../protocol/faults';

export const NETEM_IMAGE = 'netem';
export const PARTITION_CHAIN = 'MLAB-PARTITION';
export const LOSS_CHAIN = 'MLAB-LOSS';
const IFACE = 'eth0';

/** Kinds that repair rather than break: applied at once, never recorded as active. */
const REPAIRS = new Set(['start', 'unpause', 'connect']);

export interface FaultDeps {
  docker: DockerClient;
  engine: LabEngine;
  reporter: Reporter;
  clock?: Clock;
}

/** tc arguments for the node's delay (netem), or undefined when none is active. */
export function netemArgs(faults: ActiveFault[]): string[] | undefined {
  const delay = faults.find((f) => f.kind === 'delay');
  if (!delay) return undefined;
  return ['tc', 'qdisc', 'replace', 'dev', IFACE, 'root', 'netem', 'delay', `${delay.params?.delayMs ?? 0}ms`, ...(delay.params?.jitterMs ? [`${delay.params.jitterMs}ms`] : [])];
}

/**
 * iptables-restore input for packet loss on the node's egress (like netem loss, but through
 * iptables' `statistic` match, which every Docker host kernel has — netem is a separate module
 * some kernels lack).
 */
export function lossRules(lossPct: number | undefined): string {
  const lines = ['*filter', `:${LOSS_CHAIN} - [0:0]`, `-F ${LOSS_CHAIN}`];
  if (lossPct) lines.push(`-I OUTPUT 1 -j ${LOSS_CHAIN}`, `-A ${LOSS_CHAIN} -m statistic --mode random --probability ${(lossPct / 100).toFixed(4)} -j DROP`);
  return lines.concat('COMMIT', '').join('\n');
}

/** iptables-restore input: the node drops every packet from and to these addresses (or nothing). */
export function partitionRules(blockedIps: string[]): string {
  const lines = ['*filter', `:${PARTITION_CHAIN} - [0:0]`, `-F ${PARTITION_CHAIN}`];
  const ips = [...new Set(blockedIps)].sort();
  // The jumps into the chain (a repeated jump into the same chain changes nothing).
  if (ips.length) lines.push(`-I INPUT 1 -j ${PARTITION_CHAIN}`, `-I OUTPUT 1 -j ${PARTITION_CHAIN}`);
  for (const ip of ips) lines.push(`-A ${PARTITION_CHAIN} -s ${ip} -j DROP`, `-A ${PARTITION_CHAIN} -d ${ip} -j DROP`);
  return lines.concat('COMMIT', '').join('\n');
}

export function validateRequest(req: FaultRequest, known: string[]): void {
  const problem = faultRequestProblem(req, known);
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
    labels: { ...deps.engine.labels(), 'io.moodle-lab.tool': opts.tool ?? 'netem' },
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

  constructor(private readonly deps: FaultDeps) {
    this.clock = deps.clock ?? realClock;
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
   * Sets a node's network rules (delay/loss/partition) from the recorded faults, then checks the
   * record again: another process may have recorded a fault on the same node meanwhile and set
   * rules from a record without ours. Rules are recomputed until they match the record.
   */
  private async applyNetwork(kind: 'delay' | 'loss' | 'partition', nodes: string[], containers: Map<string, ContainerInfo>, faults: ActiveFault[], view: () => ActiveFault[]): Promise<void> {
    const touches = (f: ActiveFault, n: string) => f.kind === kind && (kind === 'partition' ? f.nodes.includes(n) : f.nodes[0] === n);
    const signature = (list: ActiveFault[]) => nodes.map((n) => list.filter((f) => touches(f, n)).map((f) => f.id).sort().join(',')).join('|');
    let used = faults;
    for (let round = 0; round < 3; round++) {
      if (kind === 'partition') await this.applyPartitions(nodes, containers, used);
      else await this.applyNetem(nodes[0]!, containers, used, kind);
      const now = view();
      if (signature(now) === signature(used)) return;
      used = now;
    }
  }

  private async container(node: string, containers: Map<string, ContainerInfo>): Promise<ContainerInfo> {
    const c = containers.get(node);
    if (!c) throw new Error(`${node} has no container (the lab is not up?): run \`up\` first`);
    return this.deps.docker.containers.inspect(c.id);
  }

  /** Runs a command in a sidecar sharing the node's network namespace, with CAP_NET_ADMIN only. */
  private async sidecar(node: ContainerInfo, nodeName: string, argv: string[], file?: { path: string; content: string }): Promise<void> {
    if (node.state !== 'running') throw new Error(`${nodeName} is ${node.state}: network faults need a running node`);
    const { code, out } = await inNodeNetns(this.deps, node.id, nodeName, argv, { file, tool: 'netem' });
    if (code !== 0) throw new Error(`${argv[0]} in ${nodeName}'s network namespace failed (exit ${code}): ${out.trim()}`);
  }

  /** The node's netem qdisc (delay) and loss rules as the remaining faults want them. */
  private async applyNetem(node: string, containers: Map<string, ContainerInfo>, faults: ActiveFault[], kind: 'delay' | 'loss'): Promise<void> {
    const mine = faults.filter((f) => f.kind === kind && f.nodes[0] === node);
    const c = await this.container(node, containers);
    if (kind === 'loss') {
      if (c.state === 'running') await this.sidecar(c, node, ['iptables-restore', '--noflush', '/rules'], { path: '/rules', content: lossRules(mine[0]?.params?.lossPct) });
      return;
    }
    const args = netemArgs(mine);
    if (!args) {
      if (c.state === 'running') await this.sidecar(c, node, ['tc', 'qdisc', 'del', 'dev', IFACE, 'root']).catch(() => undefined);
      return;
    }
    try {
      await this.sidecar(c, node, args);
    } catch (err) {
      if (/qdisc kind is unknown/i.test(String(err))) {
        throw new Error("this Docker host's kernel has no netem (CONFIG_NET_SCH_NETEM), which delay faults need; Docker Desktop and the usual Linux distributions have it. Loss, partitions and the other faults work without it");
      }
      throw err;
    }
  }

  /** Each node of a partition's first side drops traffic with every node of the other side. */
  private async applyPartitions(nodes: string[], containers: Map<string, ContainerInfo>, faults: ActiveFault[]): Promise<void> {
    const network = objectName(this.lab, NETWORK_SUFFIX);
    for (const node of nodes) {
      const blocked: string[] = [];
      for (const f of faults.filter((x) => x.kind === 'partition' && x.nodes.includes(node))) {
        for (const peer of f.from ?? []) {
          const ip = (await this.container(peer, containers)).ips?.[network];
          if (ip) blocked.push(ip);
        }
      }
      const c = await this.container(node, containers);
      if (c.state !== 'running' && blocked.length === 0) continue; // nothing to undo in a stopped namespace
      await this.sidecar(c, node, ['iptables-restore', '--noflush', '/rules'], { path: '/rules', content: partitionRules(blocked) });
    }
  }

  /** Validates, applies and records one fault. Returns the recorded fault (undefined for repairs). */
  async apply(req: FaultRequest): Promise<ActiveFault | undefined> {
    await this.deps.docker.ping();
    const state = this.loadState();
    const topology = this.deps.engine.topology(state);
    validateRequest(req, topology.nodes.map((n) => n.name));
    const containers = await this.deps.engine.containers();
    const node = req.nodes[0]!;
    const c = await this.container(node, containers);
    for (const n of [...req.nodes, ...(req.from ?? [])]) await this.container(n, containers);
    const network = objectName(this.lab, NETWORK_SUFFIX);
    const now = this.clock.now();
    const fault: ActiveFault = {
      id: `f${now.toString(36)}${randomBytes(2).toString('hex')}`,
      kind: req.kind,
      nodes: req.nodes,
      from: req.from,
      detail: describeFault(req),
      appliedAt: new Date(now).toISOString(),
      expiresAt: req.forMs ? new Date(now + req.forMs).toISOString() : undefined,
      params: { delayMs: req.delayMs, jitterMs: req.jitterMs, lossPct: req.lossPct },
    };
    this.deps.reporter.step(`fault: ${fault.detail}`);
    if (REPAIRS.has(req.kind)) {
      if (req.kind === 'start') await this.deps.docker.containers.start(c.id);
      else if (req.kind === 'unpause') await this.deps.docker.containers.unpause(c.id);
      else await this.deps.docker.networks.connect(network, c.id, [node]);
      // A repair ends the matching recorded fault, if any.
      const ended = { start: ['stop', 'kill'], unpause: ['pause'], connect: ['disconnect'] }[req.kind as 'start' | 'unpause' | 'connect'];
      await this.record(`record ${fault.detail}`, (faults) => faults.filter((f) => !(f.nodes[0] === node && ended.includes(f.kind))));
      return undefined;
    }
    if (req.kind === 'kill' && c.state !== 'running' && c.state !== 'paused') throw new Error(`${node} is ${c.state}: nothing to kill`);
    if (req.kind === 'pause' && c.state !== 'running') throw new Error(`${node} is ${c.state}: only a running node can be paused`);
    if ((req.kind === 'delay' || req.kind === 'loss') && c.state !== 'running') throw new Error(`${node} is ${c.state}: network faults need a running node`);

    // Recorded first (under the lab's lock): delay/loss replace an earlier fault of the same kind on the node.
    const sameSlot = (f: ActiveFault) => (f.kind === 'delay' || f.kind === 'loss') && f.kind === req.kind && f.nodes[0] === node;
    let replaced: ActiveFault[] = [];
    const recorded = await this.record(`record fault ${fault.detail}`, (faults) => {
      replaced = faults.filter(sameSlot);
      return [...faults.filter((f) => !sameSlot(f)), fault];
    });
    try {
      switch (req.kind) {
        case 'stop':
          await this.deps.docker.containers.stop(c.id, topology.nodes.find((n) => n.name === node)?.spec.stopTimeoutS ?? ROLES.web.stopTimeoutS);
          break;
        case 'kill':
          await this.deps.docker.containers.kill(c.id, 'SIGKILL');
          break;
        case 'pause':
          await this.deps.docker.containers.pause(c.id);
          break;
        case 'disconnect':
          await this.deps.docker.networks.disconnect(network, c.id);
          break;
        case 'delay':
        case 'loss':
          await this.applyNetwork(req.kind, [node], containers, recorded, () => this.active());
          break;
        case 'partition':
          await this.applyNetwork('partition', req.nodes, containers, recorded, () => this.active());
          break;
      }
    } catch (err) {
      // Not in force: forget it again (and bring back the fault it replaced, still in force).
      await this.record(`forget failed fault ${fault.detail}`, (faults) => [...faults.filter((f) => f.id !== fault.id), ...replaced.filter((r) => !faults.some((f) => f.id === r.id))]).catch((e: unknown) => {
        this.deps.reporter.step(`could not remove the record of the failed fault "${fault.detail}": ${e instanceof Error ? e.message : String(e)}`);
      });
      throw err;
    }
    return fault;
  }

  /** Reverts one recorded fault (containers stopped or killed are started again by the caller's `up`). */
  private async revert(f: ActiveFault, remaining: () => ActiveFault[], containers: Map<string, ContainerInfo>): Promise<void> {
    const node = f.nodes[0]!;
    const c = await this.container(node, containers).catch(() => undefined);
    if (!c) return;
    this.deps.reporter.step(`heal: ${f.detail}`);
    switch (f.kind) {
      case 'pause':
        if (c.state === 'paused') await this.deps.docker.containers.unpause(c.id);
        break;
      case 'disconnect':
        if (!c.ips?.[objectName(this.lab, NETWORK_SUFFIX)]) await this.deps.docker.networks.connect(objectName(this.lab, NETWORK_SUFFIX), c.id, [node]);
        break;
      case 'delay':
      case 'loss':
        if (c.state === 'running') await this.applyNetwork(f.kind, [node], containers, remaining(), remaining);
        break;
      case 'partition':
        await this.applyNetwork('partition', f.nodes, containers, remaining(), remaining);
        break;
      default:
        break; // stop/kill: the node is started by `up`, which also waits for it to be ready
    }
  }

  /**
   * Reverts every active fault (or those touching one node), oldest last. Returns what was
   * reverted; the caller then runs `up` to start whatever is down and wait until it is ready.
   */
  async heal(node?: string, only?: (f: ActiveFault) => boolean): Promise<ActiveFault[]> {
    await this.deps.docker.ping();
    const state = this.loadState();
    if (node !== undefined) validateRequest({ kind: 'start', nodes: [node] }, this.deps.engine.topology(state).nodes.map((n) => n.name));
    const touches = (f: ActiveFault) => node === undefined || f.nodes.includes(node) || (f.from ?? []).includes(node);
    const chosen = this.active().filter((f) => touches(f) && (!only || only(f)));
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

  /** Faults whose `--for` has run out (e.g. the process that set them died): revert them now. */
  async expire(): Promise<ActiveFault[]> {
    const now = this.clock.now();
    const due = (f: ActiveFault) => f.expiresAt !== undefined && Date.parse(f.expiresAt) <= now;
    if (!this.active().some(due)) return [];
    return this.heal(undefined, due);
  }
}
