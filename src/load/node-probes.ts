/**
 * Light continuous probes (1–5 Hz): /lab/health.php through HAProxy and directly on each web
 * node, so a diagram can colour every node by its own latency. At most one probe per target is
 * in flight: a node that hangs shows as one slow/timed-out probe, not a pile of them.
 *
 *   const probes = new NodeProbes(targets, { hz: 2 });
 *   probes.on('sample', (p: ProbeSample) => …);   // every probe
 *   probes.on('window', (target, w: WindowStats) => …);   // per target, each closed second
 *   probes.start(); … probes.stop();
 */
import { EventEmitter } from 'node:events';
import { LatencyHistogram } from '../metrics/histogram';
import { MetricsRecorder, WindowStats } from '../metrics/recorder';
import { MoodleClient } from '../moodle/client';
import type { LabStatus } from '../protocol/status';
import { errText } from '../core/errors';

export interface ProbeTarget {
  /** 'haproxy' or a web node's name. */
  name: string;
  /** Base URL, e.g. http://127.0.0.1:32771 */
  url: string;
}

export interface ProbeSample {
  target: string;
  atMs: number;
  ms: number;
  ok: boolean;
  status: number;
  servedBy?: string;
  error?: string;
}

export type ProbeFetch = (url: string, timeoutMs: number) => Promise<{ status: number; servedBy?: string }>;

const defaultFetch: ProbeFetch = async (url, timeoutMs) => {
  const u = new URL(url);
  const res = await new MoodleClient({ wwwroot: u.origin, timeoutMs }).get(u.pathname + u.search);
  return { status: res.status, servedBy: res.servedBy };
};

/** Targets from a lab status: HAProxy's entry point, then every node with a direct URL (a role module's `directUrlPort`: the web nodes). */
export function probeTargets(status: LabStatus): ProbeTarget[] {
  const out: ProbeTarget[] = [];
  if (status.endpoints.moodle) out.push({ name: 'haproxy', url: status.endpoints.moodle });
  for (const n of status.nodes) if (n.url) out.push({ name: n.name, url: n.url });
  return out;
}

export class NodeProbes extends EventEmitter {
  readonly stats = new Map<string, { recorder: MetricsRecorder; failures: number; latency: LatencyHistogram }>();
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<string>();
  private readonly hz: number;
  private readonly timeoutMs: number;
  private readonly fetch: ProbeFetch;

  constructor(
    private readonly targets: ProbeTarget[],
    opts: { hz?: number; timeoutMs?: number; fetch?: ProbeFetch } = {},
  ) {
    super();
    this.hz = Math.min(5, Math.max(1, opts.hz ?? 2));
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.fetch = opts.fetch ?? defaultFetch;
    for (const t of targets) {
      const recorder = new MetricsRecorder();
      recorder.onWindow((w: WindowStats) => this.emit('window', t.name, w));
      this.stats.set(t.name, { recorder, failures: 0, latency: recorder.overall.latency });
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.round(), 1000 / this.hz);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One probe of every target not already in flight (exposed for tests). */
  async round(): Promise<void> {
    const now = Date.now();
    for (const s of this.stats.values()) s.recorder.tick(now);
    await Promise.all(this.targets.filter((t) => !this.inFlight.has(t.name)).map((t) => this.probe(t)));
  }

  private async probe(t: ProbeTarget): Promise<void> {
    this.inFlight.add(t.name);
    const atMs = Date.now();
    const t0 = performance.now();
    let sample: ProbeSample;
    try {
      const r = await this.fetch(`${t.url}/lab/health.php`, this.timeoutMs);
      sample = { target: t.name, atMs, ms: performance.now() - t0, ok: r.status === 200, status: r.status, servedBy: r.servedBy };
    } catch (err) {
      sample = { target: t.name, atMs, ms: performance.now() - t0, ok: false, status: 0, error: errText(err) };
    } finally {
      this.inFlight.delete(t.name);
    }
    const s = this.stats.get(t.name)!;
    if (!sample.ok) s.failures++;
    s.recorder.record({
      label: t.name,
      startMs: atMs,
      intendedStartMs: atMs,
      elapsedMs: sample.ms,
      success: sample.ok,
      status: sample.status,
      message: sample.error ?? (sample.ok ? 'OK' : `HTTP ${sample.status}`),
      node: sample.servedBy,
      bytes: 0,
      sentBytes: 0,
      thread: 'probe',
      url: t.url,
      activeThreads: 1,
    });
    this.emit('sample', sample);
  }

  /** Per target: probes, failures, p50/p99/max (ms). */
  summary(): Record<string, { probes: number; failures: number; p50: number; p99: number; max: number }> {
    return Object.fromEntries(
      [...this.stats].map(([name, s]) => {
        const l = s.latency.summary();
        return [
          name,
          { probes: l.count, failures: s.failures, p50: Math.round(l.p50 * 10) / 10, p99: Math.round(l.p99 * 10) / 10, max: Math.round(l.max * 10) / 10 },
        ];
      }),
    );
  }
}
