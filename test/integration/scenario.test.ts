/**
 * Scenarios through the real CLI on a real lab (no Moodle needed: `--no-moodle`, so journeys are
 * the lab's own probes). A broken file must fail before any container exists; a built-in runs
 * end to end with its asserts judged by what the cluster reported, and writes its report.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { freshLabOrSkip, LabUnderTest, ROOT } from '../support/integration';
import type { ScenarioResult } from '../../src/scenarios/types';

const LAB = process.env.LAB_TEST_SCENARIO_NAME ?? 'mlt-scenario';

describe(`scenarios on a real lab (lab "${LAB}")`, function () {
  this.timeout(1_800_000);
  const lab = new LabUnderTest(LAB);

  before(async function () {
    await freshLabOrSkip(this, lab);
  });

  after(async function () {
    if (!process.env.LAB_TEST_KEEP) await lab.cli(['destroy']);
  });

  it('broken.yaml (a type error on line 7) → non-zero exit naming line 7; no container was created', async () => {
    const r = await lab.cli(['scenario', 'run', path.join(ROOT, 'test/fixtures/scenarios/broken.yaml'), '--no-moodle']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /broken\.yaml:7:\d+: /);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.deepEqual(await lab.leftovers(), { containers: 0, volumes: 0, networks: 0, images: 0 });
  });

  it('unknown node in a scenario → error before the lab is touched', async () => {
    const file = path.join(lab.home, 'unknown-node.scenario.yaml');
    fs.writeFileSync(file, 'name: unknown-node\nsteps:\n  - up\n  - fault: kill web7\n');
    const r = await lab.cli(['scenario', 'run', file, '--no-moodle']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown-node\.scenario\.yaml:4:\d+: .*web7/);
    assert.deepEqual(await lab.leftovers(), { containers: 0, volumes: 0, networks: 0, images: 0 });
  });

  it('gluster-brick (built-in) under probe load: exit 0, every assert passed, report written', async () => {
    const report = path.join(lab.home, 'gluster-brick.html');
    const junit = path.join(lab.home, 'gluster-brick.xml');
    const r = await lab.cli(['scenario', 'run', 'gluster-brick', '--no-moodle', '--json', '--report', report, '--junit', junit]);
    const result = JSON.parse(r.stdout) as ScenarioResult;
    assert.equal(
      r.code,
      0,
      `${result.steps
        .filter((s) => !s.passed)
        .map((s) => `${s.step}: ${s.detail}`)
        .join('\n')}\n${r.stderr.slice(-3000)}`,
    );
    assert.equal(result.passed, true);
    assert.equal(result.name, 'gluster-brick');
    assert.equal(result.failures, 0);
    assert.ok(result.requests > 100, `${result.requests} requests`);
    assert.equal(result.faults.length, 1);
    assert.equal(result.faults[0]!.fault, 'stop gluster2');
    assert.ok(result.integrity && result.integrity.files > 0 && result.integrity.lostFiles.length === 0, JSON.stringify(result.integrity));
    for (const f of [report, report.replace(/\.html$/, '.json'), report.replace(/\.html$/, '.md')]) assert.ok(fs.statSync(f).size > 500, f);
    assert.match(fs.readFileSync(report, 'utf8'), /gluster-brick/);
    // CI output: one test case per assert, accepted by the JUnit schema.
    const xml = fs.readFileSync(junit, 'utf8');
    const checked = await validateXML({
      xml: [{ fileName: 'gluster-brick.xml', contents: xml }],
      schema: [fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'junit.xsd'), 'utf8')],
    });
    assert.deepEqual(
      checked.errors.map((e) => e.rawMessage),
      [],
    );
    assert.equal((xml.match(/<testcase /g) ?? []).length, result.steps.filter((s) => s.kind === 'assert').length);
    assert.match(xml, /failures="0" errors="0"/);
  });
});
