/**
 * UI tier: the audit from the browser dashboard. A real dashboard server (HTTP + WebSocket, the
 * built webview) over a fake lab and fake load runs (no Docker): the Audit dialog starts it with
 * the kinds and nodes ticked, the live progress line follows each fault, Cancel reaches the host
 * (the lab is healed), and the result links to the report the host wrote.
 *   npx mocha --timeout 600000 test/ui/audit-run.test.ts   (skips when /usr/bin/chromium is absent)
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { startDashboardServer, DashboardServer } from '../../src/dashboard/server';
import { LabLive } from '../../src/host/live';
import type { LoadHandle, LoadOptions, LoadRun } from '../../src/load/run';
import { IntegrityLedger } from '../../src/load/integrity';
import { MetricsRecorder } from '../../src/metrics/recorder';
import { SnapshotStore } from '../../src/state/snapshot-store';
import { FakeDocker } from '../support/fake-docker';
import { FakeLab, result } from '../support/scenario-lab';
import { CHROMIUM_ARGS, CHROMIUM_PATH, ROOT, screenshot } from '../support/ui';
import { renderHtml } from '../../src/scenarios/report';
import { paperFailoverResult } from '../fixtures/scenario-result';

/** Each run's load (the baseline's, then each fault's): ends after 1.5 s (real time) with its fault measured, or when stopped (cancel). */
const started: LoadOptions[] = [];
function startLoad(_t: unknown, o: LoadOptions): LoadHandle {
  started.push(o);
  let finish!: (r: LoadRun) => void;
  const done = new Promise<LoadRun>((r) => (finish = r));
  const f = o.faults[0];
  const end = () =>
    finish({
      result: result({
        faults: f
          ? [{ fault: f.text, source: 'injected', atMs: f.atMs, detectedMs: 900, failedRequests: 1, requests: 80, blackoutMs: 400, recoveredMs: 1200 }]
          : [],
      }),
      recorder: new MetricsRecorder(),
      faultEvents: [],
      ledger: new IntegrityLedger(),
      window: { startMs: 0, endMs: 0 },
    });
  const timer = setTimeout(end, 1500);
  let stopped = false;
  return {
    startedAt: Date.now(),
    recorder: new MetricsRecorder(),
    fault: async () => undefined,
    heal: async () => undefined,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      end();
    },
    get stopped() {
      return stopped;
    },
    done,
  };
}

