/**
 * The lab's lifecycle: up (create or resume), down (stop, keep data), destroy (remove every
 * object labelled for the lab, and nothing else). Everything goes through the DockerClient
 * interface; everything the lab creates carries its labels.
 */
import type { ContainerInfo, DockerClient } from '../docker/types';
import { NETWORK_SUFFIX } from '../roles/galera-start';
import type { HaproxyProfile } from '../roles/haproxy';
import { execRuntime, HaproxyRuntime } from '../roles/haproxy-runtime';
import { DEFAULT_BASE_IMAGE, ImageBuilder, isSharedImageTag } from './images';
import {
  identityOf,
  LABEL_ID,
  LABEL_LAB,
  LABEL_NODE,
  LabIdentity,
  labLabels,
  newLabId,
  nodeLabels,
  objectName,
  ownsContainer,
  setIdentity,
  validateLabName,
} from '../docker/labels';
import { choosePort, isLoopbackPortFree, PortProbe } from './ports';
import { cidrsOverlap, planLabNetwork } from '../roles/lab-network';
import * as os from 'node:os';
import { HttpGet, waitReady } from './readiness';
import { LabState, newSecrets, StateStore, withAllSecrets } from './state';
import type { MoodleSource } from '../moodle/types';
import { ensureMoodleImage, MOODLE_CONTEXT } from './moodle-image';
import type { MoodleLabState } from '../moodle/install';
import { SiteCache, siteCacheDir } from '../moodle/site-cache';
import { setUpSite } from '../moodle/site-setup';
import { buildTopology, LabDefinition, NodeSpec, nodesOf, PresetName, resolveDefinition, Role, sameRoles, Topology, webCountOf } from './topology';
import { DB_NAME, MOODLEDATA, moodleUrl, nodeEnv as nodeEnvFor } from './env';
import { Clock, realClock } from '../core/wait';
import { moodleRole, roleModule, roleModules } from '../roles';
import type { RoleHookContext } from '../roles/types';
import type { Reporter } from '../core/reporter';
import { errText } from '../core/errors';

export type { Reporter };

export const silentReporter: Reporter = { step: () => undefined, detail: () => undefined };

export interface UpOptions {
  /** A built-in lab's name (default `ha`). */
  preset?: PresetName;
  /** A lab definition (a lab file's); takes the place of `preset`. */
  definition?: LabDefinition;
  webCount?: number;
  baseImage?: string;
  haproxyProfile?: HaproxyProfile;
  /** Preferred host ports by name (`moodle`, `stats`, `runtime`). */
  ports?: Partial<Record<string, number>>;
  /** Bake this Moodle source into the web nodes and install it (once). */
  moodle?: MoodleSource;
  /** Run Moodle's installer even when the site cache holds this source's site. */
  freshInstall?: boolean;
  signal?: AbortSignal;
}

export interface EngineDeps {
  docker: DockerClient;
  store: StateStore;
  /** The folder holding the build contexts (lab/). */
  labRoot: string;
  reporter?: Reporter;
  clock?: Clock;
  portProbe?: PortProbe;
  http?: HttpGet;
  /** HAProxy's runtime API on a host port (tests pass a fake). */
  runtime?: (port: number) => HaproxyRuntime;
  /** The site cache (default: <home>/cache/sites). */
  siteCacheDir?: string;
}

/** `up` failed on one node: the message names it, `logs` holds its last lines. */
export class NodeFailedError extends Error {
  constructor(
    public readonly node: string,
    cause: string,
    public readonly logs: string,
  ) {
    super(`${node} failed: ${cause}`);
    this.name = 'NodeFailedError';
  }
}

export { NETWORK_SUFFIX };

/** The host's own IPv4 networks (`a.b.c.d/n`): a lab subnet must not shadow a route the host uses. */
function hostSubnets(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i): i is os.NetworkInterfaceInfo => i !== undefined && i.family === 'IPv4' && !i.internal && i.cidr !== null)
    .map((i) => i.cidr!);
}

type ImageRow = { id: string; tags: string[] };

