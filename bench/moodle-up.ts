/**
 * Moodle `up` with the site cache: a cold `up` (Moodle's installer + test course, then the site
 * is saved in the cache), `destroy`, and a second `up` of the same source (the site restored from
 * the cache). Prints both durations and the install/restore parts the state records.
 *
 *   MOODLE_LAB_TEST_SOURCE=/path/to/moodle node --import tsx bench/moodle-up.ts
 *
 * Uses its own lab name and a fresh lab home (so an empty site cache), destroys the lab at the end.
 * Targets (issue "Speed and overload"): second `up` ≤ 60 s, the first ≤ 4 min (images cached).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDockerClient } from '../src/docker/dockerode-client';
import { controllerFactory } from '../src/host/assemble';
import type { MoodleLabState } from '../src/moodle/install';
import { LAB_ROOT } from './support';
import { errText } from '../src/core/errors';

const LAB = process.env.BENCH_LAB ?? 'mlb-moodle-up';
const SOURCE = process.env.MOODLE_LAB_TEST_SOURCE;

async function main() {
  if (!SOURCE) {
    process.stderr.write('set MOODLE_LAB_TEST_SOURCE to a Moodle source folder or archive\n');
    process.exit(2);
  }
  const docker = createDockerClient();
  await docker.ping();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'moodle-lab-bench-up-'));
  const controller = controllerFactory({
    docker,
    home,
    labRoot: LAB_ROOT,
    reporter: { step: (m) => process.stderr.write(`  ${m}\n`), detail: () => undefined },
  })(LAB);
  await controller.destroy();
  const up = async (what: string) => {
    process.stderr.write(`${what}\n`);
    const t0 = performance.now();
    const status = await controller.up({ moodleSource: SOURCE });
    const s = (performance.now() - t0) / 1000;
    const unhealthy = status.nodes.filter((n) => !n.healthy).map((n) => n.name);
    if (unhealthy.length || !status.moodle.installed)
      throw new Error(`after ${what}: unhealthy ${unhealthy.join(', ') || '-'}, installed ${status.moodle.installed}`);
    return { s, moodle: controller.engine.state()!.extra.moodle as MoodleLabState };
  };
  try {
    const cold = await up('cold up (installer)');
    await controller.destroy();
    const warm = await up('second up after destroy (site cache)');
    const f = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(1));
    console.log(
      `cold up:   ${cold.s.toFixed(1)} s  (from ${cold.moodle.installedFrom}: install ${f(cold.moodle.installSeconds)} s, test course ${f(cold.moodle.contentSeconds)} s, saving the site ${f(cold.moodle.snapshotSeconds)} s)`,
    );
    console.log(`second up: ${warm.s.toFixed(1)} s  (from ${warm.moodle.installedFrom}: restore ${f(warm.moodle.restoreSeconds)} s)`);
    console.log(
      `machine: ${os.cpus().length} CPUs, load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    await controller.destroy();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${errText(err)}\n`);
  process.exit(1);
});
