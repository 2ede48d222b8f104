/**
 * Fuzzing the fault request checks (CLI, dashboard, VS Code and scenarios all end in them), the
 * duration parser and the `--fault "kind node@time"` spec: one clear error of the project's own
 * kind, never a TypeError; what passes is within the bounds the lab applies exactly.
 */
import { strict as assert } from 'node:assert';
import * as fc from 'fast-check';
import { lossRules, validateRequest } from '../../src/faults/injector';
import { parseDuration, parseFaultSpec } from '../../src/load/faults';
import { FAULT_KINDS, FaultRequest, FaultRequestError, faultRequestProblem, MAX_DELAY_MS, MAX_DURATION_MS } from '../../src/protocol/faults';
import { fuzzSuite } from '../support/fuzz';

const KNOWN = ['haproxy', 'web1', 'web2', 'web3', 'galera1', 'galera2', 'galera3', 'gluster1', 'redis'];

const name = fc.oneof(fc.constantFrom(...KNOWN), fc.constantFrom('web9', '', 'WEB1', 'web1 ', '__proto__', 'constructor'), fc.string({ maxLength: 50 }));
const num = fc.oneof(
  fc.double(),
  fc.integer({ min: -10, max: 200_000 }),
  fc.double({ min: 0, max: 101, noNaN: true }),
  fc.constantFrom(0, 0.001, 0.01, 0.29, 33.333, 100, 100.0001, 60_000, 60_001, MAX_DURATION_MS, MAX_DURATION_MS + 1, 2 ** 31, Infinity, -0, NaN),
  fc.constantFrom('10', null, true, [], {}),
);
const request = fc.oneof(
  fc.record(
    {
      kind: fc.oneof(fc.constantFrom(...FAULT_KINDS), fc.string({ maxLength: 12 })),
      nodes: fc.oneof(fc.array(name, { maxLength: 4 }), fc.anything()),
      from: fc.oneof(fc.array(name, { maxLength: 4 }), fc.anything()),
      delayMs: num,
      jitterMs: num,
      lossPct: num,
      forMs: num,
    },
    { requiredKeys: ['kind', 'nodes'] },
  ),
  fc.anything(),
);

/** Text near the duration syntax, with the odd long or strange one. */
const durationText = fc.oneof(
  fc.stringMatching(/^\s?\d{0,12}(\.\d{0,4})?(ms|s|m|h|d)?\s?$/),
  fc.constantFrom('', ' ', '.5s', '1e3', '0x10', '-1s', 'Infinity', '1440m', '1441m', '86400', '86401', '2147484s', `${'9'.repeat(400)}s`, '1.5.5s'),
  fc.string({ maxLength: 30 }),
);

fuzzSuite('fault requests and durations', __filename, {
  'faultRequestProblem never throws; what it accepts is in range and applied exactly': (ctx) => {
    fc.assert(
      fc.property(request, fc.boolean(), (req, withKnown) => {
        ctx.note(req);
        const problem = faultRequestProblem(req as FaultRequest, withKnown ? KNOWN : undefined);
        if (problem !== undefined) {
          assert.equal(typeof problem, 'string');
          assert.ok(problem.length > 0 && problem.length <= 400, problem);
          return;
        }
        const r = req as FaultRequest;
        assert.ok((FAULT_KINDS as readonly string[]).includes(r.kind));
        assert.ok(Array.isArray(r.nodes) && r.nodes.length > 0);
        if (withKnown) assert.ok([...r.nodes, ...(r.from ?? [])].every((n) => KNOWN.includes(n)));
        if (r.forMs !== undefined) assert.ok(r.forMs > 0 && r.forMs <= MAX_DURATION_MS);
        if (r.kind === 'delay') assert.ok(r.delayMs! > 0 && r.delayMs! <= MAX_DELAY_MS);
        if (r.kind === 'loss') {
          const p = Number(/--probability (\S+) /.exec(lossRules(r.lossPct))?.[1]);
          assert.ok(p > 0 && Math.abs(p * 100 - r.lossPct!) < 1e-9, `${r.lossPct}% applied as ${p}`);
        }
      }),
      ctx.params(2000),
    );
  },

  'validateRequest throws a FaultRequestError or nothing': (ctx) => {
    fc.assert(
      fc.property(request, (req) => {
        ctx.note(req);
        try {
          validateRequest(req as FaultRequest, KNOWN);
        } catch (err) {
          assert.ok(err instanceof FaultRequestError, `not a FaultRequestError: ${String(err)}`);
        }
      }),
      ctx.params(1000),
    );
  },

  'parseDuration: whole ms from 0 to 24 h, or one short Error': (ctx) => {
    fc.assert(
      fc.property(durationText, (text) => {
        ctx.note(text);
        let ms: number;
        try {
          ms = parseDuration(text, '--for');
        } catch (err) {
          assert.ok(err instanceof Error && err.constructor === Error, String(err));
          assert.ok(err.message.startsWith('invalid --for "') && err.message.length <= 120, err.message);
          return;
        }
        assert.ok(Number.isInteger(ms) && ms >= 0 && ms <= MAX_DURATION_MS, `${text} → ${ms}`);
      }),
      ctx.params(2000),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 86_400 }), (s) => {
        ctx.note(s);
        assert.equal(parseDuration(`${s}s`), s * 1000);
        assert.equal(parseDuration(`${s * 1000}ms`), s * 1000);
      }),
      ctx.params(500),
    );
  },

  'parseFaultSpec: a fault the lab accepts at a time within 24 h, or one Error': (ctx) => {
    const spec = fc.oneof(
      fc
        .tuple(
          fc.constantFrom(...FAULT_KINDS, 'explode'),
          name,
          fc.option(fc.oneof(fc.constantFrom('0.001', '30', '1e-3', '300', '0', '-5'), fc.string({ maxLength: 8 })), { nil: undefined }),
          durationText,
        )
        .map(([k, n, v, t]) => `${k} ${n}${v === undefined ? '' : ` ${v}`}@${t}`),
      fc.string({ maxLength: 60 }),
    );
    fc.assert(
      fc.property(spec, (text) => {
        ctx.note(text);
        let f: ReturnType<typeof parseFaultSpec>;
        try {
          f = parseFaultSpec(text);
        } catch (err) {
          assert.ok(err instanceof Error && err.constructor === Error, String(err));
          return;
        }
        assert.equal(faultRequestProblem(f.req), undefined, f.text);
        assert.ok(Number.isInteger(f.atMs) && f.atMs >= 0 && f.atMs <= MAX_DURATION_MS);
      }),
      ctx.params(2000),
    );
  },
});
