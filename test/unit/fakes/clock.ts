import type { Clock } from '../../../src/engine/wait';

/** A clock whose sleeps advance time instantly. */
export function fakeClock(): Clock & { slept: number } {
  let t = 0;
  const c = { slept: 0, now: () => t, sleep: async (ms: number) => { t += ms; c.slept += ms; } };
  return c;
}
