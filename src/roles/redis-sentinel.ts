/**
 * Redis Sentinel (cache `mode: sentinel`): the environment of the nodes, the one command a status
 * refresh runs on each node, and what the cluster's answers mean. Pure: unit-tested directly.
 */
import type { RedisReplicaStatus, RedisStatus } from '../protocol/status';
import { REDIS_PORT, SENTINEL_PORT } from './redis-haproxy';

/** The name the sentinels monitor the master under. */
export const SENTINEL_MASTER_NAME = 'lab';
/** Sentinels that must agree a master is down before a failover (of 3). */
export const SENTINEL_QUORUM = 2;
/**
 * How long a master may not answer before a sentinel calls it down. A kill → a promoted replica
 * takes about this plus 1–3 s of Sentinel's own periods (a PING per second, the other sentinels
 * asked once a second, a random start delay up to 1 s against split votes, the promoted replica's
 * INFO once a second): 1 s keeps the new master within 5 s; 2 s would not. It stays at 1 s, not
 * lower: a node starved on a busy host must not look dead (a false failover).
 */
export const SENTINEL_DOWN_AFTER_MS = 1000;
/**
 * Sentinel's failover timeout: a failover whose leader is not elected or whose promotion is not
 * seen within it is aborted and retried after twice this. Kept at 10 s: with 5 s, two of three
 * kills at load average 80–110 were aborted and retried (a new master 12–14 s after the kill
 * instead of ≈ 2.5 s): an election on a starved host can take more than 5 s.
 */
export const SENTINEL_FAILOVER_TIMEOUT_MS = 10_000;
/** Nodes a Sentinel lab has: 3 sentinels are the fewest that keep a quorum of 2 after losing one. */
export const SENTINEL_NODES = 3;

/** The environment of one node of a Sentinel lab (lab/README.md). */
export function sentinelEnv(node: string, nodes: readonly string[]): Record<string, string> {
  return {
    REDIS_NODE: node,
    REDIS_SENTINEL_NODES: nodes.join(','),
    REDIS_SENTINEL_INITIAL_MASTER: nodes[0] ?? node,
    REDIS_SENTINEL_MASTER_NAME: SENTINEL_MASTER_NAME,
    REDIS_SENTINEL_QUORUM: String(SENTINEL_QUORUM),
    REDIS_SENTINEL_DOWN_AFTER_MS: String(SENTINEL_DOWN_AFTER_MS),
    REDIS_SENTINEL_FAILOVER_TIMEOUT_MS: String(SENTINEL_FAILOVER_TIMEOUT_MS),
  };
}

const MARK = '#lab-section';

/**
 * One exec per node and refresh (REDISCLI_AUTH in the exec's environment): an authenticated PING,
 * INFO replication/memory/keyspace, and the node's sentinel's answers. Sections are separated by
 * a marker line; a command that fails leaves its section with its error text.
 */
export function nodeProbeCommand(): string[] {
  const cli = (port: number, args: string) => `timeout 2 redis-cli --no-auth-warning -p ${port} ${args} 2>&1`;
  return [
    'bash',
    '-c',
    [
      cli(REDIS_PORT, 'ping'),
      `echo '${MARK}'`,
      cli(REDIS_PORT, 'info replication memory keyspace'),
      `echo '${MARK}'`,
      cli(SENTINEL_PORT, `sentinel get-master-addr-by-name ${SENTINEL_MASTER_NAME}`),
      `echo '${MARK}'`,
      cli(SENTINEL_PORT, `sentinel master ${SENTINEL_MASTER_NAME}`),
      'true',
    ].join('; '),
  ];
}

/** One node's answers, parsed. */
export interface RedisNodeReading {
  name: string;
  /** The container runs (else nothing below was asked). */
  running: boolean;
  /** An authenticated PING answered PONG. */
  pong: boolean;
  /** What PING answered instead (error text). */
  pingProblem?: string;
  /** INFO's fields (replication, memory, keyspace), when it answered. */
  info?: Map<string, string>;
  /** Its sentinel answered. */
  sentinelUp: boolean;
  /** The master its sentinel names. */
  sentinelMaster?: string;
  /** Other sentinels its sentinel knows. */
  otherSentinels?: number;
  /**
   * Replicas its sentinel knows (`num-slaves`). A sentinel learns them only from the master's INFO,
   * every 10 s: one that has not yet cannot promote a replica when the master dies (it aborts with
   * `-failover-abort-no-good-slave` and tries again only after twice the failover timeout).
   */
  knownReplicas?: number;
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

/** `SENTINEL master <name>`'s flat answer (one key line, one value line) as a map. */
export function parseFlatPairs(text: string): Map<string, string> {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < lines.length; i += 2) out.set(lines[i]!, lines[i + 1]!);
  return out;
}

const ERROR_REPLY = /^(ERR|NOAUTH|WRONGPASS|AUTH failed|Could not connect|Error:|\(error\))/;

