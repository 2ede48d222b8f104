/**
 * HAProxy's runtime API. Two ways in:
 * - the TCP socket published on 127.0.0.1, `level user` (read-only, no authentication): cheap
 *   polling of `show stat`;
 * - the admin Unix socket inside the container, through `docker exec` (Docker's own access
 *   control guards it): everything that changes state (`set server ... state`).
 */
import * as net from 'node:net';
import type { ContainerClient } from '../docker/types';
import type { HaproxyServerStatus } from '../protocol/status';

export type RuntimeTransport = (command: string) => Promise<string>;

/** The helper script of lab/haproxy that talks to the admin socket. */
export const HAPROXY_ADMIN_TOOL = 'lab-haproxy-admin';

/** The admin runtime API of one HAProxy container, through `docker exec` (argv, no shell). */
export function execRuntime(containers: ContainerClient, containerId: string, timeoutMs = 5000): RuntimeTransport {
  return async (command) => {
    const r = await containers.exec(containerId, [HAPROXY_ADMIN_TOOL, command], { timeoutMs });
    if (r.exitCode !== 0) throw new Error(`HAProxy admin socket: ${(r.stderr || r.stdout).trim() || `exit code ${r.exitCode}`}`);
    return r.stdout;
  };
}

export function tcpRuntime(port: number, host = '127.0.0.1', timeoutMs = 2000): RuntimeTransport {
  return (command) =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      const chunks: Buffer[] = [];
      socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`HAProxy runtime API on ${host}:${port} did not answer in ${timeoutMs} ms`)));
      socket.on('connect', () => socket.write(`${command}\n`));
      socket.on('data', (c) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
}

/**
 * HAProxy puts a server whose name stops resolving (a killed container leaves Docker's DNS) in
 * "MAINT (resolution)". Nobody put it in maintenance: for the lab it is DOWN. A server its agent
 * called down (a Galera node evicted from the Primary component) reads "DOWN (agent)": DOWN.
 * rawStatus keeps HAProxy's own words.
 */
export function normaliseStatus(status: string): string {
  return /^MAINT \(resolution\)/.test(status) || /^DOWN \(agent\)/.test(status) ? 'DOWN' : status;
}

const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

/** Parses `show stat` CSV into per-server rows (FRONTEND/BACKEND aggregate rows are skipped). */
export function parseShowStat(csv: string): HaproxyServerStatus[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift()?.replace(/^# /, '').split(',');
  if (!header) return [];
  const idx = (name: string) => header.indexOf(name);
  const out: HaproxyServerStatus[] = [];
  for (const line of lines) {
    const f = line.split(',');
    const get = (name: string) => (idx(name) >= 0 ? f[idx(name)] : undefined);
    const server = get('svname');
    if (!server || server === 'FRONTEND' || server === 'BACKEND') continue;
    out.push({
      backend: get('pxname') ?? '',
      server,
      status: normaliseStatus(get('status') ?? ''),
      ...(normaliseStatus(get('status') ?? '') !== get('status') ? { rawStatus: get('status') } : {}),
      checkStatus: get('check_status') || undefined,
      checkDurationMs: num(get('check_duration')),
      lastChangeS: num(get('lastchg')),
      checkFailures: num(get('chkfail')),
      downtimeS: num(get('downtime')),
      sessions: num(get('scur')),
      queue: num(get('qcur')),
      requestRate: num(get('req_rate')),
      http5xx: num(get('hrsp_5xx')),
      connErrors: num(get('econ')),
      respErrors: num(get('eresp')),
      retries: num(get('wretr')),
      redispatches: num(get('wredis')),
      responseTimeMs: num(get('rtime')),
      totalTimeMs: num(get('ttime')),
    });
  }
  return out;
}

/** The TCP port of a status's `endpoints.haproxyRuntime` (`tcp://127.0.0.1:PORT`). */
export function runtimePort(endpoint: string): number {
  const m = /:(\d+)$/.exec(endpoint);
  if (!m) throw new Error(`unexpected HAProxy runtime endpoint "${endpoint}"`);
  return Number(m[1]);
}

/** The runtime API at a status's `endpoints.haproxyRuntime`. */
export function runtimeAt(endpoint: string): HaproxyRuntime {
  return new HaproxyRuntime(tcpRuntime(runtimePort(endpoint)));
}

export class HaproxyRuntime {
  constructor(private readonly send: RuntimeTransport) {}

  async servers(): Promise<HaproxyServerStatus[]> {
    return parseShowStat(await this.send('show stat'));
  }

  async setServerState(backend: string, server: string, state: 'ready' | 'drain' | 'maint'): Promise<void> {
    const reply = (await this.send(`set server ${backend}/${server} state ${state}`)).trim();
    if (reply !== '') throw new Error(`HAProxy refused "set server ${backend}/${server} state ${state}": ${reply}`);
  }
}
