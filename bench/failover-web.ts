/**
 * Benchmark (a): SIGKILL of one web node under 30 closed-loop users, HAProxy tuned vs defaults,
 * side by side, on one lab: the defaults profile is rendered and hot-reloaded into the lab's
 * HAProxy (SIGUSR2 to its master process) for the second run, then tuned is put back.
 * Faults go straight through the Docker API (DockerFaults); the node is started again after
 * each run and the next run waits until HAProxy has every web server UP.
 *
 *   BENCH_LAB=mlt-load MOODLE_LAB_HOME=/tmp/lh-load node --import tsx bench/failover-web.ts
 *   (BENCH_USERS=30 BENCH_DURATION=60s BENCH_NODE=web2 BENCH_AT=20s BENCH_JOURNEY=moodle|probe)
 */
import { BACKENDS, HaproxyProfile, HAPROXY_CONFIG_PATH, renderHaproxyConfig } from '../src/roles/haproxy';
import { LABEL_NODE, labLabels } from '../src/docker/labels';
import { buildTopology } from '../src/engine/topology';
import { StateStore } from '../src/engine/state';
import { DockerFaults, loadTarget, machineLine, openLab, pad, runtimeOf, waitAllUp } from './support';
import { parseDuration, parseFaultSpec } from '../src/load/faults';
import { DEFAULT_LOAD, runLoad } from '../src/load/run';
import { haproxySource } from '../src/load/snapshots';
import type { LoadResult } from '../src/metrics/export';

const LAB = process.env.BENCH_LAB ?? 'mlt-load';
const USERS = Number(process.env.BENCH_USERS ?? 30);
const DURATION = parseDuration(process.env.BENCH_DURATION ?? '60s');
const NODE = process.env.BENCH_NODE ?? 'web2';
const AT = process.env.BENCH_AT ?? '20s';
const log = (m: string) => process.stderr.write(`  ${m}\n`);

async function main() {
  const { controller, docker } = openLab(LAB);
  const state = new StateStore(process.env.MOODLE_LAB_HOME).load(LAB);
  if (!state) throw new Error(`lab ${LAB} does not exist`);
  const status = await controller.status();
  const journey = (process.env.BENCH_JOURNEY ?? (status.moodle.installed ? 'moodle' : 'probe')) as 'moodle' | 'probe';
  const lb = (await docker.containers.list(labLabels(LAB))).find((c) => c.labels[LABEL_NODE] === 'haproxy');
  if (!lb) throw new Error('no haproxy container');
  const runtime = runtimeOf(status);
  const topology = buildTopology(state.definition);
  const setProfile = async (p: HaproxyProfile) => {
    await docker.containers.putFile(lb.id, HAPROXY_CONFIG_PATH, renderHaproxyConfig(topology, p));
    await docker.containers.kill(lb.id, 'SIGUSR2'); // master-worker reload
    await new Promise((r) => setTimeout(r, 1500));
    await waitAllUp(runtime, BACKENDS.web);
  };

  const results: [HaproxyProfile, LoadResult][] = [];
  try {
    for (const profile of ['tuned', 'defaults'] as HaproxyProfile[]) {
      log(`profile ${profile}: reloading HAProxy`);
      await setProfile(profile);
      const faults = new DockerFaults(docker, LAB);
      const run = await runLoad(
        loadTarget(await controller.status()),
        {
          ...DEFAULT_LOAD,
          journey,
          users: USERS,
          durationMs: DURATION,
          rampUpMs: 5000,
          faults: [parseFaultSpec(`kill ${NODE}@${AT}`)],
          probeHz: 2,
          integrityHz: 0,
        },
        { injector: faults, sources: [haproxySource(status.endpoints.haproxyRuntime!)], progress: (m) => log(`${profile}: ${m}`) },
      );
      results.push([profile, run.result]);
      log(`profile ${profile}: starting ${NODE} again`);
      await faults.heal();
      await waitAllUp(runtime, BACKENDS.web);
    }
  } finally {
    if (state.extra.haproxyProfile !== 'defaults') await setProfile('tuned').catch((e) => log(`could not restore tuned: ${e}`));
  }

  const row = (p: string, r: LoadResult) => {
    const f = r.faults[0]!;
    return [
      p,
      r.requests,
      r.failures,
      `${(r.errorRate * 100).toFixed(2)} %`,
      r.apdex.toFixed(3),
      r.latencyMs.p99,
      r.latencyMs.max,
      f.detectedMs ?? '—',
      f.failedRequests,
      f.blackoutMs,
      f.p99Ms ?? '—',
      f.maxMs ?? '—',
    ];
  };
  process.stdout.write(
    `\nfailover-web: kill ${NODE} at ${AT} under ${USERS} users, ${DURATION / 1000} s, ${journey} journey, lab ${LAB}\n${machineLine()}\n\n`,
  );
  process.stdout.write(
    pad([
      [
        'haproxy',
        'requests',
        'failed',
        'error rate',
        'apdex',
        'p99 ms',
        'max ms',
        'detected ms',
        'failed in window',
        'blackout ms',
        'window p99',
        'window max',
      ],
      ...results.map(([p, r]) => row(p, r)),
    ]) + '\n',
  );
  process.stdout.write(`\n${JSON.stringify(Object.fromEntries(results.map(([p, r]) => [p, r])))}\n`);
}

main().catch((err) => {
  process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
