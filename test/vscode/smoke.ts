/**
 * VS Code itself (code-server) driven by headless Chromium: the activity-bar view lists the
 * nodes of a running lab, and "Open Dashboard" opens the webview, which renders the topology.
 * With PREDICT_SCENARIO (a scenario file with one `predict` step): Run Scenario from the palette,
 * the prediction answered in VS Code's quick pick, the graded result in the toast and the webview.
 *   node --import tsx test/vscode/smoke.ts <code-server URL> <workspace folder>
 */
import { strict as assert } from 'node:assert';
import { chromium, Page } from 'playwright-core';
import { createDockerClient } from '../../src/docker/dockerode-client';
import { CHROMIUM_ARGS, CHROMIUM_PATH, screenshot } from '../support/ui';

/** The names in "Developer: Show Running Extensions" (the extensions VS Code has activated). */
async function runningExtensions(page: Page): Promise<string[]> {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').fill('>Developer: Show Running Extensions');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show Running Extensions' }).first().waitFor({ timeout: 20_000 });
  await page.keyboard.press('Enter');
  const names = page.locator('.runtime-extensions-editor .monaco-list-row .name');
  await names.first().waitFor({ timeout: 30_000 });
  return names.allTextContents();
}

const NODES = ['haproxy', 'web1', 'web2', 'web3', 'galera1', 'galera2', 'galera3', 'gluster1', 'gluster2', 'gluster3', 'redis'];

