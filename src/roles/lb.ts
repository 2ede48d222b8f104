/**
 * `lb`: HAProxy in front of the web nodes, and the DB writer/reader listeners in front of Galera.
 * With `keepalived: true` two HAProxy nodes hold a virtual IP (VRRP, ./keepalived.ts): the lab
 * network gets an address plan, each node its fixed address and NET_ADMIN (nothing else), an
 * `edge` node publishes the Moodle port and forwards to the VIP, and every consumer of the load
 * balancer reaches it at `lbAddress`.
 */
import { BACKENDS, HAPROXY_CONFIG_PATH, HAPROXY_PORTS, HAPROXY_STATS_PATH, renderHaproxyConfig } from './haproxy';
import { HaproxyRuntime, tcpRuntime } from './haproxy-runtime';
import { KEEPALIVED_CONFIG_PATH, parseVrrpStatus, renderKeepalivedConfig, VrrpReading } from './keepalived';
import { prefixLength, VIP_ADDRESS } from './lab-network';
import { REDIS_BACKEND } from './redis-haproxy';
import type { EventSeverity } from '../protocol/snapshot';
import type { LbNodeStatus, LbStatus } from '../protocol/status';
import type { DerivedEvent, NodeSpec, RoleHookContext, StatusContext } from './types';
import type { RoleLabState } from './types';
import { nodesOf, roleOptions, RoleModule, RoleSpec, RUNTIME_TMPFS, Topology } from './types';
import { notYet, ready, waitFor } from '../core/wait';
import { forAll, forContainerRunning, forHttp200 } from './wait-strategies';
import { errText } from '../core/errors';
import { LABEL_NODE } from '../docker/labels';
import type { ContainerClient } from '../docker/types';

/** The configuration the lab's HAProxy runs with. */
export function haproxyConfig(topology: Topology, state: RoleLabState): string {
  return renderHaproxyConfig(topology, state.extra.haproxyProfile ?? 'tuned', state.secrets.redisPassword);
}

/** The topology's load balancer is a keepalived pair holding a virtual IP. */
export function hasVip(topology: Topology): boolean {
  return roleOptions(topology, 'lb').keepalived === true && nodesOf(topology, 'lb').length > 0;
}

/**
 * Where every consumer of the load balancer reaches it (web nodes' DB listeners, …): the virtual
 * IP of a keepalived pair, else the lone HAProxy's name; undefined without a load balancer.
 */
export function lbAddress(topology: Topology, state: Pick<RoleLabState, 'extra'>): string | undefined {
  const lb = nodesOf(topology, 'lb');
  if (lb.length === 0) return undefined;
  if (!hasVip(topology)) return lb[0]!.name;
  const vip = state.extra.network?.addresses[VIP_ADDRESS];
  if (!vip) throw new Error('the lab network has no virtual IP yet (its address plan is made by `up`)');
  return vip;
}

/** One HAProxy node's keepalived.conf (its fixed address and its peers', the VIP). */
export function keepalivedConfig(topology: Topology, state: Pick<RoleLabState, 'extra'>, node: string): string {
  const plan = state.extra.network;
  const nodes = nodesOf(topology, 'lb').map((n) => ({ name: n.name, address: plan?.addresses[n.name] ?? '' }));
  const self = nodes.find((n) => n.name === node);
  const vip = plan?.addresses[VIP_ADDRESS];
  if (!plan || !vip || !self || nodes.some((n) => !n.address)) throw new Error(`${node}: the lab network has no fixed addresses for the load balancer pair`);
  return renderKeepalivedConfig({ self, nodes, vip, prefixLength: prefixLength(plan) });
}

/** The host port of one HAProxy node's container port (each node of a pair has its own, in the state). */
export function lbHostPort(node: NodeSpec, state: Pick<RoleLabState, 'ports'>, containerPort: number): number | undefined {
  const p = node.ports.find((x) => x.container === containerPort && x.publish === 'preferred');
  return p ? state.ports[p.name] : undefined;
}

