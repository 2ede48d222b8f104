/**
 * Benchmark: overload degrades, never collapses (issue 16). An HTTP client of its own (node:http,
 * a new connection per request, no think time: not the lab's load generator) keeps N requests in
 * flight against HAProxy, far more than the web tier serves, and reads HAProxy's runtime API
 * (`show stat`) every 100 ms for DOWN transitions, its `chkdown` counters and the killed node's
 * sessions. Each HAProxy-made error carries its termination state (X-Lab-Term: SC = no server,
 * sQ = queue timeout) when the config sets it; a 503 without X-Served-By came from HAProxy itself.
 *
 * 1. capacity: short closed-loop steps (1, 2n, 4n, 8n requests in flight for n web nodes);
 *    capacity = the best served rate, unloaded latency = the median at 1 in flight.
 * 2. steady: N unpaced requests in flight for --seconds.
 * 3. kill: the same with a web node SIGKILLed at the given time; then it is started again.
 *
 *   npm run bench:overload -- --lab h5 [--seconds 60] [--concurrency N] [--kill web2@20s|none]
 *                             [--only steady|kill] [--profile tuned|defaults] [--path /]
 * --profile renders that profile from this source tree and hot-reloads it into the lab's HAProxy
 * for the run (the lab's own profile is put back at the end); without it the lab runs as it is.
 */
import * as http from 'node:http';
import { BACKENDS, HaproxyProfile, HAPROXY_CONFIG_PATH, HAPROXY_PROFILES, renderHaproxyConfig, WEB_APACHE_WORKERS } from '../src/roles/haproxy';
import { runtimePort, tcpRuntime } from '../src/roles/haproxy-runtime';
import { LABEL_NODE, labLabels } from '../src/docker/labels';
import { StateStore } from '../src/engine/state';
import { buildTopology } from '../src/engine/topology';
import { DockerFaults, machineLine, openLab, pad, runtimeOf, waitAllUp } from './support';
import { parseDuration } from '../src/load/faults';
import { notYet, ready, waitFor } from '../src/core/wait';
import { errText } from '../src/core/errors';

const log = (m: string) => process.stderr.write(`  ${m}\n`);

// ---------------------------------------------------------------- arguments

interface Args {
  lab: string;
  seconds: number;
  concurrency?: number;
  kill?: { node: string; atMs: number };
  only?: 'steady' | 'kill';
  profile?: HaproxyProfile;
  path: string;
}

