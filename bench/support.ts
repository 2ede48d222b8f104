/**
 * What the failover benchmarks (bench/) share: the machine line, a lab opened like the CLI
 * opens it, a fault injector that talks to the Docker API directly (SIGKILL / pause, and
 * start / unpause to heal), and a few waits on HAProxy and Galera.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { LabController } from '../src/controller/lab-controller';
import { createDockerClient } from '../src/docker/dockerode-client';
import type { DockerClient } from '../src/docker/types';
import { controllerFactory } from '../src/host/assemble';
import { HaproxyRuntime, runtimeAt } from '../src/roles/haproxy-runtime';
import { LABEL_NODE, labLabels } from '../src/docker/labels';
import { waitFor, ready, notYet } from '../src/core/wait';
import type { FaultRequest } from '../src/protocol/faults';
import type { LabStatus } from '../src/protocol/status';
import type { FaultTarget } from '../src/load/faults';
import { probeTargets } from '../src/load/node-probes';
import type { LoadTarget } from '../src/load/run';
import { waitGreen } from '../src/load/green';
import type { PresetName } from '../src/engine/topology';
import { BenchArgs, UsageError } from './runs';

/** The lab/ folder of this checkout. */
export const LAB_ROOT = path.resolve(__dirname, '..', 'lab');

export function machineLine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? '?';
  return `machine: ${os.cpus().length} CPUs (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}, ${os.type()} ${os.release()}`;
}

export function openLab(lab: string, home = process.env.MOODLE_LAB_HOME): { controller: LabController; docker: DockerClient } {
  const docker = createDockerClient();
  const controller = controllerFactory({ docker, home, labRoot: LAB_ROOT })(lab);
  return { controller, docker };
}

export function loadTarget(status: LabStatus): LoadTarget {
  if (!status.endpoints.moodle) throw new Error(`lab ${status.lab} has no entry point (state ${status.state})`);
  return {
    entry: status.endpoints.moodle,
    wwwroot: status.moodle.url,
    course: status.moodle.course,
    users: status.moodle.users,
    probeTargets: probeTargets(status),
  };
}

/** Faults straight through the Docker API: kill = SIGKILL, stop, pause; heal = start / unpause what this injector broke. */
export class DockerFaults implements FaultTarget {
  private readonly broken: { node: string; id: string; how: 'start' | 'unpause' }[] = [];

  constructor(
    private readonly docker: DockerClient,
    private readonly lab: string,
  ) {}

  private async id(node: string): Promise<string> {
    const c = (await this.docker.containers.list(labLabels(this.lab))).find((x) => x.labels[LABEL_NODE] === node);
    if (!c) throw new Error(`no container for ${node} in lab ${this.lab}`);
    return c.id;
  }

  async fault(req: FaultRequest): Promise<void> {
    for (const node of req.nodes) {
      const id = await this.id(node);
      if (req.kind === 'kill') await this.docker.containers.kill(id, 'SIGKILL');
      else if (req.kind === 'stop') await this.docker.containers.stop(id, 10);
      else if (req.kind === 'pause') await this.docker.containers.pause(id);
      else throw new Error(`the Docker-direct injector does ${req.kind} not (kill, stop, pause only)`);
      this.broken.push({ node, id, how: req.kind === 'pause' ? 'unpause' : 'start' });
    }
  }

  async heal(): Promise<void> {
    for (const b of this.broken.splice(0)) {
      if (b.how === 'unpause') await this.docker.containers.unpause(b.id);
      else await this.docker.containers.start(b.id);
    }
  }
}

export function runtimeOf(status: LabStatus): HaproxyRuntime {
  if (!status.endpoints.haproxyRuntime) throw new Error('the lab has no HAProxy runtime endpoint');
  return runtimeAt(status.endpoints.haproxyRuntime);
}

/** Until every server of `backend` is UP in HAProxy. */
export async function waitAllUp(runtime: HaproxyRuntime, backend: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    async () => {
      const rows = (await runtime.servers()).filter((s) => s.backend === backend);
      const down = rows.filter((s) => !/^UP/.test(s.status));
      return rows.length && !down.length ? ready(true) : notYet(down.map((s) => `${s.server} ${s.status}`).join(', ') || 'no servers');
    },
    { what: `every ${backend} server UP`, timeoutMs, intervalMs: 500 },
  );
}

