/**
 * `npm run lab -- <command>`: the same engine the extension drives.
 * Progress goes to stderr, results (and --json) to stdout. Exit 0 on success; otherwise one
 * clear line on stderr (plus, for a failed node, its last log lines) and a non-zero code.
 */
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import { createDockerClient, describeDockerHost } from './docker/dockerode-client';
import { engineFailure } from './docker/engine-errors';
import type { DockerClient } from './docker/types';
import { HAPROXY_PROFILES, HaproxyProfile } from './roles/haproxy';
import { NodeFailedError, Reporter } from './engine/lab';
import { LabController } from './controller/lab-controller';
import { runDashboard } from './dashboard/run';
import { loadCommand, LOAD_OPTIONS } from './load/command';
import { labNodeEvents } from './load/external';
import { parseDuration } from './load/faults';
import { scenarioCommand, SCENARIO_OPTIONS } from './scenarios/command';
import { auditCommand, AUDIT_OPTIONS, compareCommand } from './scenarios/audit/command';
import { cacheCommand, SITE_CACHE_OPTIONS } from './moodle/cache-command';
import { SiteCache, siteCacheDir } from './moodle/site-cache';
import { ScenarioFileError } from './scenarios/parse';
import { ScenarioError } from './scenarios/types';
import {
  faultCliOptions,
  FaultKind,
  faultParams,
  FaultRequest,
  FaultRequestError,
  faultRequestProblem,
  faultUsageError,
  faultUsageLines,
} from './protocol/fault-catalog';
import { DEFAULT_LAB, LABEL_LAB, validateLabName } from './docker/labels';
import { StateStore } from './engine/state';
import { MAX_WEB_NODES, TopologyError } from './engine/topology';
import { topologyOption, topologyRefProblem } from './scenarios/lab-file';
import type { LabStatus } from './protocol/status';
import { startMetricsServer } from './metrics/server';
import { exportCommand, EXPORT_OPTIONS } from './export/command';
import { errText } from './core/errors';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** A line typed at the terminal (a scenario's `predict` questions); absent when stdin is no terminal. */
  ask?(prompt: string): Promise<string | undefined>;
}

/** Reads one line from the terminal, prompting on stderr (stdout may be --json). */
export async function askTerminal(prompt: string): Promise<string | undefined> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise<string | undefined>((resolve) => {
      rl.once('close', () => resolve(undefined));
      rl.question(prompt, (line) => resolve(line));
    });
  } finally {
    rl.close();
  }
}

export interface CliDeps {
  docker?: DockerClient;
  store?: StateStore;
  labRoot?: string;
}

export class UsageError extends Error {}

/**
 * The exit code for an error out of `runCli` (ARCHITECTURE.md, "Exit codes"): 2 for usage and
 * input errors (thrown before anything is touched: bad options or values, a bad scenario file,
 * a fault the lab cannot apply as asked), 3 for everything else (the lab or the engine failed).
 * 1 (an assert failed) is returned by the commands themselves, never thrown.
 */
export function exitCodeFor(err: unknown): 2 | 3 {
  const input =
    err instanceof UsageError ||
    err instanceof TopologyError ||
    err instanceof ScenarioError ||
    err instanceof ScenarioFileError ||
    err instanceof FaultRequestError;
  const parseArgsError = err instanceof TypeError && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS');
  return input || parseArgsError ? 2 : 3;
}

/** Runs a parser of the user's words; its complaint becomes a usage error (exit code 2). */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError(errText(err));
  }
}

