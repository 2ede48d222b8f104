/**
 * An in-memory Docker engine for unit tests, passed to the engine through its constructor.
 * It records every call, keeps labels, files per container, and lets a test script exec replies.
 */
import type {
  ContainerClient,
  ContainerInfo,
  ContainerSpec,
  DockerClient,
  DockerEvent,
  ExecResult,
  ImageClient,
  Labels,
  NetworkClient,
  VolumeClient,
  NetworkIpam,
} from '../../src/docker/types';

type ExecHandler = (container: FakeContainer, argv: string[]) => ExecResult | undefined;

export interface FakeContainer extends ContainerInfo {
  spec: ContainerSpec;
  files: Map<string, Buffer>;
}

const matches = (have: Labels, want: Labels) => Object.entries(want).every(([k, v]) => have[k] === v);

export class FakeDocker implements DockerClient {
  calls: string[] = [];
  running = true;
  containerMap = new Map<string, FakeContainer>();
  imageMap = new Map<string, { id: string; tags: string[]; labels: Labels; parentId?: string }>();
  networkMap = new Map<string, { id: string; name: string; labels: Labels; ipam?: NetworkIpam }>();
  volumeMap = new Map<string, { name: string; labels: Labels }>();
  execHandlers: ExecHandler[] = [];
  /** Files a container "writes" when it starts, e.g. grastate.dat. */
  onStart?: (c: FakeContainer) => void;
  /** Exit code of a one-shot container (sidecars); 0 by default. */
  onWait?: (c: FakeContainer) => number;
  private seq = 0;

  async ping(): Promise<void> {
    if (!this.running) throw new Error('Docker is not running');
  }

  private byIdOrName(id: string): FakeContainer {
    const c = this.containerMap.get(id) ?? [...this.containerMap.values()].find((x) => x.name === id);
    if (!c) throw Object.assign(new Error(`no such container ${id}`), { statusCode: 404 });
    return c;
  }

  containers: ContainerClient = {
    list: async (labels) => [...this.containerMap.values()].filter((c) => matches(c.labels, labels)).map((c) => ({ ...c })),
    inspect: async (id) => ({ ...this.byIdOrName(id) }),
    create: async (spec) => {
      this.calls.push(`create ${spec.name}`);
      if (!this.imageMap.has(spec.image)) throw new Error(`No such image: ${spec.image}`);
      const id = `c${++this.seq}`;
      const ports: Record<number, number> = {};
      for (const p of spec.ports) ports[p.containerPort] = p.hostPort || 40000 + this.seq;
      this.containerMap.set(id, {
        id,
        name: spec.name,
        image: spec.image,
        state: 'created',
        labels: spec.labels,
        ports,
        ips: { [spec.network]: `10.9.0.${this.seq}` },
        spec,
        files: new Map(),
      });
      return id;
    },
    start: async (id) => {
      const c = this.byIdOrName(id);
      this.calls.push(`start ${c.spec.hostname}`);
      c.state = 'running';
      this.onStart?.(c);
    },
    stop: async (id) => {
      const c = this.byIdOrName(id);
      this.calls.push(`stop ${c.spec.hostname}`);
      c.state = 'exited';
    },
    kill: async (id) => {
      const c = this.byIdOrName(id);
      this.calls.push(`kill ${c.spec.hostname}`);
      c.state = 'exited';
    },
    wait: async (id) => {
      const c = this.byIdOrName(id);
      c.state = 'exited';
      return this.onWait?.(c) ?? 0;
    },
    pause: async (id) => {
      const c = this.byIdOrName(id);
      this.calls.push(`pause ${c.spec.hostname}`);
      c.state = 'paused';
    },
    unpause: async (id) => {
      const c = this.byIdOrName(id);
      this.calls.push(`unpause ${c.spec.hostname}`);
      c.state = 'running';
    },
    remove: async (id) => {
      this.calls.push(`remove ${this.byIdOrName(id).name}`);
      this.containerMap.delete(this.byIdOrName(id).id);
    },
    exec: async (id, argv) => {
      const c = this.byIdOrName(id);
      this.calls.push(`exec ${c.spec.hostname} ${argv.join(' ')}`);
      for (const h of this.execHandlers) {
        const r = h(c, argv);
        if (r) return r;
      }
      return { stdout: '', stderr: `fake: no handler for ${argv.join(' ')}`, exitCode: 127 };
    },
    logs: async (id) => `logs of ${this.byIdOrName(id).name}\nlast line`,
    putFile: async (id, path, content) => {
      const c = this.byIdOrName(id);
      this.calls.push(`put ${c.spec.hostname} ${path}`);
      c.files.set(path, Buffer.from(content));
    },
    getFile: async (id, path) => this.byIdOrName(id).files.get(path),
    memoryBytes: async () => 64 * 1024 * 1024,
  };