const runtimeOf = (ctx: Pick<RoleHookContext, 'runtime'>, port: number) => (ctx.runtime ?? ((p: number) => new HaproxyRuntime(tcpRuntime(p))))(port);

/** A pair's node: the HAProxy role's ports without Moodle's (the edge publishes it), and NET_ADMIN for keepalived. */
const LB_SPEC: RoleSpec = {
  role: 'lb',
  prefix: 'haproxy',
  bareWhenAlone: true,
  image: 'haproxy',
  ports: [
    { name: 'stats', container: HAPROXY_PORTS.stats, publish: 'preferred', defaultHostPort: 8404 },
    { name: 'runtime', container: HAPROXY_PORTS.runtime, publish: 'preferred', defaultHostPort: 9999 },
  ],
  volumes: [],
  capAdd: [],
  devices: [],
  tmpfs: RUNTIME_TMPFS,
  stopTimeoutS: 5,
  readiness: 'http-stats',
  readinessPort: HAPROXY_PORTS.stats,
  dependsOn: [],
  sequential: false,
  stateless: true,
};

/** One HAProxy node's keepalived state and whether its namespace holds the VIP (lab/haproxy/lab-vrrp-status). */
export async function readVrrp(containers: Pick<ContainerClient, 'exec'>, containerId: string, vip: string): Promise<VrrpReading> {
  const r = await containers.exec(containerId, ['lab-vrrp-status'], { timeoutMs: 3000 });
  return parseVrrpStatus(r.stdout, vip);
}

/** What one lb node says: HAProxy's runtime API and, in a pair, keepalived's state and the kernel's addresses. */
interface LbReading {
  node: string;
  servers?: LabStatusServers;
  error?: string;
  vrrp?: VrrpReading;
  vrrpError?: string;
}
type LabStatusServers = StatusContext['status']['haproxy']['servers'];

async function readLbNode(ctx: StatusContext, n: NodeSpec, vip: string | undefined): Promise<LbReading> {
  const c = ctx.byNode.get(n.name);
  const out: LbReading = { node: n.name };
  const port = lbHostPort(n, ctx.state, HAPROXY_PORTS.runtime);
  if (!c || c.state !== 'running' || !port) {
    out.error = c ? c.state : 'missing';
    return out;
  }
  await Promise.all([
    runtimeOf(ctx, port)
      .servers()
      .then(
        (s) => void (out.servers = s),
        (err: unknown) => void (out.error = errText(err)),
      ),
    vip
      ? readVrrp(ctx.docker.containers, c.id, vip).then(
          (r) => void (out.vrrp = r),
          (err: unknown) => void (out.vrrpError = errText(err)),
        )
      : undefined,
  ]).catch((err: unknown) => void (out.vrrpError = errText(err)));
  return out;
}

/** The pair's section of the status, from what each node said (never from what the lab did). */
export function lbStatus(vip: string, readings: LbReading[], containerState: (node: string) => string): LbStatus {
  const nodes: LbNodeStatus[] = readings.map((r) => {
    const v = r.vrrp;
    const row: LbNodeStatus = { name: r.node, vrrp: v?.state ?? 'FAULT', holdsVip: v?.holdsVip ?? false, keepalived: v?.keepalived ?? false };
    if (v?.since !== undefined) row.since = new Date(v.since).toISOString();
    const state = containerState(r.node);
    if (state !== 'running') row.detail = `container ${state}`;
    else if (r.vrrpError) row.detail = r.vrrpError;
    else if (v && !v.keepalived) row.detail = 'keepalived is not running';
    else if (v && !v.state) row.detail = 'keepalived has not chosen a state yet';
    return row;
  });
  const holders = nodes.filter((n) => n.holdsVip);
  const masters = nodes.filter((n) => n.vrrp === 'MASTER');
  const master = masters.find((n) => n.holdsVip) ?? masters[0];
  return {
    vip,
    ...(master ? { master: master.name } : {}),
    ...(holders.length ? { holder: holders[0]!.name } : {}),
    ...(holders.length > 1 ? { splitBrain: true } : {}),
    nodes,
  };
}

