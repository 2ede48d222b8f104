/**
 * Starting a Galera cluster safely: which node bootstraps (from grastate.dat, or each node's
 * recovered position after a full crash, passed as a one-shot request file), and how a running
 * survivor without a Primary component becomes Primary again (`pc.bootstrap`).
 */
import type { ContainerInfo, DockerClient } from '../docker/types';
import {
  BOOTSTRAP_REQUEST_PATH,
  BootstrapCandidate,
  chooseBootstrapNode,
  GraState,
  GRASTATE_PATH,
  parseGrastate,
  sql,
  SurvivorVerdict,
  survivorVerdict,
  SurvivorView,
  wsrepStatus,
} from './galera';
import { labLabels, objectName } from '../docker/labels';
import type { RoleLabState } from './types';
import type { NodeSpec } from './types';
import { Clock, notYet, ready, waitFor } from '../core/wait';
import { errText } from '../core/errors';

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
   * Galera start order. With a node already running in a Primary component, the others simply
   * join it; a survivor without one bootstraps it, unless a stopped node holds later commits (the
   * survivor was cut off before the others crashed): then the survivors stop cleanly and the
   * cluster starts again from that node. Otherwise one node must bootstrap a new Primary
   * component: chosen from grastate.dat (positions recovered from InnoDB for crashed nodes), and
   * told so through the one-shot request file the entrypoint consumes.
   */
  async startOrder(
    state: RoleLabState,
    nodes: NodeSpec[],
    ids: Map<string, string>,
    existing: Map<string, ContainerInfo>,
    created: Set<string>,
  ): Promise<NodeSpec[]> {
    const running = nodes.filter((n) => existing.get(n.name)?.state === 'running');
    const recovered = new Map<string, GraState | undefined>();
    if (running.length > 0) {
      const stopped = nodes.filter((n) => !running.includes(n) && !created.has(n.name) && existing.get(n.name)?.state !== 'paused');
      const verdict = await this.survivorVerdict(state, running, stopped, ids, recovered);
      if (verdict.kind !== 'restart') return [...running, ...nodes.filter((n) => !running.includes(n))];
      const names = verdict.survivors.map((s) => s.node).join(', ');
      this.deps.reporter.step(
        `galera: ${verdict.ahead.node} holds commits up to seqno ${verdict.ahead.grastate?.seqno} that the running ${names} never received ` +
          `(last committed ${verdict.survivors.map((s) => s.lastCommitted).join(', ')}): bootstrapping ${names} would lose them, so ${names} ` +
          `${verdict.survivors.length > 1 ? 'stop' : 'stops'} cleanly and ${verdict.survivors.length > 1 ? 'rejoin' : 'rejoins'} the node that holds them`,
      );
      for (const n of running) {
        const id = ids.get(n.name)!;
        await this.deps.docker.containers.stop(id, n.spec.stopTimeoutS);
        existing.set(n.name, await this.deps.docker.containers.inspect(id));
      }
    }
    const candidates: BootstrapCandidate[] = [];
    for (const n of nodes) candidates.push({ node: n.name, grastate: recovered.has(n.name) ? recovered.get(n.name) : await this.grastate(n, ids, created) });
    // A node that crashed (no clean shutdown wrote its seqno) may hold the last commit: recover its
    // position first, unless a node is marked safe to bootstrap.
    const unknown = candidates.filter((c) => c.grastate && c.grastate.seqno < 0 && !c.grastate.safeToBootstrap);
    const mustRecover = unknown.length > 0 && !candidates.some((c) => c.grastate?.safeToBootstrap);
    if (mustRecover) {
      this.deps.reporter.step(
        unknown.length === candidates.length
          ? 'galera: every node crashed (grastate.dat: seqno -1, safe_to_bootstrap 0 on all of them), so none is known to hold the last commit; ' +
              "recovering each node's last committed position from InnoDB (mariadbd --wsrep-recover in a throw-away container on its volume)"
          : `galera: ${unknown.map((c) => c.node).join(', ')} crashed (grastate.dat: seqno -1), so ${unknown.length > 1 ? 'they' : 'it'} may hold the last commit; ` +
              'recovering the position from InnoDB (mariadbd --wsrep-recover in a throw-away container on its volume)',
      );
      await Promise.all(
        unknown.map(
          async (c) =>
            (c.grastate =
              (await this.recovered(
                nodes.find((n) => n.name === c.node)!,
                ids,
                recovered,
              )) ?? c.grastate),
        ),
      );
    }
    const choice = chooseBootstrapNode(candidates);
    this.deps.reporter.step(`galera: ${explainBootstrapChoice(candidates, choice.node, mustRecover, choice.reason)}`);
    await this.deps.docker.containers.putFile(ids.get(choice.node)!, BOOTSTRAP_REQUEST_PATH, `${choice.reason}\n`);
    const first = nodes.find((n) => n.name === choice.node)!;
    return [first, ...nodes.filter((n) => n !== first)];
  }

  /**
   * Running nodes without a Primary component (their peers crashed or were cut off) cannot be
   * joined. The survivor with the highest committed seqno becomes Primary again (`pc.bootstrap=YES`)
   * — unless a stopped node holds later commits: then the verdict is to restart from that node.
   */
  private async survivorVerdict(
    state: RoleLabState,
    running: NodeSpec[],
    stopped: NodeSpec[],
    ids: Map<string, string>,
    recovered: Map<string, GraState | undefined>,
  ): Promise<SurvivorVerdict> {
    // A read that fails is no verdict: on a saturated host (the audit's load) every node's docker
    // exec timed out at once, and "no running node answers" failed a heal of a healthy cluster.
    // Nodes that did not answer are asked again for 30 s, until one says Primary or all answered.
    const answered = new Map<string, Record<string, string>>();
    const problems = new Map<string, string>();
    const readMissing = async (): Promise<void> => {
      await Promise.all(
        running
          .filter((n) => !answered.has(n.name))
          .map(async (n) => {
            try {
              answered.set(n.name, await wsrepStatus(this.deps.docker.containers, ids.get(n.name)!, state.secrets.dbRootPassword));
              problems.delete(n.name);
            } catch (err) {
              problems.set(n.name, errText(err));
            }
          }),
      );
    };
    const settled = () => answered.size === running.length || [...answered.values()].some((w) => w.wsrep_cluster_status === 'Primary');
    const told = () => [...problems].map(([n, e]) => `${n}: ${e}`).join('; ');
    // waitFor's first probe reads at once (usually every node answers then); readMissing keeps each
    // node's error, so the wait ends when settled or after 30 s.
    await waitFor(
      async () => {
        await readMissing();
        return settled() ? ready(undefined) : notYet(told());
      },
      { what: 'the running Galera nodes to answer', timeoutMs: 30_000, intervalMs: 2000, clock: this.deps.clock },
    ).catch(() => undefined);
    if (answered.size === 0) throw new Error(`no running Galera node answered its status read in 30 s: ${told()}`);
    const views: SurvivorView[] = [...answered].map(([node, w]) => ({
      node,
      primary: w.wsrep_cluster_status === 'Primary',
      lastCommitted: Number(w.wsrep_last_committed ?? -1),
    }));
    if (views.some((v) => v.primary)) return { kind: 'primary' };
    // The stopped nodes' positions; a crashed one (seqno -1) is recovered, or it could hide the last commit.
    const others: BootstrapCandidate[] = await Promise.all(
      stopped.map(async (n) => {
        const g = await this.grastate(n, ids, new Set());
        return { node: n.name, grastate: g && g.seqno < 0 && !g.safeToBootstrap ? ((await this.recovered(n, ids, recovered)) ?? g) : g };
      }),
    );
    const verdict = survivorVerdict(views, others);
    if (verdict.kind !== 'survivor') return verdict;
    this.deps.reporter.step(`galera: no Primary component; ${verdict.node} (last committed ${verdict.lastCommitted}) bootstraps it with pc.bootstrap=YES`);
    const id = ids.get(verdict.node)!;
    await sql(this.deps.docker.containers, id, state.secrets.dbRootPassword, "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'");
    await waitFor(
      async () => {
        const w = await wsrepStatus(this.deps.docker.containers, id, state.secrets.dbRootPassword);
        return w.wsrep_cluster_status === 'Primary' ? ready(undefined) : notYet(`${verdict.node} is ${w.wsrep_cluster_status}`);
      },
      { what: `${verdict.node} Primary`, timeoutMs: 30_000, intervalMs: 250, clock: this.deps.clock },
    );
    return verdict;
  }

  private async grastate(n: NodeSpec, ids: Map<string, string>, created: Set<string>): Promise<GraState | undefined> {
    const text = created.has(n.name) ? undefined : await this.deps.docker.containers.getFile(ids.get(n.name)!, GRASTATE_PATH);
    return text ? parseGrastate(text.toString('utf8')) : undefined;
  }

  /** A node's recovered position, recovered once per start. */
  private async recovered(n: NodeSpec, ids: Map<string, string>, cache: Map<string, GraState | undefined>): Promise<GraState | undefined> {
    if (!cache.has(n.name)) {
      const pos = await this.recoverSeqno(n, ids.get(n.name)!);
      this.deps.reporter.step(
        `galera: ${n.name} recovered position ${pos && pos.seqno >= 0 ? `${pos.uuid ?? '?'}:${pos.seqno}` : 'unknown (recovery printed none)'}`,
      );
      cache.set(n.name, pos);
    }
    return cache.get(n.name);
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
      const line = (await this.deps.docker.containers.logs(id, 20))
        .split('\n')
        .reverse()
        .find((l) => l.trim().startsWith('{'));
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
  if (known.some((c) => c.grastate!.safeToBootstrap))
    return `${chosen} bootstraps the cluster (${reason}: it was the last node to leave, after a clean shutdown)`;
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
