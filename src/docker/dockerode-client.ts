/**
 * The only module that imports dockerode. It turns the Engine API into the small interfaces
 * of ./types.ts, demuxes exec output, and makes failed builds reject (dockerode reports a
 * failed build only as an `{error, errorDetail}` event in the progress stream).
 */
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import * as path from 'node:path';
import { guardEngine } from './engine-errors';
import { tarOneFile, untarFirstFile } from './tar';
import {
  ContainerClient,
  ContainerInfo,
  ContainerSpec,
  ContainerState,
  DockerClient,
  DockerEvent,
  DockerUnavailableError,
  ExecResult,
  ImageClient,
  Labels,
  NetworkClient,
  NetworkIpam,
  VolumeClient,
} from './types';

function labelFilter(labels: Labels): string {
  return JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
}

function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function statusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? Number((err as { statusCode: unknown }).statusCode) : undefined;
}

/** Dockerode errors carry the engine's JSON message; surface that, not "HTTP code 500". */
function engineMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const json = (err as { json?: { message?: string } }).json;
    if (json?.message) return json.message;
    const reason = err as { reason?: string; message?: string };
    if (reason.message) return reason.message;
  }
  return String(err);
}

function toInfo(
  id: string,
  name: string,
  image: string,
  state: string,
  labels: Labels | undefined,
  ports: Record<number, number>,
  health?: string,
): ContainerInfo {
  return {
    id,
    name: name.replace(/^\//, ''),
    image,
    state: state as ContainerState,
    labels: labels ?? {},
    ports,
    health: health === 'starting' || health === 'healthy' || health === 'unhealthy' ? health : undefined,
  };
}

class Containers implements ContainerClient {
  constructor(private readonly docker: Docker) {}

  async list(labels: Labels): Promise<ContainerInfo[]> {
    const rows = await this.docker.listContainers({ all: true, filters: labelFilter(labels) });
    return rows.map((r) => {
      const ports: Record<number, number> = {};
      for (const p of r.Ports ?? []) if (p.PublicPort) ports[p.PrivatePort] = p.PublicPort;
      const health = /\((healthy|unhealthy|health: starting)\)/.exec(r.Status ?? '')?.[1]?.replace('health: ', '');
      return toInfo(r.Id, r.Names?.[0] ?? r.Id, r.Image, r.State, r.Labels, ports, health);
    });
  }

  async inspect(id: string): Promise<ContainerInfo> {
    const c = await this.docker.getContainer(id).inspect();
    const ports: Record<number, number> = {};
    for (const [key, bindings] of Object.entries(c.NetworkSettings.Ports ?? {})) {
      const hostPort = bindings?.[0]?.HostPort;
      if (hostPort) ports[parseInt(key, 10)] = parseInt(hostPort, 10);
    }
    const state = c.State.Paused ? 'paused' : c.State.Status;
    const info = toInfo(c.Id, c.Name, c.Config.Image, state, c.Config.Labels, ports, c.State.Health?.Status);
    if (c.State.StartedAt && !c.State.StartedAt.startsWith('0001')) info.startedAt = c.State.StartedAt;
    info.ips = Object.fromEntries(
      Object.entries(c.NetworkSettings.Networks ?? {})
        .map(([n, v]) => [n, v.IPAddress])
        .filter(([, ip]) => ip),
    );
    return info;
  }

  async create(spec: ContainerSpec): Promise<string> {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of spec.ports) {
      exposed[`${p.containerPort}/tcp`] = {};
      bindings[`${p.containerPort}/tcp`] = [{ HostIp: p.hostIp, HostPort: p.hostPort ? String(p.hostPort) : '' }];
    }
    const c = await this.docker.createContainer({
      name: spec.name,
      Image: spec.image,
      Hostname: spec.hostname || undefined,
      Labels: spec.labels,
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      Cmd: spec.cmd,
      ExposedPorts: exposed,
      StopTimeout: spec.stopTimeoutS,
      HostConfig: {
        PortBindings: bindings,
        Mounts: spec.volumes.map((v) => ({ Type: 'volume' as const, Source: v.volume, Target: v.path })),
        CapAdd: spec.capAdd,
        Devices: spec.devices.map((d) => ({ PathOnHost: d, PathInContainer: d, CgroupPermissions: 'rwm' })),
        NetworkMode: spec.network,
        Tmpfs: spec.tmpfs,
        Init: true,
      },
      NetworkingConfig: spec.network.startsWith('container:')
        ? undefined
        : { EndpointsConfig: { [spec.network]: { Aliases: spec.aliases, ...(spec.ipv4 ? { IPAMConfig: { IPv4Address: spec.ipv4 } } : {}) } } },
    });
    return c.id;
  }

  async start(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if (statusCode(err) === 304) return; // already running
      throw new Error(engineMessage(err));
    }
  }

  async stop(id: string, timeoutS: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: timeoutS });
    } catch (err) {
      if (statusCode(err) === 304) return; // already stopped
      throw new Error(engineMessage(err));
    }
  }

  async wait(id: string): Promise<number> {
    const r = (await this.docker.getContainer(id).wait()) as { StatusCode?: number };
    return r.StatusCode ?? -1;
  }

  async kill(id: string, signal = 'SIGKILL'): Promise<void> {
    await this.docker.getContainer(id).kill({ signal });
  }

  async pause(id: string): Promise<void> {
    await this.docker.getContainer(id).pause();
  }

  async unpause(id: string): Promise<void> {
    await withDeadline(this.docker.getContainer(id).unpause(), UNPAUSE_LIMIT_MS, () => unpauseStuck(id));
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: false });
    } catch (err) {
      if (statusCode(err) === 404) return;
      throw new Error(engineMessage(err));
    }
  }

  async exec(id: string, argv: string[], opts: { env?: string[]; user?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    const exec = await this.docker.getContainer(id).exec({
      Cmd: argv,
      Env: opts.env,
      User: opts.user,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const err = new PassThrough();
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    out.on('data', (c: Buffer) => stdout.push(c));
    err.on('data', (c: Buffer) => stderr.push(c));
    this.docker.modem.demuxStream(stream, out, err);
    await new Promise<void>((resolve, reject) => {
      const timer = opts.timeoutMs
        ? setTimeout(() => {
            stream.destroy();
            reject(new Error(`exec ${argv[0]} timed out after ${opts.timeoutMs} ms`));
          }, opts.timeoutMs)
        : undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', (e: Error) => {
        if (timer) clearTimeout(timer);
        reject(e);
      });
    });
    const info = await exec.inspect();
    return {
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
      exitCode: info.ExitCode ?? -1,
    };
  }

  async logs(id: string, tail: number): Promise<string> {
    const raw = (await this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
    // Non-TTY logs are multiplexed: 8-byte frame headers before each chunk.
    const parts: Buffer[] = [];
    let offset = 0;
    while (offset + 8 <= raw.length) {
      const size = raw.readUInt32BE(offset + 4);
      parts.push(raw.subarray(offset + 8, offset + 8 + size));
      offset += 8 + size;
    }
    return Buffer.concat(parts).toString('utf8');
  }

  async putFile(id: string, filePath: string, content: Buffer | string, mode = 0o644): Promise<void> {
    const archive = await tarOneFile(path.posix.basename(filePath), Buffer.from(content), mode);
    await this.docker.getContainer(id).putArchive(archive, { path: path.posix.dirname(filePath) });
  }

  async memoryBytes(id: string): Promise<number> {
    const s = (await this.docker.getContainer(id).stats({ stream: false })) as unknown as MemoryStats;
    const usage = s.memory_stats?.usage ?? 0;
    const st = s.memory_stats?.stats ?? {};
    // What `docker stats` shows: cgroup v1 subtracts total_inactive_file, v2 inactive_file.
    return Math.max(0, usage - (st.total_inactive_file ?? st.inactive_file ?? 0));
  }

  async getFile(id: string, filePath: string): Promise<Buffer | undefined> {
    try {
      const stream = await this.docker.getContainer(id).getArchive({ path: filePath });
      return await untarFirstFile(await streamToBuffer(stream));
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw new Error(engineMessage(err));
    }
  }
}

type BuildOptions = { tag: string; labels: Labels; buildArgs: Record<string, string>; noCache?: boolean };

interface MemoryStats {
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

class Images implements ImageClient {
  constructor(private readonly docker: Docker) {}

  async exists(tag: string): Promise<boolean> {
    try {
      await this.docker.getImage(tag).inspect();
      return true;
    } catch (err) {
      if (statusCode(err) === 404) return false;
      throw new Error(engineMessage(err));
    }
  }

  async build(contextDir: string, files: string[], opts: BuildOptions, progress?: (line: string) => void): Promise<void> {
    await this.follow(await this.docker.buildImage({ context: contextDir, src: files }, this.buildParams(opts)), progress);
  }

  async buildContext(tar: NodeJS.ReadableStream, opts: BuildOptions, progress?: (line: string) => void): Promise<void> {
    await this.follow(await this.docker.buildImage(tar, this.buildParams(opts)), progress);
  }

  private buildParams(opts: BuildOptions) {
    return { t: opts.tag, nocache: Boolean(opts.noCache), labels: opts.labels, buildargs: opts.buildArgs, rm: true, forcerm: true };
  }

  /** dockerode reports a failed build only as an `{error, errorDetail}` event: turn it into a rejection. */
  private follow(stream: NodeJS.ReadableStream, progress?: (line: string) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let failure: string | undefined;
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => {
          if (err) reject(new Error(engineMessage(err)));
          else if (failure) reject(new Error(failure));
          else resolve();
        },
        (event: { stream?: string; error?: string; errorDetail?: { message?: string } }) => {
          if (event.error || event.errorDetail) failure = event.errorDetail?.message ?? event.error;
          const line = event.stream?.trimEnd();
          if (line && progress) progress(line);
        },
      );
    });
  }

  async list(labels: Labels): Promise<{ id: string; tags: string[] }[]> {
    const rows = await this.docker.listImages({ filters: labelFilter(labels) });
    return rows.map((r) => ({ id: r.Id, tags: r.RepoTags ?? [] }));
  }

  async listAll(): Promise<{ id: string; parentId: string; tags: string[] }[]> {
    const rows = await this.docker.listImages({ all: true });
    return rows.map((r) => ({ id: r.Id, parentId: r.ParentId, tags: (r.RepoTags ?? []).filter((t) => t !== '<none>:<none>') }));
  }

  async remove(id: string, opts: { prune?: boolean } = {}): Promise<void> {
    try {
      // noprune by default: the untagged parent layers stay as Docker's build cache (no lab label on them).
      await this.docker.getImage(id).remove({ force: true, noprune: !opts.prune });
    } catch (err) {
      if (statusCode(err) === 404) return;
      throw new Error(engineMessage(err));
    }
  }
}

