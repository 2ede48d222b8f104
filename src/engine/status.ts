/**
 * What the cluster says about itself, gathered in one pass: containers by label, HAProxy's
 * `show stat`, each Galera node's wsrep status, the Gluster volume, Redis. Each collector
 * fails soft: its section carries the error, the rest of the status stays true.
 */
import type { ContainerInfo, DockerClient } from '../docker/types';
import type { ContainerStatus, FaultStatus, GaleraNodeStatus, HaproxyServerStatus, LabStatus, NodeStatus } from '../protocol/status';
import type { ActiveFault } from '../protocol/faults';
import { wsrepStatus } from './galera';
import { storageWriteProbe, volumeStatus, VolumeStatus } from './gluster';
import { GLUSTER_VOLUME, MOODLEDATA, moodleUrl } from './env';
import { ADMIN_USER, maintenanceOn, testUsernames } from '../moodle/install';
import { HAPROXY_STATS_PATH } from './haproxy';
import { HaproxyRuntime, tcpRuntime } from './haproxy-runtime';
import { identityOf, LABEL_NODE, labLabels, ownsContainer } from './labels';
import { fetchGet, HttpGet } from './readiness';
import type { LabState } from './state';
import { buildTopology, Topology } from './topology';

export interface StatusDeps {
  docker: DockerClient;
  http?: HttpGet;
  runtime?: (port: number) => HaproxyRuntime;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The recorded faults as `status --json` lists them. */
export function faultStatus(faults: ActiveFault[]): FaultStatus[] {
  return faults.map((f) => ({
    kind: f.kind,
    node: f.nodes[0] ?? '',
    since: f.appliedAt,
    id: f.id,
    nodes: f.nodes,
    ...(f.from ? { from: f.from } : {}),
    detail: f.detail,
    ...(f.expiresAt ? { until: f.expiresAt } : {}),
    ...(f.params?.delayMs !== undefined ? { delayMs: f.params.delayMs } : {}),
    ...(f.params?.jitterMs !== undefined ? { jitterMs: f.params.jitterMs } : {}),
    ...(f.params?.lossPct !== undefined ? { lossPct: f.params.lossPct } : {}),
  }));
}

function containerStatus(c: ContainerInfo | undefined): ContainerStatus {
  if (!c) return 'missing';
  if (c.state === 'removing') return 'exited';
  return c.state;
}

export async function collectStatus(deps: StatusDeps, lab: string, state: LabState | undefined): Promise<LabStatus> {
  const { docker } = deps;
  const http = deps.http ?? fetchGet;
  // The lab's own containers only: a look-alike carrying the lab's name but not its id gets no exec.
  const identity = identityOf(state);
  const list = (await docker.containers.list(labLabels(lab))).filter((c) => ownsContainer(identity, c));
  const byNode = new Map(list.map((c) => [c.labels[LABEL_NODE] ?? c.name, c]));
  const topology: Topology | undefined = state ? buildTopology(state.preset, state.webCount) : undefined;
  const status: LabStatus = {
    lab,
    state: 'absent',
    preset: state?.preset,
    collectedAt: new Date().toISOString(),
    nodes: [],
    haproxy: { up: false, servers: [] },
    galera: { clusterSize: 0, status: 'unknown', nodes: [] },
    gluster: { started: false, bricks: [], healPending: 0 },
    redis: { up: false },
    moodle: { installed: false, maintenance: false, users: [] },
    endpoints: {},
    faults: faultStatus(state?.extra.faults ?? []),
  };
  if (!topology || !state) {
    status.state = list.length === 0 ? 'absent' : 'partial';
    return status;
  }
  const running = (name: string) => byNode.get(name)?.state === 'running';
  const entryPort = state.ports.moodle;
  if (entryPort) status.endpoints.moodle = `http://localhost:${entryPort}`;
  if (state.ports.stats) status.endpoints.haproxyStats = `http://127.0.0.1:${state.ports.stats}${HAPROXY_STATS_PATH}`;
  if (state.ports.runtime) status.endpoints.haproxyRuntime = `tcp://127.0.0.1:${state.ports.runtime}`;

  const nodeHealth = new Map<string, { healthy: boolean; detail?: string }>();
  const tasks: Promise<void>[] = [];

  // HAProxy
  const lb = topology.nodes.find((n) => n.role === 'lb');
  if (lb) {
    tasks.push(
      (async () => {
        if (!running(lb.name) || !state.ports.runtime) {
          nodeHealth.set(lb.name, { healthy: false, detail: 'not running' });
          return;
        }
        try {
          const runtime = (deps.runtime ?? ((p: number) => new HaproxyRuntime(tcpRuntime(p))))(state.ports.runtime);
          status.haproxy.servers = await runtime.servers();
          status.haproxy.up = true;
          nodeHealth.set(lb.name, { healthy: true });
        } catch (err) {
          status.haproxy.error = errorText(err);
          nodeHealth.set(lb.name, { healthy: false, detail: status.haproxy.error });
        }
      })(),
    );
  }

  // Web nodes: the light health endpoint, directly on each node's published port.
  for (const n of topology.nodes.filter((x) => x.role === 'web')) {
    tasks.push(
      (async () => {
        const c = byNode.get(n.name);
        const port = c?.ports[80];
        if (!c || c.state !== 'running' || !port) {
          nodeHealth.set(n.name, { healthy: false, detail: c ? c.state : 'missing' });
          return;
        }
        try {
          const r = await http(`http://127.0.0.1:${port}/lab/health.php`, 2000);
          nodeHealth.set(n.name, r.status === 200 ? { healthy: true } : { healthy: false, detail: `health check HTTP ${r.status}` });
        } catch (err) {
          nodeHealth.set(n.name, { healthy: false, detail: errorText(err) });
        }
      })(),
    );
  }

  // Galera
  const dbNodes = topology.nodes.filter((n) => n.role === 'db');
  const galeraRows: GaleraNodeStatus[] = [];
  tasks.push(
    (async () => {
      await Promise.all(
        dbNodes.map(async (n) => {
          const c = byNode.get(n.name);
          if (!c || c.state !== 'running') {
            galeraRows.push({ name: n.name, state: c ? c.state : 'missing', ready: false });
            nodeHealth.set(n.name, { healthy: false, detail: c ? c.state : 'missing' });
            return;
          }
          try {
            const w = await wsrepStatus(docker.containers, c.id, state.secrets.dbRootPassword);
            const row: GaleraNodeStatus = {
              name: n.name,
              state: w.wsrep_local_state_comment ?? 'unknown',
              ready: w.wsrep_ready === 'ON',
              clusterSize: Number(w.wsrep_cluster_size ?? 0),
              clusterStatus: w.wsrep_cluster_status,
              connected: w.wsrep_connected === 'ON',
              flowControlPaused: Number(w.wsrep_flow_control_paused ?? 0),
              recvQueueAvg: Number(w.wsrep_local_recv_queue_avg ?? 0),
            };
            galeraRows.push(row);
            const healthy = row.state === 'Synced' && row.ready && row.clusterStatus === 'Primary';
            nodeHealth.set(n.name, healthy ? { healthy } : { healthy, detail: `${row.clusterStatus ?? '?'} / ${row.state}${row.ready ? '' : ' / not ready'}` });
          } catch (err) {
            galeraRows.push({ name: n.name, state: 'unreachable', ready: false, error: errorText(err) });
            nodeHealth.set(n.name, { healthy: false, detail: errorText(err) });
          }
        }),
      );
      galeraRows.sort((a, b) => a.name.localeCompare(b.name));
      status.galera.nodes = galeraRows;
      const primary = galeraRows.filter((r) => r.clusterStatus === 'Primary');
      status.galera.clusterSize = Math.max(0, ...primary.map((r) => r.clusterSize ?? 0));
      status.galera.status = primary.length > 0 ? 'Primary' : galeraRows.some((r) => r.clusterStatus) ? 'non-Primary' : 'down';
    })(),
  );

  // Gluster: ask any running storage node about the volume.
  const storage = topology.nodes.filter((n) => n.role === 'storage');
  if (storage.length > 0) {
    tasks.push(
      (async () => {
        status.gluster.volume = GLUSTER_VOLUME;
        const asker = storage.map((n) => byNode.get(n.name)).find((c) => c?.state === 'running');
        let vs: VolumeStatus | undefined;
        if (asker) {
          try {
            vs = await volumeStatus(docker.containers, asker.id, GLUSTER_VOLUME);
          } catch (err) {
            status.gluster.error = errorText(err);
          }
        } else status.gluster.error = 'no storage node running';
        status.gluster.started = vs?.started ?? false;
        status.gluster.healPending = vs?.healPending ?? 0;
        status.gluster.bricks = storage.map((n) => ({ name: n.name, online: Boolean(running(n.name) && vs?.bricks.find((b) => b.host === n.name)?.online) }));
        for (const b of status.gluster.bricks) nodeHealth.set(b.name, b.online ? { healthy: true } : { healthy: false, detail: running(b.name) ? 'brick offline' : (byNode.get(b.name)?.state ?? 'missing') });
      })(),
    );
    // Does the volume really take a write? Asked of one running web node's FUSE mount, in
    // parallel with the volume status: what the client does, not what the brick count predicts.
    tasks.push(
      (async () => {
        const webName = topology.nodes.filter((n) => n.role === 'web').map((n) => n.name).find((n) => running(n));
        if (!webName) {
          status.gluster.writeError = 'no web node running to probe the mount';
          return;
        }
        status.gluster.writeNode = webName;
        try {
          const p = await storageWriteProbe(docker.containers, byNode.get(webName)!.id);
          status.gluster.writable = p.writable;
          if (p.error) status.gluster.writeError = p.error;
        } catch (err) {
          // The probe itself could not run (not a verdict on the volume): writable stays unknown.
          status.gluster.writeError = `write probe on ${webName}: ${errorText(err)}`;
        }
      })(),
    );
  }

  // Redis
  const cache = topology.nodes.find((n) => n.role === 'cache');
  if (cache) {
    tasks.push(
      (async () => {
        const c = byNode.get(cache.name);
        if (!c || c.state !== 'running') {
          status.redis.error = c ? c.state : 'missing';
          nodeHealth.set(cache.name, { healthy: false, detail: status.redis.error });
          return;
        }
        try {
          // Health is a real answer: an authenticated PING answered PONG. (INFO's errorstats keep
          // errorstat_NOAUTH after one stray unauthenticated client: no text search on INFO.)
          const auth = { env: [`REDISCLI_AUTH=${state.secrets.redisPassword}`], timeoutMs: 3000 };
          const [ping, info] = await Promise.all([
            docker.containers.exec(c.id, ['redis-cli', 'ping'], auth),
            docker.containers.exec(c.id, ['redis-cli', 'info', 'memory', 'keyspace'], auth).catch(() => undefined),
          ]);
          status.redis.up = ping.exitCode === 0 && ping.stdout.trim() === 'PONG';
          if (status.redis.up && info?.exitCode === 0) {
            const fields = parseRedisInfo(info.stdout);
            status.redis.keys = redisKeys(fields);
            const used = Number(fields.get('used_memory'));
            if (Number.isFinite(used) && fields.has('used_memory')) status.redis.usedMemoryBytes = used;
          }
          nodeHealth.set(cache.name, status.redis.up ? { healthy: true } : { healthy: false, detail: `PING: ${ping.stdout.trim() || ping.stderr.trim() || `exit code ${ping.exitCode}`}` });
        } catch (err) {
          status.redis.error = errorText(err);
          nodeHealth.set(cache.name, { healthy: false, detail: status.redis.error });
        }
      })(),
    );
  }

  // Moodle: what the lab installed, and whether CLI maintenance mode is on (a file on the shared dataroot).
  const moodle = state.extra.moodle;
  if (moodle?.installed) {
    status.moodle.installed = true;
    status.moodle.url = moodleUrl(state);
    status.moodle.release = moodle.release;
    status.moodle.admin = { username: ADMIN_USER, password: state.secrets.moodleAdminPassword };
    if (moodle.course) {
      status.moodle.course = moodle.course;
      status.moodle.users = testUsernames().map((username) => ({ username, password: state.secrets.moodleUsersPassword }));
    }
    const web = topology.nodes.filter((n) => n.role === 'web').map((n) => byNode.get(n.name)).find((c) => c?.state === 'running');
    if (web) {
      tasks.push(
        maintenanceOn(docker.containers, web.id, MOODLEDATA).then(
          (on) => void (status.moodle.maintenance = on),
          () => undefined,
        ),
      );
    }
  }

  await Promise.all(tasks);

  for (const n of topology.nodes) {
    const c = byNode.get(n.name);
    const h = nodeHealth.get(n.name) ?? { healthy: false, detail: 'unknown' };
    const row: NodeStatus = { name: n.name, role: n.role, container: containerStatus(c), healthy: h.healthy && c?.state === 'running' };
    if (!row.healthy && h.detail) row.detail = h.detail;
    if (n.role === 'web' && c?.ports[80]) row.url = `http://127.0.0.1:${c.ports[80]}`;
    status.nodes.push(row);
  }
  const runningCount = topology.nodes.filter((n) => running(n.name)).length;
  status.state = list.length === 0 ? 'absent' : runningCount === topology.nodes.length ? 'running' : runningCount === 0 ? 'stopped' : 'partial';
  return status;
}

/** INFO's `field:value` lines (sections and comments skipped). */
export function parseRedisInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** Keys over every database of the keyspace section (`db0:keys=3,expires=1,avg_ttl=0`). */
export function redisKeys(fields: Map<string, string>): number {
  let keys = 0;
  for (const [name, value] of fields) {
    if (!/^db\d+$/.test(name)) continue;
    const n = /(?:^|,)keys=(\d+)(?:,|$)/.exec(value)?.[1];
    if (n) keys += Number(n);
  }
  return keys;
}

/** HAProxy servers of one backend, for quick lookups. */
export function serversOf(status: LabStatus, backend: string): HaproxyServerStatus[] {
  return status.haproxy.servers.filter((s) => s.backend === backend);
}
