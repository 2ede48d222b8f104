/**
 * Fuzzing the dashboard protocol's validators (src/protocol/messages.ts): every exported
 * validator function and every message descriptor's `is`, on anything a page could send (and
 * on values JSON cannot even carry). They answer; they never throw. The module is read
 * generically, so validators added later are fuzzed too.
 */
import { strict as assert } from 'node:assert';
import * as fc from 'fast-check';
import * as messages from '../../src/protocol/messages';
import { FAULT_KINDS } from '../../src/protocol/faults';
import { fuzzSuite } from '../support/fuzz';

type Fn = (x: unknown) => unknown;
/** Exported functions that check a value: validateX, isX, xProblem. */
const validators = Object.entries(messages).filter(
  ([name, v]) => typeof v === 'function' && !/^[A-Z]/.test(name) && /^(validate|is[A-Z])|Problem$/.test(name),
) as [string, Fn][];
/** Exported message descriptors (anything with a method and is()). */
const descriptors = Object.entries(messages).filter(
  ([, v]) => typeof v === 'object' && v !== null && typeof (v as { is?: unknown }).is === 'function' && typeof (v as { method?: unknown }).method === 'string',
) as [string, { method: string; is: Fn }][];
const METHODS = descriptors.map(([, d]) => d.method);

const wild = fc.anything({
  maxDepth: 3,
  maxKeys: 6,
  withNullPrototype: true,
  withBoxedValues: true,
  withSparseArray: true,
  withTypedArray: true,
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withObjectString: true,
});
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -1, 0.001, 1e21, Number.MAX_SAFE_INTEGER + 2, Infinity, NaN, -0), fc.bigInt());
const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    '',
    'web1',
    'web9',
    'Web1',
    'paper-failover',
    '/tmp/x.yaml',
    '/tmp/x\n.yaml',
    'C:\\x.yml',
    '../x.yaml',
    '__proto__',
    'x'.repeat(70),
    'y'.repeat(5000),
  ),
);
const value = fc.oneof(number, text, fc.boolean(), fc.constant(undefined), fc.constant(null), fc.array(text, { maxLength: 20 }), wild);
const request = fc.record(
  { kind: fc.oneof(fc.constantFrom(...FAULT_KINDS), text), nodes: value, from: value, delayMs: number, jitterMs: number, lossPct: number, forMs: number },
  { requiredKeys: [] },
);
const params = fc.oneof(
  fc.record(
    {
      request: fc.oneof(request, value),
      node: value,
      on: value,
      what: value,
      users: number,
      durationS: number,
      journey: value,
      name: value,
      snapshot: value,
      ok: value,
    },
    { requiredKeys: [] },
  ),
  value,
);
const envelope = fc.record(
  { method: fc.oneof(fc.constantFrom(...METHODS), text), id: fc.oneof(text, number, fc.constant(undefined)), revision: fc.oneof(number, value), params },
  { requiredKeys: ['method'] },
);
const input = fc.oneof(
  { weight: 3, arbitrary: envelope },
  { weight: 1, arbitrary: wild },
  { weight: 1, arbitrary: fc.json().map((j) => JSON.parse(j) as unknown) },
);

fuzzSuite('dashboard protocol validators', __filename, {
  'every exported validator and descriptor answers on any input, never throws': (ctx) => {
    assert.ok(validators.length > 0 && descriptors.length > 0, 'found validators and descriptors to fuzz');
    fc.assert(
      fc.property(input, (x) => {
        ctx.note(x);
        for (const [name, check] of validators) {
          try {
            check(x);
          } catch (err) {
            assert.fail(`${name} threw ${err instanceof Error ? err.stack : String(err)}`);
          }
        }
        for (const [name, d] of descriptors) {
          try {
            assert.equal(typeof d.is(x), 'boolean');
          } catch (err) {
            assert.fail(`${name}.is threw ${err instanceof Error ? err.stack : String(err)}`);
          }
        }
      }),
      ctx.params(1500),
    );
  },

  'validateIncoming: ok with a known method and a short id, or one error sentence': (ctx) => {
    fc.assert(
      fc.property(input, (x) => {
        ctx.note(x);
        const r = messages.validateIncoming(x);
        if (r.ok) {
          assert.ok(METHODS.includes(r.message.method));
          return;
        }
        assert.equal(typeof r.error, 'string');
        assert.ok(r.error.length > 0 && r.error.length <= 2000, `error of ${r.error.length} characters`);
        if (r.id !== undefined) assert.ok(typeof r.id === 'string' && r.id.length > 0 && r.id.length <= 64);
      }),
      ctx.params(1500),
    );
  },
});