class Networks implements NetworkClient {
  constructor(private readonly docker: Docker) {}

  async list(labels: Labels): Promise<{ id: string; name: string }[]> {
    const rows = await this.docker.listNetworks({ filters: labelFilter(labels) });
    return rows.map((r) => ({ id: r.Id, name: r.Name }));
  }

  async subnets(): Promise<string[]> {
    const rows = await this.docker.listNetworks();
    return rows.flatMap((r) => (r.IPAM?.Config ?? []).map((c) => c.Subnet).filter((x): x is string => typeof x === 'string' && x.includes('.')));
  }

  async create(name: string, labels: Labels, ipam?: NetworkIpam): Promise<string> {
    try {
      const n = await this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        Labels: labels,
        CheckDuplicate: true,
        ...(ipam ? { IPAM: { Driver: 'default', Config: [{ Subnet: ipam.subnet, Gateway: ipam.gateway, IPRange: ipam.ipRange }] } } : {}),
      });
      return n.id;
    } catch (err) {
      throw new Error(engineMessage(err));
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getNetwork(id).remove();
    } catch (err) {
      if (statusCode(err) === 404) return;
      throw new Error(engineMessage(err));
    }
  }

  async connect(network: string, container: string, aliases: string[], ipv4?: string): Promise<void> {
    await this.docker
      .getNetwork(network)
      .connect({ Container: container, EndpointConfig: { Aliases: aliases, ...(ipv4 ? { IPAMConfig: { IPv4Address: ipv4 } } : {}) } });
  }

  async disconnect(network: string, container: string): Promise<void> {
    await this.docker.getNetwork(network).disconnect({ Container: container, Force: true });
  }
}