async function main(): Promise<void> {
  const [base, folder] = process.argv.slice(2);
  if (!base || !folder) throw new Error('usage: smoke.ts <url> <folder>');
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  const t0 = Date.now();
  const step = (m: string) => console.log(`[vscode ${((Date.now() - t0) / 1000).toFixed(1)} s] ${m}`);
  try {
    const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    await page.goto(`${base}/?folder=${encodeURIComponent(folder)}`);
    step('workbench loading');
    const activity = page.locator('.activitybar [aria-label^="Moodle HA Lab"]').first();
    await activity.waitFor({ timeout: 90_000 });
    // Lazy activation: once the extension host has started the extensions that start with it,
    // ours is still not among them — it waits for its view, a command or a scenario file.
    let running = await runningExtensions(page);
    const deadline = Date.now() + 10_000;
    while (running.length < 3 && Date.now() < deadline) running = await runningExtensions(page);
    step(`running extensions before the view opens: ${running.join(', ')}`);
    assert.ok(running.length > 0, 'the running-extensions list is readable');
    assert.ok(!running.some((n) => /Moodle HA Lab/i.test(n)), `the extension is not active before its view opens (running: ${running.join(', ')})`);
    await activity.click();
    step('activity-bar view opened');
    for (const n of NODES) {
      await page.locator(`.monaco-list-row[aria-label^="${n} "], .monaco-list-row[aria-label="${n}"]`).first().waitFor({ timeout: 60_000 });
    }
    const labels = await page.locator('.pane-body .monaco-list-row .label-name').allTextContents();
    step(`tree rows: ${labels.join(', ')}`);
    for (const n of NODES) assert.ok(labels.includes(n), `tree lists ${n}`);
    running = await runningExtensions(page);
    assert.ok(
      running.some((n) => /Moodle HA Lab/i.test(n)),
      `the view activated the extension (running: ${running.join(', ')})`,
    );
    step('activated by its view');
    await page.mouse.move(900, 600); // away from the activity-bar hover
    await page.waitForTimeout(500);
    await screenshot(page, 'vscode-tree.png', true);

    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').fill('>Moodle HA Lab: Open Dashboard');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open Dashboard' }).first().waitFor({ timeout: 20_000 });
    await page.keyboard.press('Enter');
    step('Open Dashboard run');
    const outer = page.frameLocator('iframe.webview.ready');
    const inner = outer.frameLocator('iframe#active-frame');
    await inner.locator('#diagram g.node.labnode').nth(10).waitFor({ timeout: 60_000 });
    const count = await inner.locator('#diagram g.node.labnode').count();
    assert.equal(count, 11, 'the webview renders the 11 nodes');
    step(`webview rendered the topology (${count} nodes)`);
    await page.waitForTimeout(1000);
    await screenshot(page, 'vscode-dashboard.png', true);

    // A failover for the README: kill web2, see it down in the tree and the webview, start it again.
    const lab = process.env.LAB;
    if (lab) {
      const docker = createDockerClient();
      const web2 = (await docker.containers.list({ 'io.moodle-lab.lab': lab, 'io.moodle-lab.node': 'web2' }))[0];
      if (web2) {
        await docker.containers.kill(web2.id);
        await inner.locator('#diagram g.node[data-node="web2"][data-state="down"]').waitFor({ timeout: 10_000 });
        await page.locator('.monaco-list-row[aria-label^="web2 "]', { hasText: 'exited' }).first().waitFor({ timeout: 15_000 });
        step('web2 killed: down in the webview and in the tree');
        await page.waitForTimeout(2500);
        await screenshot(page, 'vscode-failover.png', true);
        await docker.containers.start(web2.id);
        await inner.locator('#diagram g.node[data-node="web2"][data-state="up"]').waitFor({ timeout: 120_000 });
        step('web2 back up');
      }
    }
    const predict = process.env.PREDICT_SCENARIO;
    if (predict) {
      await page.keyboard.press('F1');
      await page.locator('.quick-input-widget input').fill('>Moodle HA Lab: Run Scenario');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Run Scenario' }).first().waitFor({ timeout: 20_000 });
      await page.keyboard.press('Enter');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open file' }).first().click({ timeout: 20_000 });
      // code-server's simple file dialog: type the path, Enter.
      const input = page.locator('.quick-input-widget input');
      const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'b) Yes' }).first();
      // The dialog opens with its own folder in the box and completes what is typed: wait for it to
      // show that folder, type the path until the box holds it, Enter once it lists the file's
      // folder; again (up to 3 times) while the dialog is still open 3 s after Enter.
      await page.waitForFunction(() => /\/$/.test((document.querySelector('.quick-input-widget input') as HTMLInputElement | null)?.value ?? ''), undefined, {
        timeout: 20_000,
      });
      const failed = page.locator('.notifications-toasts .notification-list-item', { hasText: 'Run Scenario failed' }).first();
      const dialog = page.locator('.quick-input-widget', { hasText: 'Scenario file' }).first();
      /** What follows Enter: the prediction's quick pick, Run Scenario's error, or the file dialog still open 3 s later. */
      const afterEnter = async (): Promise<'asked' | 'failed' | 'still asking' | 'timeout'> => {
        let openSince: number | undefined;
        for (const until = Date.now() + 120_000; Date.now() < until; await page.waitForTimeout(250)) {
          if (await row.isVisible()) return 'asked';
          if (await failed.isVisible()) return 'failed';
          if (!(await dialog.isVisible())) openSince = undefined;
          else if (openSince === undefined) openSince = Date.now();
          else if (Date.now() - openSince > 3_000) return 'still asking';
        }
        return 'timeout';
      };
      for (let attempt = 1; ; attempt++) {
        // The dialog may put its own folder back while it loads it: fill again until the box holds the path.
        let typed = false;
        for (let fill = 1; fill <= 10 && !typed; fill++) {
          await input.fill(predict);
          typed = await page
            .waitForFunction((want) => (document.querySelector('.quick-input-widget input') as HTMLInputElement | null)?.value.startsWith(want), predict, {
              timeout: 1_500,
            })
            .then(() => true)
            .catch(() => false);
        }
        if (typed) {
          // Enter only once the dialog lists the file's folder (it ignores Enter while it is still loading it).
          const base = predict.slice(predict.lastIndexOf('/') + 1);
          await page
            .locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: base })
            .first()
            .waitFor({ timeout: 10_000 })
            .catch(() => undefined);
          await page.keyboard.press('Enter');
          const outcome = await afterEnter();
          if (outcome === 'timeout') {
            const shot = await screenshot(page, 'vscode-file-dialog-failure.png');
            throw new Error(`after Enter in the file dialog: no prediction quick pick, no error and the dialog gone, for 120 s (${shot})`);
          }
          if (outcome === 'failed') throw new Error(`Run Scenario failed: ${(await failed.textContent()) ?? ''}`);
          if (outcome === 'asked') break;
        }
        const box = await input.inputValue().catch(() => '(no box)');
        step(`file dialog, attempt ${attempt}: ${typed ? 'Enter pressed, it still asks for a file' : 'the box never held the path'}; it holds "${box}"`);
        if (attempt === 3) throw new Error(`the file dialog did not take ${predict} in 3 attempts`);
      }
      step('Run Scenario: predict-vsc.yaml');
      assert.match((await page.locator('.quick-input-widget input').getAttribute('placeholder')) ?? '', /Will any request fail when web2 is killed/);
      await screenshot(page, 'vscode-predict-pick.png', true);
      await row.click();
      step('prediction answered in the quick pick');
      const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'Scenario predict-vsc' }).first();
      await toast.waitFor({ timeout: 180_000 });
      const text = (await toast.textContent()) ?? '';
      assert.match(text, /predictions [01]\/1 right/, text);
      const graded = inner.locator('li.predict-grade[data-question="fails"]');
      await graded.waitFor({ timeout: 30_000 });
      assert.match((await graded.textContent()) ?? '', /your answer: Yes · measured: \d+/);
      step(`scenario graded: ${await graded.getAttribute('data-grade')} (${text.slice(0, 160)})`);
      await screenshot(page, 'vscode-predict-graded.png');
    }
    step('ok');
  } catch (err) {
    const page = browser.contexts()[0]?.pages()[0];
    if (page) await screenshot(page, 'vscode-failure.png').catch(() => undefined);
    throw err;
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