const USAGE = `usage: npm run lab -- <command> [options]   (global: --lab NAME, default ${DEFAULT_LAB})
  up [--no-moodle] [--moodle-source <dir|archive|url>] [--topology ha|single|ha-full|FILE.lab.yaml] [--web N]
     [--base-image IMAGE] [--haproxy tuned|defaults] [--port N] [--fresh-install]
  status [--json]
  down                      stop everything, keep data
  destroy [--images]        remove every labelled object of the lab; its images (shared by content) stay for the
                            next lab unless --images (then those no other lab or container uses go too)
  maintenance on|off [--node <web>]   site-wide Moodle maintenance, or HAProxy drain of one node
${faultUsageLines().join('\n')}
  heal [<node>]             undo every active fault (or one node's), start what is down, wait until ready
  dashboard [--port N]      the live dashboard in a browser (127.0.0.1, tokenised URL; Ctrl-C stops it)
  metrics [--port N]        Prometheus/OpenMetrics scrape endpoint at http://127.0.0.1:N/metrics (default 9464)
  load [--users N] [--duration 60s] [--ramp-up 5s] [--journey moodle|probe] [--think 500ms-1s]
       [--throughput N/min] [--fault "kill web2@20s"]... [--heal-at 40s] [--probe-hz 2] [--json] [--jtl FILE]
       [--metrics-port N]   (serves the run's counters and latency histogram to Prometheus while it goes)
  scenario run <file.yaml|builtin> [--json] [--report out.html] [--junit out.xml] [--answers answers.yaml] [--no-moodle] [--moodle-source SRC]
                            predict steps ask on the terminal, or read --answers (checked before the lab is touched)
  scenario summary <result.json…> [--report class.html] [--json]
                            many learners' predictions in one page: right per question, answers, measured spread
  scenario list             the built-in scenarios
  audit [--topology NAME | --compare A B] [--faults kill,pause,partition] [--users 30] [--per-fault 40s] [--nodes a,b]
        [--journey moodle|probe] [--report out.html] [--json] [--junit out.xml]
                            fault each node in turn under load: scorecard, single points of failure (exit 1 if any)
  cache list [--json]       installed Moodle sites kept for the next lab of the same source
  cache prune [--all | --older-than 30d]   remove entries (alone: only unusable ones)
  export --format compose [-o FILE] [--secrets-file FILE] [--build] [--topology ha|single|ha-full|FILE.lab.yaml] [--web N] [--haproxy P] [--port N|0] [--moodle-source SRC]
                            the lab (or one described by the options) as a Compose file; secrets inline unless --secrets-file`;

const PLANNED = new Set<string>();
/** The port Prometheus' exporter registry lists for ad-hoc exporters. */
const DEFAULT_METRICS_PORT = 9464;

function stderrReporter(io: CliIo, verbose: boolean): Reporter {
  const t0 = Date.now();
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s]`;
  return {
    step: (m) => io.err(`${stamp()} ${m}\n`),
    detail: (m) => {
      if (verbose) io.err(`${stamp()}   ${m}\n`);
    },
  };
}

/** `status` for people: nodes, HAProxy's view, Galera, Gluster, and the faults in force. */
export function formatStatus(s: LabStatus): string {
  const lines = [`lab ${s.lab}: ${s.state}${s.preset ? ` (${s.preset})` : ''}`];
  if (s.endpoints.moodle) lines.push(`  moodle        ${s.endpoints.moodle}`);
  if (s.endpoints.haproxyStats) lines.push(`  haproxy stats ${s.endpoints.haproxyStats}`);
  // Columns as wide as the widest name and role (at least today's 9 and 8: `single`/`ha` print as before).
  const nameW = Math.max(9, ...s.nodes.map((n) => n.name.length));
  const roleW = Math.max(8, ...s.nodes.map((n) => n.role.length));
  for (const n of s.nodes) {
    const hap = s.haproxy.servers
      .filter((x) => x.server === n.name)
      .map((x) => `${x.backend}:${x.status}`)
      .join(' ');
    // A Sentinel group's replicas are DOWN in HAProxy's Redis backend by design (it sends only to the master): say which is which.
    const redisRole =
      s.redis.mode !== 'sentinel' ? undefined : s.redis.master === n.name ? 'master' : s.redis.replicas?.some((r) => r.name === n.name) ? 'replica' : undefined;
    lines.push(
      `  ${n.name.padEnd(nameW)} ${n.role.padEnd(roleW)} ${n.container.padEnd(8)} ${n.healthy ? 'healthy' : `UNHEALTHY${n.detail ? ` (${n.detail})` : ''}`}${hap ? `  ${hap}` : ''}${redisRole ? ` (${redisRole})` : ''}`,
    );
  }
  if (s.lb) {
    const nodes = s.lb.nodes.map((n) => `${n.name} ${n.vrrp}${n.detail ? ` (${n.detail})` : ''}`).join(', ');
    lines.push(`  vip: ${s.lb.vip} ${s.lb.holder ? `on ${s.lb.holder}` : 'HELD BY NONE'}${s.lb.splitBrain ? ' (SPLIT BRAIN: several hold it)' : ''}; ${nodes}`);
  }
  if (s.galera.nodes.length) {
    const arb = (s.galera.arbitrators ?? []).map((a) => `${a.name} ${a.member ? 'a member' : 'NOT a member'}`).join(', ');
    lines.push(`  galera: ${s.galera.status}, size ${s.galera.clusterSize}${arb ? ` (arbitrator: ${arb})` : ''}`);
  }
  if (s.gluster.volume) {
    const w =
      s.gluster.writable === undefined ? '' : s.gluster.writable ? ', writable' : `, NOT WRITABLE${s.gluster.writeError ? ` (${s.gluster.writeError})` : ''}`;
    lines.push(
      `  gluster: ${s.gluster.bricks.filter((b) => b.online).length}/${s.gluster.bricks.length} bricks online, ${s.gluster.healPending} pending heals${w}${s.gluster.bricks
        .filter((b) => b.arbiter)
        .map((b) => `, arbiter ${b.name}`)
        .join('')}`,
    );
  }
  if (s.redis.mode === 'sentinel') {
    const replicas = (s.redis.replicas ?? []).map((r) => `${r.name} (${r.linkUp ? `lag ${r.lagBytes ?? '?'} B` : 'link DOWN'})`).join(', ');
    lines.push(`  redis: sentinel, master ${s.redis.master ?? 'NONE'}, replicas ${replicas || 'none'}${s.redis.error ? ` — ${s.redis.error}` : ''}`);
  }
  if (s.faults?.length) {
    const at = (iso: string) => new Date(iso).toLocaleTimeString('en-GB');
    lines.push(`  faults in force (\`heal\` undoes them):`);
    for (const f of s.faults) lines.push(`    ${f.detail.padEnd(30)} since ${at(f.since)}${f.until ? `, reverts by itself at ${at(f.until)}` : ''}`);
  }
  for (const i of s.impairments ?? [])
    lines.push(`  impairment: ${i.node} ${i.kind} via ${i.method}: ${i.inForce ? 'in force' : `NOT IN FORCE (${i.problem ?? '?'})`}`);
  return lines.join('\n') + '\n';
}

