/** Parses a scenario that must not parse and returns its ScenarioError (fails the test if it parses). */
import { strict as assert } from 'node:assert';
import { parseScenario } from '../../src/scenarios/parse';
import { ScenarioError } from '../../src/scenarios/types';

export function scenarioError(text: string, file = 'f.yaml'): ScenarioError {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  assert.fail(`expected a ScenarioError for:\n${text}`);
}
