/**
 * The lab as metrics for Prometheus and Grafana: what `status` reads from the cluster (node
 * health by role, HAProxy's view of each server, Galera size and status, bricks online and
 * pending heals, Redis) and — while a load runs in the same process — request and failure
 * counters and a latency histogram labelled by web node and journey step.
 *
 * One model, two encodings: OpenMetrics 1.0 (`application/openmetrics-text`, ends with `# EOF`)
 * for scrapers that ask for it, the Prometheus text format 0.0.4 otherwise. Pure: no I/O here.
 */
import type { LabStatus } from '../protocol/status';
import type { Sample } from './types';
import { correctedMs } from './types';

export const OPENMETRICS_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
export const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Latency buckets (seconds): Apdex's 0.5 s and 1.5 s are among them, so Grafana can show Apdex. */
export const LATENCY_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10, 30];

type Labels = Record<string, string>;
interface Point {
  labels: Labels;
  value: number;
  /** Histogram buckets only: the `le` bound. */
  suffix?: '_bucket' | '_count' | '_sum' | '_total';
}
interface Family {
  name: string;
  type: 'gauge' | 'counter' | 'histogram';
  help: string;
  points: Point[];
}

/** What a load run exposes: its samples so far (the recorder keeps every one), and its users. */
export interface LoadMetricsSource {
  samples: readonly Sample[];
  users: number;
  running: boolean;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const fmt = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function statusFamilies(s: LabStatus): Family[] {
  const lab = { lab: s.lab };
  const fam = (name: string, type: Family['type'], help: string, points: Point[]): Family => ({ name, type, help, points });
  const bool = (b: boolean | undefined) => (b ? 1 : 0);
  const bricks = s.gluster.bricks;
  const families: Family[] = [
    fam('moodle_lab_up', 'gauge', 'Whether the lab answered the status collection (1) or is absent/stopped (0).', [
      { labels: { ...lab, state: s.state }, value: bool(s.state === 'running') },
    ]),
    fam(
      'moodle_lab_node_healthy',
      'gauge',
      'Node healthy as read from the cluster (1) or not (0).',
      s.nodes.map((n) => ({ labels: { ...lab, node: n.name, role: n.role }, value: bool(n.healthy) })),
    ),
    fam(
      'moodle_lab_node_running',
      'gauge',
      "Node's container is running (not paused, exited or missing).",
      s.nodes.map((n) => ({ labels: { ...lab, node: n.name, role: n.role, container: n.container }, value: bool(n.container === 'running') })),
    ),
    fam(
      'moodle_lab_haproxy_server_up',
      'gauge',
      "HAProxy's own check status of a server: 1 when UP.",
      s.haproxy.servers.map((x) => ({ labels: { ...lab, backend: x.backend, server: x.server, status: x.status }, value: bool(x.status.startsWith('UP')) })),
    ),
    fam(
      'moodle_lab_haproxy_server_queue',
      'gauge',
      'Requests queued at HAProxy for a server.',
      s.haproxy.servers.filter((x) => x.queue !== undefined).map((x) => ({ labels: { ...lab, backend: x.backend, server: x.server }, value: x.queue! })),
    ),
    fam('moodle_lab_galera_cluster_size', 'gauge', 'wsrep_cluster_size seen by the Galera nodes.', [{ labels: lab, value: s.galera.clusterSize }]),
    fam('moodle_lab_galera_primary', 'gauge', 'The Galera component is Primary (1) or not (0).', [
      { labels: { ...lab, status: s.galera.status || 'unknown' }, value: bool(s.galera.status === 'Primary') },
    ]),
    fam(
      'moodle_lab_galera_node_ready',
      'gauge',
      'wsrep_ready of each Galera node.',
      s.galera.nodes.map((n) => ({ labels: { ...lab, node: n.name, state: n.state || 'unknown' }, value: bool(n.ready) })),
    ),
    fam('moodle_lab_gluster_bricks', 'gauge', 'Bricks of the moodledata volume.', bricks.length ? [{ labels: lab, value: bricks.length }] : []),
    fam(
      'moodle_lab_gluster_bricks_online',
      'gauge',
      'Bricks of the moodledata volume that are online.',
      bricks.length ? [{ labels: lab, value: bricks.filter((b) => b.online).length }] : [],
    ),
    fam(
      'moodle_lab_gluster_heal_pending',
      'gauge',
      'Entries waiting for self-heal on the moodledata volume.',
      bricks.length ? [{ labels: lab, value: s.gluster.healPending }] : [],
    ),
    fam(
      'moodle_lab_gluster_writable',
      'gauge',
      "A real write through a web node's mount succeeded (1) or failed (0).",
      s.gluster.writable === undefined ? [] : [{ labels: lab, value: bool(s.gluster.writable) }],
    ),
    fam('moodle_lab_redis_up', 'gauge', 'Redis answered an authenticated PING.', [{ labels: lab, value: bool(s.redis.up) }]),
    fam('moodle_lab_moodle_maintenance', 'gauge', "Moodle's site-wide maintenance mode is on.", [{ labels: lab, value: bool(s.moodle.maintenance) }]),
  ];
  if (s.faults)
    families.push(
      fam('moodle_lab_faults_active', 'gauge', 'Faults recorded as active on the lab, whoever applied them.', [{ labels: lab, value: s.faults.length }]),
    );
  return families;
}

function loadFamilies(lab: string, load: LoadMetricsSource): Family[] {
  const key = (s: Sample) => `${s.node ?? 'none'}\u0000${s.label}`;
  const groups = new Map<string, { node: string; step: string; requests: number; failures: number; buckets: number[]; sum: number }>();
  for (const s of load.samples) {
    let g = groups.get(key(s));
    if (!g) {
      g = { node: s.node ?? 'none', step: s.label, requests: 0, failures: 0, buckets: LATENCY_BUCKETS_S.map(() => 0), sum: 0 };
      groups.set(key(s), g);
    }
    g.requests++;
    if (!s.success) g.failures++;
    const seconds = correctedMs(s) / 1000;
    g.sum += seconds;
    LATENCY_BUCKETS_S.forEach((le, i) => {
      if (seconds <= le) g!.buckets[i]!++;
    });
  }
  const rows = [...groups.values()].sort((a, b) => a.node.localeCompare(b.node) || a.step.localeCompare(b.step));
  const labelsOf = (g: (typeof rows)[number]) => ({ lab, node: g.node, step: g.step });
  return [
    {
      name: 'moodle_lab_load_running',
      type: 'gauge',
      help: 'A load run is going on in this process.',
      points: [{ labels: { lab }, value: load.running ? 1 : 0 }],
    },
    { name: 'moodle_lab_load_users', type: 'gauge', help: 'Virtual users of the current load run.', points: [{ labels: { lab }, value: load.users }] },
    {
      name: 'moodle_lab_load_requests',
      type: 'counter',
      help: 'Requests completed by the load run, by the web node that answered and the journey step.',
      points: rows.map((g) => ({ labels: labelsOf(g), value: g.requests, suffix: '_total' as const })),
    },
    {
      name: 'moodle_lab_load_failures',
      type: 'counter',
      help: 'Requests of the load run that failed.',
      points: rows.map((g) => ({ labels: labelsOf(g), value: g.failures, suffix: '_total' as const })),
    },
    {
      name: 'moodle_lab_load_latency_seconds',
      type: 'histogram',
      help: 'Latency of the load run (corrected for coordinated omission), by web node and step.',
      points: rows.flatMap((g) => [
        ...LATENCY_BUCKETS_S.map((le, i) => ({ labels: { ...labelsOf(g), le: String(le) }, value: g.buckets[i]!, suffix: '_bucket' as const })),
        { labels: { ...labelsOf(g), le: '+Inf' }, value: g.requests, suffix: '_bucket' as const },
        { labels: labelsOf(g), value: g.requests, suffix: '_count' as const },
        { labels: labelsOf(g), value: Math.round(g.sum * 1e6) / 1e6, suffix: '_sum' as const },
      ]),
    },
  ];
}

/** The exposition text. `openMetrics` picks the encoding (see the module comment). */
export function renderMetrics(input: { lab: string; status?: LabStatus; load?: LoadMetricsSource; openMetrics: boolean }): string {
  const families = [...(input.status ? statusFamilies(input.status) : []), ...(input.load ? loadFamilies(input.lab, input.load) : [])];
  const out: string[] = [];
  for (const f of families) {
    // Prometheus 0.0.4 names a counter's family with its `_total`; OpenMetrics without it.
    const family = f.type === 'counter' && !input.openMetrics ? `${f.name}_total` : f.name;
    out.push(`# HELP ${family} ${f.help}`, `# TYPE ${family} ${f.type}`);
    for (const p of f.points) out.push(`${f.name}${p.suffix ?? ''}${labelText(p.labels)} ${fmt(p.value)}`);
  }
  if (input.openMetrics) out.push('# EOF');
  return out.join('\n') + '\n';
}

/** Whether a scraper's Accept header asks for OpenMetrics. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return /application\/openmetrics-text/i.test(accept ?? '');
}