export async function runCli(argv: string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    io.out(USAGE + '\n');
    return command ? 0 : 2;
  }
  const { values, positionals } = usage(() =>
    parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        lab: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        'no-moodle': { type: 'boolean' },
        'moodle-source': { type: 'string' },
        topology: { type: 'string' },
        web: { type: 'string' },
        'base-image': { type: 'string' },
        haproxy: { type: 'string' },
        port: { type: 'string' },
        node: { type: 'string' },
        images: { type: 'boolean' },
        ...faultCliOptions(),
        ...LOAD_OPTIONS,
        ...SCENARIO_OPTIONS,
        ...AUDIT_OPTIONS,
        ...SITE_CACHE_OPTIONS,
        ...EXPORT_OPTIONS,
      },
    }),
  );
  const lab = usage(() => validateLabName(values.lab ?? io.env.MOODLE_LAB ?? DEFAULT_LAB));
  if (PLANNED.has(command)) throw new UsageError(`"${command}" is not available in this version of the lab yet`);
  if (['status', 'down', 'destroy'].includes(command) && positionals.length)
    throw new UsageError(`${command} takes no arguments (got "${positionals.join(' ').slice(0, 80)}")`);
  const docker = deps.docker ?? createDockerClient();
  const store = deps.store ?? new StateStore(io.env.MOODLE_LAB_HOME ?? undefined);
  const labRoot = deps.labRoot ?? path.resolve(__dirname, '..', 'lab');
  const controller = new LabController({ docker, store, labRoot, reporter: stderrReporter(io, Boolean(values.verbose)) }, lab);
  const print = (status: LabStatus) => io.out(values.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status));

  switch (command) {
    case 'up': {
      if (positionals.length) throw new UsageError(`up takes no arguments (got "${positionals.join(' ')}")`);
      const profile = values.haproxy as HaproxyProfile | undefined;
      if (profile !== undefined && !HAPROXY_PROFILES.includes(profile)) throw new UsageError(`--haproxy must be one of ${HAPROXY_PROFILES.join(', ')}`);
      const port = values.port !== undefined ? Number(values.port) : undefined;
      if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new UsageError('--port must be a TCP port number');
      if (values['moodle-source'] && values['no-moodle']) throw new UsageError('--moodle-source and --no-moodle exclude each other');
      const webCount = values.web !== undefined ? Number(values.web) : undefined;
      if (webCount !== undefined && !(/^\d+$/.test(values.web!) && webCount >= 1 && webCount <= MAX_WEB_NODES))
        throw new UsageError(`--web must be a whole number from 1 to ${MAX_WEB_NODES}`);
      // A built-in's name or a lab file: read and checked before anything is created.
      const badRef = values.topology !== undefined ? topologyRefProblem(values.topology, labRoot) : undefined;
      if (badRef) throw new UsageError(badRef);
      const definition = values.topology !== undefined ? await topologyOption(values.topology, labRoot, docker.memTotalBytes?.bind(docker)) : undefined;
      print(
        await controller.up({
          definition,
          webCount,
          baseImage: values['base-image'],
          haproxyProfile: profile,
          port,
          moodleSource: values['moodle-source'],
          noMoodle: values['no-moodle'],
          freshInstall: values['fresh-install'],
        }),
      );
      return 0;
    }
    case 'status':
      print(await controller.status());
      return 0;
    case 'maintenance': {
      const [mode, ...extra] = positionals;
      if ((mode !== 'on' && mode !== 'off') || extra.length) throw new UsageError('usage: maintenance on|off [--node <web node>]');
      io.out(`${await controller.maintenance(mode === 'on', values.node)}\n`);
      return 0;
    }
    case 'fault': {
      const [kind, nodes, ...extra] = positionals;
      if (!kind || !nodes || extra.length) throw new UsageError(faultUsageError());
      const num = (v: string | undefined, name: string) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!v.trim() || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number`);
        return n;
      };
      const req: FaultRequest = {
        kind: kind as FaultKind,
        nodes: nodes.split(',').filter(Boolean),
        from: values.from?.split(',').filter(Boolean),
        ...(values.to !== undefined ? { to: values.to.split(',').filter(Boolean) } : {}),
        forMs: values.for !== undefined ? usage(() => parseDuration(values.for!, '--for')) : undefined,
        everyMs: values.every !== undefined ? usage(() => parseDuration(values.every!, '--every')) : undefined,
      };
      // Each parameter of the catalog under its option (--ms, --jitter, --percent), whatever the kind.
      const given = values as Record<string, unknown>;
      for (const p of faultParams()) req[p.field] = num(given[p.option] as string | undefined, p.option);
      // Everything but the node names (the lab's topology knows those) is checked before the lab is asked.
      const problem = faultRequestProblem(req);
      if (problem) throw new UsageError(problem);
      const fault = await controller.fault(req);
      io.out(
        fault
          ? `fault: ${fault.detail}${fault.expiresAt ? ` (reverts by itself at ${fault.expiresAt})` : fault.everyMs ? ' (repeats until `heal`)' : ' (`heal` reverts it)'}\n`
          : `${req.kind} ${req.nodes.join(',')}: done\n`,
      );
      if (fault?.everyMs) {
        io.err(`repeating it from this process until \`heal\` (Ctrl-C leaves the schedule for \`heal\` to clear)\n`);
        await controller.settled();
        io.out(`stopped repeating: ${fault.detail}\n`);
      } else if (fault?.expiresAt) {
        io.err(`waiting ${values.for} to revert it (Ctrl-C leaves it for \`heal\`)\n`);
        await controller.settled();
        io.out(`reverted: ${fault.detail}\n`);
      }
      return 0;
    }
    case 'heal':
    case 'recover': {
      if (positionals.length > 1) throw new UsageError('usage: heal [<node>]');
      const { reverted, status } = await controller.heal(positionals[0]);
      io.out(reverted.length ? `reverted: ${reverted.map((f) => f.detail).join('; ')}\n` : 'no active fault recorded; every node started and ready\n');
      print(status);
      return 0;
    }
    case 'down':
      await controller.down();
      io.out(`lab ${lab}: stopped (data kept; \`up\` resumes it)\n`);
      return 0;
    case 'dashboard': {
      const port = values.port !== undefined ? Number(values.port) : undefined;
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError('--port must be a TCP port number');
      return runDashboard({ controller, port, root: path.resolve(__dirname, '..'), out: io.out, err: io.err });
    }
    case 'metrics': {
      if (positionals.length) throw new UsageError(`metrics takes no arguments (got "${positionals.join(' ')}")`);
      const port = values.port !== undefined ? Number(values.port) : DEFAULT_METRICS_PORT;
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be a TCP port number');
      await docker.ping();
      const server = await startMetricsServer({ lab, status: () => controller.status() }, port);
      io.out(`metrics of lab ${lab}: ${server.url} (Prometheus text; OpenMetrics when asked; Ctrl-C stops it)\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await server.close();
      return 0;
    }
    case 'destroy': {
      const removed = await controller.destroy({ images: values.images });
      io.out(`lab ${lab}: removed ${removed.containers} containers, ${removed.volumes} volumes, ${removed.networks} networks, ${removed.images} images\n`);
      if (removed.keptImages?.length) io.out(`kept ${removed.keptImages.join(', ')}: still used by another lab or container\n`);
      if (removed.reportsDir) io.out(`reports kept in ${removed.reportsDir}\n`);
      return 0;
    }
    case 'export':
      return exportCommand(positionals, values, { docker, store, labRoot, lab }, io, (m) => new UsageError(m));
    case 'cache':
      return cacheCommand(positionals, values, new SiteCache(siteCacheDir(store.home)), io, (m) => new UsageError(m));
    case 'load':
      if (positionals.length) throw new UsageError(`load takes no arguments (got "${positionals.join(' ')}")`);
      return loadCommand(controller, values, io, (m) => new UsageError(m), labNodeEvents(docker, lab));
    case 'scenario':
      return scenarioCommand(
        positionals,
        values,
        {
          lab,
          builtinDir: path.join(labRoot, 'scenarios'),
          deps: {
            labFor: (name) =>
              name === lab
                ? controller
                : new LabController({ docker, store, labRoot, reporter: stderrReporter(io, Boolean(values.verbose)) }, validateLabName(name)),
          },
        },
        io,
        (m) => new UsageError(m),
      );
    case 'audit': {
      if (values.compare === undefined && positionals.length) throw new UsageError(`audit takes no arguments (got "${positionals.join(' ').slice(0, 80)}")`);
      if (values.compare !== undefined && positionals.length !== 1)
        throw new UsageError('usage: audit --compare <design A> <design B> (built-ins or lab files)');
      // Ctrl-C: the current fault's load stops, the lab is healed and waited for until green.
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        if (values.compare !== undefined)
          return await compareCommand([values.compare, positionals[0]!], values, io, (m) => new UsageError(m), {
            checkRef: (ref) => topologyRefProblem(ref, labRoot),
            signal: abort.signal,
            designLab: async (ref, i, progress) => {
              const name = validateLabName(`${lab}-${i + 1}`.slice(0, 31));
              const c = new LabController({ docker, store, labRoot, reporter: stderrReporter(io, Boolean(values.verbose)) }, name);
              const created = (await c.status()).state === 'absent';
              if (created) {
                progress(`lab ${name}: up ${ref}${values['moodle-source'] ? ' with Moodle' : ' (no Moodle)'}`);
                const definition = await topologyOption(ref, labRoot, docker.memTotalBytes?.bind(docker));
                await c.up({ definition, moodleSource: values['moodle-source'], noMoodle: !values['moodle-source'] });
              }
              return {
                lab: c,
                created,
                nodeEvents: labNodeEvents(docker, name),
                idleMemoryBytes: async () => {
                  const cs = await docker.containers.list({ [LABEL_LAB]: name });
                  const mem = await Promise.all(cs.map((x) => docker.containers.memoryBytes(x.id).catch(() => 0)));
                  return mem.reduce((a, b) => a + b, 0);
                },
                destroy: async () => void (await c.destroy()),
              };
            },
          });
        return await auditCommand(controller, values, io, (m) => new UsageError(m), { nodeEvents: labNodeEvents(docker, lab), signal: abort.signal });
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    }
    default:
      throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

export async function main(
  argv = process.argv.slice(2),
  io: CliIo = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
    ...(process.stdin.isTTY ? { ask: askTerminal } : {}),
  },
  deps: CliDeps = {},
): Promise<number> {
  try {
    return await runCli(argv, io, deps);
  } catch (err) {
    // The engine gone (before or mid-command): one line, exit 3; the next command works again.
    const gone = exitCodeFor(err) === 2 ? undefined : await engineFailure(err, () => (deps.docker ?? createDockerClient()).ping(), describeDockerHost());
    if (gone) {
      io.err(`error: ${gone.message}\n`);
      return 3;
    }
    if (err instanceof NodeFailedError) {
      io.err(
        `error: ${err.message}\n--- last log lines of ${err.node} ---\n${err.logs.trimEnd()}\n---\n(the lab can be cleaned with \`npm run lab -- destroy\`)\n`,
      );
    } else {
      io.err(`error: ${errText(err)}\n`);
    }
    return exitCodeFor(err);
  }
}

if (require.main === module) {
  main().then((code) => process.exit(code));
}
