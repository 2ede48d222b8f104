/**
 * The host's authoritative view of one lab: a revisioned LabSnapshot. Docker events (filtered by the
 * lab's label) trigger an immediate refresh and a timeline entry; a light periodic refresh runs while
 * someone subscribes. Subscribers hear only about snapshots that changed. Clock and timer injected.
 */
import type { DockerClient, DockerEvent } from '../docker/types';
import type { ActiveFault } from '../protocol/faults';
import type { EventSeverity, LabSnapshot, LoadMetrics, TimelineEvent } from '../protocol/snapshot';
import { errText } from '../core/errors';

/** Host-side fields beyond the lab's status: live load, scenario progress, what can be exported. */
export type LiveFields = Pick<LabSnapshot, 'metrics' | 'scenario' | 'scenarios' | 'reportReady' | 'audit'>;
import type { ContainerStatus, LabStatus } from '../protocol/status';
import { diffStatus, nodeFingerprints } from './diff';
import { roleDisplays } from '../roles';

export interface Timer {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realTimer: Timer = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface SnapshotStoreDeps {
  lab: string;
  docker: Pick<DockerClient, 'events'>;
  collect: () => Promise<LabStatus>;
  activeFaults?: () => ActiveFault[];
  timer?: Timer;
  now?: () => number;
  /** How many timeline entries to keep. */
  maxEvents?: number;
  log?: (line: string) => void;
}

export interface SubscribeOptions {
  /** Periodic refresh while this subscriber exists (the store uses the smallest asked for). Default 1000 ms. */
  intervalMs?: number;
}

type Listener = (s: LabSnapshot) => void;

const LABEL_LAB = 'io.moodle-lab.lab';
const LABEL_NODE = 'io.moodle-lab.node';

const DOCKER_ACTIONS: Record<string, EventSeverity> = {
  die: 'error',
  kill: 'warn',
  stop: 'warn',
  oom: 'error',
  start: 'ok',
  restart: 'warn',
  pause: 'warn',
  unpause: 'ok',
  'health_status: healthy': 'ok',
  'health_status: unhealthy': 'error',
  disconnect: 'warn',
  connect: 'ok',
  create: 'info',
  destroy: 'warn',
};

const CONTAINER_AFTER: Record<string, ContainerStatus> = { die: 'exited', stop: 'exited', pause: 'paused', unpause: 'running', start: 'running' };

/** The status without the fields that change on every read. */
const comparable = (s: LabStatus) => JSON.stringify({ ...s, collectedAt: undefined, revision: undefined });

export class SnapshotStore {
  private snapshot: LabSnapshot | undefined;
  /** The last collected status (patched by container events until the next collection). */
  private base: LabStatus | undefined;
  private dirty = false;
  private lastError: string | undefined;
  private lastFaults = '[]';
  private revision = 0;
  private seq = 0;
  private events: TimelineEvent[] = [];
  private live: LiveFields = {};
  private liveChanged = false;
  private lastComparable = '';
  private readonly listeners = new Map<Listener, number>();
  private readonly changedAt = new Map<string, number>();
  private fingerprints = new Map<string, string>();
  private interval: { handle: unknown; ms: number } | undefined;
  private unsubscribeEvents: (() => void) | undefined;
  private inFlight: Promise<LabSnapshot> | undefined;
  private again = false;
  private readonly timer: Timer;
  private readonly now: () => number;
  private disposed = false;

  constructor(private readonly deps: SnapshotStoreDeps) {
    this.timer = deps.timer ?? realTimer;
    this.now = deps.now ?? Date.now;
  }

  current(): LabSnapshot | undefined {
    return this.snapshot;
  }

  /** The revision at which this node's state (container, health, HAProxy status) last changed. */
  nodeChangedAt(node: string): number {
    return this.changedAt.get(node) ?? 0;
  }

  subscribe(listener: Listener, opts: SubscribeOptions = {}): () => void {
    this.listeners.set(listener, opts.intervalMs ?? 1000);
    this.reschedule();
    if (!this.unsubscribeEvents) void this.watchEvents();
    if (this.snapshot) listener(this.snapshot);
    else void this.refresh().catch(() => undefined);
    return () => {
      this.listeners.delete(listener);
      this.reschedule();
      if (this.listeners.size === 0) this.stopEvents();
    };
  }

  /** Adds a timeline entry (e.g. an intent the user sent) and publishes it. */
  note(e: Omit<TimelineEvent, 'seq' | 'atMs'>, atMs?: number): void {
    this.pushEvent(e, atMs ?? this.now());
    this.publish();
  }

  setMetrics(m: LoadMetrics | undefined): void {
    this.setLive({ metrics: m });
  }

  /** Replaces some host-side fields (a field given as undefined is cleared) and publishes. */
  setLive(patch: Partial<LiveFields>): void {
    const next: LiveFields = { ...this.live, ...patch };
    for (const k of Object.keys(next) as (keyof LiveFields)[]) if (next[k] === undefined) delete next[k];
    this.live = next;
    this.liveChanged = true;
    this.publish();
  }

  liveFields(): LiveFields {
    return this.live;
  }