/** The node's reading from `nodeProbeCommand`'s output. */
export function parseNodeProbe(name: string, stdout: string): RedisNodeReading {
  const [ping = '', info = '', addr = '', master = ''] = stdout.split(new RegExp(`^${MARK}$`, 'm')).map((s) => s.trim());
  const pong = ping === 'PONG';
  const reading: RedisNodeReading = { name, running: true, pong, sentinelUp: false };
  if (!pong) reading.pingProblem = ping.split(/\r?\n/)[0] || 'no answer';
  if (pong && !ERROR_REPLY.test(info)) reading.info = parseRedisInfo(info);
  const addrLines = addr.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (addr !== '' && !ERROR_REPLY.test(addr)) {
    reading.sentinelUp = true;
    // An unknown master name answers an empty reply: the sentinel is up but names nobody.
    if (addrLines.length >= 2) reading.sentinelMaster = addrLines[0]!.trim();
    const m = ERROR_REPLY.test(master) ? undefined : parseFlatPairs(master);
    const others = Number(m?.get('num-other-sentinels'));
    if (m?.has('num-other-sentinels') && Number.isFinite(others)) reading.otherSentinels = others;
    const replicas = Number(m?.get('num-slaves'));
    if (m?.has('num-slaves') && Number.isFinite(replicas)) reading.knownReplicas = replicas;
  }
  return reading;
}

/** A node name from what Redis or a sentinel calls it (the lab announces hostnames; an address maps back). */
export function nodeNameOf(host: string | undefined, nodes: readonly string[], addresses: ReadonlyMap<string, string> = new Map()): string | undefined {
  if (!host) return undefined;
  if (nodes.includes(host)) return host;
  return addresses.get(host) ?? host;
}

/** The most named master among the sentinels that answered (ties: the first node in order). */
export function sentinelsMaster(readings: readonly RedisNodeReading[]): string | undefined {
  const votes = new Map<string, number>();
  for (const r of readings) if (r.sentinelMaster) votes.set(r.sentinelMaster, (votes.get(r.sentinelMaster) ?? 0) + 1);
  let best: string | undefined;
  for (const [name, n] of votes) if (best === undefined || n > votes.get(best)!) best = name;
  return best;
}

export interface SentinelVerdict {
  status: RedisStatus;
  /** Each node's health for `nodes[]` (a node whose container does not run is not listed). */
  health: Map<string, { healthy: boolean; detail?: string }>;
}

/**
 * What the nodes' answers say: the master (named by the sentinels' majority and answering
 * `role:master` itself), the replicas with their lag, the sentinels, and each node's health.
 */
