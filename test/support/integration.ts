/**
 * Integration helpers: run the real CLI as a subprocess (the contract users and checks call),
 * and look at the real engine through the lab's DockerClient. Cleanup goes by label.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDockerClient } from '../../src/docker/dockerode-client';
import type { DockerClient } from '../../src/docker/types';
import { LABEL_LAB, LABEL_NODE } from '../../src/docker/labels';
import { LabEngine } from '../../src/engine/lab';
import { StateStore } from '../../src/engine/state';
import type { LabStatus } from '../../src/protocol/status';
import { errText } from '../../src/core/errors';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node scripts/lab.mjs <args>` with MOODLE_LAB_HOME=home; stderr echoed with LAB_TEST_VERBOSE. */
export function runLabCli(args: string[], home: string, timeoutMs = 1_200_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'lab.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, MOODLE_LAB_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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

export class LabUnderTest {
  readonly home = fs.mkdtempSync(path.join(os.tmpdir(), 'moodle-lab-it-'));
  readonly docker: DockerClient = createDockerClient();

  constructor(public readonly lab: string) {}

  /** `npm run lab -- <args> --lab <lab>`, run as `node scripts/lab.mjs` (what npm runs). */
  cli(args: string[], timeoutMs = 1_200_000): Promise<CliRun> {
    return runLabCli([...args, '--lab', this.lab], this.home, timeoutMs);
  }

  async cliOk(args: string[]): Promise<CliRun> {
    const r = await this.cli(args);
    if (r.code !== 0) throw new Error(`lab ${args.join(' ')} exited ${r.code}\n${r.stderr.slice(-4000)}`);
    return r;
  }

  async status(): Promise<LabStatus> {
    return JSON.parse((await this.cliOk(['status', '--json'])).stdout) as LabStatus;
  }

  async containerId(node: string): Promise<string> {
    const [c] = await this.docker.containers.list({ [LABEL_LAB]: this.lab, [LABEL_NODE]: node });
    if (!c) throw new Error(`no container for ${node}`);
    return c.id;
  }

  /** Objects still labelled for the lab, counted by the engine's own check (by label, never by name). */
  leftovers(): Promise<Record<string, number>> {
    return new LabEngine({ docker: this.docker, store: new StateStore(this.home), labRoot: path.join(ROOT, 'lab') }, this.lab).leftovers();
  }

  /** A suite's end: `destroy`, then nothing labelled for the lab is left (unless LAB_TEST_KEEP). */
  async destroyLeavingNothing(): Promise<void> {
    if (process.env.LAB_TEST_KEEP) return;
    const destroy = await this.cli(['destroy']);
    const left = await this.leftovers();
    assert.deepEqual(
      Object.values(left).filter((n) => n > 0),
      [],
      `labelled objects left: ${JSON.stringify(left)}; destroy exited ${destroy.code}: ${destroy.stderr.slice(-2000)}`,
    );
  }
}

/** Skips the suite, saying why, when no Docker engine answers; otherwise removes what an earlier run of `lab` left. */
export async function freshLabOrSkip(ctx: Mocha.Context, lab: LabUnderTest): Promise<void> {
  const ok = await dockerAvailable();
  if (ok !== true) {
    console.log(`    skipped: no Docker engine answers (${ok}).`);
    ctx.skip();
  }
  await lab.cli(['destroy']);
}

/** True when a Docker engine answers; otherwise the reason, for the skip message. */
export async function dockerAvailable(): Promise<string | true> {
  try {
    await createDockerClient().ping();
    return true;
  } catch (err) {
    return errText(err);
  }
}

export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; setCookie: string | null }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${url}: HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
  }
  return { status: res.status, json, setCookie: res.headers.get('set-cookie') };
}
