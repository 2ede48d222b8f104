/**
 * The composition root's one object: every user intent (CLI command, VS Code command, dashboard
 * click) goes through a LabController, so the CLI, the extension and the browser dashboard drive
 * the same code. It owns no UI: it throws, the caller tells the user.
 */
import * as path from 'node:path';
import type { DockerClient } from '../docker/types';
import type { HaproxyProfile } from '../roles/haproxy';
import { LabEngine, Reporter, silentReporter } from '../engine/lab';
import type { EngineDeps } from '../engine/lab';
import { LABEL_NODE } from '../docker/labels';
import { fetchGet } from '../engine/readiness';
import { StateStore } from '../engine/state';
import { collectStatus } from '../engine/status';
import type { LabDefinition, PresetName } from '../engine/topology';
import { notYet, ready, waitFor } from '../core/wait';
import { setMaintenance, WEB_PHP_VERSION } from '../moodle/install';
import { checkPluginDependencies, resolveMoodleSource } from '../moodle/source';
import type { MoodleSource } from '../moodle/types';
import type { LabStatus, Role } from '../protocol/status';
import type { ActiveFault, FaultRequest } from '../protocol/faults';
import { FaultInjector } from '../faults/injector';
import { errText } from '../core/errors';
import { roleModule } from '../roles';

export interface ControllerDeps {
  docker: DockerClient;
  store: StateStore;
  /** The folder holding the build contexts (lab/). */
  labRoot: string;
  reporter?: Reporter;
  /** The engine's other dependencies (clock, HTTP checks, HAProxy's runtime API): tests pass fakes. */
  engine?: Pick<EngineDeps, 'clock' | 'portProbe' | 'http' | 'runtime'>;
}

export interface UpRequest {
  preset?: PresetName;
  /** A lab definition (a lab file's); takes the place of `preset`. */
  definition?: LabDefinition;
  webCount?: number;
  baseImage?: string;
  haproxyProfile?: HaproxyProfile;
  /** Preferred host port of the Moodle URL. */
  port?: number;
  /** A folder, archive or URL; undefined = the pinned release for a new lab, as-is for an existing one. */
  moodleSource?: string;
  noMoodle?: boolean;
  /** Run Moodle's installer even when the site cache holds this source's site. */
  freshInstall?: boolean;
  signal?: AbortSignal;
}

export class LabController {
  readonly engine: LabEngine;
  readonly faults: FaultInjector;
  private readonly reporter: Reporter;
  private readonly timers: Promise<void>[] = [];

  constructor(
    private readonly deps: ControllerDeps,
    readonly lab: string,
  ) {
    this.reporter = deps.reporter ?? silentReporter;
    this.engine = new LabEngine({ ...deps.engine, docker: deps.docker, store: deps.store, labRoot: deps.labRoot, reporter: this.reporter }, lab);
    this.faults = new FaultInjector({ docker: deps.docker, engine: this.engine, reporter: this.reporter });
  }

  get docker(): DockerClient {
    return this.deps.docker;
  }

  async status(): Promise<LabStatus> {
    await this.deps.docker.ping();
    return collectStatus({ docker: this.deps.docker }, this.lab, this.engine.state());
  }

  /** The status with only these roles' slices read (see collectStatus): cheaper to poll. */
  async componentStatus(roles: readonly Role[]): Promise<LabStatus> {
    await this.deps.docker.ping();
    return collectStatus({ docker: this.deps.docker }, this.lab, this.engine.state(), roles);
  }

  async up(req: UpRequest = {}): Promise<LabStatus> {
    if (req.moodleSource && req.noMoodle) throw new Error('a Moodle source and "no Moodle" exclude each other');
    await this.deps.docker.ping();
    // A new lab gets Moodle unless told not to (the pinned release when no source is given);
    // an existing lab resumes as it is unless a source is given explicitly.
    let moodle: MoodleSource | undefined;
    if (req.moodleSource !== undefined || (!this.engine.state() && !req.noMoodle)) {
      moodle = await resolveMoodleSource(req.moodleSource, {
        cacheDir: path.join(this.deps.store.home, 'cache'),
        phpVersion: WEB_PHP_VERSION,
        progress: (m) => this.reporter.step(m),
        signal: req.signal,
      });
      await checkPluginDependencies(moodle);
      this.reporter.step(`moodle source: ${moodle.release} (${moodle.layout === 'public' ? 'public/ docroot' : 'classic layout'}) from ${moodle.origin}`);
    }
    await this.engine.up({
      preset: req.preset,
      definition: req.definition,
      webCount: req.webCount,
      baseImage: req.baseImage,
      haproxyProfile: req.haproxyProfile,
      ports: req.port ? { moodle: req.port } : undefined,
      moodle,
      freshInstall: req.freshInstall,
      signal: req.signal,
    });
    await this.reimpair();
    return collectStatus({ docker: this.deps.docker }, this.lab, this.engine.state());
  }

