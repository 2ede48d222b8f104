/**
 * The small Docker surface the lab needs. Everything outside src/docker/ talks to these
 * interfaces; only src/docker/dockerode-client.ts knows dockerode. Unit tests pass fakes.
 */

export type Labels = Record<string, string>;

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface PortBinding {
  containerPort: number;
  /** 0 = let Docker choose a free port. */
  hostPort: number;
  hostIp: string;
}

export interface ContainerSpec {
  name: string;
  image: string;
  hostname: string;
  labels: Labels;
  env: Record<string, string>;
  /** A network name, or `container:<id>` to share another container's network namespace. */
  network: string;
  aliases: string[];
  ports: PortBinding[];
  volumes: { volume: string; path: string }[];
  capAdd: string[];
  devices: string[];
  /** tmpfs mounts: path → mount options (e.g. a fresh /run at every start). */
  tmpfs?: Record<string, string>;
  stopTimeoutS: number;
  cmd?: string[];
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  state: ContainerState;
  labels: Labels;
  /** container port → host port (published ones only) */
  ports: Record<number, number>;
  /** Address on each network it is attached to (inspect only). */
  ips?: Record<string, string>;
  /** When it was last started, ISO (inspect only): a restart gives a node a new network namespace. */
  startedAt?: string;
  /** Docker's own HEALTHCHECK verdict, when the image has one and the container runs. */
  health?: 'starting' | 'healthy' | 'unhealthy';
}

export interface BuildProgress {
  (line: string): void;
}

export interface ContainerClient {
  list(labels: Labels): Promise<ContainerInfo[]>;
  inspect(id: string): Promise<ContainerInfo>;
  create(spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  stop(id: string, timeoutS: number): Promise<void>;
  kill(id: string, signal?: string): Promise<void>;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Waits until the container exits; its exit code. */
  wait(id: string): Promise<number>;
  exec(id: string, argv: string[], opts?: { env?: string[]; user?: string; timeoutMs?: number }): Promise<ExecResult>;
  logs(id: string, tail: number): Promise<string>;
  putFile(id: string, path: string, content: Buffer | string, mode?: number): Promise<void>;
  /** Reads one file; works on stopped containers too. undefined when it does not exist. */
  getFile(id: string, path: string): Promise<Buffer | undefined>;
  /** Memory in use (as `docker stats` counts it: usage less inactive page cache), bytes. */
  memoryBytes(id: string): Promise<number>;
}

export interface ImageClient {
  exists(tag: string): Promise<boolean>;
  /** Builds the folder's Dockerfile; rejects with the build's own error message when it fails. */
  build(
    contextDir: string,
    files: string[],
    opts: { tag: string; labels: Labels; buildArgs: Record<string, string>; noCache?: boolean },
    progress?: BuildProgress,
  ): Promise<void>;
  /** Builds from a build context given as a tar stream (for contexts assembled on the fly). */
  buildContext(
    tar: NodeJS.ReadableStream,
    opts: { tag: string; labels: Labels; buildArgs: Record<string, string>; noCache?: boolean },
    progress?: BuildProgress,
  ): Promise<void>;
  list(labels: Labels): Promise<{ id: string; tags: string[] }[]>;
  /** Every image, intermediate layers included, with its parent (for untagged build leftovers). */
  listAll(): Promise<{ id: string; parentId: string; tags: string[] }[]>;
  /** `prune`: also remove the untagged parent layers nothing else uses (else they stay as build cache). */
  remove(id: string, opts?: { prune?: boolean }): Promise<void>;
}

export interface NetworkClient {
  list(labels: Labels): Promise<{ id: string; name: string }[]>;
  create(name: string, labels: Labels): Promise<string>;
  remove(id: string): Promise<void>;
  connect(network: string, container: string, aliases: string[]): Promise<void>;
  disconnect(network: string, container: string): Promise<void>;
}

export interface VolumeClient {
  list(labels: Labels): Promise<{ name: string }[]>;
  create(name: string, labels: Labels): Promise<void>;
  remove(name: string): Promise<void>;
}

export interface DockerEvent {
  type: string;
  action: string;
  id: string;
  labels: Labels;
  timeMs: number;
}

export interface DockerClient {
  ping(): Promise<void>;
  /** The memory the engine has (`docker info` MemTotal), bytes; absent in fakes that do not say. */
  memTotalBytes?(): Promise<number>;
  containers: ContainerClient;
  images: ImageClient;
  networks: NetworkClient;
  volumes: VolumeClient;
  /** Subscribes to engine events for objects carrying these labels; returns an unsubscribe function. */
  events(labels: Labels, onEvent: (e: DockerEvent) => void): Promise<() => void>;
}

export { DockerUnavailableError } from '../core/errors';
