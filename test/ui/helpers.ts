/** Shared by the UI tier and the bench: Chromium flags (shared/docs/VSCODE-TESTING.md), CLI runs, screenshots. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

export function runCli(args: string[], home: string, timeoutMs = 1_200_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'lab.mjs'), ...args], { cwd: ROOT, env: { ...process.env, MOODLE_LAB_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => {
      stderr += c;
      if (process.env.LAB_TEST_VERBOSE) process.stderr.write(c);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Saves to test-results/ (a CI artifact); `readme` also copies it to media/screenshots/. */
export async function screenshot(page: Page, name: string, readme = false): Promise<string> {
  const dir = path.join(ROOT, 'test-results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  await page.screenshot({ path: file, fullPage: true });
  if (readme) {
    fs.mkdirSync(path.join(ROOT, 'media', 'screenshots'), { recursive: true });
    fs.copyFileSync(file, path.join(ROOT, 'media', 'screenshots', name));
  }
  return file;
}