/** Like Promise.all, but waits for every promise before rejecting with the first failure. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export class LabEngine {
  private readonly docker: DockerClient;
  private readonly store: StateStore;
  private readonly images: ImageBuilder;
  private readonly reporter: Reporter;
  private readonly clock: Clock;
  private readonly portProbe: PortProbe;

  constructor(
    private readonly deps: EngineDeps,
    public readonly lab: string,
  ) {
    validateLabName(lab);
    this.docker = deps.docker;
    this.store = deps.store;
    this.images = new ImageBuilder(deps.docker, deps.labRoot);
    this.reporter = deps.reporter ?? silentReporter;
    this.clock = deps.clock ?? realClock;
    this.portProbe = deps.portProbe ?? isLoopbackPortFree;
  }

  state(): LabState | undefined {
    return this.store.load(this.lab);
  }

  /** Changes the lab's state under its lock (see StateStore.update); returns the new state. */
  updateState(change: (state: LabState) => LabState | void, what = 'update'): Promise<LabState> {
    return this.store.update(this.lab, change, { what: `${what} (lab ${this.lab})`, note: (m) => this.reporter.step(m) });
  }

  /** Builds (once) an image from a lab/ folder that no node role uses, e.g. the netem sidecar. */
  async toolImage(name: string): Promise<string> {
    const state = this.state();
    if (!state) throw new Error(`lab "${this.lab}" does not exist`);
    return (await this.images.ensure(this.lab, { name }, state.baseImage, (l) => this.reporter.detail(l), { labels: this.labels(state) })).tag;
  }

  /** The labels of an object this lab creates: its name and, once it has one, its id. */
  labels(state: LabState | undefined = this.state()): Record<string, string> {
    return labLabels(this.lab, identityOf(state)?.id);
  }

  topology(state: LabState): Topology {
    return buildTopology(state.definition);
  }

  /** The lab's own containers by node name: a look-alike without the lab's id is left out (see labels.ts). */
  async containers(): Promise<Map<string, ContainerInfo>> {
    return this.ownContainers(identityOf(this.state()));
  }

  private async ownContainers(identity: LabIdentity | undefined): Promise<Map<string, ContainerInfo>> {
    const list = (await this.docker.containers.list(labLabels(this.lab))).filter((c) => ownsContainer(identity, c));
    const byNode = new Map<string, ContainerInfo>();
    for (const c of list) {
      const node = c.labels[LABEL_NODE] ?? c.name;
      // Without an identity (a lab made before ids, until its next `up`) two containers may claim
      // a node: the one under the lab's own name for it wins (Docker names are unique).
      if (!byNode.has(node) || c.name === objectName(this.lab, node)) byNode.set(node, c);
    }
    return byNode;
  }

  /**
   * HAProxy's admin runtime API (`set server ... state`) on every running HAProxy node (both of a
   * pair: a drain holds whichever holds the VIP): the Unix socket in its container, through `docker exec`.
   */
  async haproxyAdmins(): Promise<{ node: string; runtime: HaproxyRuntime }[]> {
    const state = this.state();
    if (!state) throw new Error(`lab "${this.lab}" does not exist: run \`up\` first`);
    const lbs = nodesOf(this.topology(state), 'lb');
    if (lbs.length === 0) throw new Error('this topology has no HAProxy');
    const containers = await this.containers();
    const running = lbs.filter((n) => containers.get(n.name)?.state === 'running');
    if (running.length === 0) {
      const words = lbs.map((n) => `${n.name} is ${containers.get(n.name)?.state ?? 'missing'}`).join(', ');
      throw new Error(`${words}: its runtime API needs it running (\`up\` starts it)`);
    }
    return running.map((n) => ({ node: n.name, runtime: new HaproxyRuntime(execRuntime(this.docker.containers, containers.get(n.name)!.id)) }));
  }

  /** Creates the lab, or resumes it with its data; returns when every node is ready. */
  async up(opts: UpOptions = {}): Promise<LabState> {
    await this.docker.ping();
    const labelled = await this.docker.containers.list(labLabels(this.lab));
    let state = this.state();
    if (labelled.length > 0 && !state) {
      throw new Error(`lab "${this.lab}" has containers but no state directory (${this.store.dir(this.lab)}): run \`destroy\` first`);
    }
    if (state) {
      const wanted = opts.definition ?? opts.preset;
      // The lab's own web count: a different --web gets its own message below.
      if (wanted !== undefined && !sameRoles(resolveDefinition(wanted, webCountOf(state.definition)), state.definition)) {
        throw new Error(`lab "${this.lab}" exists with topology "${state.definition.name}": destroy it first, or use another --lab name`);
      }
      if (opts.webCount !== undefined && opts.webCount !== webCountOf(state.definition)) {
        throw new Error(`lab "${this.lab}" exists with ${webCountOf(state.definition)} web nodes: destroy it first to change --web`);
      }
    } else {
      state = await this.newState(opts);
    }
    if (!identityOf(state)) state = await this.adoptPreIdLab(state, labelled);
    state = await this.updateState((s) => {
      delete s.extra.stopping; // an earlier `down` is over
      return withAllSecrets(s);
    }, 'up');
    const identity = identityOf(state);
    for (const c of labelled.filter((x) => !ownsContainer(identity, x) && x.labels[LABEL_NODE] !== undefined)) {
      this.reporter.step(
        `ignoring container ${c.name}: it carries lab "${this.lab}"'s label (node ${c.labels[LABEL_NODE]}) but not its id, so the lab did not make it (\`destroy\` removes it with the lab)`,
      );
    }
    const existing = await this.ownContainers(identity);
    const topology = this.topology(state);
    state = await this.reclaimPorts(state, topology, existing);
    const tags = await this.ensureImages(topology, state.baseImage);
    const moodle = await this.moodleImage(state, tags.get(moodleRole())!, opts.moodle);
    if (moodle) {
      tags.set(moodleRole(), moodle.image);
      state = await this.saveMoodle(moodle);
    }

    const planned = await this.ensureNetwork(state, topology);
    const network = planned.name;
    state = planned.state;
    for (const stage of topology.stages) {
      // Let every role of the stage finish (or fail) before reporting: no start left running behind our back.
      const current = state;
      await settleAll(stage.map((role) => this.startRole(role, topology, current, tags.get(role)!, network, existing, opts)));
    }
    const hookCtx = this.hookContext(state, topology, opts.signal);
    for (const m of roleModules()) await m.hooks?.afterUp?.(hookCtx);
    if (moodle && (!moodle.installed || !moodle.course || !moodle.cache)) await this.installMoodle(state, topology, moodle, opts.freshInstall);
    else if (moodle && opts.freshInstall)
      this.reporter.step('moodle: already installed in this lab, --fresh-install changes nothing (destroy the lab to install again)');
    return this.state() ?? state;
  }

  /** One image per role folder, built only when its context changed (or always, with `rebuild`: no layer cache). */
  async ensureImages(topology: Topology, baseImage: string, opts: { rebuild?: boolean } = {}): Promise<Map<Role, string>> {
    const tags = new Map<Role, string>();
    for (const role of new Set(topology.nodes.map((n) => n.role))) {
      const image = roleModule(role).spec.image;
      this.reporter.step(`image ${image}`);
      const { tag, built } = await this.images.ensure(this.lab, { name: image }, baseImage, (l) => this.reporter.detail(l), { ...opts, labels: this.labels() });
      if (built) this.reporter.step(`built ${tag}`);
      tags.set(role, tag);
    }
    return tags;
  }

  /**
   * Which Moodle image the web nodes run: a newly given source is built into one (unless the lab
   * already installed another source: upgrades are not a lab feature); without a source, a lab
   * that has Moodle keeps the image it was installed with.
   */
  private async moodleImage(state: LabState, webTag: string, source: MoodleSource | undefined): Promise<MoodleLabState | undefined> {
    const current = state.extra.moodle;
    if (!source) {
      if (!current) return undefined;
      if (!(await this.docker.images.exists(current.image))) {
        throw new Error(`the lab's Moodle image ${current.image} is gone: run \`up --moodle-source <the same source>\` to rebuild it`);
      }
      return current;
    }
    if (current?.installed && current.fingerprint !== source.fingerprint) {
      throw new Error(
        `lab "${this.lab}" runs Moodle ${current.release} from ${current.origin}; a different source needs a new lab (destroy it first, or use another --lab name)`,
      );
    }
    const image = await ensureMoodleImage(this.docker, this.lab, this.deps.labRoot, webTag, source, this.reporter, this.labels(state));
    return {
      ...current,
      installed: current?.installed ?? false,
      image,
      release: source.release,
      origin: source.origin,
      fingerprint: source.fingerprint,
      layout: source.layout,
    };
  }

  /**
   * The one install (or restore from the site cache, src/moodle/site-setup.ts): on the first web
   * node, only into an empty database, recorded in the state.
   */
  private async installMoodle(state: LabState, topology: Topology, moodle: MoodleLabState, freshInstall?: boolean): Promise<void> {
    const running = await this.containers();
    const db = nodesOf(topology, 'db')
      .map((n) => running.get(n.name))
      .find((c) => c?.state === 'running');
    const web = running.get(nodesOf(topology, moodleRole())[0]!.name);
    if (!db || !web) throw new Error('the Moodle install needs a running DB node and web node');
    await setUpSite({
      containers: this.docker.containers,
      cache: new SiteCache(this.deps.siteCacheDir ?? siteCacheDir(this.store.home)),
      reporter: this.reporter,
      now: () => this.clock.now(),
      lab: this.lab,
      db: { id: db.id, name: db.labels[LABEL_NODE] ?? db.name },
      dbPeers: nodesOf(topology, 'db')
        .map((n) => running.get(n.name))
        .filter((c): c is ContainerInfo => c?.state === 'running' && c.id !== db.id)
        .map((c) => ({ id: c.id, name: c.labels[LABEL_NODE] ?? c.name })),
      clock: this.clock,
      web: { id: web.id, name: web.labels[LABEL_NODE] ?? web.name },
      dbRootPassword: state.secrets.dbRootPassword,
      dbName: DB_NAME,
      dataroot: MOODLEDATA,
      wwwroot: moodleUrl(state),
      params: { adminPassword: state.secrets.moodleAdminPassword, siteName: `Moodle HA Lab (${this.lab})` },
      moodle,
      save: async () => {
        await this.saveMoodle(moodle);
      },
      freshInstall,
    });
  }

  /** Records the Moodle section (only `up` changes it), leaving the rest of the state as it is on disk. */
  private saveMoodle(moodle: MoodleLabState): Promise<LabState> {
    return this.updateState((s) => {
      s.extra.moodle = { ...moodle };
    }, 'record the Moodle image');
  }

  /**
   * A stopped lab's host ports may have been taken meanwhile (another lab made while this one was
   * down picks the same free ports). A port of a stateless node other than Moodle's own address
   * (HAProxy's stats and runtime ports) moves to the next free one, recorded in the state, and
   * the node is recreated with it; Moodle's port cannot move (it is the site's wwwroot): one
   * clear error, and nothing changed.
   */
  private async reclaimPorts(state: LabState, topology: Topology, existing: Map<string, ContainerInfo>): Promise<LabState> {
    const moved: Record<string, number> = {};
    const recreate = new Map<string, ContainerInfo>();
    const taken = new Set(Object.values(state.ports));
    for (const node of topology.nodes) {
      const c = existing.get(node.name);
      if (c && c.state !== 'exited' && c.state !== 'created' && c.state !== 'dead') continue; // it holds its own ports
      for (const p of node.ports) {
        const port = state.ports[p.name];
        if (p.publish !== 'preferred' || !port || (await this.portProbe(port))) continue;
        if (p.name === 'moodle' || !roleModule(node.role).spec.stateless) {
          throw new Error(
            `port ${port} on 127.0.0.1 (${p.name}, ${node.name}) is taken by another program or lab since lab "${this.lab}" was made` +
              (p.name === 'moodle' ? `, and it is the site's address (${moodleUrl(state)}), so it cannot move` : '') +
              ': stop what holds it (another lab: `npm run lab -- down --lab <name>`), then run `up` again',
          );
        }
        moved[p.name] = await choosePort(port + 1, taken, this.portProbe);
        taken.add(moved[p.name]!);
        this.reporter.step(`port ${port} (${p.name}) is taken since the lab was made: ${node.name} moves it to ${moved[p.name]}`);
        if (c) recreate.set(node.name, c);
      }
    }
    if (Object.keys(moved).length === 0) return state;
    const next = await this.updateState((s) => {
      Object.assign(s.ports, moved);
    }, 'move host ports');
    for (const [node, c] of recreate) {
      await this.docker.containers.remove(c.id);
      existing.delete(node);
    }
    return next;
  }

  private async newState(opts: UpOptions): Promise<LabState> {
    const topology = buildTopology(opts.definition ?? opts.preset ?? 'ha', opts.webCount);
    const definition = topology.definition;
    const ports: Record<string, number> = {};
    const taken = new Set<number>();
    for (const n of topology.nodes) {
      for (const p of n.ports) {
        if (p.publish !== 'preferred') continue;
        const wanted = opts.ports?.[p.name] ?? p.defaultHostPort ?? 0;
        ports[p.name] = await choosePort(wanted, taken, this.portProbe);
        taken.add(ports[p.name]!);
      }
    }
    const state: LabState = {
      lab: this.lab,
      createdAt: new Date(this.clock.now()).toISOString(),
      preset: definition.name,
      webCount: nodesOf(topology, 'web').length,
      definition,
      baseImage: opts.baseImage ?? DEFAULT_BASE_IMAGE,
      secrets: newSecrets(),
      ports,
      extra: { haproxyProfile: opts.haproxyProfile ?? definition.haproxy ?? 'tuned' },
    };
    setIdentity(state, { id: newLabId() });
    return this.store.create(state, { what: `create lab ${this.lab}`, note: (m) => this.reporter.step(m) });
  }

  /**
   * A lab made before labs had ids: its objects carry none, and Docker cannot add a label to an
   * existing object. Its first `up` with ids adopts them once, recorded in the state: each node's
   * container by Docker id (only the one with the lab's own name for it: Docker names are
   * unique), the network and volumes by the lab's own names. A container made later that merely
   * claims the lab's labels is never adopted; what is created from then on carries the id.
   */
  private async adoptPreIdLab(state: LabState, labelled: ContainerInfo[]): Promise<LabState> {
    const topology = this.topology(state);
    const containers = topology.nodes
      .map((n) => labelled.find((c) => c.labels[LABEL_NODE] === n.name && c.labels[LABEL_ID] === undefined && c.name === objectName(this.lab, n.name)))
      .filter((c): c is ContainerInfo => c !== undefined)
      .map((c) => c.id);
    const networkName = objectName(this.lab, NETWORK_SUFFIX);
    const networks = (await this.docker.networks.list(labLabels(this.lab))).filter((n) => n.name === networkName).map((n) => n.name);
    const volumeNames = new Set(topology.nodes.flatMap((n) => n.spec.volumes.map((v) => objectName(this.lab, `${n.name}-${v.suffix}`))));
    const volumes = (await this.docker.volumes.list(labLabels(this.lab))).map((v) => v.name).filter((n) => volumeNames.has(n));
    const identity: LabIdentity = { id: newLabId(), adopted: { containers, networks: [...new Set(networks)], volumes } };
    const next = await this.updateState((s) => {
      if (!identityOf(s)) setIdentity(s, identity);
    }, 'adopt a lab made before lab ids');
    if (identityOf(next)?.id === identity.id) {
      this.reporter.step(
        `lab "${this.lab}" was made before labs had an id: adopting its ${containers.length} containers, ${volumes.length} volumes and ${networks.length} network once ` +
          `(recorded in its state); what is created from now on carries ${LABEL_ID}=${identity.id}`,
      );
    }
    return next;
  }

  /** Names of the lab's own networks or volumes among those labelled for it: carrying its id, or adopted. */
  private async ownNames(kind: 'networks' | 'volumes', identity: LabIdentity | undefined): Promise<{ own: Set<string>; foreign: Set<string> }> {
    const all = (await this.docker[kind].list(labLabels(this.lab))).map((x) => x.name);
    if (!identity) return { own: new Set(all), foreign: new Set() };
    const withId = new Set((await this.docker[kind].list(labLabels(this.lab, identity.id))).map((x) => x.name));
    const own = new Set(all.filter((n) => withId.has(n) || identity.adopted?.[kind].includes(n)));
    return { own, foreign: new Set(all.filter((n) => !own.has(n))) };
  }

  /**
   * The lab's network. A topology whose roles need fixed addresses (a virtual IP, keepalived's
   * peers) gets a subnet of its own, free against every Docker network and the host's own
   * networks, recorded in the state (`extra.network`) before the network is made; another lab
   * taking the same subnet meanwhile makes Docker refuse it: the next free one is tried.
   */
  private async ensureNetwork(state: LabState, topology: Topology): Promise<{ name: string; state: LabState }> {
    const name = objectName(this.lab, NETWORK_SUFFIX);
    const identity = identityOf(state);
    const { own, foreign } = await this.ownNames('networks', identity);
    if (own.has(name)) return { name, state };
    if (foreign.has(name)) {
      throw new Error(
        `a network named ${name} carries lab "${this.lab}"'s label but not its id (the lab did not make it): remove it (\`docker network rm ${name}\`) and run \`up\` again`,
      );
    }
    const wanted = roleModules().flatMap((m) => (nodesOf(topology, m.role).length ? (m.fixedAddresses?.(topology) ?? []) : []));
    if (wanted.length === 0) {
      await this.docker.networks.create(name, labLabels(this.lab, identity?.id));
      return { name, state };
    }
    const failed: string[] = [];
    for (;;) {
      const taken = [...(await this.docker.networks.subnets()), ...hostSubnets()];
      const kept = state.extra.network;
      const reuse = kept && wanted.every((w) => kept.addresses[w]) && !failed.includes(kept.subnet) && !taken.some((t) => cidrsOverlap(t, kept.subnet));
      const plan = reuse ? kept : planLabNetwork(taken, wanted, failed);
      if (plan !== kept) {
        state = await this.updateState((s) => {
          s.extra.network = plan;
        }, 'record the lab network');
      }
      try {
        await this.docker.networks.create(name, labLabels(this.lab, identity?.id), { subnet: plan.subnet, gateway: plan.gateway, ipRange: plan.ipRange });
        this.reporter.step(
          `network ${name}: ${plan.subnet}, fixed addresses ${Object.entries(plan.addresses)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        );
        return { name, state };
      } catch (err) {
        // Another lab (or program) took the subnet between our look and the create.
        if (!/overlap/i.test(errText(err)) || failed.length >= 5) throw err;
        failed.push(plan.subnet);
      }
    }
  }

  private async ensureVolumes(node: NodeSpec, state: LabState): Promise<{ volume: string; path: string }[]> {
    const identity = identityOf(state);
    const { own, foreign } = await this.ownNames('volumes', identity);
    const out: { volume: string; path: string }[] = [];
    for (const v of node.spec.volumes) {
      const name = objectName(this.lab, `${node.name}-${v.suffix}`);
      // Creating a volume under an existing name would hand the lab someone else's data.
      if (foreign.has(name)) {
        throw new Error(
          `a volume named ${name} carries lab "${this.lab}"'s label but not its id (the lab did not make it): remove it (\`docker volume rm ${name}\`) and run \`up\` again`,
        );
      }
      if (!own.has(name)) await this.docker.volumes.create(name, nodeLabels(this.lab, node.name, node.role, identity?.id));
      out.push({ volume: name, path: v.path });
    }
    return out;
  }

  /** What a role's lifecycle hook gets (src/roles/types.ts). */
  private hookContext(state: LabState, topology: Topology, signal?: AbortSignal): RoleHookContext {
    return {
      docker: this.docker,
      lab: this.lab,
      state,
      topology,
      reporter: this.reporter,
      clock: this.clock,
      labels: this.labels(state),
      signal,
      runtime: this.deps.runtime,
    };
  }

  /**
   * Why an existing container cannot be reused (it is then recreated), or undefined. `up` may
   * have been interrupted anywhere (Ctrl-C, Docker or the host restarted): a container that was
   * never started may also never have been configured; a role's hook may tell more (HAProxy
   * without its configuration, or with an older one). Stateless roles get the new image.
   */
  private async staleReason(node: NodeSpec, found: ContainerInfo, image: string, topology: Topology, state: LabState): Promise<string | undefined> {
    if (found.state === 'created') return 'created but never started (an interrupted `up`?)';
    const m = roleModule(node.role);
    if (m.spec.stateless && found.image !== image) return 'new image';
    return m.hooks?.staleReason?.(this.hookContext(state, topology), node, found);
  }

  private async ensureContainer(
    node: NodeSpec,
    topology: Topology,
    state: LabState,
    image: string,
    network: string,
    existing: Map<string, ContainerInfo>,
  ): Promise<{ id: string; created: boolean }> {
    const found = existing.get(node.name);
    const stale = found && (await this.staleReason(node, found, image, topology, state));
    if (found && stale) {
      this.reporter.step(`${node.name}: ${stale}, recreating the container`);
      await this.docker.containers.remove(found.id);
      existing.delete(node.name);
    } else if (found) return { id: found.id, created: false };
    const volumes = await this.ensureVolumes(node, state);
    const id = await this.docker.containers.create({
      name: objectName(this.lab, node.name),
      image,
      hostname: node.name,
      labels: nodeLabels(this.lab, node.name, node.role, identityOf(state)?.id),
      env: nodeEnvFor(node, topology, state),
      network,
      aliases: [node.name],
      ipv4: state.extra.network?.addresses[node.name],
      ports: node.ports.map((p) => ({
        containerPort: p.container,
        hostPort: p.publish === 'preferred' ? (state.ports[p.name] ?? 0) : 0,
        hostIp: '127.0.0.1',
      })),
      volumes,
      capAdd: node.spec.capAdd,
      devices: node.spec.devices,
      tmpfs: node.spec.tmpfs,
      stopTimeoutS: node.spec.stopTimeoutS,
    });
    await roleModule(node.role).hooks?.afterCreate?.(this.hookContext(state, topology), node, id);
    return { id, created: true };
  }

  private async startRole(
    role: Role,
    topology: Topology,
    state: LabState,
    image: string,
    network: string,
    existing: Map<string, ContainerInfo>,
    opts: UpOptions,
  ): Promise<void> {
    const nodes = nodesOf(topology, role);
    const m = roleModule(role);
    const spec = m.spec;
    const hookCtx = this.hookContext(state, topology, opts.signal);
    const ids = new Map<string, string>();
    const created = new Set<string>();
    for (const node of nodes) {
      const c = await this.ensureContainer(node, topology, state, image, network, existing);
      ids.set(node.name, c.id);
      if (c.created) created.add(node.name);
    }
    let order = nodes;
    if (m.hooks?.startOrder) order = await m.hooks.startOrder(hookCtx, nodes, ids, existing, created);
    const startOne = async (node: NodeSpec) => {
      const id = ids.get(node.name)!;
      const before = existing.get(node.name)?.state;
      try {
        if (before === 'paused') await this.docker.containers.unpause(id);
        else if (before !== 'running') {
          this.reporter.step(`starting ${node.name}`);
          await this.docker.containers.start(id);
        }
        const info = await this.docker.containers.inspect(id);
        const hostPort = spec.readinessPort ? info.ports[spec.readinessPort] : undefined;
        await waitReady({ docker: this.docker, state, clock: this.clock, http: this.deps.http, signal: opts.signal }, node, id, hostPort);
        this.reporter.step(`${node.name} ready`);
      } catch (err) {
        const logs = await this.docker.containers.logs(id, 25).catch(() => '(no logs)');
        throw new NodeFailedError(node.name, errText(err), logs);
      }
    };
    if (spec.sequential) for (const n of order) await startOne(n);
    else await settleAll(order.map(startOne));

    await m.hooks?.afterStart?.(hookCtx, nodes, ids);
  }

  /** After `heal`: each role's repair of what its cluster does not heal by itself (Gluster's self-heal). */
  async afterHeal(): Promise<void> {
    const state = this.state();
    if (!state) return;
    const topology = this.topology(state);
    const ids = new Map([...(await this.containers())].map(([node, c]) => [node, c.id]));
    const ctx = this.hookContext(state, topology);
    for (const m of roleModules()) {
      const nodes = nodesOf(topology, m.role);
      if (nodes.length && m.hooks?.afterHeal) await m.hooks.afterHeal(ctx, nodes, ids);
    }
  }

  /**
   * Notes in the state that the lab is being stopped (`down`) or removed (`destroy`), before
   * anything else: see LabExtra.stopping. Best effort for `destroy` (it must work on any state).
   */
  async markStopping(by: 'down' | 'destroy'): Promise<void> {
    if (!this.state()) return;
    await this.updateState((s) => {
      s.extra.stopping = { by, at: new Date().toISOString() };
    }, `mark ${by}`);
  }

  /** Why nothing should start again: `down` or `destroy` has begun, or the lab is `gone` (no state, or an unreadable one: `destroy` is what is left to do). */
  stoppedBy(): 'down' | 'destroy' | 'gone' | undefined {
    let state: LabState | undefined;
    try {
      state = this.state();
    } catch {
      return 'gone';
    }
    return state ? state.extra.stopping?.by : 'gone';
  }

  /** Whether `down` or `destroy` has begun (or the lab is gone): nothing should start again. */
  stopping(): boolean {
    return this.stoppedBy() !== undefined;
  }

  /** Stops every node, keeping all data. Galera nodes stop one after another, the first node last. */
  async down(): Promise<void> {
    await this.docker.ping();
    await this.markStopping('down');
    const state = this.state();
    const existing = await this.containers();
    if (existing.size === 0) return;
    const topology = state ? this.topology(state) : undefined;
    const stages = topology ? [...topology.stages].reverse() : [[...new Set([...existing.values()].map((c) => c.labels['io.moodle-lab.role'] as Role))]];
    for (const stage of stages) {
      await Promise.all(
        stage.map(async (role) => {
          const spec = roleModules().find((m) => m.role === role)?.spec;
          const nodes = [...existing.values()]
            .filter((c) => c.labels['io.moodle-lab.role'] === role)
            .sort((a, b) => a.name.localeCompare(b.name))
            .reverse();
          const stopOne = async (c: ContainerInfo) => {
            if (c.state === 'exited' || c.state === 'created') return;
            this.reporter.step(`stopping ${c.labels[LABEL_NODE]}`);
            if (c.state === 'paused') await this.docker.containers.unpause(c.id);
            await this.docker.containers.stop(c.id, spec?.stopTimeoutS ?? 10);
          };
          if (spec?.sequential) for (const c of nodes) await stopOne(c);
          else await Promise.all(nodes.map(stopOne));
        }),
      );
    }
  }

  /**
   * Removes every container, network and volume labelled for this lab, then its state folder
   * (whatever state.json holds: nothing here reads it). Images: those of older versions (tagged
   * per lab) go with it; the shared ones (`moodle-lab/<name>:<hash>`, ./images.ts) are kept for
   * the next lab of the same contexts and source, unless `images`: then the ones this lab built
   * or ran go too, except any that a container on the engine (another lab's, a Compose
   * project's) or another lab's state still uses — `keptImages` names those. Exported reports
   * are kept: `reportsDir` says where, when there are any.
   */
  async destroy(opts: { images?: boolean } = {}): Promise<{
    containers: number;
    networks: number;
    volumes: number;
    images: number;
    keptImages?: string[];
    reportsDir?: string;
    foreign?: string[];
  }> {
    await this.docker.ping();
    await this.markStopping('destroy').catch(() => undefined); // a wrong-shaped state: destroy goes by labels anyway
    const foreign = await this.foreignObjects();
    const labels = labLabels(this.lab);
    const containers = await this.docker.containers.list(labels);
    // What this lab ran (before its containers go): `--images` removes these shared images too.
    const ran = new Set(containers.map((c) => c.image));
    const recorded = this.recordedMoodleImage();
    if (recorded) ran.add(recorded);
    await Promise.all(containers.map((c) => this.docker.containers.remove(c.id)));
    const networks = await this.docker.networks.list(labels);
    for (const n of networks) await this.docker.networks.remove(n.id);
    const volumes = await this.docker.volumes.list(labels);
    if (foreign.length > 0) {
      this.reporter.step(
        `also removed ${foreign.length} object${foreign.length > 1 ? 's' : ''} carrying lab "${this.lab}"'s label but not its id (the lab did not make them): ${foreign.join(', ')}`,
      );
    }
    for (const v of volumes) await this.docker.volumes.remove(v.name);
    const labelled = await this.docker.images.list(labels);
    const perLab = labelled.filter((i) => !i.tags.some(isSharedImageTag));
    let shared: { remove: ImageRow[]; kept: string[] } = { remove: [], kept: [] };
    if (opts.images) shared = await this.sharedImagesToRemove(labelled, ran);
    await this.removeImages([...perLab, ...shared.remove]);
    const { reportsDir } = await this.store.remove(this.lab, { what: `destroy lab ${this.lab}`, note: (m) => this.reporter.step(m) });
    return {
      containers: containers.length,
      networks: networks.length,
      volumes: volumes.length,
      images: perLab.length + shared.remove.length,
      ...(shared.kept.length ? { keptImages: shared.kept } : {}),
      ...(reportsDir ? { reportsDir } : {}),
      ...(foreign.length ? { foreign } : {}),
    };
  }

  /** The Moodle image the lab's state records (destroy works whatever state.json holds: none then). */
  private recordedMoodleImage(): string | undefined {
    try {
      return this.state()?.extra.moodle?.image;
    } catch {
      return undefined;
    }
  }

  /**
   * The shared images this lab built (its label) or ran, less those still in use: by any
   * container left on the engine, by another lab's recorded Moodle image, or as the parent of
   * an image that stays (the web image below a Moodle image another lab runs).
   */
  private async sharedImagesToRemove(labelled: ImageRow[], ran: Set<string>): Promise<{ remove: ImageRow[]; kept: string[] }> {
    const all = await this.docker.images.listAll();
    const sharedRows = all.filter((i) => i.tags.some(isSharedImageTag));
    const labelledIds = new Set(labelled.map((i) => i.id));
    const direct = sharedRows.filter((i) => labelledIds.has(i.id) || ran.has(i.id) || i.tags.some((t) => ran.has(t)));
    // With them, the shared images they are built on (the web image under the Moodle image a lab
    // ran, possibly built by a lab since destroyed): each lab's labels make its builds' ids its own.
    const parents = new Map(all.map((i) => [i.id, i.parentId]));
    const wanted = new Set(direct.map((i) => i.id));
    for (const i of direct) for (let p = parents.get(i.id); p; p = parents.get(p)) wanted.add(p);
    const mine = sharedRows.filter((i) => wanted.has(i.id));
    const inUse = new Set((await this.docker.containers.list({})).map((c) => c.image));
    for (const [lab, image] of this.store.recordedImages()) if (lab !== this.lab) inUse.add(image);
    const used = (i: { id: string; tags: string[] }) => inUse.has(i.id) || i.tags.some((t) => inUse.has(t));
    const byId = new Map(all.map((i) => [i.id, i]));
    const removing = new Set(mine.filter((i) => !used(i)).map((i) => i.id));
    // An image stays while anything that stays descends from it; repeat until nothing changes.
    let changed = true;
    while (changed) {
      changed = false;
      for (const img of all) {
        if (removing.has(img.id) || (img.tags.length === 0 && !used(img))) continue;
        for (let p = byId.get(img.id)?.parentId; p; p = byId.get(p)?.parentId) {
          if (removing.delete(p)) changed = true;
        }
      }
    }
    return {
      remove: mine.filter((i) => removing.has(i.id)).map((i) => ({ id: i.id, tags: i.tags })),
      kept: mine.filter((i) => !removing.has(i.id)).flatMap((i) => i.tags.filter(isSharedImageTag)),
    };
  }

  /**
   * Removes images, children first: a Moodle image is a child of the web image, so retry what
   * failed while each round still removes something.
   */
  private async removeImages(images: ImageRow[]): Promise<void> {
    const isMoodle = (x: ImageRow) => x.tags.some((t) => t.split(':')[0]!.endsWith(`/${MOODLE_CONTEXT}`));
    // The Moodle image's own layer (the source) is pruned with it: as a child of the web image it
    // would otherwise keep that image from being removed.
    for (const i of images.filter(isMoodle)) await this.docker.images.remove(i.id, { prune: true });
    let left = images.filter((x) => !isMoodle(x));
    while (left.length > 0) {
      const failed: typeof left = [];
      let lastError: unknown;
      for (const i of left) {
        await this.docker.images.remove(i.id).catch((err: unknown) => {
          failed.push(i);
          lastError = err;
        });
      }
      if (failed.length === left.length) {
        // Untagged build leftovers (e.g. the layer of a Moodle image removed by an older version)
        // still hang below: remove those descendants, then try once more.
        const all = await this.docker.images.listAll();
        const untaggedChildren = (id: string): string[] =>
          all.filter((x) => x.parentId === id && x.tags.length === 0).flatMap((x) => [...untaggedChildren(x.id), x.id]);
        const orphans = failed.flatMap((i) => untaggedChildren(i.id));
        if (orphans.length === 0) throw lastError instanceof Error ? lastError : new Error(String(lastError));
        for (const o of orphans) await this.docker.images.remove(o, { prune: true });
      }
      left = failed;
    }
  }

  /**
   * Node containers, networks and volumes labelled for the lab that it did not make (no id, or
   * another one), for `destroy` to name. Without a readable identity nothing can be told apart.
   */
  private async foreignObjects(): Promise<string[]> {
    let identity: LabIdentity | undefined;
    try {
      identity = identityOf(this.state());
    } catch {
      return []; // destroy works whatever state.json holds
    }
    if (!identity) return [];
    const containers = (await this.docker.containers.list(labLabels(this.lab)))
      .filter((c) => !ownsContainer(identity, c) && (c.labels[LABEL_NODE] !== undefined || c.labels[LABEL_ID] !== undefined))
      .map((c) => `container ${c.name}`);
    const networks = [...(await this.ownNames('networks', identity)).foreign].map((n) => `network ${n}`);
    const volumes = [...(await this.ownNames('volumes', identity)).foreign].map((n) => `volume ${n}`);
    return [...containers, ...networks, ...volumes];
  }

  /**
   * Every object still carrying the lab's label (destroy's postcondition: all zero), but the
   * shared images (`moodle-lab/…`): `destroy` keeps those for the next lab by design.
   */
  async leftovers(): Promise<{ containers: number; networks: number; volumes: number; images: number }> {
    const labels = { [LABEL_LAB]: this.lab };
    return {
      containers: (await this.docker.containers.list(labels)).length,
      networks: (await this.docker.networks.list(labels)).length,
      volumes: (await this.docker.volumes.list(labels)).length,
      images: (await this.docker.images.list(labels)).filter((i) => !i.tags.some(isSharedImageTag)).length,
    };
  }
}
