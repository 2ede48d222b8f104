/**
 * Composable readiness (STYLE §14, testcontainers' `WaitStrategy` / `Wait.forAll`): each strategy
 * is an object with its own timeout and a `check` that says ready or names the problem it saw;
 * `waitUntil` polls one with the project's `waitFor`, whose timeout error quotes the last problem.
 */
import type { ContainerClient, ExecResult } from '../docker/types';
import type { HttpGet } from './http';
import { Clock, notYet, ready, waitFor } from '../core/wait';

export type Check = { ok: true; value: undefined } | { ok: false; problem: string };

export interface WaitStrategy {
  /** Short name, e.g. `redis-ping` (the timeout error quotes it). */
  readonly name: string;
  readonly timeoutMs: number;
  /** One look: ready, or the problem seen (a throw counts as a problem too). */
  check(): Promise<Check>;
}

export interface WaitRun {
  /** What the timeout error names, e.g. `redis (redis-ping)`. */
  what: string;
  intervalMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

/** Polls `strategy` until ready; rejects with a WaitTimeoutError naming `what` and the last problem. */
export function waitUntil(strategy: WaitStrategy, run: WaitRun): Promise<void> {
  return waitFor(() => strategy.check(), {
    what: run.what,
    timeoutMs: strategy.timeoutMs,
    intervalMs: run.intervalMs ?? 500,
    clock: run.clock,
    signal: run.signal,
  });
}

/** A strategy from one check function. */
export function forCheck(name: string, timeoutMs: number, check: () => Promise<Check>): WaitStrategy {
  return { name, timeoutMs, check };
}

/**
 * Every part ready in the same look (checked in order; the first not ready names the problem).
 * Its timeout is the longest of the parts' unless given.
 */
export function forAll(name: string, parts: WaitStrategy[], timeoutMs = Math.max(0, ...parts.map((p) => p.timeoutMs))): WaitStrategy {
  return forCheck(name, timeoutMs, async () => {
    for (const p of parts) {
      const r = await p.check();
      if (!r.ok) return r;
    }
    return ready(undefined);
  });
}

/** The same strategy with another timeout. */
export function withTimeout(strategy: WaitStrategy, timeoutMs: number): WaitStrategy {
  return { name: strategy.name, timeoutMs, check: () => strategy.check() };
}

/** The container runs (a node that exited will not become ready: its state is the problem). */
export function forContainerRunning(containers: Pick<ContainerClient, 'inspect'>, node: string, id: string, timeoutMs = 30_000): WaitStrategy {
  return forCheck('running', timeoutMs, async () => {
    const info = await containers.inspect(id);
    if (info.state !== 'running') throw new Error(`${node} is ${info.state}`);
    return ready(undefined);
  });
}

/** A command in the container answers as `accept` wants; otherwise its output is the problem. */
export function forExec(
  containers: Pick<ContainerClient, 'exec'>,
  id: string,
  name: string,
  timeoutMs: number,
  cmd: string[],
  opts: Parameters<ContainerClient['exec']>[2],
  accept: (r: ExecResult) => string | undefined,
): WaitStrategy {
  return forCheck(name, timeoutMs, async () => {
    const problem = accept(await containers.exec(id, cmd, opts));
    return problem === undefined ? ready(undefined) : notYet(problem);
  });
}

/** An HTTP GET on a published host port answers 200. */
export function forHttp200(http: HttpGet, node: string, name: string, timeoutMs: number, hostPort: number | undefined, path: string): WaitStrategy {
  return forCheck(name, timeoutMs, async () => {
    if (!hostPort) throw new Error(`${node} publishes no port`);
    const url = `http://127.0.0.1:${hostPort}${path}`;
    const r = await http(url, 3000);
    return r.status === 200 ? ready(undefined) : notYet(`HTTP ${r.status} from ${url}`);
  });
}