function usage(problem: string): never {
  process.stderr.write(
    `error: ${problem}\nusage: bench/overload.ts --lab NAME [--seconds 60] [--concurrency N] [--kill web2@20s|none] [--only steady|kill] [--profile tuned|defaults] [--path /]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { lab: process.env.BENCH_LAB ?? 'mlt-load', seconds: 60, kill: { node: 'web2', atMs: 20_000 }, path: '/' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i] ?? usage(`${flag} needs a value`);
    try {
      if (flag === '--lab') a.lab = value();
      else if (flag === '--seconds') a.seconds = parseDuration(value(), '--seconds') / 1000 || usage('--seconds must be > 0');
      else if (flag === '--concurrency') {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 2000) usage('--concurrency must be an integer 1..2000');
        a.concurrency = n;
      } else if (flag === '--kill') {
        const v = value();
        if (v === 'none') a.kill = undefined;
        else {
          const m = /^([a-z][a-z0-9-]*)@(.+)$/.exec(v);
          if (!m) usage(`--kill "${v}": expected <node>@<time>, e.g. web2@20s, or none`);
          a.kill = { node: m[1]!, atMs: parseDuration(m[2]!, '--kill time') };
        }
      } else if (flag === '--only') {
        const v = value();
        if (v !== 'steady' && v !== 'kill') usage('--only takes steady or kill');
        a.only = v;
      } else if (flag === '--profile') {
        const v = value();
        if (!(HAPROXY_PROFILES as readonly string[]).includes(v)) usage(`--profile takes ${HAPROXY_PROFILES.join(' or ')}`);
        a.profile = v as HaproxyProfile;
      } else if (flag === '--path') {
        a.path = value();
        if (!a.path.startsWith('/')) usage('--path must start with /');
      } else usage(`unknown argument "${flag}"`);
    } catch (err) {
      usage(errText(err));
    }
  }
  if (a.kill && a.kill.atMs >= a.seconds * 1000) usage(`--kill at ${a.kill.atMs / 1000} s is not within --seconds ${a.seconds}`);
  if (a.only === 'kill' && !a.kill) usage('--only kill needs --kill <node>@<time>');
  return a;
}

// ---------------------------------------------------------------- the client

interface Sample {
  startMs: number;
  endMs: number;
  status: number;
  servedBy?: string;
  /** HAProxy's termination state of an error it answered (X-Lab-Term). */
  term?: string;
  error?: string;
}

const ok = (s: Sample) => s.status >= 200 && s.status < 400;
/** HAProxy answered the 503 itself (no web node did: X-Served-By is set on server responses only). */
const haproxy503 = (s: Sample) => s.status === 503 && !s.servedBy;

/** One GET on a fresh connection; the body is read and dropped. */
function fire(base: URL, path: string, timeoutMs: number): Promise<Sample> {
  const startMs = Date.now();
  return new Promise((resolve) => {
    const req = http.get(
      { host: base.hostname, port: base.port, path, agent: false, headers: { connection: 'close', 'user-agent': 'moodle-lab-overload-bench' } },
      (res) => {
        res.on('data', () => undefined);
        res.on('error', (e) => resolve({ startMs, endMs: Date.now(), status: 0, error: e.message }));
        res.on('end', () => {
          const h = (n: string) => (typeof res.headers[n] === 'string' ? (res.headers[n] as string) : undefined);
          resolve({ startMs, endMs: Date.now(), status: res.statusCode ?? 0, servedBy: h('x-served-by'), term: h('x-lab-term') });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ startMs, endMs: Date.now(), status: 0, error: (e as NodeJS.ErrnoException).code ?? e.message }));
  });
}

/** `concurrency` loops, each sending its next request as soon as the last one ends, until `untilMs`. */
async function closedLoop(base: URL, path: string, concurrency: number, untilMs: number, out: Sample[]): Promise<void> {
  const loop = async () => {
    while (Date.now() < untilMs) out.push(await fire(base, path, 180_000));
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

// ---------------------------------------------------------------- HAProxy's view

interface ServerRow {
  server: string;
  status: string;
  chkdown: number;
  scur: number;
  qcur: number;
}

/** `show stat` rows of one backend: its servers and the BACKEND row (queue). */
function parseStat(csv: string, backend: string): ServerRow[] {
  const lines = csv.split('\n').filter((l) => l.trim());
  const header = lines.shift()?.replace(/^# /, '').split(',') ?? [];
  const col = (f: string[], name: string) => f[header.indexOf(name)] ?? '';
  return lines
    .map((l) => l.split(','))
    .filter((f) => col(f, 'pxname') === backend && col(f, 'svname') !== 'FRONTEND')
    .map((f) => ({
      server: col(f, 'svname'),
      status: col(f, 'status'),
      chkdown: Number(col(f, 'chkdown')) || 0,
      scur: Number(col(f, 'scur')) || 0,
      qcur: Number(col(f, 'qcur')) || 0,
    }));
}

const isUp = (status: string) => /^UP/.test(status);

/** Polls `show stat` every `intervalMs`: DOWN transitions per server, first non-UP time per server. */
class StatWatcher {
  readonly downEvents = new Map<string, number>();
  /** When each server was seen going from UP to not UP. */
  readonly downAt = new Map<string, number[]>();
  /** Sessions on each server at each poll. */
  readonly scur: { server: string; atMs: number; scur: number }[] = [];
  /** Every status change seen (the first poll's statuses included). */
  readonly changes: { server: string; atMs: number; status: string }[] = [];
  readonly chkdownStart = new Map<string, number>();
  readonly chkdownEnd = new Map<string, number>();
  maxQueue = 0;
  errors = 0;
  private last = new Map<string, string>();
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    private readonly show: () => Promise<ServerRow[]>,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const t = Date.now();
        await this.poll();
        await new Promise((r) => setTimeout(r, Math.max(0, this.intervalMs - (Date.now() - t))));
      }
    })();
  }

  async poll(): Promise<ServerRow[]> {
    let rows: ServerRow[];
    try {
      rows = await this.show();
    } catch {
      this.errors++;
      return [];
    }
    const now = Date.now();
    for (const r of rows) {
      if (r.server === 'BACKEND') {
        this.maxQueue = Math.max(this.maxQueue, r.qcur);
        continue;
      }
      if (!this.chkdownStart.has(r.server)) this.chkdownStart.set(r.server, r.chkdown);
      this.chkdownEnd.set(r.server, r.chkdown);
      const before = this.last.get(r.server);
      this.scur.push({ server: r.server, atMs: now, scur: r.scur });
      if (before !== r.status) this.changes.push({ server: r.server, atMs: now, status: r.status });
      if (before !== undefined && isUp(before) && !isUp(r.status)) {
        this.downEvents.set(r.server, (this.downEvents.get(r.server) ?? 0) + 1);
        this.downAt.set(r.server, [...(this.downAt.get(r.server) ?? []), now]);
      }
      this.last.set(r.server, r.status);
    }
    return rows;
  }

  /** DOWN events of a server: HAProxy's own count (chkdown) or the transitions seen, whichever is more. */
  downs(server: string): number {
    const chk = (this.chkdownEnd.get(server) ?? 0) - (this.chkdownStart.get(server) ?? 0);
    return Math.max(chk, this.downEvents.get(server) ?? 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.poll();
  }
}

// ---------------------------------------------------------------- phases

interface PhaseResult {
  name: string;
  t0: number;
  seconds: number;
  samples: Sample[];
  watcher: StatWatcher;
  servers: string[];
  /** atMs: Docker's own time of the kill (its `kill` event), else when the API call returned. */
  kill?: { node: string; atMs: number; callMs: number; fromEvent: boolean; diedMs?: number; inFlight: number; queued: number; detectedMs?: number };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { controller, docker } = openLab(args.lab);
  const state = new StateStore(process.env.MOODLE_LAB_HOME).load(args.lab);
  if (!state) usage(`lab ${args.lab} does not exist`);
  let status = await controller.status();
  if (!status.endpoints.moodle || !status.endpoints.haproxyRuntime) throw new Error(`lab ${args.lab} is not running (state ${status.state})`);
  const base = new URL(status.endpoints.moodle);
  const runtime = runtimeOf(status);
  const rawRuntime = tcpRuntime(runtimePort(status.endpoints.haproxyRuntime));
  const show = async () => parseStat(await rawRuntime('show stat'), BACKENDS.web);
  const webNodes = status.nodes.filter((n) => n.role === 'web').map((n) => n.name);
  if (args.kill && !webNodes.includes(args.kill.node)) usage(`--kill ${args.kill.node}: this lab's web nodes are ${webNodes.join(', ')}`);
  if (args.kill && webNodes.length < 2) usage('--kill needs at least 2 web nodes');

  const lb = (await docker.containers.list(labLabels(args.lab))).find((c) => c.labels[LABEL_NODE] === 'haproxy');
  if (!lb) throw new Error('no haproxy container');
  const topology = buildTopology(state.definition);
  const labProfile: HaproxyProfile = state.extra.haproxyProfile === 'defaults' ? 'defaults' : 'tuned';
  const setProfile = async (p: HaproxyProfile) => {
    await docker.containers.putFile(lb.id, HAPROXY_CONFIG_PATH, renderHaproxyConfig(topology, p));
    await docker.containers.kill(lb.id, 'SIGUSR2'); // master-worker reload
    await new Promise((r) => setTimeout(r, 1500)); // the old worker hands over (as bench/failover-web.ts)
    await waitAllUp(runtime, BACKENDS.web);
  };
  const running = /^Version: (.*)$/m.exec(await rawRuntime('show info'))?.[1];
  const cfgNow = args.profile ? renderHaproxyConfig(topology, args.profile) : (await docker.containers.getFile(lb.id, HAPROXY_CONFIG_PATH))?.toString('utf8');

  const faults = new DockerFaults(docker, args.lab);
  const results: PhaseResult[] = [];
  let capacity = 0;
  let unloadedMs = 0;
  let concurrency = 0;
  try {
    if (args.profile) {
      log(`HAProxy profile ${args.profile} (rendered from this tree): reloading`);
      await setProfile(args.profile);
    }
    await waitAllUp(runtime, BACKENDS.web);

    // 1. Capacity: a short ramp of closed-loop steps.
    const n = webNodes.length;
    const steps = [1, 2 * n, 4 * n, 8 * n];
    const ramp: (string | number)[][] = [['in flight', 'served/s', 'p50 ms', 'p99 ms', 'failed']];
    for (const c of steps) {
      const s: Sample[] = [];
      const secs = c === 1 ? 5 : 4;
      const until = Date.now() + secs * 1000;
      await closedLoop(base, args.path, c, until, s);
      const lat = s.map((x) => x.endMs - x.startMs).sort((a, b) => a - b);
      const rate = s.filter((x) => ok(x) && x.endMs <= until).length / secs;
      if (c === 1) unloadedMs = quantile(lat, 0.5);
      capacity = Math.max(capacity, rate);
      ramp.push([c, rate.toFixed(1), quantile(lat, 0.5), quantile(lat, 0.99), s.filter((x) => !ok(x)).length]);
      log(`capacity step ${c} in flight: ${rate.toFixed(1)} req/s`);
    }
    // At least twice the tier's worker slots in flight (so requests must wait somewhere), and
    // at least twice the capacity offered at the unloaded latency.
    concurrency = args.concurrency ?? Math.max(2 * n * WEB_APACHE_WORKERS, Math.ceil((2 * capacity * unloadedMs) / 1000));
    process.stdout.write(`\ncapacity ramp (${args.path}):\n${pad(ramp)}\n`);

    // 2. and 3. The overload phases.
    const phases: ('steady' | 'kill')[] = args.only ? [args.only] : args.kill ? ['steady', 'kill'] : ['steady'];
    for (const phase of phases) {
      await waitAllUp(runtime, BACKENDS.web);
      const watcher = new StatWatcher(show);
      await watcher.poll();
      watcher.start();
      const samples: Sample[] = [];
      const t0 = Date.now();
      log(`${phase}: ${concurrency} in flight for ${args.seconds} s${phase === 'kill' ? `, kill ${args.kill!.node} at ${args.kill!.atMs / 1000} s` : ''}`);
      const load = closedLoop(base, args.path, concurrency, t0 + args.seconds * 1000, samples);
      let kill: PhaseResult['kill'];
      if (phase === 'kill') {
        const k = args.kill!;
        await new Promise((r) => setTimeout(r, Math.max(0, t0 + k.atMs - Date.now())));
        const rows = await show();
        const id = (await docker.containers.list(labLabels(args.lab))).find((c) => c.labels[LABEL_NODE] === k.node)?.id;
        let signalled: number | undefined;
        let died: number | undefined;
        const unsubscribe = await docker.events(labLabels(args.lab), (e) => {
          if (e.type !== 'container' || e.id !== id) return;
          if (/^kill/.test(e.action) && signalled === undefined) signalled = e.timeMs;
          if (e.action === 'die' && died === undefined) died = e.timeMs;
        });
        const asked = Date.now();
        await faults.fault({ kind: 'kill', nodes: [k.node] });
        const returned = Date.now();
        await waitFor(async () => (signalled !== undefined && died !== undefined ? ready(true) : notYet('no kill/die event yet')), {
          what: 'Docker kill and die events',
          timeoutMs: 10_000,
          intervalMs: 100,
        }).catch(() => undefined);
        unsubscribe();
        const atMs = signalled ?? returned;
        // Requests on the node when it died: its sessions at the last poll before the kill.
        const last = [...watcher.scur].reverse().find((x) => x.server === k.node && x.atMs <= atMs);
        kill = {
          node: k.node,
          atMs,
          callMs: returned - asked,
          fromEvent: signalled !== undefined,
          diedMs: died,
          inFlight: last?.scur ?? rows.find((r) => r.server === k.node)?.scur ?? NaN,
          queued: rows.find((r) => r.server === 'BACKEND')?.qcur ?? NaN,
        };
        log(
          `killed ${k.node} at ${((kill.atMs - t0) / 1000).toFixed(1)} s (the Docker API call took ${kill.callMs} ms): ${kill.inFlight} requests were on it, ${kill.queued} queued in HAProxy`,
        );
      }
      await load;
      await watcher.stop();
      if (kill) {
        // The first DOWN at or after the kill (a node flapping under overload may have gone DOWN before).
        const d = (watcher.downAt.get(kill.node) ?? []).find((t) => t >= kill!.atMs);
        if (d !== undefined) kill.detectedMs = d - kill.atMs;
        log(`${phase}: starting ${kill.node} again`);
        await faults.heal();
      }
      results.push({ name: phase, t0, seconds: args.seconds, samples, watcher, servers: webNodes, kill });
    }
    await waitAllUp(runtime, BACKENDS.web);
  } finally {
    await faults.heal().catch((e) => log(`could not start the killed node again: ${e}`));
    if (args.profile && args.profile !== labProfile) await setProfile(labProfile).catch((e) => log(`could not put profile ${labProfile} back: ${e}`));
  }

  // ---------------------------------------------------------------- report
  status = await controller.status();
  const maxconn = [...(cfgNow ?? '').matchAll(/^\s*server web\S* .*\bmaxconn (\d+)/gm)].map((m) => m[1]);
  const profileShown = args.profile ?? `${labProfile} (as the lab runs it${maxconn.length ? `, server maxconn ${maxconn[0]}` : ', no server maxconn'})`;
  const offered = unloadedMs > 0 ? (concurrency * 1000) / unloadedMs : NaN;
  process.stdout.write(
    `\noverload: lab ${args.lab}, HAProxy ${running ?? '?'} profile ${profileShown}, GET ${args.path}, ${concurrency} unpaced requests in flight (new connection each), ${args.seconds} s per phase\n` +
      `${machineLine()}\n` +
      `capacity ${capacity.toFixed(1)} req/s, unloaded latency ${unloadedMs} ms → offered ${offered.toFixed(0)} req/s at that latency = ${(offered / capacity).toFixed(1)}× capacity; ` +
      `${concurrency} in flight vs ${webNodes.length} × ${WEB_APACHE_WORKERS} Apache workers = ${(concurrency / (webNodes.length * WEB_APACHE_WORKERS)).toFixed(1)}×\n\n`,
  );
  const header = [
    'phase',
    'requests',
    'served/s',
    'failed',
    'HAProxy 503',
    '503 by term',
    'other errors',
    'p50 ms',
    'p99 ms',
    'max ms',
    'max queue',
    'DOWN events (healthy)',
    'DOWN events (killed)',
    'in flight on killed',
    'failed after kill',
    'detected ms',
    'detected ms (from die)',
  ];
  const rows: (string | number)[][] = [header];
  for (const r of results) {
    const lat = r.samples.map((x) => x.endMs - x.startMs).sort((a, b) => a - b);
    const failed = r.samples.filter((x) => !ok(x));
    const h503 = failed.filter(haproxy503);
    const byTerm = new Map<string, number>();
    for (const s of h503) byTerm.set(s.term ?? '?', (byTerm.get(s.term ?? '?') ?? 0) + 1);
    const other = new Map<string, number>();
    for (const s of failed.filter((x) => !haproxy503(x))) {
      const k = s.error ?? `${s.status}${s.servedBy ? ` from ${s.servedBy}` : ''}${s.term ? ` ${s.term}` : ''}`;
      other.set(k, (other.get(k) ?? 0) + 1);
    }
    const healthy = r.servers.filter((s) => s !== r.kill?.node);
    const downsHealthy = healthy.map((s) => `${s}:${r.watcher.downs(s)}`).join(' ');
    const afterKill = r.kill ? failed.filter((x) => x.endMs >= r.kill!.atMs).length : undefined;
    rows.push([
      r.name,
      r.samples.length,
      (r.samples.filter((x) => ok(x) && x.endMs <= r.t0 + r.seconds * 1000).length / r.seconds).toFixed(1),
      failed.length,
      h503.length,
      [...byTerm].map(([k, v]) => `${k}:${v}`).join(' ') || '-',
      [...other].map(([k, v]) => `${k}:${v}`).join(' ') || '-',
      quantile(lat, 0.5),
      quantile(lat, 0.99),
      lat[lat.length - 1] ?? NaN,
      r.watcher.maxQueue,
      downsHealthy,
      r.kill ? r.watcher.downs(r.kill.node) : '-',
      r.kill ? r.kill.inFlight : '-',
      afterKill ?? '-',
      r.kill ? (r.kill.detectedMs ?? 'not seen') : '-',
      // Docker's `die` event: the node's processes have exited (under a loaded dockerd, seconds after `kill`).
      r.kill?.detectedMs !== undefined && r.kill.diedMs !== undefined ? r.kill.atMs + r.kill.detectedMs - r.kill.diedMs : '-',
    ]);
  }
  // One line per phase, then the table turned around (a row per figure) so it fits a terminal.
  const turned = header.map((h, i) => [h, ...rows.slice(1).map((r) => r[i]!)]);
  process.stdout.write(pad(turned) + '\n');
  for (const r of results) {
    const served = new Map<string, number>();
    for (const s of r.samples) if (ok(s)) served.set(s.servedBy ?? '?', (served.get(s.servedBy ?? '?') ?? 0) + 1);
    if (r.kill) {
      const k = r.kill;
      const seen = r.watcher.changes.filter((c) => c.server === k.node).map((c) => `${c.status} at ${((c.atMs - k.atMs) / 1000).toFixed(2)} s`);
      process.stdout.write(
        `\n${r.name}: ${k.node} killed ${((k.atMs - r.t0) / 1000).toFixed(1)} s into the phase (times below are from ${k.fromEvent ? "Docker's kill event" : "the return of Docker's kill call"}; the call took ${k.callMs} ms${k.diedMs !== undefined ? `, its die event came ${((k.diedMs - k.atMs) / 1000).toFixed(2)} s after the kill event` : ''}); HAProxy showed it: ${seen.join(', ')}`,
      );
    }
    process.stdout.write(
      `\n${r.name}: served by ${[...served]
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}${r.watcher.errors ? `; ${r.watcher.errors} show stat polls failed` : ''}`,
    );
  }
  process.stdout.write(
    `\nafter the run: ${status.haproxy.servers
      .filter((s) => s.backend === BACKENDS.web)
      .map((s) => `${s.server} ${s.status}`)
      .join(', ')}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(3);
});
