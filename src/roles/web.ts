/** `web`: the Moodle (or probe) web nodes behind HAProxy, moodledata on a Gluster FUSE mount. */
import { DB_NAME, DB_USER, GLUSTER_VOLUME, MOODLEDATA, moodleUrl, PROBE_DB_NAME } from './env';
import { BACKENDS, HAPROXY_PORTS } from './haproxy';
import { lbAddress } from './lb';
import { nodesOf, roleOptions, RoleModule, RUNTIME_TMPFS } from './types';
import { forAll, forContainerRunning, forHttp200 } from './wait-strategies';
import { errText } from '../core/errors';

/** Most web nodes a lab may have. */
export const MAX_WEB_NODES = 9;

export const WEB_HEALTH_PATH = '/lab/health.php';

export const webRole: RoleModule = {
  role: 'web',
  required: true,
  memoryMiB: 30, // measured idle: web1-3 26-28
  maxCount: MAX_WEB_NODES,
  entryPriority: 1,
  checkOptions(opts, def) {
    // Without a load balancer the lone web node is what users type.
    if (opts.count > 1 && !(def.roles.lb?.count ?? 0))
      return `the ${def.name} topology has exactly one web node: more need a load balancer (lb) in front (use --topology ha for more)`;
    return undefined;
  },
  spec: {
    role: 'web',
    prefix: 'web',
    bareWhenAlone: false,
    image: 'web',
    ports: [{ name: 'http', container: 80, publish: 'ephemeral' }],
    volumes: [],
    capAdd: ['SYS_ADMIN'],
    devices: ['/dev/fuse'],
    tmpfs: RUNTIME_TMPFS,
    stopTimeoutS: 10,
    readiness: 'http-health',
    readinessPort: 80,
    dependsOn: ['lb', 'db', 'storage', 'cache'],
    sequential: false,
    stateless: true,
    runsMoodle: true,
  },
  // In `single` the web node is what users type: it publishes the moodle port itself.
  entryPorts: [{ name: 'moodle', container: 80, publish: 'preferred', defaultHostPort: 8080 }],
  env(node, topology, state) {
    const s = state.secrets;
    // The load balancer's address (a pair's virtual IP), decided by the lb role alone.
    const lb = lbAddress(topology, state);
    const db = nodesOf(topology, 'db')[0];
    const cache = nodesOf(topology, 'cache')[0];
    const storage = nodesOf(topology, 'storage');
    return {
      LAB_NODE: node.name,
      // Through HAProxy's single-writer and reader listeners when there is one; else the lone DB.
      DB_HOST: lb ?? db?.name ?? '',
      DB_PORT: String(HAPROXY_PORTS.dbWriter),
      DB_READ_PORT: String(lb ? HAPROXY_PORTS.dbReader : HAPROXY_PORTS.dbWriter),
      DB_NAME,
      DB_USER,
      DB_PASSWORD: s.dbPassword,
      PROBE_DB_NAME,
      // A Sentinel group is reached through HAProxy's Redis listener (it follows the master).
      REDIS_HOST: cache && lb && roleOptions(topology, 'cache').mode === 'sentinel' ? lb : (cache?.name ?? ''),
      REDIS_PASSWORD: cache ? s.redisPassword : '',
      GLUSTER_SERVERS: storage.map((n) => n.name).join(','),
      GLUSTER_VOLUME,
      MOODLEDATA,
      MOODLE_WWWROOT: moodleUrl(state),
      MOODLE_USERS_PASSWORD: s.moodleUsersPassword,
    };
  },
  // The web entrypoint first waits for the Gluster mount.
  readiness: (t) =>
    forAll('http-health', [
      forContainerRunning(t.docker.containers, t.node, t.containerId),
      forHttp200(t.http, t.node, 'http-health', 150_000, t.hostPort, WEB_HEALTH_PATH),
    ]),
  // The light health endpoint, directly on each node's published port.
  collectStatus(ctx, nodes) {
    return nodes.map(async (n) => {
      const c = ctx.byNode.get(n.name);
      const port = c?.ports[80];
      if (!c || c.state !== 'running' || !port) {
        ctx.health.set(n.name, { healthy: false, detail: c ? c.state : 'missing' });
        return;
      }
      try {
        const r = await ctx.http(`http://127.0.0.1:${port}${WEB_HEALTH_PATH}`, 2000);
        ctx.health.set(n.name, r.status === 200 ? { healthy: true } : { healthy: false, detail: `health check HTTP ${r.status}` });
      } catch (err) {
        ctx.health.set(n.name, { healthy: false, detail: errText(err) });
      }
    });
  },
  directUrlPort: 80,
  failover: 'haproxy-server',
  haproxyBackend: () => BACKENDS.web,
  display: {
    role: 'web',
    order: 1,
    label: 'Moodle web',
    icon: 'globe',
    reportTitle: 'Moodle web',
    status: 'haproxy-server',
    opens: 'url',
    drainIn: 'web',
    panel: 'haproxy',
    diagram: { title: 'Moodle web', group: true, entry: true, from: 'lb' },
  },
};