describe('dashboard: the audit dialog, its live progress, Cancel and the report link', function () {
  this.timeout(300_000);
  let browser: Browser | undefined;
  let page: Page;
  let server: DashboardServer | undefined;
  let store: SnapshotStore | undefined;
  let live: LabLive | undefined;
  const lab = new FakeLab('audit-ui');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-ui-'));

  before(async function () {
    if (!fs.existsSync(CHROMIUM_PATH)) {
      console.log(`    skipped: ${CHROMIUM_PATH} is missing (apt-get install chromium)`);
      return this.skip();
    }
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--quiet', '--only', 'webview'], { stdio: 'inherit' });
    store = new SnapshotStore({ lab: 'audit-ui', docker: new FakeDocker(), collect: () => lab.status() });
    const reportsDir = path.join(dir, 'reports');
    live = new LabLive({ lab, store, builtinDir: path.join(dir, 'none'), reportsDir, startLoad });
    server = await startDashboardServer({
      lab: 'audit-ui',
      store,
      root: ROOT,
      reportsDir,
      actions: { fault: async () => 'ok', heal: async () => 'ok', maintenance: async () => 'ok' },
      live: live.controls(),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(server.url);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await live?.dispose();
    store?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const tickOnly = async (sel: string, key: string, keep: string[]) => {
    for (const box of await page.locator(`${sel} input`).all()) {
      const v = await box.getAttribute(`data-${key}`);
      if (keep.includes(v ?? '')) await box.check();
      else await box.uncheck();
    }
  };

  it('the dialog starts it with the kinds and nodes ticked; progress shows each fault; Cancel heals; the result links to the report', async () => {
    const dialog = page.locator('.audit-dialog[role="dialog"]');
    await page.waitForSelector('.audit-nodes input[data-node="web2"]', { state: 'attached', timeout: 30_000 });
    await page.locator('vscode-button[data-action="audit-open"]').click();
    await page.waitForSelector('.audit-dialog:not([hidden])');
    assert.deepEqual(await dialog.locator('.audit-kinds input:checked').evaluateAll((xs) => xs.map((x) => (x as HTMLElement).dataset.kind)), ['kill', 'pause']);
    // nothing ticked: one clear problem, nothing sent
    await tickOnly('.audit-kinds', 'kind', []);
    await dialog.locator('vscode-button[data-action="audit-start"]').click();
    assert.match((await dialog.locator('.audit-problem').textContent()) ?? '', /at least one fault kind/);
    assert.equal(started.length, 0);

    await tickOnly('.audit-kinds', 'kind', ['kill']);
    await tickOnly('.audit-nodes', 'node', ['web2', 'web3', 'redis']);
    await dialog.locator('vscode-text-field[data-name="audit-per-fault"]').evaluate((t) => ((t as HTMLElement & { value: string }).value = '8'));
    await screenshot(page, 'audit-dialog.png', true);
    await dialog.locator('vscode-button[data-action="audit-start"]').click();

    // live progress: the fault-free baseline run, then fault by fault
    await page.waitForFunction(() => /before the 3 faults: no fault \(baseline\)/.test(document.querySelector('.audit-line')?.textContent ?? ''), undefined, {
      timeout: 30_000,
    });
    await page.waitForFunction(() => /fault 1\/3: kill web2/.test(document.querySelector('.audit-line')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await page.waitForFunction(() => /fault 2\/3: kill web3/.test(document.querySelector('.audit-line')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await screenshot(page, 'audit-progress.png', true);
    assert.deepEqual(
      started.map((o) => [o.faults[0]?.text, o.durationMs]),
      [
        [undefined, 8000],
        ['kill web2', 8000],
        ['kill web3', 8000],
      ],
    );

    // Cancel reaches the host: the load stops, the lab is healed, the view says so
    assert.ok(!lab.calls.includes('heal'));
    await page.locator('vscode-button[data-action="audit-stop"]').click();
    await page.waitForSelector('.audit-result:not([hidden]) a.audit-report', { timeout: 30_000 });
    assert.ok(lab.calls.includes('heal'), 'healed by the audit’s cancel path');
    assert.match((await page.locator('.audit-line').textContent()) ?? '', /\(cancelled\).*no single point of failure/);
    assert.match((await page.locator('.audit-result').textContent()) ?? '', /cancelled: the lab was healed/);
    assert.equal(started.length, 3, 'no fault after the cancel (the baseline and two faults ran)');

    // the report link serves the self-contained page the host wrote
    const href = await page.locator('a.audit-report').getAttribute('href');
    const res = await page.request.get(new URL(href!, server!.url).toString());
    assert.equal(res.status(), 200);
    assert.match(await res.text(), /<h1>Audit of ha<\/h1>[\s\S]*cancelled/);
    await screenshot(page, 'audit-result.png', true);
  });

  /** The line stroke and dash pattern a marker group is drawn with. */
  const strokes = (sel: string) =>
    page
      .locator(sel)
      .first()
      .evaluate((g) => {
        const line = g.querySelector('line')!;
        const cs = getComputedStyle(line);
        return `${cs.stroke} ${cs.strokeDasharray}`;
      });

  it('an injected and an external fault are told apart: in the report (style, ⚠, legend) and in the live chart and timeline', async () => {
    // the report
    const base = paperFailoverResult();
    const at = base.timeline.find((e) => e.kind === 'fault')!.atMs;
    const report = {
      ...base,
      timeline: [...base.timeline, { atMs: at + 2000, kind: 'fault' as const, text: 'kill web3 (external)', external: true }].sort((a, b) => a.atMs - b.atMs),
    };
    const file = path.join(dir, 'external.html');
    fs.writeFileSync(file, renderHtml(report));
    const rp = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    await rp.goto(`file://${file}`);
    const look = (sel: string) =>
      rp
        .locator(sel)
        .first()
        .evaluate((g) => {
          const cs = getComputedStyle(g.querySelector('line')!);
          return `${cs.stroke} ${cs.strokeDasharray}`;
        });
    const injected = await look('svg.latency-chart g.marker.m-fault:not(.m-external)');
    const external = await look('svg.latency-chart g.marker.m-external');
    assert.notEqual(external, injected, 'a different line style');
    assert.match((await rp.locator('svg.latency-chart g.marker.m-external text').textContent()) ?? '', /^(⚠ kill web3|\d+)$/);
    assert.match((await rp.locator('ul.legend').first().textContent()) ?? '', /external fault \(not injected/);
    await rp
      .locator('svg.latency-chart')
      .first()
      .screenshot({ path: path.join(ROOT, 'test-results', 'report-external-fault.png') });
    await rp.close();

    // the live chart: the last run's frozen figures, an injected fault and an external one a second apart
    const m = store!.current()!.metrics!;
    const t = m.startedAtMs!;
    store!.note({ source: 'action', severity: 'warn', kind: 'fault', node: 'web2', text: 'dashboard: fault kill web2' }, t + 2000);
    store!.note(
      { source: 'load', severity: 'warn', kind: 'fault', node: 'web3', external: true, text: 'kill web3 (external: not injected through this run)' },
      t + 3000,
    );
    await page.waitForSelector('.chart svg g.marker.fault.external', { timeout: 30_000 });
    assert.notEqual(await strokes('.chart svg g.marker.external'), await strokes('.chart svg g.marker.fault:not(.external)'));
    assert.match((await page.locator('.chart svg g.marker.external text').textContent()) ?? '', /^⚠ /);
    assert.match((await page.locator('.chart svg g.marker.fault:not(.external) text').textContent()) ?? '', /^⚡ /);
    assert.match((await page.locator('.legend .key.external').textContent()) ?? '', /external fault/);
    assert.equal(await page.locator('.timeline li.external .ext-tag').count(), 1);
    await screenshot(page, 'dashboard-external-fault.png');
  });
});
