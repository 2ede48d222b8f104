/**
 * HAProxy's configuration, rendered from the topology. Two profiles:
 * - `tuned` (default): fast active checks, passive layer-7 observation, retries that redispatch
 *   to another server on every retry, L7 retries for idempotent requests only.
 * - `defaults`: HAProxy's stock check timing and retry behaviour, for side-by-side lessons.
 * Facts and sources: shared/docs/HA-NOTES.md.
 */
// Types only from ./topology: role modules read this module's constants while the topology loads the registry.
import type { HaproxyProfile, Topology } from './types';
import { roleOptions } from './types';
import { renderRedisListener } from './redis-haproxy';

export type { HaproxyProfile };
export const HAPROXY_PROFILES: readonly HaproxyProfile[] = ['tuned', 'defaults'];

export const HAPROXY_CONFIG_PATH = '/etc/haproxy/haproxy.cfg';
export const HAPROXY_PORTS = { web: 80, dbWriter: 3306, dbReader: 3307, stats: 8404, runtime: 9999 } as const;
export const HAPROXY_STATS_PATH = '/stats';
export const HAPROXY_METRICS_PATH = '/metrics';
/** The admin runtime API, inside the container only (see lab/haproxy/lab-haproxy-admin). */
export const HAPROXY_ADMIN_SOCKET = '/run/haproxy/admin.sock';
/** Apache prefork's MaxRequestWorkers on a web node (lab/web/apache/mpm_prefork.conf). */
export const WEB_APACHE_WORKERS = 16;
/**
 * Requests HAProxy (tuned) sends a web node at once: its workers less three kept free for what
 * must never wait behind user requests: HAProxy's health check, Docker's HEALTHCHECK and the
 * lab's direct probe of the node. The rest waits in HAProxy's queue (`timeout queue`), where a
 * slow tier answers later instead of failing checks: a slow node is not a dead node.
 */
export const WEB_SERVER_MAXCONN = WEB_APACHE_WORKERS - 3;
/** How long a request may wait in HAProxy's queue for a free web worker (tuned). */
export const WEB_QUEUE_TIMEOUT = '30s';
/** The DB listeners' check read timeout (tuned): the clustercheck's own limit (4 s) and a margin. */
export const DB_CHECK_TIMEOUT = '5s';
/** Backend names as they appear in `show stat`. */
export const BACKENDS = { web: 'web', dbWriter: 'db_writer', dbReader: 'db_reader' } as const;

/**
 * Check timing. A check's connect timeout is min(timeout connect, inter): with a killed node the
 * connect hangs (its address is gone), so detection ≤ inter + 2 × connect timeout + fastinter
 * = 500 + 2 × 250 + 200 = 1200 ms. A connect on the lab's bridge takes well under a millisecond
 * even on a busy host (the kernel answers the SYN), so 250 ms only ever expires for a node that
 * is gone. DB servers are checked as often: the writer's detection is the DB-write blackout
 * (the node's clustercheck answers from a reading under 1 s old, lab/galera/lab-clustercheck-server).
 */
function checkTiming(profile: HaproxyProfile, tier: 'web' | 'db'): string {
  if (profile === 'defaults') return 'inter 2s fall 3 rise 2';
  return tier === 'web' ? 'inter 500ms fastinter 200ms downinter 1s fall 2 rise 2' : 'inter 500ms fastinter 200ms downinter 1s fall 2 rise 2';
}

/** The Galera listeners' agent beside HAProxy (lab/haproxy/lab-galera-agent), on loopback. */
export const GALERA_AGENT_PORT = 9201;

/**
 * A DB server's agent check (tuned): the agent asks the node's peers whether Galera still counts
 * it in the Primary component, and says `down` only when a Synced peer in that component says it
 * does not. A hung node (paused: its kernel still accepts the check's TCP) is evicted by Galera
 * after evs.suspect_timeout (1 s) but fails HAProxy's own check only after two 5 s read timeouts;
 * the agent moves the writes when Galera has evicted it. An agent that cannot answer is no opinion
 * (HAProxy ignores it), and without peers there is nobody to ask.
 */
function galeraAgent(node: string, db: readonly { name: string }[]): string {
  const peers = db.filter((n) => n.name !== node).map((n) => n.name);
  if (!peers.length) return '';
  return ` agent-check agent-addr 127.0.0.1 agent-port ${GALERA_AGENT_PORT} agent-inter 500ms agent-send "${[node, ...peers].join(' ')}\\n"`;
}

