/**
 * UI tier, no Docker: the scenario report (`scenario run … --report out.html`) opened from disk
 * in headless Chromium with the network cut off. Any request that is not file: fails the test.
 * Screenshots: test-results/report-paper-failover.png, report-single-vs-ha.png (and -dark).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Browser, chromium, Page } from 'playwright-core';
import { writeReports } from '../../src/scenarios/report';
import type { ScenarioResult } from '../../src/scenarios/types';
import { paperFailoverResult, singleVsHaResult } from '../fixtures/scenario-result';
import { CHROMIUM_ARGS, CHROMIUM_PATH, screenshot } from '../support/ui';

describe('scenario report in Chromium, offline', function () {
  this.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moodle-lab-report-'));
  let browser: Browser | undefined;

  before(async function () {
    if (!fs.existsSync(CHROMIUM_PATH)) {
      console.log(`    skipped: ${CHROMIUM_PATH} is missing (apt-get install chromium)`);
      return this.skip();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the reports, opens out.html from disk with every non-file request blocked and recorded. */
  async function open(
    result: ScenarioResult,
    sub: string,
    colorScheme: 'light' | 'dark' = 'light',
  ): Promise<{ page: Page; blocked: string[]; problems: string[] }> {
    const paths = writeReports(result, path.join(dir, sub, 'out.html'));
    assert.ok(fs.existsSync(paths.json) && fs.existsSync(paths.md));
    const page = await browser!.newPage({ viewport: { width: 1440, height: 960 }, colorScheme });
    const blocked: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) blocked.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.route('**/*', (r) => (r.request().url().startsWith('file:') ? r.continue() : r.abort()));
    await page.goto(pathToFileURL(paths.html).href, { waitUntil: 'load' });
    return { page, blocked, problems };
  }

  it('paper-failover: verdict, chart with fault markers, failover table; no request leaves the file', async () => {
    const { page, blocked, problems } = await open(paperFailoverResult(), 'paper');
    assert.match((await page.locator('#verdict').innerText()).trim(), /PASSED/);
    await page.locator('svg.latency-chart').first().waitFor({ state: 'visible' });
    const box = await page.locator('svg.latency-chart').first().boundingBox();
    assert.ok(box && box.width > 800 && box.height > 250, `chart is drawn large enough: ${JSON.stringify(box)}`);
    assert.equal(await page.locator('svg.latency-chart g.marker[data-kind="fault"]').count(), 2);
    assert.ok(await page.locator('svg.latency-chart path.s-p95').isVisible());
    const table = page.locator('table.failover');
    assert.ok(await table.isVisible());
    assert.equal(await table.locator('tbody tr').count(), 2);
    assert.match(await table.innerText(), /kill web2[\s\S]*1,180/);
    assert.ok(await page.locator('svg.topology g.node.faulted[data-node="web2"]').isVisible());
    assert.ok(await page.locator('table.comparison').isVisible(), 'the paper reference');
    assert.match(await page.locator('.timeline li.say').first().innerText(), /Thirty students/);
    await screenshot(page, 'report-paper-failover.png');
    assert.deepEqual(blocked, [], 'no request other than file:');
    assert.deepEqual(problems, [], 'no console error (a CSP violation would show here)');
    await page.close();
  });

  it('paper-failover with graded predictions: the answer, the measured value beside it, right or wrong, the explanation', async () => {
    const result: ScenarioResult = {
      ...paperFailoverResult(),
      learner: 'alice',
      predictions: [
        {
          id: 'failed-requests',
          question: 'How many requests will fail?',
          kind: 'choice',
          bound: 'ha.failures',
          choices: ['None', 'More than ten', 'A few'],
          answer: 'None',
          measured: 0,
          measuredText: '0',
          expected: 'None',
          grade: 'right',
          explain: 'HAProxy retries on another server.',
        },
        {
          id: 'detect-web2',
          question: 'Seconds until HAProxy marks web2 DOWN?',
          kind: 'number',
          bound: 'ha.detection@web2',
          unit: 's',
          answer: 30,
          measured: 0.765,
          measuredText: '0.765 s',
          expected: '0.765 s ± 2 s',
          grade: 'wrong',
          explain: 'interval × fall',
        },
      ],
    };
    for (const scheme of ['light', 'dark'] as const) {
      const { page, blocked, problems } = await open(result, `predict-${scheme}`, scheme);
      const section = page.locator('#predictions');
      assert.match(await section.locator('h2').innerText(), /Predictions of alice/);
      assert.match(await section.locator('.predict-score').innerText(), /1 of 2/);
      const wrong = section.locator('tr.grade-wrong');
      assert.match(await wrong.innerText(), /30 s\s+0\.765 s\s+0\.765 s ± 2 s\s+✗ wrong\s+interval × fall/);
      assert.ok(await wrong.isVisible());
      const bg = await wrong
        .locator('td')
        .first()
        .evaluate((td) => getComputedStyle(td).backgroundColor);
      assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'a wrong prediction is tinted');
      await section.screenshot({ path: path.join(dir, `predictions-${scheme}.png`) });
      if (scheme === 'light') await screenshot(page, 'report-predictions.png');
      assert.deepEqual(blocked, []);
      assert.deepEqual(problems, []);
      await page.close();
    }
  });

  it('single-vs-ha: two charts and the comparison beside the paper, in the dark scheme too', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const result = singleVsHaResult({ passed: scheme === 'light' });
      const { page, blocked, problems } = await open(result, `svh-${scheme}`, scheme);
      assert.match(await page.locator('#verdict').innerText(), scheme === 'light' ? /PASSED/ : /FAILED/);
      assert.equal(await page.locator('svg.latency-chart').count(), 2);
      const comparison = await page.locator('table.comparison').innerText();
      assert.match(comparison, /paper: one server/);
      assert.match(comparison, /0\.612[\s\S]*0\.861/);
      if (scheme === 'dark') {
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(bg, 'rgb(13, 17, 23)', 'dark background');
      }
      await screenshot(page, scheme === 'light' ? 'report-single-vs-ha.png' : 'report-single-vs-ha-dark.png');
      assert.deepEqual(blocked, []);
      assert.deepEqual(problems, []);
      await page.close();
    }
  });

  it('a script smuggled into a say line does not run', async () => {
    const base = paperFailoverResult();
    const result = paperFailoverResult({
      timeline: [
        ...base.timeline,
        { atMs: 70_000, kind: 'say', text: '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">' },
      ],
    });
    const { page, blocked } = await open(result, 'evil');
    assert.match(await page.title(), /^paper-failover: PASSED/);
    assert.equal(await page.locator('script, img').count(), 0);
    assert.match(await page.locator('.timeline li.say').last().innerText(), /<script>document\.title/);
    assert.deepEqual(blocked, []);
    await page.close();
  });
});
