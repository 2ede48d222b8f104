/**
 * Fuzzing the scenario parser: random text, YAML-ish lines built from the scenario vocabulary,
 * random scenario-shaped objects serialized to YAML, anything serialized to YAML, and random
 * bytes through the strict UTF-8 reader. It answers with a Scenario within the limits or one
 * ScenarioError (file:line:col: a bounded reason) — never a TypeError or RangeError, never a hang
 * (each run is bounded in time), never more heap than the worker has.
 */
import { strict as assert } from 'node:assert';
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import { MAX_DURATION_MS, faultRequestProblem } from '../../src/protocol/faults';
import {
  ASSERT_KEYS,
  decodeUtf8,
  FAULT_KEYS,
  invalidUtf8At,
  LOAD_KEYS,
  MAX_NAME_CHARS,
  MAX_STEPS,
  MAX_TEXT_CHARS,
  parseScenario,
  ScenarioFileError,
  STEP_KINDS,
  TOP_KEYS,
  UP_KEYS,
} from '../../src/scenarios/parse';
import { Scenario, ScenarioError } from '../../src/scenarios/types';
import { fuzzSuite, FuzzContext } from '../support/fuzz';

/** The property every input must meet: a Scenario within the limits, or one ScenarioError. */
function parsesOrExplains(text: string): void {
  let s: Scenario;
  try {
    s = parseScenario(text, 'f.yaml');
  } catch (err) {
    assert.ok(err instanceof ScenarioError, `not a ScenarioError: ${err instanceof Error ? err.stack : String(err)}`);
    assert.ok(Number.isInteger(err.line) && err.line >= 1 && Number.isInteger(err.col) && err.col >= 1, err.message);
    assert.ok(err.message.startsWith(`f.yaml:${err.line}:${err.col}: `), err.message);
    assert.ok(err.reason.length > 0 && err.reason.length <= 1000, `reason of ${err.reason.length} characters`);
    return;
  }
  checkScenario(s);
}

function checkScenario(s: Scenario): void {
  assert.ok(s.name.length <= MAX_NAME_CHARS, `name of ${s.name.length} characters`);
  assert.ok((s.description ?? '').length <= MAX_TEXT_CHARS, 'description too long');
  assert.ok(s.steps.length >= 1 && s.steps.length <= MAX_STEPS, `${s.steps.length} steps`);
  const duration = (ms: number | undefined, what: string, min = 0) => {
    if (ms !== undefined) assert.ok(Number.isInteger(ms) && ms >= min && ms <= MAX_DURATION_MS, `${what}: ${ms}`);
  };
  for (const st of s.steps) {
    assert.ok(st.pos.line >= 1 && st.pos.col >= 1 && st.text.length > 0, `step ${JSON.stringify(st)}`);
    switch (st.kind) {
      case 'wait':
        duration(st.ms, 'wait', 1);
        break;
      case 'fault':
        assert.equal(faultRequestProblem(st.fault), undefined, st.text);
        break;
      case 'load-start':
        duration(st.durationMs, 'duration', 1);
        duration(st.rampUpMs, 'rampUp');
        if (st.rampUpMs !== undefined) assert.ok(st.rampUpMs < st.durationMs, st.text);
        st.thinkMs?.forEach((t) => duration(t, 'think'));
        assert.ok(Number.isInteger(st.users) && st.users >= 1 && st.users <= 1000, st.text);
        break;
      case 'say':
        assert.ok(st.message.length <= MAX_TEXT_CHARS, `say of ${st.message.length} characters`);
        break;
      case 'assert':
        duration(st.withinMs, 'within');
        for (const t of Object.values(st.metrics)) assert.ok(Number.isFinite(t!.value) && t!.value >= 0, t!.text);
        break;
      default:
        break;
    }
  }
}

// ---------------------------------------------------------------- generators

