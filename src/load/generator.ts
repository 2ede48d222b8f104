/**
 * The in-process load generator: N closed-loop virtual users, each replaying a journey (a list
 * of requests with think time between them), started evenly over the ramp-up, until the
 * duration is over. Requests in flight at the end complete and are recorded (as JMeter does).
 *
 * Coordinated omission. A closed-loop user cannot send its next request while the previous one
 * hangs, so a stall would be recorded once (as one slow sample) while a real user population
 * keeps arriving. Each user therefore keeps an intended schedule: a request is expected to take
 * at most `budgetMs` (default: Apdex T, 500 ms); when one overran, the next request's intended
 * start is `previous start + budget + think`, earlier than its actual start, and its latency is
 * measured from the intended start (Sample.intendedStartMs). Only the previous request's
 * overrun is charged (no carried lag), so one stall is charged twice at most. The service time
 * (`elapsedMs`) is kept unchanged for the JTL and Apdex.
 *
 * Pacing. With `throughputPerMin`, every request first waits for the next slot of one schedule
 * shared by all users — JMeter's Constant Throughput Timer in "all active threads (shared)"
 * mode, which is how Moodle's own test plan (tool_generator's testplan.template.jmx, 120
 * samples per minute) paces its threads. A request's intended start is then its slot.
 */
import type { Clock } from '../core/wait';
import type { Sample } from '../metrics/types';

export interface Outcome {
  status: number;
  /** undefined = success; otherwise why the response is not what a user expected. */
  failure?: string;
  node?: string;
  bytes: number;
  sentBytes?: number;
  url: string;
}

/** What a journey sees of its virtual user. */
export interface VirtualUser {
  readonly id: number;
  readonly iteration: number;
  /** Times and records one request. Returns its value, or throws JourneyAborted when it failed. */
  request<T>(label: string, url: string, run: () => Promise<{ value: T; outcome: Outcome }>): Promise<T>;
  /** Think time (random within the configured range); throws RunOver once the duration is over. */
  think(): Promise<void>;
}

export type Journey = (vu: VirtualUser) => Promise<void>;

/** A failed request ends the journey's iteration; the user starts over after thinking. */
export class JourneyAborted extends Error {}
export class RunOver extends Error {}

export interface GeneratorOptions {
  users: number;
  durationMs: number;
  rampUpMs: number;
  thinkMinMs: number;
  thinkMaxMs: number;
  budgetMs?: number;
  /** Samples per minute shared by all users; 0 or absent = unpaced. */
  throughputPerMin?: number;
  clock?: Clock;
  random?: () => number;
}

export type SampleSink = (s: Sample) => void;

export async function runUsers(journey: Journey, opts: GeneratorOptions, sink: SampleSink, signal?: AbortSignal): Promise<{ startMs: number; endMs: number }> {
  // Epoch ms with sub-millisecond resolution (Date.now() would round every latency to whole ms).
  const clock = opts.clock ?? {
    now: () => performance.timeOrigin + performance.now(),
    sleep: (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r))),
  };
  const random = opts.random ?? Math.random;
  const budget = opts.budgetMs ?? 500;
  const startMs = clock.now();
  const deadline = startMs + opts.durationMs;
  let active = 0;
  const over = () => clock.now() >= deadline || Boolean(signal?.aborted);
  const intervalMs = opts.throughputPerMin ? 60_000 / opts.throughputPerMin : 0;
  let nextSlot = startMs;
  /** The next free slot of the shared schedule (never one in the past: a late user does not bank slots). */
  const takeSlot = () => {
    const slot = Math.max(nextSlot, clock.now());
    nextSlot = slot + intervalMs;
    return slot;
  };

  const user = async (id: number) => {
    await clock.sleep(opts.users > 1 ? Math.round((opts.rampUpMs * (id - 1)) / opts.users) : 0);
    if (over()) return;
    active++;
    let prev: { startMs: number; elapsedMs: number } | undefined;
    let thinkMs = 0;
    try {
      for (let iteration = 0; !over(); iteration++) {
        const vu: VirtualUser = {
          id,
          iteration,
          request: async <T>(label: string, url: string, run: () => Promise<{ value: T; outcome: Outcome }>): Promise<T> => {
            if (over()) throw new RunOver();
            let slot: number | undefined;
            if (intervalMs) {
              slot = takeSlot();
              if (slot >= deadline) throw new RunOver();
              await clock.sleep(slot - clock.now());
              if (over()) throw new RunOver();
            }
            const t0 = clock.now();
            const intended = slot !== undefined ? Math.min(t0, slot) : prev && prev.elapsedMs > budget ? Math.min(t0, prev.startMs + budget + thinkMs) : t0;
            let value: T | undefined;
            let outcome: Outcome;
            try {
              ({ value, outcome } = await run());
            } catch (err) {
              const e = err as NodeJS.ErrnoException;
              outcome = { status: 0, failure: `${e.code ?? e.name ?? 'Error'}: ${e.message}`, bytes: 0, url };
            }
            const elapsedMs = clock.now() - t0;
            prev = { startMs: t0, elapsedMs };
            thinkMs = 0;
            sink({
              label,
              startMs: t0,
              intendedStartMs: intended,
              elapsedMs,
              success: outcome.failure === undefined,
              status: outcome.status,
              message: outcome.failure ?? 'OK',
              node: outcome.node,
              bytes: outcome.bytes,
              sentBytes: outcome.sentBytes ?? 0,
              thread: `vu ${id}`,
              url: outcome.url,
              activeThreads: active,
            });
            if (outcome.failure !== undefined) throw new JourneyAborted(`${label}: ${outcome.failure}`);
            return value as T;
          },
          think: async () => {
            if (over()) throw new RunOver();
            thinkMs = opts.thinkMinMs + random() * (opts.thinkMaxMs - opts.thinkMinMs);
            await clock.sleep(Math.min(thinkMs, Math.max(0, deadline - clock.now())));
            if (over()) throw new RunOver();
          },
        };
        try {
          await journey(vu);
        } catch (err) {
          if (err instanceof RunOver) break;
          if (!(err instanceof JourneyAborted)) throw err;
        }
        try {
          await vu.think();
        } catch (err) {
          if (err instanceof RunOver) break;
          throw err;
        }
      }
    } finally {
      active--;
    }
  };
  await Promise.all(Array.from({ length: opts.users }, (_, i) => user(i + 1)));
  return { startMs, endMs: signal?.aborted ? clock.now() : Math.max(clock.now(), deadline) };
}
