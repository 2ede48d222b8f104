/**
 * Benchmark (a): SIGKILL of one web node under 30 closed-loop users → HAProxy's detection, run
 * `--runs` times (default 3) per profile, healed and waited green between runs, printed as
 * min/median/max beside the target (detection ≤ 1 s, median). Profiles side by side on one lab:
 * `defaults` is rendered and hot-reloaded into the lab's HAProxy (SIGUSR2 to its master process)
 * for its runs, then the lab's own profile is put back.
 * Faults go straight through the Docker API (DockerFaults). The journey is Moodle's when the
 * lab has Moodle (auto), else the lab's probes.
 *
 *   npm run bench:failover-web -- --lab NAME [--runs 3] [--profiles tuned,defaults] [--journey auto|moodle|probe]
 *       [--users 30] [--duration 60s] [--node web2] [--at 20s]
 *       [--topology ha [--moodle-source DIR]]   (a lab of its own, destroyed at the end)
 */
import { BACKENDS, HaproxyProfile, HAPROXY_CONFIG_PATH, HAPROXY_PROFILES, renderHaproxyConfig } from '../src/roles/haproxy';
import { LABEL_NODE, labLabels } from '../src/docker/labels';
import { buildTopology } from '../src/engine/topology';
import { DockerFaults, benchLab, healToGreen, loadLine, loadTarget, machineLine, pad, runBench, runtimeOf, waitAllUp } from './support';
import { Figure, faultLoadArgs, faultLoadFlags, injectedFault, parseBenchArgs, summaryRows, UsageError } from './runs';
import { parseFaultSpec } from '../src/load/faults';
import { DEFAULT_LOAD, journeyFor, pacing, runLoad } from '../src/load/run';
import { haproxySource } from '../src/load/snapshots';
import type { LoadResult } from '../src/metrics/export';

const USAGE =
  'bench/failover-web.ts --lab NAME [--runs 3] [--profiles tuned,defaults] [--journey auto|moodle|probe] [--users 30] [--duration 60s] [--node web2] [--at 20s] [--topology ha [--moodle-source DIR]]';
/** HAProxy's detection of a killed web node (tuned profile), median of the runs. */
export const WEB_DETECTION_TARGET_MS = 1000;
const log = (m: string) => process.stderr.write(`  ${m}\n`);

async function main(): Promise<number> {
  const args = parseBenchArgs(
    process.argv.slice(2),
    {
      runs: 3,
      flags: {
        profiles: 'tuned,defaults',
        ...faultLoadFlags(process.env, { duration: '60s', node: 'web2', at: '20s' }),
      },
    },
    process.env,
    'mlt-load',
  );
  const profiles = args.extra.profiles!.split(',');
  for (const p of profiles) if (!(HAPROXY_PROFILES as readonly string[]).includes(p)) throw new UsageError(`--profiles "${p}": ${HAPROXY_PROFILES.join(', ')}`);
  const { users, duration, at, node } = faultLoadArgs(args);

  const { controller, docker, close } = await benchLab(args, log);
  let stopped: string | undefined;
  const state = controller.engine.state();
  if (!state) throw new Error(`lab ${args.lab} does not exist`);
  const status = await controller.status();
  if (!status.nodes.some((n) => n.name === node && n.role === 'web')) throw new UsageError(`--node ${node}: not a web node of lab ${args.lab}`);
  const journey = journeyFor(args.journey, status.moodle.installed);
  const lb = (await docker.containers.list(labLabels(args.lab))).find((c) => c.labels[LABEL_NODE] === 'haproxy');
  if (!lb) throw new Error('no haproxy container');
  const runtime = runtimeOf(status);
  const topology = buildTopology(state.definition);
  const labProfile: HaproxyProfile = state.extra.haproxyProfile === 'defaults' ? 'defaults' : 'tuned';
  const setProfile = async (p: HaproxyProfile) => {
    await docker.containers.putFile(lb.id, HAPROXY_CONFIG_PATH, renderHaproxyConfig(topology, p));
    await docker.containers.kill(lb.id, 'SIGUSR2'); // master-worker reload
    await new Promise((r) => setTimeout(r, 1500)); // the old worker hands over
    await waitAllUp(runtime, BACKENDS.web);
  };

  const results: [HaproxyProfile, LoadResult[]][] = [];
  try {
    for (const profile of profiles as HaproxyProfile[]) {
      log(`profile ${profile}: reloading HAProxy`);
      await setProfile(profile);
      const runs: LoadResult[] = [];
      results.push([profile, runs]);
      for (let i = 1; i <= args.runs; i++) {
        const faults = new DockerFaults(docker, args.lab);
        const tag = `${profile} run ${i}/${args.runs}`;
        const run = await runLoad(
          loadTarget(await controller.status()),
          {
            ...DEFAULT_LOAD,
            journey,
            ...pacing(journey),
            users,
            durationMs: duration,
            rampUpMs: 5000,
            faults: [parseFaultSpec(`kill ${node}@${at}ms`)],
            probeHz: 2,
            integrityHz: 0,
          },
          { injector: faults, sources: [haproxySource(status.endpoints.haproxyRuntime!)], progress: (m) => log(`${tag}: ${m}`) },
        );
        runs.push(run.result);
        log(`${tag}: detected ${injectedFault(run.result)?.detectedMs ?? 'never (or the fault was not injected)'} ms; starting ${node} again`);
        await healToGreen(faults, controller, log);
      }
    }
  } catch (err) {
    // Print what was measured: a run that did not heal back to green ends the series.
    if (err instanceof UsageError) throw err;
    stopped = err instanceof Error ? err.message : String(err);
    log(`stopped early: ${stopped}`);
  } finally {
    await setProfile(labProfile).catch((e) => log(`could not put profile ${labProfile} back: ${e}`));
    await close();
  }

  process.stdout.write(
    `\nfailover-web: kill ${node} at ${at / 1000} s under ${users} users, ${duration / 1000} s, ${journey} journey, lab ${args.lab}, ${args.runs} runs per profile\n${machineLine()}, ${loadLine()}\n`,
  );
  for (const [profile, runs] of results) {
    const fig = (name: string, pick: (r: LoadResult) => number | null | undefined, targetMs?: number): Figure => ({ name, values: runs.map(pick), targetMs });
    const f0 = (r: LoadResult) => injectedFault(r);
    const figures = [
      fig('detected ms', (r) => f0(r)?.detectedMs, profile === 'tuned' ? WEB_DETECTION_TARGET_MS : undefined),
      fig('blackout ms', (r) => f0(r)?.blackoutMs),
      fig('failed in window', (r) => f0(r)?.failedRequests),
      fig('window p99 ms', (r) => f0(r)?.p99Ms),
      fig('window max ms', (r) => f0(r)?.maxMs),
      fig('failed (run)', (r) => r.failures),
      fig('p99 ms (run)', (r) => r.latencyMs.p99),
    ];
    process.stdout.write(
      `\nHAProxy ${profile}: per run detected ms ${runs.map((r) => f0(r)?.detectedMs ?? 'never').join(', ')}; apdex ${runs.map((r) => r.apdex.toFixed(3)).join(', ')}\n`,
    );
    process.stdout.write(pad(summaryRows(figures)) + '\n');
  }
  process.stdout.write(`\n${JSON.stringify(Object.fromEntries(results))}\n`);
  if (stopped) process.stdout.write(`\nSTOPPED EARLY (the figures above are the runs before): ${stopped}\n`);
  return stopped ? 1 : 0;
}

runBench(main, USAGE);
