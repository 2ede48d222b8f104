/** The CLI's `dashboard` command: serve the browser dashboard until Ctrl-C. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LabController } from '../controller/lab-controller';
import { assembleLab } from '../host/assemble';
import { scrape } from '../metrics/server';
import { startDashboardServer } from './server';

export interface RunDashboardOptions {
  controller: LabController;
  port?: number;
  /** Package root (holds dist/ and media/). */
  root: string;
  out(text: string): void;
  err(text: string): void;
  /** Labs a scenario may use besides this one (another preset); default: this one. */
  labFor?: (name: string) => LabController;
  /** Where reports are written (default ~/.moodle-lab/reports/<lab>: `destroy` keeps them). */
  reportsDir?: string;
  /** Scenario files the page may run besides the built-ins (e.g. named on the command line). */
  scenarioFiles?: string[];
  /** Resolves when the server should stop (default: SIGINT/SIGTERM). */
  until?: Promise<void>;
}

function ensureWebviewBundle(root: string, err: (t: string) => void): void {
  if (fs.existsSync(path.join(root, 'dist', 'webview', 'main.js'))) return;
  const build = path.join(root, 'scripts', 'build.mjs');
  if (!fs.existsSync(build)) throw new Error('the dashboard bundle (dist/webview/main.js) is missing');
  err('building the dashboard bundle…\n');
  execFileSync(process.execPath, [build, '--quiet', '--only', 'webview'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function runDashboard(o: RunDashboardOptions): Promise<number> {
  const { controller } = o;
  await controller.docker.ping();
  ensureWebviewBundle(o.root, o.err);
  const log = (l: string) => o.err(`${l}\n`);
  const host = assembleLab({ controller, labFor: o.labFor, labRoot: path.join(o.root, 'lab'), reportsDir: o.reportsDir, log });
  const { store, live } = host;
  const server = await startDashboardServer({
    lab: controller.lab,
    store,
    actions: host.actions,
    live: host.controls,
    reportsDir: host.reportsDir,
    scenarioFiles: () => (o.scenarioFiles ?? []).map((f) => path.resolve(f)),
    // Prometheus reads the same snapshot the page shows (no extra collection), and the page's load.
    metrics: (accept) =>
      scrape({ lab: controller.lab, status: async () => store.current() ?? controller.status(), load: () => live.load.metricsSource() }, accept),
    root: o.root,
    port: o.port,
    log,
  });
  o.out(`dashboard of lab ${controller.lab}: ${server.url}\n(127.0.0.1 only; the token in the URL is required; Ctrl-C stops it)\n`);
  o.out(`metrics for Prometheus: http://127.0.0.1:${server.port}/metrics (token as ?token= or Authorization: Bearer)\n`);
  const until =
    o.until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  await until;
  await live.dispose();
  await server.close();
  store.dispose();
  o.err('dashboard stopped\n');
  return 0;
}