const NODES = ['web1', 'web2', 'web3', 'web7', 'galera1', 'galera2', 'galera3', 'gluster1', 'redis', 'haproxy', 'gallera2'];
const KEYS = [...new Set([...TOP_KEYS, ...STEP_KINDS, ...LOAD_KEYS, ...FAULT_KEYS, ...ASSERT_KEYS, ...UP_KEYS, 'preset', 'on', 'node', 'userz'])];
const DURATIONS = [
  '20s',
  '500ms',
  '2m',
  '0',
  '0s',
  '1.5s',
  '.5s',
  '1440m',
  '1441m',
  '2147484s',
  `${'9'.repeat(330)}s`,
  '-1s',
  '1e3',
  '20 seconds',
  '1s-2s',
  '500ms-1s',
  '2s-1s',
];
const VALUES = [
  ...DURATIONS,
  ...NODES,
  'ha',
  'single',
  'mesh',
  'true',
  'false',
  'on',
  'off',
  'yes',
  'stop',
  'wait',
  'start',
  'auto',
  'moodle',
  'probe',
  '0',
  '1',
  '3',
  '30',
  '1000',
  '1001',
  '0.001',
  '33.333',
  '100',
  '130',
  '-0',
  '.inf',
  '-.inf',
  '.nan',
  '0x1F',
  '0o17',
  '1_000',
  '9'.repeat(40),
  '">= 0.85"',
  '"<= 1500ms"',
  '"< 1%"',
  '"== 0"',
  '"<= 9e999s"',
  '"Primary"',
  'UP',
  'DOWN',
  'stop web2',
  'kill galera3',
  'delay web3 300 jitter 20',
  'loss web1 30%',
  'loss web1 0.001',
  'partition galera1 from galera2,galera3',
  'pause redis for 10s',
  'stop web2 for 99999999s',
  '{ kind: delay, node: web3, ms: 300 }',
  '{ users: 30, duration: 60s }',
  '{ failures: 0, apdex: ">= 0.85" }',
  '[web1, web3]',
  '[single, ha]',
  '{ web2: DOWN }',
  '{}',
  '[]',
  '&a',
  '*a',
  '&b { users: 3 }',
  '*b',
  '*nope',
  '!!str 3',
  '!!binary aGk=',
  '!!set { a, b }',
  '!!omap [ a: 1 ]',
  '!!timestamp 2001-12-14',
  '!foo bar',
  '!!int x',
  '!!float 1e400',
  '|',
  '>-',
  '"unterminated',
  "'single'",
  '"esc\\u0000aped"',
  '# comment',
  '~',
  'null',
  '? complex',
  '<<: *a',
  '%',
  '@',
  '`',
];
const INDENTS = ['', '  ', '    ', '      ', '\t', ' '];

