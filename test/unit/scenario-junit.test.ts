import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { scenarioExitCode, toJUnit } from '../../src/scenarios/junit';
import { parseScenario } from '../../src/scenarios/parse';
import type { ScenarioResult } from '../../src/scenarios/types';
import { FakeLab, fakeLoads, result, runner } from '../support/scenario-lab';

const XSD = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'junit.xsd'), 'utf8');

async function schemaErrors(xml: string): Promise<string[]> {
  const r = await validateXML({ xml: [{ fileName: 'j.xml', contents: xml }], schema: [XSD] });
  return r.errors.map((e) => e.rawMessage);
}

async function run(
  lines: string[],
  loads = fakeLoads([result({ failures: 3, latencyMs: { p50: 40, p95: 1800, p99: 2000, max: 2500 } })]),
  lab = new FakeLab('lab'),
): Promise<ScenarioResult> {
  return runner({ lab }, loads).run(parseScenario(['name: ci', 'steps:', ...lines].join('\n'), 'ci.yaml'));
}

describe('scenario JUnit export', () => {
  it('one test case per assert; a failing one carries the measured value and the threshold; the schema accepts it', async () => {
    const r = await run([
      '  - up',
      '  - load: { users: 5, duration: 1s }',
      '  - load: wait',
      '  - assert: { failures: 0, p95: "<= 1500ms" }',
      '  - assert: { apdex: ">= 0.5" }',
      '  - say: "<done> & \\"quoted\\""',
    ]);
    const xml = toJUnit(r);
    assert.deepEqual(await schemaErrors(xml), []);
    assert.equal((xml.match(/<testcase /g) ?? []).length, 2, 'only the asserts are test cases');
    assert.match(xml, /<testsuite name="ci" tests="2" failures="1" errors="0" skipped="0"/);
    assert.match(xml, /<failure type="assert" message="failures is 3, expected == 0; p95 is 1800, expected &lt;= 1500ms">/);
    assert.match(xml, /FAIL failures: measured 3, expected == 0/);
    assert.match(xml, /ok {3}apdex: measured 0.97, expected &gt;= 0.5/);
    assert.equal(scenarioExitCode(r), 1);
  });

  it('an action step that failed is an error, the asserts after it are skipped, and the exit code says the lab failed', async () => {
    const lab = new FakeLab('lab');
    lab.failFault = 'no such container';
    const r = await run(['  - up', '  - fault: stop web2', '  - assert: { healthy: [web1] }'], fakeLoads([]), lab);
    const xml = toJUnit(r);
    assert.deepEqual(await schemaErrors(xml), []);
    assert.match(xml, /<error type="step" message="no such container">/);
    assert.match(xml, /<skipped message="not run: step 2/);
    assert.match(xml, /tests="2" failures="0" errors="1" skipped="1"/);
    assert.equal(scenarioExitCode(r), 3);
  });

  it('every assert held: exit 0, no failure element; a state check lists what was expected', async () => {
    const r = await run(['  - up', '  - assert: { healthy: [web1], galeraSize: 3 }']);
    const xml = toJUnit(r);
    assert.deepEqual(await schemaErrors(xml), []);
    assert.doesNotMatch(xml, /<failure|<error/);
    assert.match(xml, /state: measured as expected, expected healthy web1; Galera size == 3/);
    assert.equal(scenarioExitCode(r), 0);
  });

  it('the schema check itself rejects what a JUnit reader would not take', async () => {
    const bad = toJUnit(await run(['  - up', '  - assert: { galeraSize: 3 }'])).replace('tests="1" failures="0" errors="0"', 'tests="one" failures="0"');
    assert.ok((await schemaErrors(bad)).length > 0);
  });
});
