/**
 * Fuzzing the lab-file parser: random text, YAML-ish lines from the lab-file vocabulary and
 * lab-shaped objects serialized to YAML. It answers with a LabDefinition that builds, or one
 * ScenarioError (file:line:col: a bounded reason) — never a TypeError or RangeError, never a
 * hang (each run is bounded in time).
 */
import { strict as assert } from 'node:assert';
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import { buildTopology } from '../../src/engine/topology';
import type { LabDefinition } from '../../src/engine/topology';
import { LAB_TOP_KEYS, listableRoles, parseLabFile, ROLE_ENTRY_KEYS } from '../../src/scenarios/lab-file';
import { ScenarioError } from '../../src/scenarios/types';
import { fuzzSuite } from '../support/fuzz';

const GIB = 1024 * 1024 * 1024;

function parsesOrExplains(text: string, mem?: number): LabDefinition | undefined {
  let def: LabDefinition;
  try {
    def = parseLabFile(text, 'f.lab.yaml', { dockerMemBytes: mem });
  } catch (err) {
    assert.ok(err instanceof ScenarioError, `not a ScenarioError: ${err instanceof Error ? err.stack : String(err)}`);
    assert.ok(Number.isInteger(err.line) && err.line >= 1 && Number.isInteger(err.col) && err.col >= 1, err.message);
    assert.ok(err.message.startsWith(`f.lab.yaml:${err.line}:${err.col}: `), err.message);
    assert.ok(err.reason.length > 0 && err.reason.length <= 1000, `reason of ${err.reason.length} characters`);
    return undefined;
  }
  // What parses builds: the file was checked against the role modules.
  const t = buildTopology(def);
  assert.ok(t.nodes.length >= 2 && t.nodes.some((n) => n.role === 'web'), JSON.stringify(def));
  return def;
}

const word = fc.constantFrom(
  ...LAB_TOP_KEYS,
  ...listableRoles(),
  ...ROLE_ENTRY_KEYS,
  'true',
  'false',
  'sentinel',
  'cluster',
  'tuned',
  '-',
  '{',
  '}',
  '[',
  ']',
  ':',
  ',',
  '&a',
  '*a',
);
const value = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom(true, false, 'yes', 'single', 'sentinel', 'cluster', 'mesh', null, '', 'x'.repeat(70)),
);
const roleEntry = fc.dictionary(fc.constantFrom(...ROLE_ENTRY_KEYS, 'turbo'), value, { maxKeys: 4 });
const labObject = fc.record(
  {
    name: fc.oneof(fc.constantFrom('mine', 'a-b', 'Bad Name', ''), fc.string({ maxLength: 20 })),
    description: fc.oneof(fc.string({ maxLength: 40 }), fc.integer()),
    haproxy: fc.constantFrom('tuned', 'defaults', 'fast', 3),
    roles: fc.oneof(fc.dictionary(fc.constantFrom(...listableRoles(), 'nginx', 'edge', 'arbitrator'), roleEntry, { maxKeys: 7 }), value),
  },
  { requiredKeys: [] },
);
/** Mostly valid: the ha roles with small changes. */
const nearlyValid = fc.record({
  name: fc.constant('mine'),
  roles: fc.record({
    lb: fc.record({ count: fc.integer({ min: 0, max: 3 }) }),
    web: fc.record({ count: fc.integer({ min: 0, max: 10 }) }),
    db: fc.record({ count: fc.integer({ min: 0, max: 6 }) }),
    storage: fc.record({ count: fc.constantFrom(0, 2, 3) }),
    cache: fc.record({ count: fc.integer({ min: 0, max: 3 }) }),
  }),
});

fuzzSuite('lab-file parser', __filename, {
  'random text': (ctx) => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
        ctx.note(text);
        parsesOrExplains(text);
        parsesOrExplains(`name: t\nroles:\n  ${text}\n`);
      }),
      ctx.params(400),
    );
  },

  'YAML-ish lines from the lab-file vocabulary': (ctx) => {
    const line = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.array(word, { maxLength: 6 })).map(([indent, ws]) => `${' '.repeat(indent)}${ws.join(' ')}`);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const text = lines.join('\n');
        ctx.note(text);
        parsesOrExplains(text);
      }),
      ctx.params(800),
    );
  },

  'lab-shaped objects serialized to YAML (some fit in 1 GiB of Docker memory, some do not)': (ctx) => {
    let built = 0;
    fc.assert(
      fc.property(fc.oneof(labObject, nearlyValid), fc.constantFrom(undefined, 1 * GIB, 24 * GIB), (obj, mem) => {
        const text = stringify(obj);
        ctx.note(text);
        if (parsesOrExplains(text, mem)) built++;
      }),
      ctx.params(800),
    );
    assert.ok(built > 0, 'some generated lab files are valid');
  },
});
