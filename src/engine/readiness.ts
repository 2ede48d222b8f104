/** One wait strategy per readiness kind of the topology table. */
import type { DockerClient } from '../docker/types';
import { sql } from './galera';
import { HAPROXY_STATS_PATH } from './haproxy';
import type { LabState } from './state';
import type { Readiness } from './topology';
import { Clock, notYet, ready, waitFor } from './wait';

export const READY_TIMEOUT_MS: Record<Readiness, number> = {
  'redis-ping': 30_000,
  'glusterd': 60_000,
  'galera-synced': 240_000, // a joiner takes a full SST
  'http-stats': 30_000,
  'http-health': 150_000, // the web entrypoint first waits for the Gluster mount
};

export type HttpGet = (url: string, timeoutMs: number) => Promise<{ status: number; body: string }>;

export const fetchGet: HttpGet = async (url, timeoutMs) => {
  // A ref'd timer, not AbortSignal.timeout (whose timer is unref'd): with a request hung on a
  // port whose container does not listen yet, nothing else may keep the event loop alive and
  // Node would exit mid-`up` (exit code 13, seen with the single topology).
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new DOMException(`no answer from ${url} in ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  try {
    const res = await fetch(url, { signal: abort.signal, redirect: 'manual' });
    return { status: res.status, body: await res.text() };
  } finally {
    clearTimeout(timer);
  }
};

export interface ReadinessContext {
  docker: DockerClient;
  state: LabState;
  clock?: Clock;
  http?: HttpGet;
  signal?: AbortSignal;
}

/** Resolves when the node is ready; rejects with a WaitTimeoutError naming the node. */
export async function waitReady(ctx: ReadinessContext, node: string, containerId: string, kind: Readiness, hostPort?: number): Promise<void> {
  const { docker, state } = ctx;
  const http = ctx.http ?? fetchGet;
  const running = async () => {
    const info = await docker.containers.inspect(containerId);
    if (info.state !== 'running') throw new Error(`${node} is ${info.state}`);
  };
  const probe = async () => {
    switch (kind) {
      case 'redis-ping': {
        const r = await docker.containers.exec(containerId, ['redis-cli', 'ping'], { env: [`REDISCLI_AUTH=${state.secrets.redisPassword}`], timeoutMs: 3000 });
        return r.stdout.trim() === 'PONG' ? ready(undefined) : notYet(r.stdout.trim() || r.stderr.trim());
      }
      case 'glusterd': {
        const r = await docker.containers.exec(containerId, ['gluster', 'peer', 'status'], { timeoutMs: 10_000 });
        return r.exitCode === 0 ? ready(undefined) : notYet((r.stderr || r.stdout).trim());
      }
      case 'galera-synced': {
        const out = await sql(docker.containers, containerId, state.secrets.dbRootPassword, "SET SESSION wsrep_sync_wait=0; SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'");
        const value = out.split('\t')[1]?.trim();
        return value === 'Synced' ? ready(undefined) : notYet(`wsrep_local_state_comment=${value ?? '?'}`);
      }
      case 'http-stats':
      case 'http-health': {
        if (!hostPort) throw new Error(`${node} publishes no port`);
        const url = `http://127.0.0.1:${hostPort}${kind === 'http-stats' ? HAPROXY_STATS_PATH : '/lab/health.php'}`;
        const r = await http(url, 3000);
        return r.status === 200 ? ready(undefined) : notYet(`HTTP ${r.status} from ${url}`);
      }
    }
  };
  await waitFor(
    async () => {
      await running();
      return probe();
    },
    { what: `${node} (${kind})`, timeoutMs: READY_TIMEOUT_MS[kind], intervalMs: 500, clock: ctx.clock, signal: ctx.signal },
  );
}