  /**
   * After nodes (re)started: link impairments whose rules are outdated (the impaired node has a new
   * network namespace, a `to` peer a new address) are set again from the record. A failure is told,
   * not thrown: the status then reports the impairment not in force.
   */
  private async reimpair(): Promise<void> {
    try {
      await this.faults.reimpair();
    } catch (err) {
      this.reporter.step(`could not set the link impairments again: ${errText(err)} (status shows them not in force)`);
    }
  }

  /** Stops every node; first ends every repetition (`--every`), whoever drives it, reverting the cycle in force. */
  async down(): Promise<void> {
    await this.deps.docker.ping();
    await this.engine.markStopping('down');
    if (this.faults.active().some((f) => f.everyMs !== undefined || f.cycleOf !== undefined))
      await this.faults.heal(undefined, (f) => f.everyMs !== undefined || f.cycleOf !== undefined);
    return this.engine.down();
  }

  /** `images`: also the shared images this lab built or ran that nothing else uses (see LabEngine.destroy). */
  destroy(opts: { images?: boolean } = {}) {
    return this.engine.destroy(opts);
  }

  /** Site-wide Moodle maintenance (CLI maintenance mode), or HAProxy drain/ready of one web node. Returns a sentence for the user. */
  async maintenance(on: boolean, node?: string): Promise<string> {
    await this.deps.docker.ping();
    const state = this.engine.state();
    if (!state) throw new Error(`lab "${this.lab}" does not exist: run \`up\` first`);
    const nodes = this.engine.topology(state).nodes;
    if (node !== undefined) {
      // The nodes HAProxy can drain, each in its role's backend (display.drainIn).
      const drainable = nodes.filter((n) => roleModule(n.role).display.drainIn !== undefined).map((n) => n.name);
      if (!drainable.includes(node)) throw new Error(`unknown web node "${node}": this lab has ${drainable.join(', ')}`);
      if (!state.ports.runtime) throw new Error('this topology has no HAProxy: per-node maintenance needs the ha topology');
      const backend = roleModule(nodes.find((n) => n.name === node)!.role).display.drainIn!;
      // State changes go through the admin socket inside the container (the published one is read-only),
      // on every running HAProxy (both of a pair).
      const admins = await this.engine.haproxyAdmins();
      const seen: string[] = [];
      for (const { node: lb, runtime } of admins) {
        await runtime.setServerState(backend, node, on ? 'drain' : 'ready');
        const row = (await runtime.servers()).find((s) => s.backend === backend && s.server === node);
        seen.push(admins.length > 1 ? `${row?.status ?? '?'} on ${lb}` : (row?.status ?? '?'));
      }
      return `${node}: ${seen.join(', ')} in HAProxy (${on ? 'draining: no new requests, current ones finish' : 'ready again'})`;
    }
    if (!state.extra.moodle?.installed) throw new Error('Moodle is not installed on this lab (it was started with --no-moodle)');
    const containers = await this.engine.containers();
    const web = nodes
      .filter((n) => n.spec.runsMoodle)
      .map((n) => containers.get(n.name))
      .find((c) => c?.state === 'running');
    if (!web) throw new Error('no web node is running');
    await setMaintenance(this.deps.docker.containers, web.id, on);
    // Every node reads the same flag file on the shared dataroot: wait until the URL users type says so.
    const url = `http://127.0.0.1:${state.ports.moodle}/`;
    const t0 = Date.now();
    const code = await waitFor(
      async () => {
        const r = await fetchGet(url, 3000);
        // On: 503 from every node. Off: anything but a 5xx (Moodle may redirect 127.0.0.1 to its wwwroot).
        const done = on ? r.status === 503 : r.status < 500;
        return done ? ready(r.status) : notYet(`HTTP ${r.status}`);
      },
      { what: `maintenance ${on ? 'on' : 'off'} through ${url}`, timeoutMs: 30_000, intervalMs: 100 },
    );
    return `moodle maintenance ${on ? 'on' : 'off'} (set on ${web.labels[LABEL_NODE]}; ${url} answers ${code} after ${Date.now() - t0} ms)`;
  }

