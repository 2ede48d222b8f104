/** `lb`: HAProxy in front of the web nodes, and the DB writer/reader listeners in front of Galera. */
import { BACKENDS, HAPROXY_CONFIG_PATH, HAPROXY_STATS_PATH, renderHaproxyConfig } from './haproxy';
import { HaproxyRuntime, tcpRuntime } from './haproxy-runtime';
import type { EventSeverity } from '../protocol/snapshot';
import type { DerivedEvent } from './types';
import type { RoleLabState } from './types';
import { nodesOf, RoleModule, RUNTIME_TMPFS, Topology } from './types';
import { notYet, ready, waitFor } from '../core/wait';
import { forAll, forContainerRunning, forHttp200 } from './wait-strategies';
import { errText } from '../core/errors';

/** The configuration the lab's HAProxy runs with. */
export function haproxyConfig(topology: Topology, state: RoleLabState): string {
  return renderHaproxyConfig(topology, state.extra.haproxyProfile ?? 'tuned', state.secrets.redisPassword);
}

const hapSeverity = (s: string): EventSeverity => (s.startsWith('UP') && !s.includes('/') ? 'ok' : s.startsWith('DOWN') ? 'error' : 'warn');

export const lbRole: RoleModule = {
  role: 'lb',
  // In front of the web nodes: users type its port.
  entryPriority: 2,
  memoryMiB: 15, // measured idle: haproxy 12
  maxCount: 1,
  checkOptions(opts) {
    // VRRP here is one MASTER and one BACKUP (unicast peers).
    if (opts.keepalived && opts.count !== 2) return `count must be 2 with keepalived (a MASTER and a BACKUP holding the virtual IP), not ${opts.count}`;
    return undefined;
  },
  spec: {
    role: 'lb',
    prefix: 'haproxy',
    bareWhenAlone: true,
    image: 'haproxy',
    ports: [
      { name: 'moodle', container: 80, publish: 'preferred', defaultHostPort: 8080 },
      { name: 'stats', container: 8404, publish: 'preferred', defaultHostPort: 8404 },
      { name: 'runtime', container: 9999, publish: 'preferred', defaultHostPort: 9999 },
    ],
    volumes: [],
    capAdd: [],
    devices: [],
    tmpfs: RUNTIME_TMPFS,
    stopTimeoutS: 5,
    readiness: 'http-stats',
    readinessPort: 8404,
    dependsOn: [],
    sequential: false,
    stateless: true,
  },
  readiness: (t) =>
    forAll('http-stats', [
      forContainerRunning(t.docker.containers, t.node, t.containerId),
      forHttp200(t.http, t.node, 'http-stats', 30_000, t.hostPort, HAPROXY_STATS_PATH),
    ]),
  hooks: {
    async staleReason(ctx, _node, found) {
      const cfg = await ctx.docker.containers.getFile(found.id, HAPROXY_CONFIG_PATH);
      if (!cfg) return 'no configuration (an interrupted `up`?)';
      if (cfg.toString('utf8') !== haproxyConfig(ctx.topology, ctx.state)) return 'configuration changed';
      return undefined;
    },
    async afterCreate(ctx, _node, id) {
      await ctx.docker.containers.putFile(id, HAPROXY_CONFIG_PATH, haproxyConfig(ctx.topology, ctx.state));
    },
    /**
     * `up` returns when the lab serves: HAProxy's own checks must see every web node and the DB
     * writer UP (with `rise 2` that lags the nodes' readiness by a few seconds).
     */
    async afterUp(ctx) {
      const { state, topology } = ctx;
      if (!state.ports.runtime || nodesOf(topology, 'lb').length === 0) return;
      const runtime = (ctx.runtime ?? ((p: number) => new HaproxyRuntime(tcpRuntime(p))))(state.ports.runtime);
      const expected = [
        ...nodesOf(topology, 'web').map((n) => `${BACKENDS.web}/${n.name}`),
        ...nodesOf(topology, 'db').map((n) => `${BACKENDS.dbWriter}/${n.name}`),
      ];
      ctx.reporter.step('haproxy: waiting for its checks to see every server UP');
      await waitFor(
        async () => {
          const rows = await runtime.servers();
          const notUp = expected.filter((e) => rows.find((r) => `${r.backend}/${r.server}` === e)?.status !== 'UP');
          return notUp.length === 0 ? ready(undefined) : notYet(`not UP yet: ${notUp.join(', ')}`);
        },
        { what: 'HAProxy servers', timeoutMs: 60_000, intervalMs: 250, clock: ctx.clock, signal: ctx.signal },
      );
    },
  },
  collectStatus(ctx, nodes) {
    const lb = nodes[0];
    if (!lb) return [];
    const { state, status, health } = ctx;
    return [
      (async () => {
        if (!ctx.running(lb.name) || !state.ports.runtime) {
          health.set(lb.name, { healthy: false, detail: 'not running' });
          return;
        }
        try {
          const runtime = (ctx.runtime ?? ((p: number) => new HaproxyRuntime(tcpRuntime(p))))(state.ports.runtime);
          status.haproxy.servers = await runtime.servers();
          status.haproxy.up = true;
          health.set(lb.name, { healthy: true });
        } catch (err) {
          status.haproxy.error = errText(err);
          health.set(lb.name, { healthy: false, detail: status.haproxy.error });
        }
      })(),
    ];
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
    diagram: { title: 'HAProxy', group: false, entry: true },
  },
};
