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
  /** The labels of what the lab creates (name and id); default: the name only. */
  labels?: Record<string, string>;
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
    const recovered = candidates.every((c) => c.grastate && c.grastate.seqno < 0 && !c.grastate.safeToBootstrap);
    if (recovered) {
      this.deps.reporter.step(
        'galera: every node crashed (grastate.dat: seqno -1, safe_to_bootstrap 0 on all of them), so none is known to hold the last commit; ' +
          "recovering each node's last committed position from InnoDB (mariadbd --wsrep-recover in a throw-away container on its volume)",
      );
      for (const c of candidates) {
        const pos = await this.recoverSeqno(nodes.find((n) => n.name === c.node)!, ids.get(c.node)!);
        this.deps.reporter.step(`galera: ${c.node} recovered position ${pos && pos.seqno >= 0 ? `${pos.uuid ?? '?'}:${pos.seqno}` : 'unknown (recovery printed none)'}`);
        c.grastate = pos ?? c.grastate;
      }
    }
    const choice = chooseBootstrapNode(candidates);
    this.deps.reporter.step(`galera: ${explainBootstrapChoice(candidates, choice.node, recovered, choice.reason)}`);
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
      labels: this.deps.labels ?? labLabels(this.deps.lab),
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

/**
 * One sentence that teaches why this node bootstraps: every node's position, and why the chosen
 * one is safe (it holds every commit the others hold).
 */
export function explainBootstrapChoice(candidates: BootstrapCandidate[], chosen: string, recovered: boolean, reason: string): string {
  const seqno = (c: BootstrapCandidate) => c.grastate?.seqno ?? -1;
  const known = candidates.filter((c) => c.grastate);
  if (known.length === 0) return `${chosen} bootstraps the cluster (${reason})`;
  if (known.some((c) => c.grastate!.safeToBootstrap)) return `${chosen} bootstraps the cluster (${reason}: it was the last node to leave, after a clean shutdown)`;
  const positions = candidates.map((c) => `${c.node} ${seqno(c)}`).join(', ');
  const best = seqno(candidates.find((c) => c.node === chosen)!);
  const tied = candidates.filter((c) => c.node !== chosen && seqno(c) === best).map((c) => c.node);
  const source = recovered ? 'recovered seqno' : 'seqno in grastate.dat';
  const unknown = candidates.filter((c) => seqno(c) < 0).map((c) => c.node);
  return (
    `${chosen} bootstraps the cluster: highest ${source} (${positions}), so it holds every transaction the others committed` +
    (tied.length ? `; ${tied.join(', ')} ${tied.length > 1 ? 'hold' : 'holds'} the same position, so any of them is safe and the first is taken` : '') +
    (unknown.length ? `; no position could be recovered for ${unknown.join(', ')} (commits only it held would be lost; it rejoins by state transfer)` : '') +
    '; the others rejoin it and catch up by IST/SST'
  );
}
