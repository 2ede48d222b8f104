/**
 * Status snapshots polled during a run, for failover detection: HAProxy's servers (cheap: one
 * runtime-API command, polled fast) and the Galera/Gluster view (docker exec into the nodes:
 * heavier, polled about once a second, only when a fault targets them).
 * Each snapshot is stamped when its poll completed.
 */
import { runtimeAt } from '../roles/haproxy-runtime';
import type { ComponentSnapshot } from '../metrics/types';
import type { LabStatus } from '../protocol/status';
import { errText } from '../core/errors';

export interface SnapshotSource {
  name: string;
  intervalMs: number;
  /**
   * The share of the time this source may spend polling (0–1; none: no limit). The cluster view
   * runs a docker exec in most nodes; on a saturated host one poll took several seconds and the
   * next started at once, so the observer itself kept the host saturated (and the heal's own
   * reads timed out). A limit of 0.5 waits at least as long as the poll took.
   */
  maxDuty?: number;
  poll(): Promise<Omit<ComponentSnapshot, 'atMs'>>;
}

/** How long to wait after a poll that took `tookMs` before the next one. */
export function pauseAfterPoll(src: Pick<SnapshotSource, 'intervalMs' | 'maxDuty'>, tookMs: number): number {
  const byInterval = src.intervalMs - tookMs;
  const byDuty = src.maxDuty && src.maxDuty > 0 && src.maxDuty < 1 ? (tookMs * (1 - src.maxDuty)) / src.maxDuty : 0;
  return Math.max(0, byInterval, byDuty);
}

export function haproxySource(runtimeEndpoint: string, intervalMs = 100): SnapshotSource {
  const runtime = runtimeAt(runtimeEndpoint);
  return {
    name: 'haproxy',
    intervalMs,
    poll: async () => ({ haproxy: (await runtime.servers()).map((s) => ({ backend: s.backend, server: s.server, status: s.status })) }),
  };
}

export function clusterSource(status: () => Promise<LabStatus>, intervalMs = 1000): SnapshotSource {
  return {
    name: 'cluster',
    intervalMs,
    maxDuty: 0.5,
    poll: async () => {
      const s = await status();
      return { galeraSize: s.galera.clusterSize, bricks: s.gluster.bricks.map((b) => ({ name: b.name, online: b.online })) };
    },
  };
}

/** Polls every source on its own interval (never overlapping itself) until stopped. */
export class SnapshotPoller {
  readonly snapshots: ComponentSnapshot[] = [];
  readonly errors = new Map<string, string>();
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly sources: SnapshotSource[],
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.loops = this.sources.map(async (src) => {
      while (!this.stopped) {
        const t0 = this.now();
        try {
          const part = await src.poll();
          this.snapshots.push({ atMs: this.now(), ...part });
        } catch (err) {
          this.errors.set(src.name, errText(err));
        }
        const wait = pauseAfterPoll(src, this.now() - t0);
        if (wait > 0 && !this.stopped) await new Promise((r) => setTimeout(r, wait));
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}
