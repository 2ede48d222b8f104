import type { Sample } from '../../src/metrics/types';

/** One recorded request: a success of 100 ms unless told otherwise (a failure: status 0, no answer). */
export function sample(p: Partial<Sample> & { startMs: number }): Sample {
  const success = p.success ?? true;
  return {
    label: 'x',
    intendedStartMs: p.startMs,
    elapsedMs: 100,
    success,
    status: success ? 200 : 0,
    message: success ? 'OK' : 'no answer',
    bytes: 10,
    sentBytes: 0,
    thread: 'vu 1',
    url: 'http://localhost/',
    activeThreads: 1,
    ...p,
  };
}
