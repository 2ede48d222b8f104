/**
 * UI tier, no Docker: the audit report (`audit --report out.html`) opened from disk in headless
 * Chromium with the network cut off: the topology coloured by verdict, the verdicts and the
 * scorecard. Screenshot: test-results/audit-report.png.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Browser, chromium } from 'playwright-core';
import type { AuditReport } from '../../src/scenarios/audit/audit';
import { renderAuditHtml } from '../../src/scenarios/audit/report';
import { labStatus } from '../support/lab-snapshot';
import { CHROMIUM_ARGS, CHROMIUM_PATH, screenshot } from '../support/ui';

const result = (node: string, role: string, over: Partial<AuditReport['results'][number]> = {}): AuditReport['results'][number] => ({
  node,
  role,
  fault: `kill ${node}`,
  kind: 'kill',
  detectedMs: 1134,
  failedRequests: 0,
  requests: 119,
  blackoutMs: 677,
  p99Ms: 1081,
  recoveredMs: 9453,
  greenMs: 1183,
  lost: { writes: 0, files: 0, sessions: 0 },
  reported: `${node} exited, unhealthy`,
  ...over,
});

const REPORT: AuditReport = {
  topology: 'ha',
  lab: 'audit-ui',
  startedAt: '2026-11-30T19:27:06.000Z',
  durationMs: 65_100,
  options: { kinds: ['kill'], users: 10, perFaultS: 15, journey: 'probe' },
  thresholds: { blackoutMs: 5000, failedRatio: 0.1 },
  results: [result('web2', 'web'), result('redis', 'cache', { failedRequests: 23, requests: 120, blackoutMs: 831, detectedMs: null, recoveredMs: null })],
  nodes: [
    { node: 'web2', role: 'web', spof: false, reasons: ['survived kill: at most 0 failed requests, blackout ≤ 0.7 s, nothing lost'] },
    { node: 'redis', role: 'cache', spof: true, reasons: ['kill redis: 23 of 120 requests failed (19 %)'] },
  ],
  steady: { p95Ms: 40 },
  baseline: { blackoutMs: 515, failedRequests: 0, requests: 398, p99Ms: 417, hostLoad: 1.2 },
  host: { cpus: 2 },
};

describe('audit report in Chromium, offline', function () {
  this.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moodle-lab-audit-report-'));
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

  it('topology coloured by verdict, verdicts and scorecard; no request leaves the file', async () => {
    const file = path.join(dir, 'audit.html');
    fs.writeFileSync(file, renderAuditHtml([{ report: REPORT, nodes: labStatus().nodes.map((n) => ({ name: n.name, role: n.role })) }]));
    const page = await browser!.newPage({ viewport: { width: 1440, height: 960 } });
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
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    assert.ok(await page.locator('svg.topology g.node.verdict-spof[data-node="redis"]').isVisible());
    assert.ok(await page.locator('svg.topology g.node.verdict-ok[data-node="web2"]').isVisible());
    const fill = await page.locator('svg.topology g.verdict-spof[data-node="redis"] rect').evaluate((el) => getComputedStyle(el).stroke);
    const okFill = await page.locator('svg.topology g.verdict-ok[data-node="web2"] rect').evaluate((el) => getComputedStyle(el).stroke);
    assert.notEqual(fill, okFill, 'SPOF and survivor drawn differently');
    assert.match(await page.locator('.verdict').innerText(), /1 single point of failure/);
    assert.equal(await page.locator('table.scorecard tbody tr').count(), 3, 'the baseline row and the two faults');
    assert.match(await page.locator('table.scorecard tr.row-baseline').innerText(), /no fault \(baseline\)\s+—\s+0\s+398\s+515\s+417/);
    assert.match(await page.locator('p.meta').innerText(), /longest gap with no fault 515 ms[\s\S]*host 2 cores/);
    assert.match(await page.locator('table.verdicts').innerText(), /redis[\s\S]*single point of failure[\s\S]*19 %/);
    await screenshot(page, 'audit-report.png');
    assert.deepEqual(blocked, [], 'no request other than file:');
    assert.deepEqual(problems, []);
    await page.close();
  });
});
