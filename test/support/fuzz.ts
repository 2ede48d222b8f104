/**
 * Property tests (fast-check) that cannot hang the test run nor take its memory: each property
 * runs in a worker thread with a bounded heap; the main thread ends the worker when one run
 * (one generated input) takes longer than its time bound, and reports that input.
 *
 * A fuzz-*.test.ts file calls `fuzzSuite(title, __filename, properties)`: under mocha it
 * declares one test per property; loaded in the worker, it runs the property asked for.
 *
 * FUZZ_SEED=<int> varies the inputs (the default seed is fixed: the same inputs every run);
 * FUZZ_RUNS=<factor> multiplies every property's number of runs (e.g. 10 for a long session).
 */
import * as fc from 'fast-check';
import * as path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export const FUZZ_SEED = Number.parseInt(process.env.FUZZ_SEED ?? '', 10) || 15_2026;
const RUNS_FACTOR = Number(process.env.FUZZ_RUNS) > 0 ? Number(process.env.FUZZ_RUNS) : 1;

export interface FuzzContext {
  /** fast-check parameters: the seed and `runs` runs (times FUZZ_RUNS). */
  params(runs: number): fc.Parameters<unknown>;
  /** Call at the start of every run with its input: the time bound restarts, and a hang or crash names this input. */
  note(input: unknown): void;
}

export type Property = (ctx: FuzzContext) => void | Promise<void>;

export interface FuzzOptions {
  /** One run longer than this (no `note` nor result meanwhile) ends the worker: a hang. */
  runTimeoutMs?: number;
  /** The worker's old-generation heap. */
  maxHeapMb?: number;
}

interface Job {
  fuzzFile: string;
  fuzzProperty: string;
}

const preview = (x: unknown): string => {
  let s: string;
  try {
    s = fc.stringify(x);
  } catch {
    s = String(x);
  }
  return s.length > 1500 ? `${s.slice(0, 1500)}… (${s.length} characters)` : s;
};

/** An error with its cause (fast-check puts the property's own failure there). */
function explain(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause === undefined ? '' : `\nCaused by: ${explain(err.cause)}`;
  return `${err.message}${cause}`;
}

export function fuzzSuite(title: string, file: string, properties: Record<string, Property>, opts: FuzzOptions = {}): void {
  if (inFuzzWorker(file, properties)) return;
  describe(`${title} (fuzz, seed ${FUZZ_SEED})`, () => {
    for (const name of Object.keys(properties)) {
      it(name, async function () {
        this.timeout(0); // bounded per run by the watchdog below
        await runInWorker(file, name, opts);
      });
    }
  });
}

/** In the worker started for `file`: runs the property asked for and returns true. Under mocha: false. */
export function inFuzzWorker(file: string, properties: Record<string, Property>): boolean {
  if (isMainThread) return false;
  const job = workerData as Job | undefined;
  if (job?.fuzzFile === file) runInThisWorker(properties, job.fuzzProperty);
  return true;
}

function runInThisWorker(properties: Record<string, Property>, name: string): void {
  const port = parentPort!;
  const ctx: FuzzContext = {
    params: (runs) => ({ seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(runs * RUNS_FACTOR)) }),
    note: (input) => port.postMessage({ note: preview(input) }),
  };
  const property = properties[name];
  Promise.resolve()
    .then(() => {
      if (!property) throw new Error(`no property "${name}"`);
      return property(ctx);
    })
    .then(
      () => port.postMessage({ ok: true }),
      (err: unknown) => port.postMessage({ ok: false, error: explain(err) }),
    );
}

/** Runs property `name` of `file` in a worker; rejects with its failure, a hang or running out of heap. */
export function runInWorker(file: string, name: string, opts: FuzzOptions): Promise<void> {
  const runTimeoutMs = opts.runTimeoutMs ?? 10_000;
  const maxHeapMb = opts.maxHeapMb ?? 256;
  const tsx = require.resolve('tsx/cjs/api', { paths: [path.resolve(__dirname, '../..')] });
  const code = `require(${JSON.stringify(tsx)}).register(); require(require('node:worker_threads').workerData.fuzzFile);`;
  return new Promise<void>((resolve, reject) => {
    const job: Job = { fuzzFile: file, fuzzProperty: name };
    const worker = new Worker(code, { eval: true, workerData: job, resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
    let last = '(before the first input)';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (err) reject(err);
      else resolve();
    };
    // The first run also pays for loading the modules in the worker.
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(new Error(`${name}: one run took longer than ${ms} ms (a hang?); its input:\n${last}`)), ms);
    };
    arm(runTimeoutMs + 20_000);
    worker.on('message', (m: { note?: string; ok?: boolean; error?: string }) => {
      if (m.note !== undefined) {
        last = m.note;
        arm(runTimeoutMs);
      } else if (m.ok) finish();
      else finish(new Error(m.error));
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      finish(new Error(`${name}: ${oom ? `ran out of its ${maxHeapMb} MB heap` : `crashed (${err.message})`}; the input:\n${last}`));
    });
    worker.on('exit', (exitCode) => finish(new Error(`${name}: the worker exited (${exitCode}) without a result; the last input:\n${last}`)));
  });
}
