/** The fuzz harness itself: a hang, a heap blow-up and a failed property are each reported with the input. */
import { strict as assert } from 'node:assert';
import * as fc from 'fast-check';
import { inFuzzWorker, runInWorker } from '../support/fuzz';

const properties = {
  hangs: (ctx: { note(x: unknown): void }) => {
    ctx.note('the input that hangs');
    for (;;) {
      // a parser stuck in a loop
    }
  },
  'eats memory': (ctx: { note(x: unknown): void }) => {
    ctx.note('the input that eats memory');
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array(1_000_000).fill(1));
  },
  fails: (ctx: { note(x: unknown): void; params(n: number): fc.Parameters<unknown> }) => {
    fc.assert(
      fc.property(fc.integer(), (n) => {
        ctx.note(n);
        assert.ok(n < 1000);
      }),
      ctx.params(100),
    );
  },
};

if (!inFuzzWorker(__filename, properties)) {
  describe('fuzz harness', () => {
    it('ends a run that hangs and names its input', async () => {
      await assert.rejects(
        runInWorker(__filename, 'hangs', { runTimeoutMs: 500 }),
        /hangs: one run took longer than 500 ms \(a hang\?\); its input:\n"the input that hangs"/,
      );
    });

    it('ends a run that exhausts its bounded heap and names its input', async () => {
      await assert.rejects(
        runInWorker(__filename, 'eats memory', { maxHeapMb: 32 }),
        /eats memory: ran out of its 32 MB heap; the input:\n"the input that eats memory"/,
      );
    });

    it('reports a failed property with its seed and the shrunk counterexample', async () => {
      await assert.rejects(runInWorker(__filename, 'fails', {}), /seed: \d+[\s\S]*Counterexample: \[1000\]/);
    });
  });
}
