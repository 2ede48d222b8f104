/** Node readiness: each role's wait strategy (src/roles), polled with the project's `waitFor`. */
import type { DockerClient } from '../docker/types';
import { roleModule } from '../roles';
import { waitUntil } from '../roles/wait-strategies';
import type { LabState } from './state';
import type { NodeSpec } from './topology';
import type { Clock } from './wait';

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
/** Resolves when the node is ready (its role's wait strategy); rejects with a WaitTimeoutError naming the node. */
export async function waitReady(ctx: ReadinessContext, node: NodeSpec, containerId: string, hostPort?: number): Promise<void> {
  const strategy = roleModule(node.role).readiness({ docker: ctx.docker, state: ctx.state, node: node.name, containerId, hostPort, http: ctx.http ?? fetchGet });
  await waitUntil(strategy, { what: `${node.name} (${strategy.name})`, intervalMs: 500, clock: ctx.clock, signal: ctx.signal });
}