class Volumes implements VolumeClient {
  constructor(private readonly docker: Docker) {}

  async list(labels: Labels): Promise<{ name: string }[]> {
    const res = await this.docker.listVolumes({ filters: labelFilter(labels) });
    return (res.Volumes ?? []).map((v) => ({ name: v.Name }));
  }

  async create(name: string, labels: Labels): Promise<void> {
    await this.docker.createVolume({ Name: name, Labels: labels });
  }

  async remove(name: string): Promise<void> {
    try {
      await this.docker.getVolume(name).remove({ force: true });
    } catch (err) {
      if (statusCode(err) === 404) return;
      throw new Error(engineMessage(err));
    }
  }
}

/** Where dockerode will connect: DOCKER_HOST when set, else the local socket. */
export function describeDockerHost(): string {
  return process.env.DOCKER_HOST ?? '/var/run/docker.sock';
}

export function createDockerClient(): DockerClient {
  const docker = new Docker(); // honours DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH
  // An engine gone mid-command: one DockerUnavailableError, not a socket error per step.
  return guardEngine(
    {
      async ping() {
        try {
          await docker.ping();
        } catch (err) {
          const code = (err as { code?: string }).code;
          const where = describeDockerHost();
          if (code === 'ENOENT')
            throw new DockerUnavailableError(
              `Docker is not installed or not running: no socket at ${where}. Install Docker and start it (e.g. \`sudo systemctl start docker\`), or set DOCKER_HOST.`,
            );
          if (code === 'ECONNREFUSED')
            throw new DockerUnavailableError(`Docker is not running: ${where} refused the connection. Start the Docker engine, or set DOCKER_HOST.`);
          if (code === 'EACCES')
            throw new DockerUnavailableError(`Permission denied on ${where}: add your user to the "docker" group (then log in again), or set DOCKER_HOST.`);
          throw new DockerUnavailableError(`Cannot reach the Docker engine at ${where}: ${engineMessage(err)}`);
        }
      },
      async memTotalBytes() {
        const info = (await docker.info()) as { MemTotal?: number };
        return info.MemTotal ?? 0;
      },
      containers: new Containers(docker),
      images: new Images(docker),
      networks: new Networks(docker),
      volumes: new Volumes(docker),
      async events(labels, onEvent) {
        const stream = (await docker.getEvents({ filters: labelFilter(labels) })) as unknown as NodeJS.ReadableStream & { destroy(): void };
        let buffer = '';
        stream.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (!line) continue;
            try {
              const e = JSON.parse(line) as { Type: string; Action: string; Actor?: { ID: string; Attributes?: Labels }; timeNano?: number };
              const ev: DockerEvent = {
                type: e.Type,
                action: e.Action,
                id: e.Actor?.ID ?? '',
                labels: e.Actor?.Attributes ?? {},
                timeMs: Math.round((e.timeNano ?? Date.now() * 1e6) / 1e6),
              };
              onEvent(ev);
            } catch {
              // a partial or non-JSON line: ignore
            }
          }
        });
        return () => stream.destroy();
      },
    },
    describeDockerHost(),
  );
}