  /**
   * Injects a fault (see src/faults/). With `forMs` the fault reverts itself after that long
   * (a timer in this process; `settled()` resolves when every such timer has fired; a fault whose
   * time ran out while no process watched is reverted by the next controller call).
   */
  async fault(req: FaultRequest): Promise<ActiveFault | undefined> {
    await this.faults.expire();
    if (req.everyMs !== undefined) {
      const schedule = (await this.faults.apply(req))!;
      this.timers.push(this.repeat(schedule, req, req.everyMs, req.forMs!));
      return schedule;
    }
    const fault = await this.faults.apply(req);
    if (!fault) await this.reimpair(); // a repair (start, unpause…): a node may be back with a new address
    if (fault?.expiresAt) {
      const delay = Math.max(0, Date.parse(fault.expiresAt) - Date.now());
      this.timers.push(
        new Promise<void>((resolve) => {
          setTimeout(() => {
            this.revertOne(fault).then(resolve, (err) => {
              this.reporter.step(`could not revert "${fault.detail}": ${errText(err)}`);
              resolve();
            });
          }, delay);
        }),
      );
    }
    return fault;
  }

  private async revertOne(fault: ActiveFault): Promise<void> {
    // `down` or `destroy` under way (or done): the node stays as they leave it, nothing starts again.
    if (this.engine.stopping()) return;
    const reverted = await this.faults.heal(undefined, (f) => f.id === fault.id);
    if (!reverted.length) return; // healed meanwhile (by any process)
    if (reverted.some((f) => f.kind === 'stop' || f.kind === 'kill') && !this.engine.stopping()) {
      await this.engine.up({});
      await this.reimpair();
    }
    this.reporter.step(`reverted by itself: ${fault.detail}`);
  }

  /**
   * Drives a repeating fault (`--every`) from this process: every `everyMs`, applies it for
   * `forMs` (a cycle: its own recorded fault, `cycleOf` the schedule, reverting by itself), until
   * the schedule's record is gone — `heal` from any process removes it (and reverts the cycle in
   * force); this loop sees that before the next cycle, or right after applying one.
   */
  private async repeat(schedule: ActiveFault, req: FaultRequest, everyMs: number, forMs: number): Promise<void> {
    // Ends when the schedule's record is gone (`heal`, `down`) or the lab is being stopped or removed.
    const scheduled = () => !this.engine.stopping() && this.faults.active().some((f) => f.id === schedule.id);
    // Waits until `t` (epoch ms) or until the schedule is healed, whichever comes first: a timer, not a readiness wait.
    const until = async (t: number) => {
      while (Date.now() < t && scheduled()) await new Promise((r) => setTimeout(r, Math.min(200, t - Date.now())));
    };
    const once: FaultRequest = { ...req, everyMs: undefined, forMs };
    let next = Date.now();
    let n = 0;
    // A failure while the lab is being stopped or removed is that, not news (it ends the loop).
    const quiet = (what: string) => (err: unknown) => void (!this.engine.stopping() && this.reporter.step(`${what}: ${errText(err)}`));
    while (scheduled()) {
      n++;
      const cycle = await this.faults.apply(once, { cycleOf: schedule.id }).catch(quiet(`${schedule.detail}: cycle ${n} could not start`));
      if (cycle) {
        await until(Date.parse(cycle.expiresAt!));
        await this.revertOne(cycle).catch(quiet(`could not revert "${cycle.detail}"`));
      }
      next += everyMs;
      await until(next);
    }
    const by = this.engine.stoppedBy();
    const why = by === undefined ? 'healed' : by === 'down' ? 'the lab was stopped' : 'the lab was destroyed';
    this.reporter.step(`${schedule.detail}: stopped after ${n} cycle${n === 1 ? '' : 's'} (${why})`);
  }

  /** Resolves when every `forMs` fault set by this controller has reverted itself. */
  async settled(): Promise<void> {
    await Promise.all(this.timers);
  }

  /**
   * Reverts every active fault (or one node's), then brings every node back and waits until it
   * is ready (`up`: stopped or killed nodes start, Galera regains a Primary component).
   */
  async heal(node?: string): Promise<{ reverted: ActiveFault[]; status: LabStatus }> {
    const reverted = await this.faults.heal(node);
    await this.engine.up({});
    await this.engine.afterHeal();
    await this.reimpair(); // the impairments left (another node's, `--to` a node that restarted)
    return { reverted, status: await this.status() };
  }

  /** Faults in force (remembered in the lab's state across restarts of the CLI or extension). */
  activeFaults(): ActiveFault[] {
    return this.faults.active();
  }
}