/** `redisPassword`: the Redis listener's check authenticates (a Sentinel lab's only). */
export function renderHaproxyConfig(topology: Topology, profile: HaproxyProfile = 'tuned', redisPassword = ''): string {
  const web = topology.nodes.filter((n) => n.role === 'web');
  const db = topology.nodes.filter((n) => n.role === 'db');
  const tuned = profile === 'tuned';
  const lines: string[] = [];
  const add = (...l: string[]) => lines.push(...l);

  add(
    `# Rendered by Moodle HA Lab (profile: ${profile}). Do not edit: the lab rewrites it.`,
    'global',
    '    log stdout format short local0 notice',
    '    maxconn 4096',
    // Admin (set server ... state drain|maint): a root-only Unix socket, reached through `docker
    // exec` (lab-haproxy-admin). The TCP socket published on the host is read-only (`show stat`).
    `    stats socket ${HAPROXY_ADMIN_SOCKET} mode 600 level admin`,
    `    stats socket ipv4@0.0.0.0:${HAPROXY_PORTS.runtime} level user`,
    '    stats timeout 30s',
    '',
    // Docker's embedded DNS: a restarted container may come back with another address.
    'resolvers docker',
    '    nameserver dns 127.0.0.11:53',
    '    resolve_retries 3',
    '    timeout resolve 1s',
    '    timeout retry 1s',
    '    hold valid 5s',
    '    hold nx 5s',
    '    hold obsolete 5s',
    '',
    'defaults',
    '    log global',
    '    mode http',
    '    option dontlognull',
    `    timeout connect ${tuned ? '250ms' : '5s'}`,
    '    timeout client 60s',
    '    timeout server 60s',
    // A killed node is detected by the connect timeout (its address is gone). The check's read
    // timeout stays generous: a busy 2-core host answering a check in 600 ms is not down, and a
    // false DOWN on the DB writer cuts every session (on-marked-down shutdown-sessions).
    '    timeout check 2s',
    // init-addr none: HAProxy starts even while a server's name does not resolve yet.
    '    default-server init-addr last,libc,none resolvers docker',
    '',
    'frontend web',
    `    bind :${HAPROXY_PORTS.web}`,
    '    option forwardfor',
    // Why HAProxy answered an error itself (its termination state: SC = no server, sQ = queue
    // timeout), so a client (bench/overload.ts) tells overload from an outage.
    '    http-after-response set-header X-Lab-Term %[txn.sess_term_state] if { status ge 500 }',
    `    default_backend ${BACKENDS.web}`,
    '',
    `backend ${BACKENDS.web}`,
    '    balance roundrobin',
    // Light check only: a DB-deep check would pull every web node out when the DB fails.
    '    option httpchk GET /lab/health.php',
    '    http-check expect status 200',
    // Which node answered: learners (and the tests) can see the balancing and the failover.
    '    http-response set-header X-Served-By %s',
  );
  if (tuned) {
    add(
      '    retries 3',
      '    option redispatch 1',
      '    retry-on conn-failure empty-response response-timeout 502 504',
      // Replaying a POST is unsafe: only idempotent requests are retried at layer 7.
      '    http-request disable-l7-retry if METH_POST',
      // Overload: at most WEB_SERVER_MAXCONN requests on a node, the rest queued here. Prefork
      // gives each connection a worker, an idle keep-alive one too: HAProxy closes the server
      // side after each response, so a node never holds more connections than maxconn + checks.
      '    option http-server-close',
      `    timeout queue ${WEB_QUEUE_TIMEOUT}`,
      // observe layer7: 5 failed user requests in a row (5xx, resets, connect timeouts) count as one
      // failed check and switch to fastinter; only a failed check marks the node DOWN. On a
      // starved host user requests time out connecting now and then (and are retried elsewhere):
      // `mark-down` took every healthy node out at once (measured by bench/overload.ts).
      `    default-server check ${checkTiming(profile, 'web')} observe layer7 error-limit 5 on-error fail-check maxconn ${WEB_SERVER_MAXCONN}`,
    );
  } else {
    add(`    default-server check ${checkTiming(profile, 'web')}`);
  }
  for (const n of web) add(`    server ${n.name} ${n.name}:80`);

  // Galera behind a single writer (others backup) and a leastconn reader. Checked through the HTTP
  // clustercheck (200 only when Synced): a plain mysql-check passes on a non-Primary node.
  // The reader's servers track the writer's checks (one check per node and HAProxy).
  if (db.length > 0) {
    add(
      '',
      `listen ${BACKENDS.dbWriter}`,
      '    mode tcp',
      `    bind :${HAPROXY_PORTS.dbWriter}`,
      '    timeout client 30m',
      '    timeout server 30m',
      // When the node's saved reading is stale, its clustercheck forks bash and a mariadb client: on
      // a starved host that answered in over 2 s (bench/false-alarm.ts: all three nodes DOWN at once
      // with 2 s). A slow answer is not a dead node; a killed one still fails its 250 ms connect.
      ...(tuned ? [`    timeout check ${DB_CHECK_TIMEOUT}`] : []),
      '    option httpchk',
      '    http-check send meth GET uri /',
      '    http-check expect status 200',
      `    default-server check port 9200 ${checkTiming(profile, 'db')} on-marked-down shutdown-sessions`,
    );
    // When the first node comes back, the writes move back to it: cut the backup's sessions so
    // there is never more than one writer.
    db.forEach((n, i) =>
      add(`    server ${n.name} ${n.name}:3306${i === 0 ? ' on-marked-up shutdown-backup-sessions' : ' backup'}${tuned ? galeraAgent(n.name, db) : ''}`),
    );
    add(
      '',
      `listen ${BACKENDS.dbReader}`,
      '    mode tcp',
      `    bind :${HAPROXY_PORTS.dbReader}`,
      '    balance leastconn',
      '    timeout client 30m',
      '    timeout server 30m',
      '    default-server on-marked-down shutdown-sessions',
    );
    db.forEach((n) => add(`    server ${n.name} ${n.name}:3306 track ${BACKENDS.dbWriter}/${n.name}`));
  }

  // A Sentinel lab's Redis: one address for Moodle, sent to the node answering role:master.
  if (roleOptions(topology, 'cache').mode === 'sentinel') {
    add(
      ...renderRedisListener(
        topology.nodes.filter((n) => n.role === 'cache').map((n) => n.name),
        redisPassword,
        profile,
      ),
    );
  }

  add(
    '',
    'listen stats',
    `    bind :${HAPROXY_PORTS.stats}`,
    '    mode http',
    // HAProxy's own Prometheus exporter (built into Debian's package: USE_PROMEX), beside the page.
    `    http-request use-service prometheus-exporter if { path ${HAPROXY_METRICS_PATH} }`,
    '    stats enable',
    `    stats uri ${HAPROXY_STATS_PATH}`,
    '    stats refresh 2s',
    '    stats show-legends',
    '',
  );
  return lines.join('\n');
}
