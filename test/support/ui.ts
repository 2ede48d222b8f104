/** Shared by the UI, integration and VS Code tiers: Chromium (from bench/chromium.ts), CLI runs, screenshots. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { runLabCli } from './integration';

export const ROOT = path.resolve(__dirname, '..', '..');
export { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../bench/chromium';

/** The lab CLI as a subprocess (shared with the integration tier). */
export const runCli = runLabCli;

/**
 * Saves to test-results/ (a CI artifact). A `readme` screenshot is also copied to media/screenshots/
 * only when UPDATE_README_SCREENSHOTS=1 (`npm run screenshots`): `npm test` leaves the tree clean.
 */
export async function screenshot(page: Page, name: string, readme = false): Promise<string> {
  const dir = path.join(ROOT, 'test-results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  await page.screenshot({ path: file, fullPage: true });
  if (readme && process.env.UPDATE_README_SCREENSHOTS === '1') {
    fs.mkdirSync(path.join(ROOT, 'media', 'screenshots'), { recursive: true });
    fs.copyFileSync(file, path.join(ROOT, 'media', 'screenshots', name));
  }
  return file;
}
