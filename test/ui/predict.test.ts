/**
 * UI tier: the prediction dialog of a scenario's `predict` step in the browser dashboard. A real
 * dashboard server (HTTP + WebSocket, the built webview) over a fake lab and a fake load run
 * (no Docker): the page runs a tiny built-in scenario with two predictions, the dialog asks each
 * (a number with its unit, then choices), the runner waits for the answers, and after the run the
 * graded predictions show the answer, the measured value beside it and right or wrong.
 *   npx mocha --timeout 600000 test/ui/predict.test.ts   (skips when /usr/bin/chromium is absent)
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { startDashboardServer, DashboardServer } from '../../src/dashboard/server';
import { LabLive } from '../../src/host/live';
import type { LoadHandle, LoadRun } from '../../src/load/run';
import { IntegrityLedger } from '../../src/load/integrity';
import { MetricsRecorder } from '../../src/metrics/recorder';
import { SnapshotStore } from '../../src/state/snapshot-store';
import { FakeDocker } from '../support/fake-docker';
import { FakeLab, result } from '../support/scenario-lab';
import { CHROMIUM_ARGS, CHROMIUM_PATH, ROOT, screenshot } from '../support/ui';
import { pathToFileURL } from 'node:url';
import { renderSummaryHtml, summarize } from '../../src/scenarios/summary';
import type { PredictionResult, ScenarioResult } from '../../src/scenarios/types';

const SCENARIO = `name: predict-ui
description: Two predictions, a one-second load, web2 stopped.
steps:
  - up
  - predict:
      id: blackout
      question: How long will requests fail when web2 stops?
      number: { unit: s, tolerance: 1s, max: 600 }
      bound: ha.blackout@web2
      explain: HAProxy retries on another server and marks web2 DOWN within seconds.
  - predict:
      id: failures
      question: Will any request fail?
      choices:
        - { text: "No", when: 0 }
        - { text: "Yes" }
      bound: ha.failures
  - load: { name: ha, users: 2, duration: 1s, journey: probe }
  - fault: stop web2
  - load: wait
`;

/** A load run that ends after its duration (real time) with web2's fault measured: 3.2 s of blackout, nothing failed. */
function startLoad(_t: unknown, o: { durationMs: number }): LoadHandle {
  let finish!: (r: LoadRun) => void;
  const done = new Promise<LoadRun>((r) => (finish = r));
  const end = () =>
    finish({
      result: result({ failures: 0, faults: [{ fault: 'stop web2', atMs: 300, detectedMs: 800, failedRequests: 0, blackoutMs: 3200, recoveredMs: 0 }] }),
      recorder: new MetricsRecorder(),
      faultEvents: [],
      ledger: new IntegrityLedger(),
      window: { startMs: 0, endMs: 0 },
    });
  const timer = setTimeout(end, o.durationMs);
  return {
    startedAt: Date.now(),
    recorder: new MetricsRecorder(),
    fault: async () => undefined,
    heal: async () => undefined,
    stop: () => {
      clearTimeout(timer);
      end();
    },
    stopped: false,
    done,
  };
}