  images: ImageClient = {
    exists: async (tag) => this.imageMap.has(tag),
    build: async (_dir, _files, opts, progress) => {
      this.calls.push(`build ${opts.tag}`);
      progress?.('Step 1/1 : FROM base');
      this.imageMap.set(opts.tag, { id: `sha256:${opts.tag}`, tags: [opts.tag], labels: opts.labels });
    },
    buildContext: async (tar, opts) => {
      this.calls.push(`build-context ${opts.tag}`);
      for await (const _chunk of tar) {
        // drain the context like the engine would
      }
      // Built FROM the web image (the Moodle image): a child of it, as on the engine.
      const parent = opts.buildArgs.WEB_IMAGE ? this.imageMap.get(opts.buildArgs.WEB_IMAGE)?.id : undefined;
      this.imageMap.set(opts.tag, { id: `sha256:${opts.tag}`, tags: [opts.tag], labels: opts.labels, ...(parent ? { parentId: parent } : {}) });
    },
    list: async (labels) => [...this.imageMap.values()].filter((i) => matches(i.labels, labels)),
    listAll: async () => [...this.imageMap.values()].map((i) => ({ id: i.id, parentId: i.parentId ?? '', tags: i.tags })),
    // As the engine does even with force: no removal under a child image or a running container.
    remove: async (id) => {
      this.calls.push(`remove-image ${id}`);
      if ([...this.imageMap.values()].some((i) => i.parentId === id))
        throw new Error(`conflict: unable to delete ${id} (cannot be forced) - image has dependent child images`);
      const tags = [...this.imageMap.values()].filter((i) => i.id === id).flatMap((i) => i.tags);
      if ([...this.containerMap.values()].some((c) => c.state === 'running' && (c.image === id || tags.includes(c.image))))
        throw new Error(`conflict: unable to delete ${id} (cannot be forced) - image is being used by running container`);
      for (const [k, v] of this.imageMap) if (v.id === id) this.imageMap.delete(k);
    },
  };

  networks: NetworkClient = {
    list: async (labels) => [...this.networkMap.values()].filter((n) => matches(n.labels, labels)),
    subnets: async () => [...this.networkMap.values()].flatMap((n) => (n.ipam ? [n.ipam.subnet] : [])),
    create: async (name, labels, ipam) => {
      const id = `n${++this.seq}`;
      this.networkMap.set(id, { id, name, labels, ...(ipam ? { ipam } : {}) });
      return id;
    },
    remove: async (id) => {
      this.networkMap.delete(id);
    },
    connect: async (network, container) => {
      this.calls.push(`connect ${this.byIdOrName(container).spec.hostname} ${network}`);
    },
    disconnect: async (network, container) => {
      this.calls.push(`disconnect ${this.byIdOrName(container).spec.hostname} ${network}`);
    },
  };

  volumes: VolumeClient = {
    list: async (labels) => [...this.volumeMap.values()].filter((v) => matches(v.labels, labels)),
    create: async (name, labels) => {
      this.volumeMap.set(name, { name, labels });
    },
    remove: async (name) => {
      this.volumeMap.delete(name);
    },
  };

  async events(_labels: Labels, _onEvent: (e: DockerEvent) => void): Promise<() => void> {
    return () => undefined;
  }

  /** An image that exists without a build (the base image). */
  addImage(tag: string, labels: Labels = {}, parentTag?: string): void {
    const parentId = parentTag ? this.imageMap.get(parentTag)?.id : undefined;
    this.imageMap.set(tag, { id: `sha256:${tag}`, tags: [tag], labels, ...(parentId ? { parentId } : {}) });
  }
}

/** Exec replies of a healthy cluster: Galera Synced, glusterd up, volume started, Redis PONG. */
export function healthyClusterHandlers(): ExecHandler[] {
  return [
    // Every node has applied the same writesets.
    (_c, argv) =>
      argv[0] === 'mariadb' && argv.join(' ').includes('wsrep_last_committed') ? { stdout: 'wsrep_last_committed\t42\n', stderr: '', exitCode: 0 } : undefined,
    (_c, argv) => (argv[0] === 'mariadb' ? { stdout: 'wsrep_local_state_comment\tSynced\n', stderr: '', exitCode: 0 } : undefined),
    (_c, argv) => (argv[0] === 'gluster' ? { stdout: 'Number of Peers: 2', stderr: '', exitCode: 0 } : undefined),
    (_c, argv) => (argv[0] === 'lab-volume-setup' ? { stdout: 'ok', stderr: '', exitCode: 0 } : undefined),
    (_c, argv) =>
      argv[0] === 'lab-volume-status'
        ? {
            stdout: JSON.stringify({
              volume: 'moodledata',
              exists: true,
              started: true,
              bricks: ['gluster1', 'gluster2', 'gluster3'].map((host) => ({ host, online: true })),
              healPending: 0,
            }),
            stderr: '',
            exitCode: 0,
          }
        : undefined,
    (_c, argv) => (argv[0] === 'redis-cli' ? { stdout: 'PONG\n', stderr: '', exitCode: 0 } : undefined),
  ];
}
