/**
 * Dashboard update cost per snapshot in Chromium, at 11 nodes, and proof that mermaid is not
 * re-rendered on state-only changes. No Docker needed: a synthetic lab feeds the real server.
 *   npm run bench:dashboard        (needs /usr/bin/chromium)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { startDashboardServer } from '../src/dashboard/server';
import type { LabSnapshot } from '../src/protocol/snapshot';
import { roleDisplays } from '../src/roles';
import { SnapshotStore } from '../src/state/snapshot-store';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium';
import { quietDocker, syntheticStatus } from './synthetic-lab';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--quiet', '--only', 'webview'], { stdio: 'inherit' });
  let tick = 0;
  const store = new SnapshotStore({ lab: 'bench', docker: quietDocker, collect: async () => syntheticStatus(tick++) });
  const server = await startDashboardServer({
    lab: 'bench',
    store,
    actions: { fault: async () => 'ok', heal: async () => 'ok', maintenance: async () => 'ok' },
    root,
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(server.url);
    await page.waitForFunction(
      () => (window.labDashboard?.stats.renders ?? 0) >= 1 && document.querySelectorAll('#diagram g.node.labnode').length === 11,
      undefined,
      { timeout: 30_000 },
    );

    // 1. 100 state-only updates through the update function (alternating web2 down/up, counters changing).
    const snapshots: LabSnapshot[] = Array.from({ length: 100 }, (_, i) => ({
      ...syntheticStatus(i),
      revision: 10_000 + i,
      roles: roleDisplays(),
      activeFaults: [],
      events: [{ seq: 10_000 + i, atMs: Date.now(), source: 'docker', severity: 'warn', node: 'web2', text: `web2 event ${i}` }],
    }));
    const scriptBefore = await metric(cdp, 'ScriptDuration');
    // Run from a page task (a timer), not from the CDP evaluation itself, so Chromium counts it as page scripting.
    const res = await page.evaluate(
      (snaps) =>
        new Promise<{ renders: number; mean: number; p50: number; p95: number; max: number }>((resolve, reject) =>
          setTimeout(async () => {
            const d = window.labDashboard;
            if (!d) return reject(new Error('no dashboard'));
            const renders0 = d.stats.renders;
            const times: number[] = [];
            for (const s of snaps) {
              const t0 = performance.now();
              await d.update(s);
              times.push(performance.now() - t0);
            }
            times.sort((a, b) => a - b);
            resolve({
              renders: d.stats.renders - renders0,
              mean: times.reduce((a, b) => a + b, 0) / times.length,
              p50: times[49] ?? 0,
              p95: times[94] ?? 0,
              max: times[99] ?? 0,
            });
          }, 0),
        ),
      snapshots,
    );
    const scriptMs = ((await metric(cdp, 'ScriptDuration')) - scriptBefore) * 1000;

    // 2. Live: the real server at 1 Hz for 10 s (web2 flapping every snapshot).
    const live0 = await page.evaluate(() => ({ ...window.labDashboard!.stats }));
    const cpu0 = await metric(cdp, 'ScriptDuration');
    await page.waitForTimeout(10_000);
    const live1 = await page.evaluate(() => ({ ...window.labDashboard!.stats }));
    const cpu1 = await metric(cdp, 'ScriptDuration');
    const liveUpdates = live1.updates - live0.updates;
    fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(root, 'test-results', 'bench-dashboard.png'), fullPage: true });

    const out = {
      nodes: 11,
      updateFunction: {
        updates: snapshots.length,
        meanMs: round(res.mean),
        p50Ms: round(res.p50),
        p95Ms: round(res.p95),
        maxMs: round(res.max),
        scriptingMsPerUpdate: round(scriptMs / snapshots.length),
        mermaidRenders: res.renders,
      },
      live1Hz: {
        seconds: 10,
        updates: liveUpdates,
        meanUpdateMs: round((live1.totalUpdateMs - live0.totalUpdateMs) / Math.max(1, liveUpdates)),
        scriptingMsPerSecond: round(((cpu1 - cpu0) * 1000) / 10),
        mermaidRenders: live1.renders - live0.renders,
      },
      targetMs: 10,
    };
    console.log(JSON.stringify(out, null, 2));
    console.log(
      `update cost per snapshot: mean ${out.updateFunction.meanMs} ms, p95 ${out.updateFunction.p95Ms} ms, scripting ${out.updateFunction.scriptingMsPerUpdate} ms (target ≤ 10 ms); mermaid renders on ${snapshots.length} state-only updates: ${res.renders}; live 1 Hz: ${liveUpdates} updates, ${out.live1Hz.mermaidRenders} renders`,
    );
    fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bench', 'results', 'dashboard-update.json'), JSON.stringify(out, null, 2) + '\n');
    if (res.renders !== 0 || out.live1Hz.mermaidRenders !== 0) process.exitCode = 1;
  } finally {
    await browser.close();
    await server.close();
    store.dispose();
  }
}

const round = (v: number) => Math.round(v * 1000) / 1000;
async function metric(cdp: { send(m: 'Performance.getMetrics'): Promise<{ metrics: { name: string; value: number }[] }> }, name: string): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === name)?.value ?? 0;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