export function sentinelVerdict(readings: readonly RedisNodeReading[]): SentinelVerdict {
  const health = new Map<string, { healthy: boolean; detail?: string }>();
  const names = readings.map((r) => r.name);
  const role = (r: RedisNodeReading) => r.info?.get('role');
  const named = sentinelsMaster(readings);
  const claimants = readings.filter((r) => r.pong && role(r) === 'master').map((r) => r.name);
  const status: RedisStatus = { up: false, mode: 'sentinel', replicas: [], sentinels: [] };
  // The master: of the nodes answering role:master, the one the most sentinels name (a tie names
  // none: a split brain); with no sentinel answering, the lone claimant. Not "the most named node
  // overall": mid-failover the leader sentinel names the promoted replica at once, the others
  // still name the dead master until the leader's hello reaches them (up to 2 s later).
  const votes = (node: string) => readings.filter((r) => r.sentinelMaster === node).length;
  const ranked = claimants.map((c) => ({ c, v: votes(c) })).filter((x) => x.v > 0);
  const top = Math.max(0, ...ranked.map((x) => x.v));
  const leaders = ranked.filter((x) => x.v === top).map((x) => x.c);
  const master = named !== undefined ? (leaders.length === 1 ? leaders[0] : undefined) : claimants.length === 1 ? claimants[0] : undefined;
  const masterReading = readings.find((r) => r.name === master);
  if (master) {
    status.master = master;
    status.up = masterReading?.pong === true;
    const keys = redisKeys(masterReading?.info ?? new Map());
    if (masterReading?.info) status.keys = keys;
    const used = Number(masterReading?.info?.get('used_memory'));
    if (masterReading?.info?.has('used_memory') && Number.isFinite(used)) status.usedMemoryBytes = used;
  }
  const problems: string[] = [];
  if (named === undefined) problems.push('no sentinel answered');
  else if (!master) problems.push(`the sentinels name ${named}, which does not answer role:master (a failover in progress?)`);
  const extra = claimants.filter((c) => c !== master);
  if (extra.length)
    problems.push(
      `${extra.join(', ')} also answer${extra.length === 1 ? 's' : ''} role:master (split brain: HAProxy sends clients to every node answering so)`,
    );
  const masterOffset = Number(masterReading?.info?.get('master_repl_offset'));
  for (const r of readings) {
    status.sentinels!.push({
      name: r.name,
      up: r.sentinelUp,
      ...(r.sentinelMaster ? { master: nodeNameOf(r.sentinelMaster, names) } : {}),
      ...(r.otherSentinels !== undefined ? { otherSentinels: r.otherSentinels } : {}),
    });
    if (!r.running) continue;
    if (!r.pong) {
      health.set(r.name, { healthy: false, detail: `PING: ${r.pingProblem ?? 'no answer'}` });
      continue;
    }
    if (role(r) === 'slave') {
      const linkUp = r.info?.get('master_link_status') === 'up';
      const replica: RedisReplicaStatus = { name: r.name, linkUp };
      const masterHost = r.info?.get('master_host');
      if (masterHost) replica.masterHost = nodeNameOf(masterHost, names);
      const offset = Number(r.info?.get('slave_repl_offset'));
      if (linkUp && Number.isFinite(offset) && Number.isFinite(masterOffset) && replica.masterHost === master) {
        replica.lagBytes = Math.max(0, masterOffset - offset);
      }
      status.replicas!.push(replica);
      const ok = linkUp && (!master || replica.masterHost === master);
      health.set(
        r.name,
        ok
          ? { healthy: true }
          : {
              healthy: false,
              detail: linkUp
                ? `replica of ${replica.masterHost ?? '?'}, not of the master ${master}`
                : `replica: link to ${replica.masterHost ?? 'its master'} down`,
            },
      );
    } else if (role(r) === 'master') {
      health.set(
        r.name,
        r.name === master ? { healthy: true } : { healthy: false, detail: `answers role:master, but the sentinels name ${named ?? 'nobody'}` },
      );
    } else {
      health.set(r.name, { healthy: false, detail: 'INFO replication did not answer' });
    }
  }
  for (const r of readings) {
    const h = health.get(r.name);
    if (r.running && h?.healthy && !r.sentinelUp) health.set(r.name, { healthy: false, detail: 'its sentinel does not answer' });
  }
  if (problems.length) status.error = problems.join('; ');
  return { status, health };
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

/**
 * Whether one node is ready in a Sentinel lab: it answers an authenticated PING, a replica's link
 * is up, and its sentinel names a master and knows the other sentinels. Undefined = ready.
 */
export function sentinelNodeProblem(r: RedisNodeReading, nodeCount: number): string | undefined {
  if (!r.pong) return `PING: ${r.pingProblem ?? 'no answer'}`;
  const role = r.info?.get('role');
  if (!role) return 'INFO replication did not answer';
  if (role === 'slave' && r.info?.get('master_link_status') !== 'up') return `replica: link to ${r.info?.get('master_host') ?? 'its master'} not up yet`;
  if (!r.sentinelUp) return 'its sentinel does not answer yet';
  if (!r.sentinelMaster) return 'its sentinel names no master yet';
  if ((r.otherSentinels ?? 0) < nodeCount - 1) return `its sentinel knows ${r.otherSentinels ?? 0} of the ${nodeCount - 1} other sentinels`;
  if ((r.knownReplicas ?? 0) < nodeCount - 1)
    return `its sentinel knows ${r.knownReplicas ?? 0} of the ${nodeCount - 1} replicas (it could not promote one yet)`;
  // Its sentinel and its own replication agree on who the master is.
  const itsMaster = role === 'master' ? r.name : r.info?.get('master_host');
  if (itsMaster !== r.sentinelMaster) return `its sentinel names ${r.sentinelMaster} as master, the node itself ${itsMaster ?? 'nobody'}`;
  return undefined;
}

/** Sentinel's own log lines (`1:X 30 Nov 2026 19:44:08.367 # +promoted-slave …`) at or after `since` (epoch ms). */
export function sentinelLogEvents(logs: readonly string[], since: number): { at: number; event: string }[] {
  const out: { at: number; event: string }[] = [];
  for (const text of logs) {
    for (const line of text.split('\n')) {
      const m = /^\d+:X (\d{1,2} \w{3} \d{4} \d{2}:\d{2}:\d{2}\.\d{3}) [#*] ([+-][\w-]+)/.exec(line.trim());
      const at = m ? Date.parse(`${m[1]} UTC`) : NaN;
      if (m && at >= since) out.push({ at, event: m[2]! });
    }
  }
  return out;
}

/** The earliest time (epoch ms) a sentinel logged `event` (`+promoted-slave`) at or after `since`. */
export function sentinelEventAt(logs: readonly string[], event: string, since: number): number | undefined {
  const times = sentinelLogEvents(logs, since).flatMap((e) => (e.event === event ? [e.at] : []));
  return times.length ? Math.min(...times) : undefined;
}

/**
 * The sentinels' aborted failovers at or after `since`, by reason: `not-elected` (a split vote:
 * no sentinel got a majority) or `no-good-slave`. Sentinel retries only after 2 × failover-timeout.
 */
export function sentinelAborts(logs: readonly string[], since: number): string[] {
  return sentinelLogEvents(logs, since).flatMap((e) => (e.event.startsWith('-failover-abort-') ? [e.event.slice('-failover-abort-'.length)] : []));
}
