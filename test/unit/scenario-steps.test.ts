import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { listBuiltins, loadScenario, parseScenario } from '../../src/scenarios/parse';
import { SCENARIO_SCHEMA } from '../../src/scenarios/schema';
import { STEPS, stepByKey, stepOfKind } from '../../src/scenarios/steps';
import { scenarioError } from '../support/scenario-error';

const BUILTINS = path.resolve(__dirname, '../../lab/scenarios');

const err = (text: string) => scenarioError(text);

describe('scenario step registry', () => {
  it('one module per key, and every parsed kind belongs to exactly one module', () => {
    const keys = STEPS.map((s) => s.key);
    assert.equal(new Set(keys).size, keys.length);
    const kinds = STEPS.flatMap((s) => [...s.kinds]);
    assert.equal(new Set(kinds).size, kinds.length);
    for (const s of STEPS) for (const k of s.kinds) assert.equal(stepOfKind(k), s);
  });

  it("each module's schema fragment is keyed by its own key and sits in the schema in registry order", () => {
    for (const s of STEPS) assert.deepEqual((s.schema as { required: string[] }).required, [s.key], s.key);
    const alternatives = (SCENARIO_SCHEMA.definitions.step.anyOf as { required?: string[] }[]).filter((a) => a.required);
    assert.deepEqual(
      alternatives.map((a) => a.required![0]),
      STEPS.map((s) => s.key),
    );
  });

  it('the built-ins parse into steps whose module is the one their YAML key names', () => {
    let seen = 0;
    for (const { name } of listBuiltins(BUILTINS)) {
      for (const step of loadScenario(name, BUILTINS).steps) {
        const word = step.text.split(' ')[0]!;
        assert.equal(stepOfKind(step.kind), stepByKey(word), `${name}: ${step.text}`);
        seen++;
      }
    }
    assert.ok(seen > 20);
  });

  it("a step that needs a value names its own example, at the step's line", () => {
    for (const s of STEPS.filter((d) => d.needsValue)) {
      const e = err(`name: t\nsteps:\n  - up\n  - ${s.key}:\n`);
      assert.equal(e.line, 4, s.key);
      assert.equal(e.reason, `${s.key} needs a value, e.g. ${s.describe.example}`);
    }
  });

  it('a bare word is accepted exactly for the bare steps', () => {
    for (const s of STEPS) {
      const text = `name: t\nsteps:\n  - ${s.key}\n`;
      if (s.bare) assert.equal(parseScenario(text, 'f.yaml').steps[0]!.kind, s.kinds[0]);
      else assert.match(err(text).reason, new RegExp(`^write this step as \`${s.key}: <value>\``));
    }
  });
});