/** How long `unpause` may take before it is reported stuck (it takes milliseconds when it works). */
export const UNPAUSE_LIMIT_MS = 60_000;

/**
 * What to do when Docker never answers an unpause. Seen twice in the ha-full audit (cgroup v1,
 * Docker 20.10, a saturated host): a `docker exec` (the image's HEALTHCHECK or a status read) had
 * started just as the container was paused; its `runc init` was frozen inside the container, the
 * exec waited for it, and Docker's unpause (and even `docker inspect`) waited behind the exec.
 * Thawing the cgroup by hand released it; Docker then still called the container paused and
 * refused to unpause it ("container not paused"): only a kill and a start clear that.
 */
export function unpauseStuck(id: string): Error {
  return new Error(
    `Docker did not unpause container ${id.slice(0, 12)} in ${UNPAUSE_LIMIT_MS / 1000} s. A docker exec (its HEALTHCHECK, a status read) ` +
      'that started while it was being paused can be frozen inside it, and Docker waits for that exec (a runc race on cgroup v1 hosts). ' +
      `As root: echo THAWED > /sys/fs/cgroup/freezer/docker/${id}/freezer.state; then docker kill ${id.slice(0, 12)} and run heal again ` +
      '(or restart the Docker engine).',
  );
}

/** `p`, or the error of `late()` once `ms` have passed (p is left to settle on its own). */
export function withDeadline<T>(p: Promise<T>, ms: number, late: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(late()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
