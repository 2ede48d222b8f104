import type { Clock } from '../../src/core/wait';

/** A clock whose sleeps advance time instantly. */
export function fakeClock(): Clock & { slept: number } {
  let t = 0;
  const c = {
    slept: 0,
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
      c.slept += ms;
    },
  };
  return c;
}

/**
 * A clock for concurrent code: sleeps wait on a virtual timer queue, and `run(p)` advances time
 * to the earliest timer whenever every task is blocked, until `p` settles.
 */
export function virtualClock(): Clock & { run<T>(p: Promise<T>): Promise<T> } {
  let t = 0;
  let seq = 0;
  const timers: { at: number; seq: number; resolve: () => void }[] = [];
  return {
    now: () => t,
    sleep: (ms: number) => new Promise<void>((resolve) => timers.push({ at: t + Math.max(0, ms), seq: seq++, resolve })),
    async run<T>(p: Promise<T>): Promise<T> {
      let settled = false;
      p.then(
        () => (settled = true),
        () => (settled = true),
      );
      while (!settled) {
        await new Promise((r) => setImmediate(r));
        if (settled || !timers.length) continue;
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = timers.shift()!;
        t = Math.max(t, next.at);
        next.resolve();
      }
      return p;
    },
  };
}
