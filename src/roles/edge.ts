/**
 * `edge`: the forwarder that stands for "the network" in front of a virtual IP. It publishes the
 * Moodle port (users type its address) and forwards every TCP connection to VIP:80, whichever
 * HAProxy holds the VIP. The host never routes to a container address, so this works on Docker
 * Desktop too. It comes with the load-balancer pair (`lb: { count: 2, keepalived: true }`) and
 * runs the HAProxy image in TCP mode (no image of its own, no keepalived: no configuration for it).
 */
import { HAPROXY_CONFIG_PATH, HAPROXY_PORTS, HAPROXY_STATS_PATH } from './haproxy';
import { lbAddress } from './lb';
import type { RoleLabState, Topology } from './types';
import { RoleModule, RUNTIME_TMPFS } from './types';
import { forAll, forContainerRunning, forExec } from './wait-strategies';
import { errText } from '../core/errors';

/**
 * A connect to the VIP while it moves goes to the old holder's address (gone) until the new
 * MASTER's gratuitous ARP: short connect timeouts, retried (HAProxy waits min(1 s, timeout
 * connect) before each retry): 8 × (250 + 250) ms covers 4 s, far beyond a VIP move (≈ 0.75 s).
 * That is what a client's TCP stack does too (it resends its SYN), only sooner.
 */
export const EDGE_CONNECT_TIMEOUT = '250ms';
export const EDGE_RETRIES = 8;

export function renderEdgeConfig(vip: string): string {
  return [
    `# Rendered by Moodle HA Lab: the edge forwards to the load balancer's virtual IP ${vip}. Do not edit.`,
    'global',
    '    log stdout format short local0 notice',
    '    maxconn 4096',
    '',
    'defaults',
    '    log global',
    // TCP: the edge is a network stand-in, it never reads or retries HTTP.
    '    mode tcp',
    `    timeout connect ${EDGE_CONNECT_TIMEOUT}`,
    '    timeout client 60s',
    '    timeout server 60s',
    '',
    'frontend moodle',
    `    bind :${HAPROXY_PORTS.web}`,
    '    default_backend vip',
    '',
    'backend vip',
    `    retries ${EDGE_RETRIES}`,
    `    server vip ${vip}:${HAPROXY_PORTS.web}`,
    '',
    // Its own liveness (the image's HEALTHCHECK and lab-haproxy-alive ask it), not published.
    'listen stats',
    `    bind 127.0.0.1:${HAPROXY_PORTS.stats}`,
    '    mode http',
    '    stats enable',
    `    stats uri ${HAPROXY_STATS_PATH}`,
    '',
  ].join('\n');
}

/** The edge's configuration in this lab (the VIP from the lab network's plan). */
export function edgeConfig(topology: Topology, state: RoleLabState): string {
  const vip = lbAddress(topology, state);
  if (!vip) throw new Error('the edge needs the load balancer pair’s virtual IP (lb: { count: 2, keepalived: true }), and this lab has none');
  return renderEdgeConfig(vip);
}

export const edgeRole: RoleModule = {
  role: 'edge',
  memoryMiB: 15, // its HAProxy in TCP mode, as the lb role's
  companionOnly: 'it comes with the load balancer pair (lb: { count: 2, keepalived: true })',
  // Users type its port when it is there.
  entryPriority: 3,
  spec: {
    role: 'edge',
    prefix: 'edge',
    bareWhenAlone: true,
    image: 'haproxy',
    ports: [],
    volumes: [],
    capAdd: [],
    devices: [],
    tmpfs: RUNTIME_TMPFS,
    stopTimeoutS: 5,
    readiness: 'edge-forward',
    // Its readiness is its own HAProxy only: it starts with the first stage and holds Moodle's port from the start.
    dependsOn: [],
    sequential: false,
    stateless: true,
  },
  entryPorts: [{ name: 'moodle', container: HAPROXY_PORTS.web, publish: 'preferred', defaultHostPort: 8080 }],
  readiness: (t) =>
    forAll('edge-forward', [
      forContainerRunning(t.docker.containers, t.node, t.containerId),
      forExec(t.docker.containers, t.containerId, 'edge-forward', 30_000, ['lab-haproxy-alive'], { timeoutMs: 3000 }, (r) =>
        r.exitCode === 0 ? undefined : `its HAProxy does not answer: ${r.stderr.trim() || `exit ${r.exitCode}`}`,
      ),
    ]),
  hooks: {
    async staleReason(ctx, _node, found) {
      const cfg = await ctx.docker.containers.getFile(found.id, HAPROXY_CONFIG_PATH);
      if (!cfg) return 'no configuration (an interrupted `up`?)';
      if (cfg.toString('utf8') !== edgeConfig(ctx.topology, ctx.state)) return 'configuration changed';
      return undefined;
    },
    async afterCreate(ctx, _node, id) {
      await ctx.docker.containers.putFile(id, HAPROXY_CONFIG_PATH, edgeConfig(ctx.topology, ctx.state));
    },
  },
  // Healthy: Docker's own HEALTHCHECK of the image says so, or (before its first run) its HAProxy answers now.
  collectStatus(ctx, nodes) {
    return nodes.map(async (n) => {
      const c = ctx.byNode.get(n.name);
      if (!c || c.state !== 'running') return void ctx.health.set(n.name, { healthy: false, detail: c ? c.state : 'missing' });
      if (c.health === 'healthy') return void ctx.health.set(n.name, { healthy: true });
      const r = await ctx.docker.containers
        .exec(c.id, ['lab-haproxy-alive'], { timeoutMs: 3000 })
        .catch((err: unknown) => ({ exitCode: -1, stdout: '', stderr: errText(err) }));
      ctx.health.set(
        n.name,
        r.exitCode === 0 ? { healthy: true } : { healthy: false, detail: `its HAProxy does not answer: ${r.stderr.trim() || `exit ${r.exitCode}`}` },
      );
    });
  },
  display: {
    role: 'edge',
    order: -1,
    label: 'Edge (the network)',
    icon: 'globe',
    reportTitle: 'edge (the network in front of the VIP)',
    status: 'vip',
    diagram: { title: 'edge', group: false, entry: true },
  },
};
