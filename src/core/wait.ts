/**
 * Readiness through explicit wait strategies with timeouts, never fixed sleeps.
 * The clock is injected so unit tests run without waiting.
 */

import { DockerUnavailableError, errText } from './errors';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class WaitTimeoutError extends Error {
  constructor(
    what: string,
    timeoutMs: number,
    public readonly lastProblem?: string,
  ) {
    super(`${what}: not ready after ${Math.round(timeoutMs / 1000)} s${lastProblem ? ` (last: ${lastProblem})` : ''}`);
    this.name = 'WaitTimeoutError';
  }
}

export interface WaitOptions {
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

/**
 * Polls `probe` until it returns `{ ok: true, value }`; a thrown error or `{ ok: false, problem }`
 * counts as "not yet" and its text is kept for the timeout message.
 */
export async function waitFor<T>(probe: () => Promise<{ ok: true; value: T } | { ok: false; problem: string }>, opts: WaitOptions): Promise<T> {
  const clock = opts.clock ?? realClock;
  const interval = opts.intervalMs ?? 500;
  const deadline = clock.now() + opts.timeoutMs;
  let lastProblem: string | undefined;
  for (;;) {
    if (opts.signal?.aborted) throw new Error(`${opts.what}: cancelled`);
    try {
      const r = await probe();
      if (r.ok) return r.value;
      lastProblem = r.problem;
    } catch (err) {
      if (err instanceof DockerUnavailableError) throw err; // the engine is gone: waiting cannot help
      lastProblem = errText(err);
    }
    if (clock.now() >= deadline) throw new WaitTimeoutError(opts.what, opts.timeoutMs, lastProblem);
    await clock.sleep(Math.min(interval, Math.max(0, deadline - clock.now())));
  }
}

export const ready = <T>(value: T) => ({ ok: true as const, value });
export const notYet = (problem: string) => ({ ok: false as const, problem });