/** Timeline entries for the pair: the VIP moving (read from the kernels), keepalived's state changes. */
export function vipEvents(prev: LbStatus | undefined, next: LbStatus | undefined): DerivedEvent[] {
  if (!prev || !next) return [];
  const out: DerivedEvent[] = [];
  if (prev.holder !== next.holder) {
    if (next.holder && prev.holder)
      out.push({ source: 'haproxy', severity: 'warn', node: next.holder, text: `VIP ${next.vip} moved: ${prev.holder} → ${next.holder}` });
    else if (next.holder) out.push({ source: 'haproxy', severity: 'ok', node: next.holder, text: `VIP ${next.vip} held by ${next.holder}` });
    else out.push({ source: 'haproxy', severity: 'error', node: prev.holder, text: `VIP ${next.vip}: no HAProxy holds it (was ${prev.holder})` });
  }
  if (next.splitBrain && !prev.splitBrain)
    out.push({ source: 'haproxy', severity: 'error', text: `VIP ${next.vip} held by several HAProxy nodes at once (split brain)` });
  const before = new Map(prev.nodes.map((n) => [n.name, n.vrrp]));
  for (const n of next.nodes) {
    const was = before.get(n.name);
    if (was && was !== n.vrrp)
      out.push({ source: 'haproxy', severity: n.vrrp === 'FAULT' ? 'error' : 'info', node: n.name, text: `keepalived ${n.name}: ${was} → ${n.vrrp}` });
  }
  return out;
}

const hapSeverity = (s: string): EventSeverity => (s.startsWith('UP') && !s.includes('/') ? 'ok' : s.startsWith('DOWN') ? 'error' : 'warn');

