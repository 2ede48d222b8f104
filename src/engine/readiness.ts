/** Node readiness: each role's wait strategy (src/roles), polled with the project's `waitFor`. */
import type { DockerClient } from '../docker/types';
import { fetchGet, HttpGet } from '../roles/http';
import { roleModule } from '../roles';

export { fetchGet } from '../roles/http';
export type { HttpGet } from '../roles/http';
import { waitUntil } from '../roles/wait-strategies';
import type { LabState } from './state';
import { buildTopology, NodeSpec } from './topology';
import type { Clock } from '../core/wait';

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
  const strategy = roleModule(node.role).readiness({
    docker: ctx.docker,
    state: ctx.state,
    node: node.name,
    containerId,
    hostPort,
    http: ctx.http ?? fetchGet,
    topology: buildTopology(ctx.state.definition),
  });
  await waitUntil(strategy, { what: `${node.name} (${strategy.name})`, intervalMs: 500, clock: ctx.clock, signal: ctx.signal });
}