  /** Collects now; concurrent calls share one collection (and one more runs if asked for meanwhile). */
  refresh(): Promise<LabSnapshot> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.collectOnce().finally(() => {
      this.inFlight = undefined;
      if (this.again && !this.disposed) {
        this.again = false;
        void this.refresh().catch(() => undefined);
      }
    });
    return this.inFlight;
  }

  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
    this.reschedule();
    this.stopEvents();
  }

  private async collectOnce(): Promise<LabSnapshot> {
    let status: LabStatus | undefined;
    let error: string | undefined;
    try {
      status = await this.deps.collect();
    } catch (err) {
      error = errText(err);
    }
    const prev = this.snapshot;
    if (status) {
      const c = comparable(status);
      if (c !== this.lastComparable) {
        for (const d of diffStatus(prev, status)) this.pushEvent(d, this.now());
        this.lastComparable = c;
        this.base = status;
        this.trackNodes(status);
        this.dirty = true;
      }
    }
    if (error !== prev?.error) this.dirty = true;
    this.lastError = error;
    const snap = this.publish();
    if (!snap) throw new Error(error ?? 'no status yet');
    return snap;
  }

  private trackNodes(status: LabStatus): void {
    const next = nodeFingerprints(status);
    for (const [node, fp] of next) if (this.fingerprints.get(node) !== fp) this.changedAt.set(node, this.revision + 1);
    this.fingerprints = next;
  }

  private publish(): LabSnapshot | undefined {
    const faults = this.deps.activeFaults?.() ?? [];
    const faultsKey = JSON.stringify(faults);
    if (faultsKey !== this.lastFaults) {
      this.lastFaults = faultsKey;
      this.dirty = true;
    }
    if (this.liveChanged) {
      this.liveChanged = false;
      this.dirty = true;
    }
    if (!this.dirty || !this.base) return this.snapshot;
    this.dirty = false;
    this.revision += 1;
    this.snapshot = {
      ...this.base,
      revision: this.revision,
      roles: roleDisplays(),
      activeFaults: faults,
      events: [...this.events],
      ...this.live,
      ...(this.lastError ? { error: this.lastError } : {}),
    };
    for (const l of [...this.listeners.keys()]) {
      try {
        l(this.snapshot);
      } catch (err) {
        this.deps.log?.(`snapshot listener failed: ${errText(err)}`);
      }
    }
    return this.snapshot;
  }

  private pushEvent(e: Omit<TimelineEvent, 'seq' | 'atMs'>, atMs: number): void {
    this.events.push({ ...e, seq: ++this.seq, atMs });
    const max = this.deps.maxEvents ?? 200;
    if (this.events.length > max) this.events.splice(0, this.events.length - max);
    this.dirty = true;
  }

  private reschedule(): void {
    const wanted = this.listeners.size ? Math.min(...this.listeners.values()) : undefined;
    if (this.interval && this.interval.ms === wanted) return;
    if (this.interval) this.timer.clearInterval(this.interval.handle);
    this.interval = undefined;
    if (wanted !== undefined && !this.disposed) {
      this.interval = { ms: wanted, handle: this.timer.setInterval(() => void this.refresh().catch(() => undefined), wanted) };
    }
  }

  private async watchEvents(): Promise<void> {
    this.unsubscribeEvents = () => undefined;
    try {
      const stop = await this.deps.docker.events({ [LABEL_LAB]: this.deps.lab }, (e) => this.onDockerEvent(e));
      if (this.listeners.size === 0 || this.disposed) stop();
      else this.unsubscribeEvents = stop;
    } catch (err) {
      this.unsubscribeEvents = undefined;
      this.deps.log?.(`docker events unavailable: ${errText(err)}`);
    }
  }

  private stopEvents(): void {
    this.unsubscribeEvents?.();
    this.unsubscribeEvents = undefined;
  }

  private onDockerEvent(e: DockerEvent): void {
    if (e.action.startsWith('exec_') || e.action.startsWith('health_status: starting')) return;
    const severity = DOCKER_ACTIONS[e.action];
    if (severity === undefined) return;
    const node = e.labels[LABEL_NODE];
    if (e.type === 'container' && node) {
      this.pushEvent(
        {
          source: 'docker',
          severity,
          node,
          text: `${node} ${e.action.replace('health_status: ', '')}${e.action === 'die' && e.labels.exitCode ? ` (exit ${e.labels.exitCode})` : ''}`,
        },
        e.timeMs || this.now(),
      );
      // Docker's word is the truth about the container: show it now, the full collection follows.
      const container = CONTAINER_AFTER[e.action];
      if (container && this.base) {
        this.base = {
          ...this.base,
          nodes: this.base.nodes.map((n) => (n.name === node ? { ...n, container, healthy: container === 'running' ? n.healthy : false } : n)),
        };
        this.trackNodes(this.base);
        this.publish();
      }
    } else if (e.type === 'network' && (e.action === 'connect' || e.action === 'disconnect')) {
      this.pushEvent(
        { source: 'docker', severity, text: `network ${e.labels.name ?? ''} ${e.action} container ${(e.labels.container ?? '').slice(0, 12)}` },
        e.timeMs || this.now(),
      );
    } else {
      return;
    }
    void this.refresh().catch(() => undefined);
  }
}