export const lbRole: RoleModule = {
  role: 'lb',
  // In front of the web nodes: users type its port (behind the edge, with a pair).
  entryPriority: 2,
  memoryMiB: 15, // measured idle: haproxy 12
  maxCount: 2,
  spec: LB_SPEC,
  // The lone HAProxy is the lab's entry: it publishes Moodle's port too (as it always did).
  entryPorts: [{ name: 'moodle', container: HAPROXY_PORTS.web, publish: 'preferred', defaultHostPort: 8080 }, ...LB_SPEC.ports],
  specFor: (opts) => (opts.keepalived ? { ...LB_SPEC, capAdd: ['NET_ADMIN'] } : LB_SPEC),
  options: ['keepalived'],
  checkOptions(opts) {
    // VRRP here is one MASTER and one BACKUP (unicast peers).
    if (opts.keepalived && opts.count !== 2) return `count must be 2 with keepalived (a MASTER and a BACKUP holding the virtual IP), not ${opts.count}`;
    if (!opts.keepalived && opts.count > 1) return `count ${opts.count} needs keepalived: true (without a virtual IP users would have to pick an HAProxy)`;
    return undefined;
  },
  nodeRefs: {
    master: { what: 'the HAProxy keepalived says is MASTER (it holds the virtual IP)', available: hasVip, resolve: (s) => s.lb?.master },
    backup: {
      what: 'the HAProxy keepalived says is BACKUP',
      available: hasVip,
      resolve: (s) => s.lb?.nodes.find((n) => n.vrrp === 'BACKUP')?.name,
    },
  },
  companions: (opts) => (opts.keepalived ? [{ role: 'edge', count: 1 }] : []),
  fixedAddresses: (topology) => (hasVip(topology) ? [VIP_ADDRESS, ...nodesOf(topology, 'lb').map((n) => n.name)] : []),
  readiness: (t) =>
    forAll('http-stats', [
      forContainerRunning(t.docker.containers, t.node, t.containerId),
      forHttp200(t.http, t.node, 'http-stats', 30_000, t.hostPort, HAPROXY_STATS_PATH),
    ]),
  hooks: {
    async staleReason(ctx, node, found) {
      const cfg = await ctx.docker.containers.getFile(found.id, HAPROXY_CONFIG_PATH);
      if (!cfg) return 'no configuration (an interrupted `up`?)';
      if (cfg.toString('utf8') !== haproxyConfig(ctx.topology, ctx.state)) return 'configuration changed';
      if (hasVip(ctx.topology)) {
        const k = await ctx.docker.containers.getFile(found.id, KEEPALIVED_CONFIG_PATH);
        if (k?.toString('utf8') !== keepalivedConfig(ctx.topology, ctx.state, node.name)) return 'keepalived configuration changed';
      }
      return undefined;
    },
    async afterCreate(ctx, node, id) {
      await ctx.docker.containers.putFile(id, HAPROXY_CONFIG_PATH, haproxyConfig(ctx.topology, ctx.state));
      // Only a pair's nodes get keepalived's file: the entrypoint runs keepalived only when it is there.
      if (hasVip(ctx.topology)) await ctx.docker.containers.putFile(id, KEEPALIVED_CONFIG_PATH, keepalivedConfig(ctx.topology, ctx.state, node.name));
    },
    /**
     * `up` returns when the lab serves: HAProxy's own checks must see every web node and the DB
     * writer UP (with `rise 2` that lags the nodes' readiness by a few seconds).
     */
    async afterUp(ctx) {
      const { state, topology } = ctx;
      const lbs = nodesOf(topology, 'lb');
      const expected = [
        ...nodesOf(topology, 'web').map((n) => `${BACKENDS.web}/${n.name}`),
        ...nodesOf(topology, 'db').map((n) => `${BACKENDS.dbWriter}/${n.name}`),
      ];
      for (const lb of lbs) {
        const port = lbHostPort(lb, state, HAPROXY_PORTS.runtime);
        if (!port) continue;
        const runtime = runtimeOf(ctx, port);
        ctx.reporter.step(`${lb.name}: waiting for its checks to see every server UP`);
        await waitFor(
          async () => {
            const rows = await runtime.servers();
            const notUp = expected.filter((e) => rows.find((r) => `${r.backend}/${r.server}` === e)?.status !== 'UP');
            return notUp.length === 0 ? ready(undefined) : notYet(`not UP yet: ${notUp.join(', ')}`);
          },
          { what: `${lb.name}'s servers`, timeoutMs: 60_000, intervalMs: 250, clock: ctx.clock, signal: ctx.signal },
        );
      }
      if (!hasVip(topology)) return;
      // A pair serves when exactly one node holds the VIP and keepalived there says MASTER.
      const vip = lbAddress(topology, state)!;
      ctx.reporter.step(`keepalived: waiting for one HAProxy to hold the virtual IP ${vip}`);
      await waitFor(
        async () => {
          const containers = new Map((await ctx.docker.containers.list(ctx.labels)).map((c) => [c.labels[LABEL_NODE] ?? c.name, c]));
          const readings = await Promise.all(
            lbs.map(async (n) => {
              const c = containers.get(n.name);
              if (c?.state !== 'running') return { node: n.name, problem: `${n.name} is ${c?.state ?? 'missing'}` };
              return { node: n.name, vrrp: await readVrrp(ctx.docker.containers, c.id, vip) };
            }),
          );
          const holders = readings.filter((r) => r.vrrp?.holdsVip);
          const master = holders.length === 1 && holders[0]!.vrrp?.state === 'MASTER';
          if (master) return ready(undefined);
          const words = readings.map((r) => (r.vrrp ? `${r.node} ${r.vrrp.state ?? 'no state'}${r.vrrp.holdsVip ? ' (holds the VIP)' : ''}` : r.problem));
          return notYet(words.join(', '));
        },
        { what: 'the virtual IP', timeoutMs: 30_000, intervalMs: 250, clock: ctx.clock, signal: ctx.signal },
      );
    },
  },
  collectStatus(ctx, nodes) {
    if (nodes.length === 0) return [];
    const { state, status, health, topology } = ctx;
    return [
      (async () => {
        const vip = hasVip(topology) ? lbAddress(topology, state) : undefined;
        const readings = await Promise.all(nodes.map((n) => readLbNode(ctx, n, vip)));
        for (const r of readings)
          health.set(r.node, r.servers ? { healthy: true } : { healthy: false, detail: r.error === 'exited' || !r.error ? 'not running' : r.error });
        if (vip) status.lb = lbStatus(vip, readings, (n) => ctx.byNode.get(n)?.state ?? 'missing');
        // HAProxy's servers as the node users reach sees them: the VIP holder's, else the first that answers.
        const from = readings.find((r) => r.servers && r.node === status.lb?.holder) ?? readings.find((r) => r.servers);
        if (from?.servers) {
          status.haproxy.servers = from.servers;
          status.haproxy.up = true;
          if (nodes.length > 1) status.haproxy.node = from.node;
        } else {
          const err = readings.find((r) => r.error && r.error !== 'exited' && r.error !== 'missing')?.error;
          if (err) status.haproxy.error = err;
        }
      })(),
    ];
  },
  greenProblems(s) {
    const out: string[] = [];
    if (!s.haproxy.up) out.push(`haproxy runtime ${s.haproxy.error ?? 'down'}`);
    const notUp = s.haproxy.servers.filter((x) => x.backend !== REDIS_BACKEND && !/^UP/.test(x.status));
    if (notUp.length) out.push(`haproxy ${notUp.map((x) => `${x.backend}/${x.server} ${x.status}`).join(', ')}`);
    // A Sentinel group behind HAProxy's Redis listener: its check passes only on the node answering
    // role:master, so green is the master alone UP (a replica UP too would be a second master).
    const redis = s.haproxy.servers.filter((x) => x.backend === REDIS_BACKEND);
    const redisUp = redis.filter((x) => /^UP/.test(x.status)).map((x) => x.server);
    if (redis.length && (redisUp.length !== 1 || redisUp[0] !== s.redis.master))
      out.push(`haproxy ${REDIS_BACKEND}: UP ${redisUp.join(', ') || 'none'}, want the master ${s.redis.master ?? '(none named)'} alone`);
    return out;
  },
  diff(prev, next) {
    const out: DerivedEvent[] = [];
    const key = (s: { backend: string; server: string }) => `${s.backend}/${s.server}`;
    const prevServers = new Map(prev.haproxy.servers.map((s) => [key(s), s]));
    for (const s of next.haproxy.servers) {
      const p = prevServers.get(key(s));
      if (p && p.status !== s.status) {
        out.push({
          source: 'haproxy',
          severity: hapSeverity(s.status),
          node: s.server,
          text: `HAProxy ${key(s)}: ${p.status} → ${s.status}${s.checkStatus ? ` (${s.checkStatus})` : ''}`,
        });
      }
    }
    out.push(...vipEvents(prev.lb, next.lb));
    if (prev.haproxy.up !== next.haproxy.up && prev.nodes.length) {
      out.push({
        source: 'haproxy',
        severity: next.haproxy.up ? 'ok' : 'error',
        node: 'haproxy',
        text: `HAProxy ${next.haproxy.up ? 'answers again' : 'does not answer'}`,
      });
    }
    return out;
  },
  display: {
    role: 'lb',
    order: 0,
    label: 'Load balancer',
    icon: 'server-process',
    reportTitle: 'load balancer',
    status: 'haproxy',
    opens: 'haproxy-stats',
    panel: 'haproxy',
    // A pair sits behind the edge (the network in front of its virtual IP).
    diagram: { title: 'HAProxy', group: false, entry: true, from: 'edge' },
  },
};
