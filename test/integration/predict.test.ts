/**
 * Predictions through the real CLI on a real lab (`--no-moodle`: the probe journey). An answers
 * file that does not match the scenario's questions is exit 2 with nothing created; a run with
 * answers grades each prediction against what the load run measured on the cluster (web2 killed
 * under load): the JSON, the HTML report and JUnit carry the grades, the verdict ignores them.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freshLabOrSkip, LabUnderTest } from '../support/integration';
import type { ScenarioResult } from '../../src/scenarios/types';

const LAB = process.env.LAB_TEST_PREDICT_NAME ?? 'predict-it';

const SCENARIO = `name: predict-it
steps:
  - up
  - predict:
      id: detect-web2
      question: How many seconds until HAProxy marks web2 DOWN after it is killed?
      number: { unit: s, tolerance: 2s, max: 600 }
      bound: probe.detection@web2
      explain: HAProxy needs a few failed checks in a row.
  - predict:
      id: failed
      question: Will more than 100 requests fail?
      choices:
        - { text: "No", when: "<= 100" }
        - { text: "Yes", when: "> 100" }
      bound: probe.failures
  - load: { name: probe, users: 10, duration: 20s, journey: probe }
  - wait: 5s
  - fault: kill web2
  - wait: 6s
  - heal
  - load: wait
`;

describe(`predictions on a real lab (lab "${LAB}")`, function () {
  this.timeout(1_800_000);
  const lab = new LabUnderTest(LAB);
  const file = path.join(lab.home, 'predict-it.scenario.yaml');

  before(async function () {
    await freshLabOrSkip(this, lab);
    fs.writeFileSync(file, SCENARIO);
  });

  after(async function () {
    await lab.destroyLeavingNothing();
  });

  it('an answers file that does not match the questions → exit 2, one line naming file:line:col, nothing created', async () => {
    const answers = path.join(lab.home, 'bad.yaml');
    fs.writeFileSync(answers, 'detect-web2: 3\nfailed: maybe\n');
    const r = await lab.cli(['scenario', 'run', file, '--no-moodle', '--answers', answers]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bad\.yaml:2:9: "maybe" is not a choice of "failed"/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.deepEqual(await lab.leftovers(), { containers: 0, volumes: 0, networks: 0, images: 0 });
  });

  it('graded against the measurement: a wrong answer is wrong with the measured value beside it; the verdict ignores it', async () => {
    const answers = path.join(lab.home, 'a.yaml');
    fs.writeFileSync(answers, 'learner: it\ndetect-web2: 120\nfailed: a\n');
    const report = path.join(lab.home, 'r.html');
    const r = await lab.cli([
      'scenario',
      'run',
      file,
      '--no-moodle',
      '--answers',
      answers,
      '--json',
      '--report',
      report,
      '--junit',
      path.join(lab.home, 'j.xml'),
    ]);
    const result = JSON.parse(r.stdout) as ScenarioResult;
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.equal(result.learner, 'it');
    const [detect, failed] = result.predictions!;
    const fault = result.faults.find((f) => f.fault === 'kill web2')!;
    assert.ok(fault && fault.detectedMs !== null, JSON.stringify(result.faults));
    assert.equal(detect!.grade, 'wrong', JSON.stringify(detect));
    assert.equal(detect!.answer, 120);
    assert.equal(detect!.measured, Math.round(fault.detectedMs!) / 1000, 'the measured value is the fault analysis of the run, in seconds');
    assert.equal(failed!.grade, result.failures <= 100 ? 'right' : 'wrong');
    assert.equal(failed!.measured, result.failures);
    const html = fs.readFileSync(report, 'utf8');
    assert.match(html, /<tr class="grade-wrong"><td><strong>How many seconds until HAProxy marks web2 DOWN/);
    assert.ok(html.includes(`<td>120 s</td><td>${detect!.measuredText}</td>`), 'the answer with the measured value beside it');
    assert.match(
      fs.readFileSync(path.join(lab.home, 'j.xml'), 'utf8'),
      /<property name="prediction\.detect-web2" value="wrong: answer 120, measured [\d.]+ s"\/>/,
    );
  });
});
