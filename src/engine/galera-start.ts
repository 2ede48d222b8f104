/**
 * Starting a Galera cluster safely: which node bootstraps (from grastate.dat, or each node's
 * recovered position after a full crash, passed as a one-shot request file), and how a running
 * survivor without a Primary component becomes Primary again (`pc.bootstrap`).
 */
import type { ContainerInfo, DockerClient } from '../docker/types';
import { BOOTSTRAP_REQUEST_PATH, BootstrapCandidate, chooseBootstrapNode, GraState, GRASTATE_PATH, parseGrastate, sql, wsrepStatus } from './galera';
import { labLabels, objectName } from './labels';
import type { LabState } from './state';
import type { NodeSpec } from './topology';
import { Clock, notYet, ready, waitFor } from './wait';

export const NETWORK_SUFFIX = 'net';

export interface GaleraStartDeps {
  docker: DockerClient;
  lab: string;
  reporter: { step(m: string): void };
  clock: Clock;
}

export class GaleraStarter {
  constructor(private readonly deps: GaleraStartDeps) {}

  /**
   * Galera start order. With a node already running, the others simply join it. Otherwise one
   * node must bootstrap a new Primary component: chosen from grastate.dat, and told so through
   * the one-shot request file the entrypoint consumes.
   */
  async startOrder(state: LabState, nodes: NodeSpec[], ids: Map<string, string>, existing: Map<string, ContainerInfo>, created: Set<string>): Promise<NodeSpec[]> {
    const running = nodes.filter((n) => existing.get(n.name)?.state === 'running');
    if (running.length > 0) {
      await this.ensurePrimary(state, running, ids);
      return [...running, ...nodes.filter((n) => !running.includes(n))];
    }
    const candidates: BootstrapCandidate[] = [];
    for (const n of nodes) {
      const text = created.has(n.name) ? undefined : await this.deps.docker.containers.getFile(ids.get(n.name)!, GRASTATE_PATH);
      candidates.push({ node: n.name, grastate: text ? parseGrastate(text.toString('utf8')) : undefined });
    }
    // Every node crashed (no clean shutdown wrote a seqno): recover each one's position first.
    if (candidates.every((c) => c.grastate && c.grastate.seqno < 0 && !c.grastate.safeToBootstrap)) {
      this.deps.reporter.step('galera: every node crashed; recovering each node\'s last committed seqno (--wsrep-recover)');
      for (const c of candidates) c.grastate = (await this.recoverSeqno(nodes.find((n) => n.name === c.node)!, ids.get(c.node)!)) ?? c.grastate;
    }
    const choice = chooseBootstrapNode(candidates);
    this.deps.reporter.step(`galera: ${choice.node} bootstraps the cluster (${choice.reason})`);
    await this.deps.docker.containers.putFile(ids.get(choice.node)!, BOOTSTRAP_REQUEST_PATH, `${choice.reason}\n`);
    const first = nodes.find((n) => n.name === choice.node)!;
    return [first, ...nodes.filter((n) => n !== first)];
  }

  /**
   * A running node that is not in a Primary component (its peers crashed) cannot be joined.
   * The survivor with the highest committed seqno becomes Primary again (`pc.bootstrap=YES`).
   */
  async ensurePrimary(state: LabState, running: NodeSpec[], ids: Map<string, string>): Promise<void> {
    const rows = await Promise.all(
      running.map(async (n) => ({ n, w: await wsrepStatus(this.deps.docker.containers, ids.get(n.name)!, state.secrets.dbRootPassword).catch(() => undefined) })),
    );
    if (rows.some((r) => r.w?.wsrep_cluster_status === 'Primary')) return;
    const best = rows.filter((r) => r.w).sort((a, b) => Number(b.w!.wsrep_last_committed ?? -1) - Number(a.w!.wsrep_last_committed ?? -1))[0];
    if (!best) throw new Error('no running Galera node answers: cannot recover the cluster');
    this.deps.reporter.step(`galera: no Primary component; ${best.n.name} (last committed ${best.w!.wsrep_last_committed}) bootstraps it with pc.bootstrap=YES`);
    const id = ids.get(best.n.name)!;
    await sql(this.deps.docker.containers, id, state.secrets.dbRootPassword, "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'");
    await waitFor(
      async () => {
        const w = await wsrepStatus(this.deps.docker.containers, id, state.secrets.dbRootPassword);
        return w.wsrep_cluster_status === 'Primary' ? ready(undefined) : notYet(`${best.n.name} is ${w.wsrep_cluster_status}`);
      },
      { what: `${best.n.name} Primary`, timeoutMs: 30_000, intervalMs: 250, clock: this.deps.clock },
    );
  }

  /** After a crash of every node (seqno -1 everywhere): the position each datadir recovers to. */
  private async recoverSeqno(node: NodeSpec, containerId: string): Promise<GraState | undefined> {
    const info = await this.deps.docker.containers.inspect(containerId);
    const volumes = node.spec.volumes.map((v) => ({ volume: objectName(this.deps.lab, `${node.name}-${v.suffix}`), path: v.path }));
    const id = await this.deps.docker.containers.create({
      name: objectName(this.deps.lab, `${node.name}-recover-${Date.now().toString(36)}`),
      image: info.image,
      hostname: node.name,
      labels: labLabels(this.deps.lab),
      env: {},
      network: objectName(this.deps.lab, NETWORK_SUFFIX),
      aliases: [],
      ports: [],
      volumes,
      capAdd: [],
      devices: [],
      stopTimeoutS: 10,
      cmd: ['recover'],
    });
    try {
      await this.deps.docker.containers.start(id);
      await this.deps.docker.containers.wait(id);
      const line = (await this.deps.docker.containers.logs(id, 20)).split('\n').reverse().find((l) => l.trim().startsWith('{'));
      if (!line) return undefined;
      const j = JSON.parse(line) as { seqno?: number; uuid?: string };
      return { seqno: Number(j.seqno ?? -1), uuid: j.uuid, safeToBootstrap: false };
    } finally {
      await this.deps.docker.containers.remove(id);
    }
  }

}
