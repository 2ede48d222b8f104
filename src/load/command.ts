/**
 * `npm run lab -- load [--users N] [--duration 60s] [--ramp-up 5s] [--journey moodle|probe]
 *  [--think 500ms-1s] [--throughput 120] [--fault "kill web2@20s"]... [--heal-at 40s] [--probe-hz 2] [--json] [--jtl FILE]`
 * on the lab from its status. Progress on stderr; the summary (or, with --json, only the
 * contract JSON) on stdout.
 */
import * as fs from 'node:fs';
import { formatSummary, toJtl } from '../metrics/export';
import type { LabStatus, Role } from '../protocol/status';
import { FaultTarget, parseDuration, parseFaultSpec } from './faults';
import { probeTargets } from './node-probes';
import { startMetricsServer } from '../metrics/server';
import { DEFAULT_LOAD, defaultRampUp, journeyFor, JourneyName, LoadOptions, LoadTarget, pacing, startLoad } from './run';
import type { NodeEventSource } from './external';
import { clusterSource, haproxySource, SnapshotSource } from './snapshots';
import { componentOf } from '../metrics/failover';
import { errText } from '../core/errors';

export interface LoadArgs {
  users?: string;
  duration?: string;
  'ramp-up'?: string;
  journey?: string;
  think?: string;
  throughput?: string;
  fault?: string[];
  'heal-at'?: string;
  'probe-hz'?: string;
  json?: boolean;
  jtl?: string;
  'metrics-port'?: string;
}

/** parseArgs options for the load command (merged into the CLI's). */
export const LOAD_OPTIONS = {
  users: { type: 'string' },
  duration: { type: 'string' },
  'ramp-up': { type: 'string' },
  journey: { type: 'string' },
  think: { type: 'string' },
  throughput: { type: 'string' },
  fault: { type: 'string', multiple: true },
  'heal-at': { type: 'string' },
  'probe-hz': { type: 'string' },
  jtl: { type: 'string' },
  'metrics-port': { type: 'string' },
} as const;

export interface LoadController extends FaultTarget {
  status(): Promise<LabStatus>;
}

export interface LoadIo {
  out(text: string): void;
  err(text: string): void;
}

/** Options from the command line; throws `usage(message)` on bad input. */
export function loadOptions(args: LoadArgs, status: LabStatus | undefined, usage: (m: string) => Error): LoadOptions {
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw usage(errText(err));
    }
  };
  const users = args.users !== undefined ? Number(args.users) : DEFAULT_LOAD.users;
  if (!Number.isInteger(users) || users < 1 || users > 1000) throw usage('--users must be a whole number from 1 to 1000');
  const journey = journeyFor(args.journey as JourneyName | undefined, Boolean(status?.moodle.installed));
  if (journey !== 'moodle' && journey !== 'probe') throw usage('--journey must be moodle or probe');
  let think: [number, number] | undefined;
  if (args.think !== undefined) {
    const [a, b] = args.think.split('-');
    const min = wrap(() => parseDuration(a!, '--think'));
    think = [min, b !== undefined ? wrap(() => parseDuration(b, '--think')) : min];
    if (think[1] < think[0]) throw usage('--think: the range must go up, e.g. 500ms-1s');
  }
  const throughput = args.throughput !== undefined ? Number(args.throughput) : undefined;
  if (throughput !== undefined && (!Number.isFinite(throughput) || throughput < 0 || throughput > 60_000))
    throw usage("--throughput must be samples per minute shared by all users (e.g. 120, as Moodle's JMeter plan), or 0 for unpaced");
  const probeHz = args['probe-hz'] !== undefined ? Number(args['probe-hz']) : DEFAULT_LOAD.probeHz;
  if (!(probeHz === 0 || (probeHz >= 1 && probeHz <= 5))) throw usage('--probe-hz must be 0 (off) or 1 to 5');
  const faults = (args.fault ?? []).map((f) => wrap(() => parseFaultSpec(f)));
  const durationMs = args.duration !== undefined ? wrap(() => parseDuration(args.duration!, '--duration')) : DEFAULT_LOAD.durationMs;
  const healAtMs = args['heal-at'] !== undefined ? wrap(() => parseDuration(args['heal-at']!, '--heal-at')) : undefined;
  if (healAtMs !== undefined && !faults.length) throw usage('--heal-at needs at least one --fault');
  return {
    ...DEFAULT_LOAD,
    journey,
    users,
    durationMs,
    rampUpMs: args['ramp-up'] !== undefined ? wrap(() => parseDuration(args['ramp-up']!, '--ramp-up')) : defaultRampUp(durationMs),
    ...pacing(journey, throughput, think),
    faults,
    healAtMs,
    probeHz,
  };
}

/** What a load run on this lab talks to, from its status. */
export function loadTarget(status: LabStatus): LoadTarget {
  if (!status.endpoints.moodle) throw new Error(`lab "${status.lab}" has no published entry point (state ${status.state})`);
  return {
    entry: status.endpoints.moodle,
    wwwroot: status.moodle.url ?? status.endpoints.moodle,
    course: status.moodle.course,
    users: status.moodle.users,
    probeTargets: probeTargets(status),
    nodes: status.nodes.map((n) => n.name),
  };
}

