/**
 * What the cluster says about itself, gathered in one pass: containers by label, then each role
 * module's collector (src/roles: HAProxy's `show stat`, each Galera node's wsrep status, the
 * Gluster volume, Redis), and Moodle. Each collector fails soft: its section carries the error,
 * the rest of the status stays true.
 */
import type { ContainerInfo, DockerClient } from '../docker/types';
import type { ContainerStatus, FaultStatus, HaproxyServerStatus, ImpairmentStatus, LabStatus, NodeStatus, Role } from '../protocol/status';
import { faultEntry, IMPAIR_GROUP, isSchedule } from '../protocol/fault-catalog';
import type { ActiveFault } from '../protocol/faults';
import { roleModule, roleModules } from '../roles';
import type { StatusContext } from '../roles/types';
import { MOODLEDATA, moodleUrl } from './env';
import { ADMIN_USER, maintenanceOn, testUsernames } from '../moodle/install';
import { HAPROXY_STATS_PATH } from '../roles/haproxy';
import type { HaproxyRuntime } from '../roles/haproxy-runtime';
import { identityOf, LABEL_IMPAIRS, LABEL_NODE, LABEL_TOOL, labLabels, ownsContainer, TOOL_DELAYER } from '../docker/labels';
import { fetchGet, HttpGet } from './readiness';
import type { LabState } from './state';
import { buildTopology, nodesOf, Topology } from './topology';

export interface StatusDeps {
  docker: DockerClient;
  http?: HttpGet;
  runtime?: (port: number) => HaproxyRuntime;
}

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
    ...(f.params?.rateKbit !== undefined ? { rateKbit: f.params.rateKbit } : {}),
    ...(f.to ? { to: f.to } : {}),
    ...(f.everyMs !== undefined ? { everyMs: f.everyMs, forMs: f.forMs } : {}),
    ...(f.cycleOf ? { cycleOf: f.cycleOf } : {}),
    ...(f.method ? { method: f.method } : {}),
  }));
}

/**
 * The link impairments recorded, each checked against Docker: the node must be running and not
 * restarted since the impairment was set (a restart gives it a new network namespace, without the
 * rules), and with the delayer, its sidecar must still run (else the traffic passes: fail-open).
 */
export async function impairmentStatus(docker: DockerClient, faults: ActiveFault[], list: ContainerInfo[]): Promise<ImpairmentStatus[]> {
  const rows: ImpairmentStatus[] = [];
  const impairs = faults.filter((f) => faultEntry(f.kind)?.netnsGroup === IMPAIR_GROUP && !isSchedule(f));
  const inspect = (c: ContainerInfo | undefined) => (c ? docker.containers.inspect(c.id).catch(() => undefined) : Promise.resolve(undefined));
  for (const f of impairs) {
    const node = f.nodes[0]!;
    let moved: string | undefined;
    const row: ImpairmentStatus = {
      node,
      kind: f.kind,
      method: f.method ?? 'pending',
      faultId: f.id,
      ...(f.params?.delayMs !== undefined ? { delayMs: f.params.delayMs } : {}),
      ...(f.params?.jitterMs ? { jitterMs: f.params.jitterMs } : {}),
      ...(f.params?.lossPct !== undefined ? { lossPct: f.params.lossPct } : {}),
      ...(f.params?.rateKbit !== undefined ? { rateKbit: f.params.rateKbit } : {}),
      ...(f.to ? { to: f.to } : {}),
      inForce: false,
    };
    const c = await inspect(list.find((x) => x.labels[LABEL_NODE] === node));
    const since = f.methodAt ? Date.parse(f.methodAt) : undefined;
    if (!f.method || since === undefined) row.problem = 'being applied';
    else if (!c || c.state !== 'running') row.problem = `${node} is ${c?.state ?? 'missing'}`;
    else if (c.startedAt && Date.parse(c.startedAt) > since) {
      row.problem = `${node} restarted after the ${f.kind} was set: its rules went with the old network namespace, so it is not in force (\`heal\` clears the record)`;
      row.stale = true;
    } else if ((moved = await movedPeer(f, list, inspect))) {
      row.problem = moved;
      row.stale = true;
    } else if (f.method === 'nfqueue') {
      const delayers = list.filter((x) => x.labels[LABEL_TOOL] === TOOL_DELAYER && x.labels[LABEL_IMPAIRS] === node);
      const d = (await Promise.all(delayers.map((x) => inspect(x)))).find((x) => x?.state === 'running');
      if (!d) row.problem = `the delayer of ${node} is not running: its traffic passes unimpaired (fail-open)`;
      else row.inForce = true;
    } else row.inForce = true;
    rows.push(row);
  }
  return rows;
}

/**
 * A `to` peer now running with another address than the one the rules were written for (it was
 * re-created or restarted and Docker gave it a new one): the rules aim at the old address, so the
 * link to it is not impaired — never reported as in force. A peer that is not running is no change.
 */