const yamlishLine = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...INDENTS), fc.boolean(), fc.constantFrom(...KEYS), fc.constantFrom(...VALUES))
      .map(([i, dash, k, v]) => `${i}${dash ? '- ' : ''}${k}: ${v}`),
  },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...INDENTS), fc.constantFrom(...VALUES, ...STEP_KINDS)).map(([i, v]) => `${i}- ${v}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...INDENTS), fc.constantFrom(...KEYS)).map(([i, k]) => `${i}${k}:`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '---',
      '...',
      '%YAML 1.2',
      '%TAG ! tag:x:',
      '',
      '#',
      '- - - up',
      '[',
      ']',
      '{',
      '}',
      ':',
      '-',
      '? a',
      ': b',
      'name: t',
      'steps:',
      'steps: []',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);
const yamlish = fc
  .tuple(fc.boolean(), fc.array(yamlishLine, { maxLength: 40 }))
  .map(([head, lines]) => `${head ? 'name: t\nsteps:\n' : ''}${lines.join('\n')}\n`);

/** A value that is sometimes right for its key and sometimes anything at all. */
const odd = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 }), { maxKeys: 2 }),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: odd });
const node = fc.constantFrom(...NODES);
const duration = fc.oneof(
  fc.constantFrom(...DURATIONS),
  fc.integer({ min: -5, max: 200_000 }).map((n) => `${n}s`),
  fc.integer({ min: 0, max: 100 }),
);
const step = fc.oneof(
  fc.constantFrom('up', 'down', 'heal', 'wait', 'jump'),
  fc.record({
    up: maybe(
      fc.oneof(
        fc.constantFrom('ha', 'single'),
        fc.record(
          { preset: maybe(fc.constantFrom('ha', 'single')), web: maybe(fc.integer({ min: 0, max: 10 })), moodle: maybe(fc.boolean()) },
          { requiredKeys: [] },
        ),
      ),
    ),
  }),
  fc.record({ wait: maybe(duration) }),
  fc.record({
    load: maybe(
      fc.oneof(
        fc.constantFrom('start', 'stop', 'wait'),
        fc.record(
          {
            users: maybe(fc.integer({ min: 0, max: 1200 })),
            duration: maybe(duration),
            name: maybe(fc.constantFrom('a', 'b', 'ha', 'single', 'bad name')),
            journey: maybe(fc.constantFrom('auto', 'moodle', 'probe')),
            think: maybe(fc.constantFrom('500ms-1s', '2s', '1s-90000s')),
            rampUp: maybe(duration),
            throughput: maybe(fc.constantFrom(120, '120/min', -1)),
          },
          { requiredKeys: [] },
        ),
      ),
    ),
  }),
  fc.record({
    fault: maybe(
      fc.oneof(
        fc
          .tuple(
            fc.constantFrom('stop', 'kill', 'pause', 'delay', 'loss', 'partition', 'start', 'explode'),
            node,
            fc.constantFrom('', ' 300', ' 0.001', ' 30%', ' for 10s', ' for 1441m', ' from galera2', ' jitter 20'),
          )
          .map(([k, n, rest]) => `${k} ${n}${rest}`),
        fc.record(
          {
            kind: maybe(fc.constantFrom('stop', 'delay', 'loss', 'partition')),
            node: maybe(node),
            nodes: maybe(fc.array(node, { maxLength: 3 })),
            from: maybe(fc.array(node, { maxLength: 3 })),
            ms: maybe(fc.integer({ min: -1, max: 70_000 })),
            jitter: maybe(fc.integer({ min: -1, max: 70_000 })),
            percent: maybe(fc.oneof(fc.double({ min: 0, max: 120, noNaN: true }), fc.constantFrom(0.001, 0.01, 33.333, 30))),
            for: maybe(duration),
          },
          { requiredKeys: [] },
        ),
      ),
    ),
  }),
  fc.record({ heal: maybe(node) }),
  fc.record({
    maintenance: maybe(fc.oneof(fc.boolean(), fc.constantFrom('on', 'off'), fc.record({ on: maybe(fc.boolean()), node: maybe(node) }, { requiredKeys: [] }))),
  }),
  fc.record({ say: maybe(fc.oneof(fc.string({ maxLength: 80 }), fc.constant('x'.repeat(MAX_TEXT_CHARS + 1)))) }),
  fc.record({
    assert: maybe(
      fc.record(
        {
          failures: maybe(fc.constantFrom(0, '<= 2', '<= 2s')),
          apdex: maybe(fc.constantFrom('>= 0.85', 85, '>= 9e999')),
          p95: maybe(fc.constantFrom('<= 1500ms', '<= 2h', `<= ${'9'.repeat(400)}s`)),
          healthy: maybe(fc.array(node, { maxLength: 3 })),
          unhealthy: maybe(node),
          galeraSize: maybe(fc.integer({ min: -1, max: 4 })),
          haproxy: maybe(fc.dictionary(node, fc.constantFrom('UP', 'DOWN', 'SLEEPING'), { maxKeys: 2 })),
          within: maybe(duration),
          run: maybe(fc.constantFrom('a', 'b', 'run1')),
          redisUp: maybe(fc.boolean()),
        },
        { requiredKeys: [] },
      ),
    ),
  }),
  fc.record({ compare: maybe(fc.oneof(fc.array(fc.constantFrom('a', 'b', 'run1', 'run2'), { maxLength: 3 }), fc.constantFrom('a, b', 'run1,run2'))) }),
  odd,
);
const scenarioObject = fc.record(
  {
    name: maybe(fc.oneof(fc.constantFrom('paper-failover', 't', 'Bad Name', 'a'.repeat(MAX_NAME_CHARS + 1)), fc.stringMatching(/^[a-z0-9-]{1,20}$/))),
    description: maybe(fc.string({ maxLength: 60 })),
    topology: maybe(
      fc.oneof(
        fc.constantFrom('ha', 'single'),
        fc.record({ preset: maybe(fc.constantFrom('ha', 'single')), web: maybe(fc.integer({ min: 0, max: 10 })) }, { requiredKeys: [] }),
      ),
    ),
    steps: maybe(fc.array(step, { maxLength: 25 })),
    extra: odd,
  },
  { requiredKeys: ['name', 'steps'] },
);

/** Durations at and around every bound: most steps are valid, and the limits are what decide. */
const edgeDuration = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.oneof(
      fc.constantFrom('1s', '20s', '500ms', '1440m', '86400', '86400000ms'),
      fc.integer({ min: 1, max: 86_400 }).map((n) => `${n}s`),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom('0', '1441m', '86401', '86400001ms', '2147484s', '3000000s', `${'9'.repeat(330)}s`, '1e3'),
      fc.integer({ min: 86_401, max: 3 * 86_400 }).map((n) => `${n}s`),
    ),
  },
);
const edgeText = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z][\w ,.!?]{0,40}$/) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_TEXT_CHARS - 1, max: MAX_TEXT_CHARS + 1 }).map((n) => 'x'.repeat(n)) },
);
const nearlyValidSteps = fc.oneof(
  fc.constantFrom<unknown[]>(['up'], ['heal'], [{ heal: 'web2' }], [{ maintenance: 'on' }], [{ maintenance: { on: false, node: 'web1' } }]),
  edgeDuration.map((d) => [{ wait: d }]),
  edgeText.map((t) => [{ say: t }]),
  fc
    .tuple(fc.constantFrom('stop web2', 'kill galera3', 'pause redis', 'delay web3 300', 'disconnect web1'), fc.option(edgeDuration, { nil: undefined }))
    .map(([f, d]) => [{ fault: d === undefined ? f : `${f} for ${d}` }]),
  fc
    .tuple(
      fc.constantFrom('web1', 'web2'),
      fc.oneof(
        fc.constantFrom(0.001, 0.005, 0.01, 0.29, 33.333, 30, 100, 100.01),
        fc.integer({ min: 1, max: 10_000 }).map((k) => k / 100),
        fc.double({ min: 0, max: 101, noNaN: true }),
      ),
      fc.option(edgeDuration, { nil: undefined }),
    )
    .map(([n, pct, d]) => [{ fault: { kind: 'loss', node: n, percent: pct, ...(d === undefined ? {} : { for: d }) } }]),
  fc
    .tuple(
      edgeDuration,
      fc.option(fc.constantFrom('0', '1s', '5s', '1441m'), { nil: undefined }),
      fc.option(fc.constantFrom('500ms-1s', '1s-1441m', '2s'), { nil: undefined }),
      fc.integer({ min: 1, max: 1001 }),
    )
    .map(([duration, rampUp, think, users]) => [
      { load: { users, duration, ...(rampUp === undefined ? {} : { rampUp }), ...(think === undefined ? {} : { think }) } },
      { load: 'wait' },
    ]),
  fc
    .tuple(edgeDuration, fc.constantFrom(0, '<= 1500ms', `<= ${'9'.repeat(320)}s`, '>= 1e400'))
    .map(([within, p95]) => [{ load: 'start' }, { load: 'stop' }, { assert: { p95 } }, { assert: { healthy: ['web1'], within } }]),
);
const nearlyValidScenario = fc
  .record({
    name: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('paper-failover', 't') },
      { weight: 1, arbitrary: fc.integer({ min: MAX_NAME_CHARS - 1, max: MAX_NAME_CHARS + 1 }).map((n) => 'a'.repeat(n)) },
    ),
    description: fc.option(edgeText, { nil: undefined }),
    steps: fc.array(nearlyValidSteps, { minLength: 1, maxLength: 5 }).map((groups) => groups.flat()),
  })
  .map((o) => (o.description === undefined ? { name: o.name, steps: o.steps } : o));

function toYaml(x: unknown, ctx: FuzzContext): string | undefined {
  try {
    return stringify(x, { aliasDuplicateObjects: false });
  } catch {
    ctx.note(x);
    return undefined; // not something YAML can hold: nothing to parse
  }
}

fuzzSuite('scenario parser', __filename, {
  'random text': (ctx) => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 100 })),
        (text) => {
          ctx.note(text);
          parsesOrExplains(text);
          parsesOrExplains(`name: t\nsteps:\n  - ${text}\n`);
        },
      ),
      ctx.params(400),
    );
  },

  'YAML-ish lines from the scenario vocabulary': (ctx) => {
    fc.assert(
      fc.property(yamlish, (text) => {
        ctx.note(text);
        parsesOrExplains(text);
      }),
      ctx.params(800),
    );
  },

  'scenario-shaped objects serialized to YAML': (ctx) => {
    let parsed = 0;
    fc.assert(
      fc.property(fc.oneof(scenarioObject, nearlyValidScenario), (obj) => {
        const text = toYaml(obj, ctx);
        if (text === undefined) return;
        ctx.note(text);
        parsesOrExplains(text);
        try {
          parseScenario(text, 'f.yaml');
          parsed++;
        } catch {
          // explained above
        }
      }),
      ctx.params(800),
    );
    // Half the inputs are nearly valid: the limits, not a stray typo, must decide many of them.
    assert.ok(parsed >= 50, `only ${parsed} of the inputs parsed`);
  },

  'anything serialized to YAML, as the whole file and as a step': (ctx) => {
    fc.assert(
      fc.property(
        fc.anything({ maxDepth: 4, maxKeys: 5, withNullPrototype: true, withBoxedValues: true, withSparseArray: true, withTypedArray: true }),
        (x) => {
          const whole = toYaml(x, ctx);
          const asStep = toYaml({ name: 't', steps: [x] }, ctx);
          for (const text of [whole, asStep]) {
            if (text === undefined) continue;
            ctx.note(text);
            parsesOrExplains(text);
          }
        },
      ),
      ctx.params(400),
    );
  },

  'bytes: strict UTF-8 or "not valid UTF-8 at byte N", where N starts the first bad sequence': (ctx) => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc
        .tuple(fc.string({ maxLength: 20 }), fc.uint8Array({ minLength: 1, maxLength: 3 }), fc.string({ maxLength: 20 }))
        .map(([a, b, c]) => Buffer.concat([Buffer.from(a), b, Buffer.from(c)])),
      fc.string({ unit: 'binary', maxLength: 40 }).map((s) => Buffer.from(s)),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        ctx.note(b);
        const strict = (() => {
          try {
            return new TextDecoder('utf-8', { fatal: true }).decode(b);
          } catch {
            return undefined;
          }
        })();
        const at = invalidUtf8At(b);
        assert.equal(at === -1, strict !== undefined, `invalidUtf8At ${at}, TextDecoder ${strict === undefined ? 'refuses' : 'accepts'}`);
        if (strict !== undefined) {
          assert.equal(decodeUtf8(b, 'f.yaml'), strict);
          return;
        }
        assert.throws(
          () => decodeUtf8(b, 'f.yaml'),
          (e: unknown) => e instanceof ScenarioFileError && e.message === `f.yaml: not valid UTF-8 at byte ${at}`,
        );
        // Everything before N is well-formed; the sequence at N is not.
        assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, at)));
        assert.equal(invalidUtf8At(b.subarray(at)), 0);
      }),
      ctx.params(2000),
    );
  },
});