/** Status polled during a run for failover detection: HAProxy always; Galera/Gluster when asked (heavier). */
export function statusSources(
  status: LabStatus,
  controller: { status(): Promise<LabStatus>; componentStatus?(roles: readonly Role[]): Promise<LabStatus> },
  cluster: boolean,
): SnapshotSource[] {
  const sources: SnapshotSource[] = [];
  if (status.endpoints.haproxyRuntime) sources.push(haproxySource(status.endpoints.haproxyRuntime));
  // The cluster view reads Galera's size and Gluster's bricks: only those roles' slices when it can.
  if (cluster) sources.push(clusterSource(() => controller.componentStatus?.(CLUSTER_VIEW_ROLES) ?? controller.status()));
  return sources;
}

/** The roles whose status the cluster snapshots read (src/load/snapshots.ts clusterSource). */
export const CLUSTER_VIEW_ROLES: readonly Role[] = ['db', 'storage'];

export async function loadCommand(
  controller: LoadController,
  args: LoadArgs,
  io: LoadIo,
  usage: (m: string) => Error,
  nodeEvents?: NodeEventSource,
): Promise<number> {
  loadOptions(args, undefined, usage); // bad input fails before the lab is asked anything
  const metricsPort = args['metrics-port'] !== undefined ? Number(args['metrics-port']) : undefined;
  if (metricsPort !== undefined && !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort <= 65535))
    throw usage('--metrics-port must be a TCP port number');
  const status = await controller.status();
  if (status.state === 'absent') throw new Error(`lab "${status.lab}" does not exist: run \`up\` first`);
  if (!status.endpoints.moodle) throw new Error(`lab "${status.lab}" has no published entry point (state ${status.state})`);
  const opts = loadOptions(args, status, usage);
  if (opts.journey === 'moodle' && !status.moodle.installed)
    throw new Error('the moodle journey needs Moodle installed on the lab (it was started with --no-moodle): use --journey probe');
  if (opts.journey === 'moodle' && (!status.moodle.course || !status.moodle.users.length))
    throw new Error('the moodle journey needs the test course and users (status.moodle.course is empty)');

  const sources = statusSources(
    status,
    controller,
    opts.faults.some((f) => f.req.nodes.some((n) => componentOf(n) === 'db' || componentOf(n) === 'storage')),
  );

  const stamp = Date.now();
  const progress = (line: string) => io.err(`[${((Date.now() - stamp) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  progress(
    `load on ${status.lab}: ${opts.users} users, ${opts.durationMs / 1000} s, ${opts.journey} journey, ramp-up ${opts.rampUpMs / 1000} s, ${opts.throughputPerMin ? `paced at ${opts.throughputPerMin} samples/min shared by all users (Moodle's JMeter plan pace: 120)${opts.thinkMaxMs ? `, think ${opts.thinkMinMs}-${opts.thinkMaxMs} ms` : ''}` : `unpaced, think ${opts.thinkMinMs}-${opts.thinkMaxMs} ms`}${opts.faults.length ? `, faults: ${opts.faults.map((f) => `${f.text} at ${f.atMs / 1000} s`).join('; ')}` : ''}`,
  );
  const handle = startLoad(loadTarget(status), opts, { injector: controller, sources, progress, nodeEvents });
  let running = true;
  void handle.done.finally(() => (running = false)).catch(() => undefined);
  // Prometheus can scrape the run while it goes (and the lab's state beside it).
  const metrics =
    metricsPort === undefined
      ? undefined
      : await startMetricsServer(
          { lab: status.lab, status: () => controller.status(), load: () => ({ samples: handle.recorder.samples, users: opts.users, running }) },
          metricsPort,
        ).catch((err: unknown) => {
          handle.stop();
          throw err;
        });
  if (metrics) progress(`metrics for Prometheus: ${metrics.url}`);
  const run = await handle.done.finally(() => metrics?.close());
  if (args.jtl) {
    fs.writeFileSync(args.jtl, toJtl(run.recorder.samples));
    progress(`JTL: ${run.recorder.samples.length} samples written to ${args.jtl}`);
  }
  if (run.probes) {
    const p = run.probes.summary();
    progress(
      `node probes (/lab/health.php): ${Object.entries(p)
        .map(([k, v]) => `${k} p50 ${v.p50} ms, p99 ${v.p99} ms, ${v.failures}/${v.probes} failed`)
        .join('; ')}`,
    );
  }
  io.out(args.json ? JSON.stringify(run.result, null, 2) + '\n' : formatSummary(run.result));
  const failedFaults = run.result.faults.filter((f) => f.error);
  if (failedFaults.length) {
    io.err(`error: ${failedFaults.map((f) => `${f.fault}: ${f.error}`).join('; ')}\n`);
    return 1;
  }
  return 0;
}