async function movedPeer(
  f: ActiveFault,
  list: ContainerInfo[],
  inspect: (c: ContainerInfo | undefined) => Promise<ContainerInfo | undefined>,
): Promise<string | undefined> {
  for (const [peer, was] of Object.entries(f.peerIps ?? {})) {
    const c = await inspect(list.find((x) => x.labels[LABEL_NODE] === peer));
    if (c?.state !== 'running') continue;
    const now = Object.values(c.ips ?? {});
    if (now.length && !now.includes(was))
      return `${peer}'s address changed (${was} → ${now.join(', ')}) after the ${f.kind} was set: its rules aim at the old address, so the link to ${peer} is not impaired (set it again, or \`heal\`)`;
  }
  return undefined;
}

function containerStatus(c: ContainerInfo | undefined): ContainerStatus {
  if (!c) return 'missing';
  if (c.state === 'removing') return 'exited';
  return c.state;
}

/**
 * The lab's status, read from the cluster. `roles`: only those roles' slices (the rest stays as
 * for a lab without them, and Moodle's maintenance flag and impairments are not read): a load run
 * polls Galera and Gluster every second for failover detection, and the whole status is a docker
 * exec into most nodes, which on a saturated 2-core host was a large part of the load.
 */
export async function collectStatus(deps: StatusDeps, lab: string, state: LabState | undefined, roles?: readonly Role[]): Promise<LabStatus> {
  const { docker } = deps;
  const http = deps.http ?? fetchGet;
  // The lab's own containers only: a look-alike carrying the lab's name but not its id gets no exec.
  const identity = identityOf(state);
  const list = (await docker.containers.list(labLabels(lab))).filter((c) => ownsContainer(identity, c));
  const byNode = new Map(list.map((c) => [c.labels[LABEL_NODE] ?? c.name, c]));
  const topology: Topology | undefined = state ? buildTopology(state.definition) : undefined;
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
  // Each role fills the slice of the status it owns (src/roles), all at once.
  const ctx: StatusContext = { docker, http, runtime: deps.runtime, state, topology, status, byNode, running, health: nodeHealth };
  const tasks: Promise<void>[] = roleModules()
    .filter((m) => !roles || roles.includes(m.role))
    .flatMap((m) => m.collectStatus?.(ctx, nodesOf(topology, m.role)) ?? []);

  // Moodle: what the lab installed, and whether CLI maintenance mode is on (a file on the shared dataroot).
  const moodle = state.extra.moodle;
  if (moodle?.installed && !roles) {
    status.moodle.installed = true;
    status.moodle.url = moodleUrl(state);
    status.moodle.release = moodle.release;
    status.moodle.admin = { username: ADMIN_USER, password: state.secrets.moodleAdminPassword };
    if (moodle.course) {
      status.moodle.course = moodle.course;
      status.moodle.users = testUsernames().map((username) => ({ username, password: state.secrets.moodleUsersPassword }));
    }
    const web = topology.nodes
      .filter((n) => n.spec.runsMoodle)
      .map((n) => byNode.get(n.name))
      .find((c) => c?.state === 'running');
    if (web) {
      tasks.push(
        maintenanceOn(docker.containers, web.id, MOODLEDATA).then(
          (on) => void (status.moodle.maintenance = on),
          () => undefined,
        ),
      );
    }
  }

  const impairing = state.extra.faults ?? [];
  if (!roles && impairing.some((f) => faultEntry(f.kind)?.netnsGroup === IMPAIR_GROUP))
    tasks.push(
      impairmentStatus(docker, impairing, list).then(
        (rows) => void (status.impairments = rows),
        () => undefined,
      ),
    );
  await Promise.all(tasks);

  for (const n of topology.nodes) {
    const c = byNode.get(n.name);
    const h = nodeHealth.get(n.name) ?? { healthy: false, detail: 'unknown' };
    const row: NodeStatus = { name: n.name, role: n.role, container: containerStatus(c), healthy: h.healthy && c?.state === 'running' };
    if (!row.healthy && h.detail) row.detail = h.detail;
    const urlPort = roleModule(n.role).directUrlPort;
    if (urlPort && c?.ports[urlPort]) row.url = `http://127.0.0.1:${c.ports[urlPort]}`;
    status.nodes.push(row);
  }
  const runningCount = topology.nodes.filter((n) => running(n.name)).length;
  status.state = list.length === 0 ? 'absent' : runningCount === topology.nodes.length ? 'running' : runningCount === 0 ? 'stopped' : 'partial';
  return status;
}

/** HAProxy servers of one backend, for quick lookups. */
export function serversOf(status: LabStatus, backend: string): HaproxyServerStatus[] {
  return status.haproxy.servers.filter((s) => s.backend === backend);
}
