/**
 * HAProxy's Redis listener for a Sentinel lab (the ClusterControl/HAProxy pattern): Moodle keeps
 * one host:port, the load balancer's `:6379`, and HAProxy sends it to the node whose own answer
 * says `role:master`. Each check authenticates, PINGs and reads `INFO replication`; a replica
 * (`role:slave`) and a dead node fail it. Sentinel decides who the master is; HAProxy follows.
 */
import type { HaproxyProfile } from './types';

export const REDIS_PORT = 6379;
export const SENTINEL_PORT = 26379;
/** The backend's name in `show stat`. */
export const REDIS_BACKEND = 'redis';

/** A value sent in a `tcp-check send` line: HAProxy's escapes for the space and the backslash. */
function tcpCheckArg(s: string): string {
  if (/[\r\n]/.test(s)) throw new Error('a Redis password cannot contain a line break');
  return s.replace(/\\/g, '\\\\').replace(/ /g, '\\ ');
}

/** The `listen redis` section, or no lines when `nodes` is empty. */
export function renderRedisListener(nodes: readonly string[], password: string, profile: HaproxyProfile): string[] {
  if (nodes.length === 0) return [];
  // Detection of a dead master: its connect times out (timeout connect, 250 ms tuned); `fall 2`
  // at `inter 500ms` / `fastinter 200ms`. A promoted replica needs `rise 2` passing checks.
  const timing = profile === 'tuned' ? 'inter 500ms fastinter 200ms downinter 500ms fall 2 rise 2' : 'inter 2s fall 3 rise 2';
  return [
    '',
    `listen ${REDIS_BACKEND}`,
    '    mode tcp',
    `    bind :${REDIS_PORT}`,
    // Sessions hold a connection between requests; Redis clients reconnect when it closes.
    '    timeout client 30m',
    '    timeout server 30m',
    '    option tcp-check',
    '    tcp-check connect',
    `    tcp-check send AUTH\\ ${tcpCheckArg(password)}\\r\\n`,
    '    tcp-check expect string +OK',
    '    tcp-check send PING\\r\\n',
    '    tcp-check expect string +PONG',
    // QUIT right behind INFO: Redis closes the connection after answering, so a replica's
    // answer fails the check at once instead of waiting out `timeout check` for `role:master`.
    '    tcp-check send info\\ replication\\r\\n',
    '    tcp-check send QUIT\\r\\n',
    '    tcp-check expect string role:master',
    // A client still connected to a node that stopped being the master is cut: it reconnects to
    // the new one instead of writing to a replica (which refuses writes) or a partitioned master.
    `    default-server check ${timing} on-marked-down shutdown-sessions`,
    ...nodes.map((n) => `    server ${n} ${n}:${REDIS_PORT}`),
  ];
}
