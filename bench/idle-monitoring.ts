/**
 * Idle monitoring overhead: the CPU the host process (CLI/extension) spends keeping a live
 * snapshot of a healthy, idle lab — Docker events plus the 1 s light refresh the dashboard uses.
 * Target (issue "Faults, maintenance and live cluster state"): ≤ 5 % of one core.
 *
 *   npm run lab -- up --no-moodle            (any running lab)
 *   node --import tsx bench/idle-monitoring.ts [--lab moodle-lab] [--seconds 60]
 */
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { createDockerClient } from '../src/docker/dockerode-client';
import { assembleLab, controllerFactory } from '../src/host/assemble';
import { LAB_ROOT } from './support';
import { errText } from '../src/core/errors';

async function main() {
  const { values } = parseArgs({ options: { lab: { type: 'string' }, seconds: { type: 'string' } } });
  const lab = values.lab ?? process.env.MOODLE_LAB ?? 'moodle-lab';
  const seconds = Number(values.seconds ?? 60);
  const docker = createDockerClient();
  const controller = controllerFactory({ docker, labRoot: LAB_ROOT })(lab);
  const first = await controller.status();
  if (first.state !== 'running') throw new Error(`lab "${lab}" is ${first.state}: bring it up first`);
  const host = assembleLab({ controller, labRoot: LAB_ROOT });
  const { store } = host;
  let snapshots = 0;
  const unsubscribe = store.subscribe(() => snapshots++, { intervalMs: 1000 });
  // Let the first refresh settle, then measure.
  await new Promise((r) => setTimeout(r, 3000));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  unsubscribe();
  await host.dispose();
  const pct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
  process.stdout.write(
    [
      `machine: ${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}; lab "${lab}" (${first.nodes.length} nodes, idle)`,
      '',
      '| measure | value | target |',
      '|---|---|---|',
      `| host process CPU while monitoring (1 s refresh + Docker events), ${seconds} s | ${pct.toFixed(2)} % of one core | ≤ 5 % |`,
      `| snapshots delivered (only on change) | ${snapshots} | — |`,
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${errText(err)}\n`);
  process.exit(1);
});