describe('dashboard: the prediction dialog at a predict step, the graded result after', function () {
  this.timeout(300_000);
  let browser: Browser | undefined;
  let page: Page;
  let server: DashboardServer | undefined;
  let store: SnapshotStore | undefined;
  let live: LabLive | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-ui-'));

  before(async function () {
    if (!fs.existsSync(CHROMIUM_PATH)) {
      console.log(`    skipped: ${CHROMIUM_PATH} is missing (apt-get install chromium)`);
      return this.skip();
    }
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--quiet', '--only', 'webview'], { stdio: 'inherit' });
    fs.mkdirSync(path.join(dir, 'scenarios'));
    fs.writeFileSync(path.join(dir, 'scenarios', 'predict-ui.yaml'), SCENARIO);
    const lab = new FakeLab('predict-ui');
    store = new SnapshotStore({ lab: 'predict-ui', docker: new FakeDocker(), collect: () => lab.status() });
    live = new LabLive({ lab, store, builtinDir: path.join(dir, 'scenarios'), reportsDir: path.join(dir, 'reports'), startLoad });
    server = await startDashboardServer({
      lab: 'predict-ui',
      store,
      root: ROOT,
      actions: { fault: async () => 'ok', heal: async () => 'ok', maintenance: async () => 'ok' },
      live: live.controls(),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(server.url);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await live?.dispose();
    store?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('asks each question, waits for the answer, then grades it beside the measurement', async () => {
    await page.waitForSelector('select[data-name="scenario"] option[value="predict-ui"]', { state: 'attached', timeout: 30_000 });
    await page.selectOption('select[data-name="scenario"]', 'predict-ui');
    await page.locator('vscode-button[data-action="scenario-run"]').click();

    // 1: a number with its unit. The runner waits: no load starts before the answers.
    const dialog = page.locator('.predict-dialog[role="dialog"]');
    await page.waitForSelector('.predict-dialog[data-question="blackout"]:not([hidden])', { timeout: 30_000 });
    assert.match((await dialog.locator('.predict-question').textContent()) ?? '', /How long will requests fail when web2 stops\?/);
    assert.match((await dialog.locator('.predict-value').textContent()) ?? '', /s$/);
    assert.equal(live!.waitingQuestion?.id, 'blackout');
    await dialog.locator('vscode-button[data-action="predict-answer"]').click();
    await page.waitForFunction(() => /type a number/.test(document.querySelector('.predict-problem')?.textContent ?? ''), undefined, { timeout: 5_000 });
    await screenshot(page, 'predict-dialog-number.png');
    await dialog.locator('input[data-name="prediction"]').fill('10');
    await dialog.locator('vscode-button[data-action="predict-answer"]').click();

    // 2: multiple choice.
    await page.waitForSelector('.predict-dialog[data-question="failures"]:not([hidden])', { timeout: 30_000 });
    assert.equal(await dialog.locator('label.predict-choice').count(), 2);
    await dialog.locator('input[data-choice="0"]').check();
    await screenshot(page, 'predict-dialog-choice.png', true);
    await dialog.locator('vscode-button[data-action="predict-answer"]').click();

    // After the run: graded, the measured value beside the answer.
    await page.waitForSelector('.predict-grades:not([hidden]) li.predict-grade', { timeout: 60_000 });
    assert.equal(await page.locator('.predict-dialog').getAttribute('hidden'), '');
    const blackout = page.locator('li.predict-grade[data-question="blackout"]');
    assert.equal(await blackout.getAttribute('data-grade'), 'wrong');
    assert.match((await blackout.textContent()) ?? '', /your answer: 10 s · measured: 3\.2 s · right: 3\.2 s ± 1 s/);
    assert.match((await blackout.textContent()) ?? '', /HAProxy retries on another server/);
    const failures = page.locator('li.predict-grade[data-question="failures"]');
    assert.equal(await failures.getAttribute('data-grade'), 'right');
    assert.match((await page.locator('.predict-grades h4').textContent()) ?? '', /Predictions: 1 of 2 right/);
    await screenshot(page, 'predict-graded.png', true);
  });

  it('the class summary opens with the network blocked: right per question, the answers, the measured spread', async () => {
    const run = (learner: string, answer: string, right: boolean, measured: number, n: number): ScenarioResult => {
      const p: PredictionResult[] = [
        {
          id: 'failed-requests',
          question: 'How many requests will fail?',
          kind: 'choice',
          bound: 'ha.failures',
          choices: ['None', 'More than ten', 'A few'],
          answer,
          measured: 0,
          measuredText: '0',
          expected: 'None',
          grade: right ? 'right' : 'wrong',
        },
        {
          id: 'detect-web2',
          question: 'Seconds until HAProxy marks web2 DOWN?',
          kind: 'number',
          bound: 'ha.detection@web2',
          unit: 's',
          answer: n,
          measured,
          measuredText: `${measured} s`,
          expected: `${measured} s ± 2 s`,
          grade: Math.abs(n - measured) <= 2 ? 'right' : 'wrong',
          explain: 'interval × fall',
        },
      ];
      return {
        ...result(),
        name: 'paper-failover',
        passed: true,
        steps: [],
        runs: [],
        timeline: [],
        topology: { preset: 'ha', nodes: [] },
        startedAt: '',
        durationMs: 0,
        predictions: p,
        learner,
      };
    };
    const html = renderSummaryHtml(
      summarize([
        run('ana', 'None', true, 0.8, 1),
        run('bo', 'A few', false, 0.7, 30),
        run('cy', 'None', true, 1.1, 2),
        run('di', 'More than ten', false, 0.9, 5),
      ]),
    );
    const file = path.join(dir, 'class.html');
    fs.writeFileSync(file, html);
    const blocked: string[] = [];
    await page.route('**/*', (r) => (r.request().url().startsWith('file:') ? r.continue() : (blocked.push(r.request().url()), r.abort())));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    assert.deepEqual(blocked, [], 'the page asks for nothing outside itself');
    const q = page.locator('section.question[data-question="failed-requests"]');
    assert.equal(await q.locator('[data-tile="right"] .tile-value').textContent(), '2of 4');
    assert.equal(await q.locator('table.dist tr').count(), 3);
    assert.match((await page.locator('section.question[data-question="detect-web2"] [data-measured]').textContent()) ?? '', /0\.7 s · 0\.85 s · 1\.1 s/);
    const bar = await q.locator('.bar.right').boundingBox();
    assert.ok(bar && bar.width > 10, 'the right answer has a visible bar');
    await screenshot(page, 'class-summary.png', true);
    await page.unroute('**/*');
  });
});