/** Until Galera's Primary component has `size` nodes, all Synced. */
export async function waitGalera(controller: LabController, size = 3, timeoutMs = 180_000): Promise<void> {
  await waitFor(
    async () => {
      const s = await controller.status();
      const synced = s.galera.nodes.filter((n) => n.state === 'Synced').length;
      return s.galera.clusterSize === size && synced === size ? ready(true) : notYet(`size ${s.galera.clusterSize}, ${synced} Synced`);
    },
    { what: `Galera size ${size}`, timeoutMs, intervalMs: 1000 },
  );
}

/** Until every brick is online. */
export async function waitBricks(controller: LabController, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    async () => {
      const s = await controller.status();
      const off = s.gluster.bricks.filter((b) => !b.online).map((b) => b.name);
      return s.gluster.bricks.length && !off.length ? ready(true) : notYet(`offline: ${off.join(', ')}`);
    },
    { what: 'every Gluster brick online', timeoutMs, intervalMs: 1000 },
  );
}

export function pad(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ')).join('\n');
}

/**
 * The lab a repeated bench runs on: the running `args.lab`, or (with --topology) one it brings up
 * itself, with Moodle from --moodle-source or without, destroyed by `close()` (also on Ctrl-C).
 */
export async function benchLab(
  args: BenchArgs,
  log: (m: string) => void,
): Promise<{ controller: LabController; docker: DockerClient; close: () => Promise<void> }> {
  const docker = createDockerClient();
  const controller = controllerFactory({
    docker,
    home: process.env.MOODLE_LAB_HOME,
    labRoot: LAB_ROOT,
    reporter: { step: (m) => log(m), detail: () => undefined },
  })(args.lab);
  if (!args.topology) {
    const s = await controller.status();
    if (s.state !== 'running') throw new UsageError(`lab ${args.lab} is not running (state ${s.state}); give a running --lab, or --topology to bring one up`);
    return { controller, docker, close: async () => undefined };
  }
  const existing = await controller.status();
  if (existing.state !== 'absent')
    throw new UsageError(`lab ${args.lab} exists already (${existing.state}): give another --lab, or run on it without --topology`);
  const close = async () => {
    log(`destroying lab ${args.lab}`);
    await controller.destroy();
  };
  onInterrupt(close);
  log(`bringing up lab ${args.lab} (${args.topology}${args.moodleSource ? `, Moodle from ${args.moodleSource}` : ', no Moodle'})`);
  try {
    await controller.up(
      args.moodleSource ? { preset: args.topology as PresetName, moodleSource: args.moodleSource } : { preset: args.topology as PresetName, noMoodle: true },
    );
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { controller, docker, close };
}

const interruptHooks: (() => Promise<void>)[] = [];
/** On SIGINT/SIGTERM: run every cleanup (last registered first), then exit 130. */
export function onInterrupt(cleanup: () => Promise<void>): void {
  if (!interruptHooks.length) {
    let once = false;
    const handler = () => {
      if (once) return;
      once = true;
      process.stderr.write('\n  interrupted: cleaning up\n');
      void (async () => {
        for (const h of [...interruptHooks].reverse()) await h().catch((e) => process.stderr.write(`  cleanup failed: ${String(e)}\n`));
        process.exit(130);
      })();
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  }
  interruptHooks.push(cleanup);
}

/** Heals what `faults` broke, then waits for the lab's shared green (every node, HAProxy server, Galera, brick, Redis). */
export async function healToGreen(faults: DockerFaults, controller: LabController, log: (m: string) => void, timeoutMs = 240_000): Promise<void> {
  await faults.heal();
  const t0 = Date.now();
  const g = await waitGreen(controller, timeoutMs);
  if (g.problems.length) throw new Error(`the lab did not come back green in ${timeoutMs / 1000} s: ${g.problems.join('; ')}`);
  log(`green again after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Runs a bench's main: a UsageError → its message and exit 2, any other error → exit 1. */
export function runBench(main: () => Promise<number | void>, usage: string): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`error: ${err.message}\nusage: ${usage}\n`);
        process.exit(2);
      }
      process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}

/** The load average, for the figures' host line. */
export function loadLine(): string {
  return `load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`;
}
