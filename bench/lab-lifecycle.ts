/**
 * Lab lifecycle benchmark: cold image build (no layer cache), cold `up`, warm resume
 * (`down` then `up`), and the whole lab's memory (sum over its containers, idle).
 *
 *   npm run bench:lab                 (uses its own lab name, destroys it at the end)
 *   BENCH_KEEP_CACHE=1 npm run bench:lab   (build with Docker's layer cache: a warm build)
 *   npm run bench:lab -- --topology ha-full   (a built-in's name or a lab file; default ha)
 *
 * Targets (issue "Lab engine"): resume ≤ 60 s, whole HA lab ≤ 3 GB.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { createDockerClient } from '../src/docker/dockerode-client';
import { LabEngine } from '../src/engine/lab';
import { labLabels } from '../src/docker/labels';
import { StateStore } from '../src/engine/state';
import { collectStatus } from '../src/engine/status';
import { buildTopology } from '../src/engine/topology';
import { loadLabFile } from '../src/scenarios/lab-file';
import { realClock, waitFor } from '../src/core/wait';
import { errText } from '../src/core/errors';

const LAB = process.env.BENCH_LAB ?? 'mlb-bench';

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, (performance.now() - t0) / 1000];
}

async function main() {
  const docker = createDockerClient();
  await docker.ping();
  const home = path.join(os.tmpdir(), 'moodle-lab-bench');
  const engine = new LabEngine(
    {
      docker,
      store: new StateStore(home),
      labRoot: path.resolve(__dirname, '..', 'lab'),
      reporter: { step: (m) => process.stderr.write(`  ${m}\n`), detail: () => undefined },
    },
    LAB,
  );
  await engine.destroy();
  const loadAtStart = os.loadavg()[0]!.toFixed(1);
  // --topology <builtin|file.lab.yaml> (default ha): checked like `up --topology` (file:line:col).
  const at = process.argv.indexOf('--topology');
  const ref = at >= 0 ? process.argv[at + 1] : 'ha';
  if (!ref) throw new Error('--topology needs a built-in name or a lab file');
  const definition = loadLabFile(ref, path.resolve(__dirname, '..', 'lab'));
  const topology = buildTopology(definition);
  const n = topology.nodes.length;
  const images = new Set(topology.nodes.map((x) => x.spec.image)).size;
  const rebuild = !process.env.BENCH_KEEP_CACHE;

  process.stderr.write(`build (${rebuild ? 'no layer cache' : 'layer cache allowed'})\n`);
  const [, buildS] = await timed(() => engine.ensureImages(topology, 'debian:trixie-slim', { rebuild }));

  process.stderr.write('cold up\n');
  const [, upS] = await timed(() => engine.up({ definition }));
  // `up` returned with every node ready; on a loaded host a status exec can still time out once
  // (a node then reads unhealthy): the status must say healthy within 2 minutes, or the bench fails.
  const allHealthy = (when: string) =>
    waitFor(
      async () => {
        const s = await collectStatus({ docker }, LAB, engine.state());
        const bad = s.nodes.filter((x) => !x.healthy).map((x) => `${x.name}${x.detail ? ` (${x.detail})` : ''}`);
        return bad.length ? { ok: false as const, problem: `${when}, unhealthy: ${bad.join(', ')}` } : { ok: true as const, value: s };
      },
      { what: `every node healthy ${when}`, timeoutMs: 120_000, intervalMs: 2000 },
    );
  await allHealthy('after up');

  // Idle memory: let start-up transients (SST, opcache warm-up) settle: sample until two
  // consecutive samples 2 s apart differ by < 2 %, at most 60 s.
  const sample = async () => {
    const list = await docker.containers.list(labLabels(LAB));
    const per = await Promise.all(list.map(async (c) => [c.labels['io.moodle-lab.node'] ?? c.name, await docker.containers.memoryBytes(c.id)] as const));
    return { total: per.reduce((s, [, b]) => s + b, 0), per };
  };
  let last = await sample();
  const mem = await waitFor(
    async () => {
      await realClock.sleep(2000);
      const now = await sample();
      const stable = Math.abs(now.total - last.total) / last.total < 0.02;
      last = now;
      return stable ? { ok: true as const, value: now } : { ok: false as const, problem: 'memory still moving' };
    },
    { what: 'idle memory', timeoutMs: 60_000, intervalMs: 0 },
  ).catch(() => last);

  process.stderr.write('down\n');
  const [, downS] = await timed(() => engine.down());
  process.stderr.write('warm resume\n');
  const [, resumeS] = await timed(() => engine.up());
  await allHealthy('after resume');

  if (!process.env.BENCH_KEEP_LAB) await engine.destroy();
  const load = os.loadavg().map((l) => l.toFixed(1));

  const mib = (b: number) => (b / 1024 / 1024).toFixed(0);
  const lines = [
    `machine: ${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, ${os.type()} ${os.release()}, node ${process.version}; load average ${load.join(' / ')} at the end (at start ${loadAtStart})`,
    '',
    `topology: ${definition.name} (${n} nodes)`,
    '',
    '| measure | value | target |',
    '|---|---|---|',
    `| cold build, ${images} images (${rebuild ? 'no layer cache' : 'layer cache'}) | ${buildS.toFixed(1)} s | — |`,
    `| cold \`up\` (images present, ${n} nodes ready) | ${upS.toFixed(1)} s | — |`,
    `| \`down\` | ${downS.toFixed(1)} s | — |`,
    `| warm resume (\`up\` after \`down\`) | ${resumeS.toFixed(1)} s | ≤ 60 s |`,
    `| whole lab memory, idle (sum of ${n} containers) | ${mib(mem.total)} MiB | ${definition.name === 'ha-full' ? '≤ 1536 MiB' : '≤ 3072 MiB'} |`,
    '',
    'per container (MiB): ' +
      mem.per
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([n, b]) => `${n} ${mib(b)}`)
        .join(', '),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${errText(err)}\n`);
  process.exit(1);
});
