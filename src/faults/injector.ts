/**
 * Faults on the lab's nodes, through the Engine API only (argv arrays, never shell strings).
 * Every fault is validated against the lab's topology before anything changes, recorded in the
 * lab's state (so a restarted CLI or extension still knows it), and can be reverted (`heal`).
 *
 * Network faults run in a short-lived sidecar that joins the node's network namespace with
 * CAP_NET_ADMIN (lab/netem): `tc netem` for delay, `iptables-restore` for loss and partitions.
 * The nodes themselves never get NET_ADMIN.
 */
import { randomBytes } from 'node:crypto';
import type { ContainerInfo, DockerClient } from '../docker/types';
import type { LabEngine, Reporter } from '../engine/lab';
import { NETWORK_SUFFIX } from '../engine/lab';
import { LABEL_LAB, objectName } from '../engine/labels';
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

  active(): ActiveFault[] {
    return (this.deps.engine.state()?.extra.faults as ActiveFault[] | undefined) ?? [];
  }

  private saveActive(faults: ActiveFault[]): void {
    const state = this.loadState();
    state.extra.faults = faults;
    this.deps.engine.saveState(state);
  }

  private async container(node: string, containers: Map<string, ContainerInfo>): Promise<ContainerInfo> {
    const c = containers.get(node);
    if (!c) throw new Error(`${node} has no container (the lab is not up?): run \`up\` first`);
    return this.deps.docker.containers.inspect(c.id);
  }

  /** Runs a command in a sidecar sharing the node's network namespace, with CAP_NET_ADMIN only. */
  private async sidecar(node: ContainerInfo, nodeName: string, argv: string[], file?: { path: string; content: string }): Promise<void> {
    if (node.state !== 'running') throw new Error(`${nodeName} is ${node.state}: network faults need a running node`);
    const image = await this.deps.engine.toolImage(NETEM_IMAGE);
    const id = await this.deps.docker.containers.create({
      name: objectName(this.lab, `netem-${nodeName}-${randomBytes(3).toString('hex')}`),
      image,
      hostname: '',
      labels: { [LABEL_LAB]: this.lab, 'io.moodle-lab.tool': 'netem' },
      env: {},
      network: `container:${node.id}`,
      aliases: [],
      ports: [],
      volumes: [],
      capAdd: ['NET_ADMIN'],
      devices: [],
      stopTimeoutS: 1,
      cmd: argv,
    });
    try {
      if (file) await this.deps.docker.containers.putFile(id, file.path, file.content);
      await this.deps.docker.containers.start(id);
      const code = await this.deps.docker.containers.wait(id);
      if (code !== 0) {
        const logs = await this.deps.docker.containers.logs(id, 10).catch(() => '');
        throw new Error(`${argv[0]} in ${nodeName}'s network namespace failed (exit ${code}): ${logs.trim()}`);
      }
    } finally {
      await this.deps.docker.containers.remove(id);
    }
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
    const others = this.active();
    this.deps.reporter.step(`fault: ${fault.detail}`);
    switch (req.kind) {
      case 'stop':
        await this.deps.docker.containers.stop(c.id, topology.nodes.find((n) => n.name === node)?.spec.stopTimeoutS ?? ROLES.web.stopTimeoutS);
        break;
      case 'kill':
        if (c.state !== 'running' && c.state !== 'paused') throw new Error(`${node} is ${c.state}: nothing to kill`);
        await this.deps.docker.containers.kill(c.id, 'SIGKILL');
        break;
      case 'pause':
        if (c.state !== 'running') throw new Error(`${node} is ${c.state}: only a running node can be paused`);
        await this.deps.docker.containers.pause(c.id);
        break;
      case 'disconnect':
        await this.deps.docker.networks.disconnect(network, c.id);
        break;
      case 'delay':
      case 'loss':
        await this.applyNetem(node, containers, [...others.filter((f) => !(f.kind === req.kind && f.nodes[0] === node)), fault], req.kind);
        break;
      case 'partition':
        await this.applyPartitions(req.nodes, containers, [...others, fault]);
        break;
      case 'start':
        await this.deps.docker.containers.start(c.id);
        break;
      case 'unpause':
        await this.deps.docker.containers.unpause(c.id);
        break;
      case 'connect':
        await this.deps.docker.networks.connect(network, c.id, [node]);
        break;
    }
    if (REPAIRS.has(req.kind)) {
      // A repair ends the matching recorded fault, if any.
      const ended = { start: ['stop', 'kill'], unpause: ['pause'], connect: ['disconnect'] }[req.kind as 'start' | 'unpause' | 'connect'];
      this.saveActive(others.filter((f) => !(f.nodes[0] === node && ended.includes(f.kind))));
      return undefined;
    }
    // delay/loss replace an earlier fault of the same kind on the node.
    this.saveActive([...others.filter((f) => !((f.kind === 'delay' || f.kind === 'loss') && f.kind === req.kind && f.nodes[0] === node)), fault]);
    return fault;
  }

  /** Reverts one recorded fault (containers stopped or killed are started again by the caller's `up`). */
  private async revert(f: ActiveFault, remaining: ActiveFault[], containers: Map<string, ContainerInfo>): Promise<void> {
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
        if (c.state === 'running') await this.applyNetem(node, containers, remaining, f.kind);
        break;
      case 'partition':
        await this.applyPartitions(f.nodes, containers, remaining);
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
    const all = this.active();
    const touches = (f: ActiveFault) => node === undefined || f.nodes.includes(node) || (f.from ?? []).includes(node);
    const chosen = all.filter((f) => touches(f) && (!only || only(f)));
    const remaining = all.filter((f) => !chosen.includes(f));
    const containers = await this.deps.engine.containers();
    for (const f of [...chosen].reverse()) {
      await this.revert(f, remaining, containers);
    }
    this.saveActive(remaining);
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
