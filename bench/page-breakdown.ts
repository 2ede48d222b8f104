/**
 * Benchmark: where a Moodle page's time goes (issue 16, item 2). On a running lab with Moodle,
 * one user walks the Moodle journey (the load's own pages, src/load/journey-moodle.ts) one request
 * at a time, without think time, --rounds times after one warm-up round. For each page it prints
 * the total at the client and the server's own split, read from the server:
 *
 * - Apache's %D (the request's time inside Apache) from each web node's access log;
 * - lab/moodle/bench-perf.php's note in the same log line: PHP wall time, Moodle's DB time and
 *   query count, the session start (Redis connect + lock + read), included files, opcache
 *   hits/misses of the request, MUC hits/misses and Redis cache operations.
 *
 * The per-request split is on only while the bench runs: it creates /etc/moodle-lab/bench-perf
 * on each web node and removes it at the end (config.php requires bench-perf.php only then).
 * Every request carries X-Lab-Seq (logged by Apache), so a page's redirects (hops) are summed.
 *
 *   npm run bench:pages -- --lab NAME [--rounds 5] [--json]
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { LABEL_NODE, LABEL_ROLE, labLabels } from '../src/docker/labels';
import type { DockerClient } from '../src/docker/types';
import { JourneyAborted, type Outcome, type VirtualUser } from '../src/load/generator';
import { MOODLE_LABELS, moodleJourney } from '../src/load/journey-moodle';
import { errText } from '../src/core/errors';
import { machineLine, openLab, pad } from './support';

const SWITCH = '/etc/moodle-lab/bench-perf';
const log = (m: string) => process.stderr.write(`  ${m}\n`);

interface Args {
  lab: string;
  rounds: number;
  json: boolean;
}

function usage(problem: string): never {
  process.stderr.write(`error: ${problem}\nusage: bench/page-breakdown.ts --lab NAME [--rounds 5] [--json]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { lab: process.env.BENCH_LAB ?? '', rounds: 5, json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--lab') a.lab = value();
    else if (flag === '--rounds') {
      a.rounds = Number(value());
      if (!Number.isInteger(a.rounds) || a.rounds < 1 || a.rounds > 100) usage('--rounds must be a whole number from 1 to 100');
    } else if (flag === '--json') a.json = true;
    else usage(`unknown argument ${flag}`);
  }
  if (!a.lab) usage('--lab is required');
  return a;
}

/** One page of the journey as the client saw it. */
interface ClientSample {
  seq: string;
  label: string;
  totalMs: number;
  status: number;
  failure?: string;
  node?: string;
}

/** One Apache access-log line of the bench (one hop of a page). */
export interface ServerHop {
  seq: string;
  node: string;
  apacheMs: number;
  perf: Record<string, number>;
}

/** Parses the access-log lines written with lab/web/apache/moodle-lab.conf's `labcombined` format. */
export function parseHops(node: string, logText: string, runId: string): ServerHop[] {
  const out: ServerHop[] = [];
  const re = / (\d+) "([^"]*)" "([^"]*)"\s*$/;
  for (const line of logText.split('\n')) {
    const m = re.exec(line);
    if (!m || !m[3]!.startsWith(`${runId}.`)) continue;
    const perf: Record<string, number> = {};
    for (const kv of m[2] === '-' ? [] : m[2]!.split(' ')) {
      const eq = kv.indexOf('=');
      if (eq > 0) perf[kv.slice(0, eq)] = Number(kv.slice(eq + 1));
    }
    out.push({ seq: m[3]!, node, apacheMs: Number(m[1]) / 1000, perf });
  }
  return out;
}

const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export interface PageRow {
  page: string;
  n: number;
  hops: number;
  totalMs: number;
  apacheMs: number;
  phpMs: number;
  phpNonDbMs: number;
  dbMs: number;
  queries: number;
  sessionMs: number;
  outsideApacheMs: number;
  opcacheHitPct: number;
  included: number;
  mucHits: number;
  mucMisses: number;
  redisOps: number;
}

/** Per page label: medians over its samples of the sums over each sample's hops. */
export function breakdown(samples: ClientSample[], hops: ServerHop[]): PageRow[] {
  const bySeq = new Map<string, ServerHop[]>();
  for (const h of hops) bySeq.set(h.seq, [...(bySeq.get(h.seq) ?? []), h]);
  const rows: PageRow[] = [];
  const labels = [...new Set(samples.map((s) => s.label))].sort((a, b) => MOODLE_LABELS.indexOf(a as never) - MOODLE_LABELS.indexOf(b as never));
  for (const label of labels) {
    const per = samples
      .filter((s) => s.label === label && !s.failure)
      .map((s) => {
        const hs = bySeq.get(s.seq) ?? [];
        const sum = (k: string) => hs.reduce((a, h) => a + (h.perf[k] ?? 0), 0);
        const apache = hs.reduce((a, h) => a + h.apacheMs, 0);
        return { s, hs, sum, apache };
      })
      .filter((x) => x.hs.length > 0);
    if (!per.length) continue;
    const m = (f: (x: (typeof per)[number]) => number) => median(per.map(f));
    const och = per.reduce((a, x) => a + x.sum('och'), 0);
    const ocm = per.reduce((a, x) => a + x.sum('ocm'), 0);
    rows.push({
      page: label,
      n: per.length,
      hops: m((x) => x.hs.length),
      totalMs: m((x) => x.s.totalMs),
      apacheMs: m((x) => x.apache),
      phpMs: m((x) => x.sum('t')),
      phpNonDbMs: m((x) => x.sum('t') - x.sum('db') - x.sum('sess')),
      dbMs: m((x) => x.sum('db')),
      queries: m((x) => x.sum('q')),
      sessionMs: m((x) => x.sum('sess')),
      outsideApacheMs: m((x) => x.s.totalMs - x.apache),
      opcacheHitPct: och + ocm ? (100 * och) / (och + ocm) : NaN,
      included: m((x) => x.sum('inc')),
      mucHits: m((x) => x.sum('ch')),
      mucMisses: m((x) => x.sum('cm')),
      redisOps: m((x) => x.sum('rops')),
    });
  }
  return rows;
}

async function webNodes(docker: DockerClient, lab: string): Promise<{ node: string; id: string }[]> {
  const list = await docker.containers.list(labLabels(lab));
  return list
    .filter((c) => c.labels[LABEL_ROLE] === 'web')
    .map((c) => ({ node: c.labels[LABEL_NODE] ?? c.id, id: c.id }))
    .sort((a, b) => a.node.localeCompare(b.node));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { controller, docker } = openLab(args.lab);
  const status = await controller.status();
  if (!status.moodle.installed || !status.moodle.url || !status.moodle.course) throw new Error(`lab ${args.lab} has no Moodle (up with --moodle-source)`);
  const webs = await webNodes(docker, args.lab);
  if (!webs.length) throw new Error(`lab ${args.lab} has no running web node`);
  const runId = randomBytes(4).toString('hex');
  const headers: Record<string, string> = {};
  const journey = moodleJourney({ wwwroot: status.moodle.url, course: status.moodle.course, users: status.moodle.users, headers });
  let seq = 0;
  const samples: ClientSample[] = [];

  const walk = async (round: number, record: boolean) => {
    const vu: VirtualUser = {
      id: round + 1,
      iteration: round,
      async request<T>(label: string, _url: string, run: () => Promise<{ value: T; outcome: Outcome }>): Promise<T> {
        const tag = `${record ? runId : 'warm'}.${++seq}`;
        headers['x-lab-seq'] = tag;
        const t0 = performance.now();
        const { value, outcome } = await run();
        const totalMs = performance.now() - t0;
        if (record) samples.push({ seq: tag, label, totalMs, status: outcome.status, failure: outcome.failure, node: outcome.node });
        if (outcome.failure) throw new JourneyAborted(`${label}: ${outcome.failure}`);
        return value;
      },
      think: async () => undefined,
    };
    try {
      await journey(vu);
    } catch (err) {
      // A failed page ends the round (as in the load); it is counted and the next round starts.
      if (!(err instanceof JourneyAborted)) throw err;
      log(`round ${round}: ${err.message}`);
    }
  };

  log(`lab ${args.lab}: per-request split on for ${webs.map((w) => w.node).join(', ')}`);
  for (const w of webs) await docker.containers.exec(w.id, ['touch', SWITCH], { user: 'root', timeoutMs: 30_000 });
  let hops: ServerHop[] = [];
  try {
    log('warm-up round');
    await walk(0, false);
    for (let r = 1; r <= args.rounds; r++) {
      log(`round ${r}/${args.rounds}`);
      await walk(r, true);
    }
    for (const w of webs) hops = hops.concat(parseHops(w.node, await docker.containers.logs(w.id, 20_000), runId));
  } finally {
    for (const w of webs) {
      await docker.containers
        .exec(w.id, ['rm', '-f', SWITCH], { user: 'root', timeoutMs: 30_000 })
        .catch((e: unknown) => log(`${w.node}: could not remove ${SWITCH}: ${errText(e)}`));
    }
    log('per-request split off');
  }

  const failed = samples.filter((s) => s.failure);
  const rows = breakdown(samples, hops);
  const last = [...hops].reverse();
  const nodeState = webs.map((w) => ({ node: w.node, ...(last.find((h) => h.node === w.node && h.perf.ocn !== undefined)?.perf ?? {}) }));
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ lab: args.lab, rounds: args.rounds, failed: failed.length, rows, nodes: nodeState }, null, 2)}\n`);
    return;
  }
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  console.log(machineLine());
  console.log(`lab ${args.lab}: ${args.rounds} rounds of the Moodle journey, one request at a time (after one warm-up round); medians per page`);
  console.log(`failed pages: ${failed.length}${failed.length ? ` (${failed.map((s) => `${s.label}: ${s.failure}`).join('; ')})` : ''}`);
  const table: string[][] = [
    [
      'page',
      'n',
      'hops',
      'p50 total',
      'Apache',
      'outside',
      'PHP',
      'PHP non-DB',
      'DB ms',
      'queries',
      'session',
      'opcache hit',
      'included',
      'MUC h/m',
      'Redis ops',
    ],
  ];
  for (const r of rows) {
    table.push([
      r.page,
      String(r.n),
      f(r.hops),
      f(r.totalMs),
      f(r.apacheMs),
      f(r.outsideApacheMs),
      f(r.phpMs),
      f(r.phpNonDbMs),
      f(r.dbMs, 1),
      f(r.queries),
      f(r.sessionMs, 1),
      `${f(r.opcacheHitPct, 1)}%`,
      f(r.included),
      `${f(r.mucHits)}/${f(r.mucMisses)}`,
      f(r.redisOps),
    ]);
  }
  console.log(pad(table));
  console.log('(ms; total = at the client, all hops of the page; Apache = %D; outside = total - Apache: HAProxy, network, client;');
  console.log(' PHP = PHP wall time; PHP non-DB = PHP - DB - session; session = session start: Redis connect, lock, read)');
  for (const n of nodeState) {
    const p = n as Record<string, number | string>;
    console.log(
      `${n.node}: opcache ${p.ocn ?? '?'} scripts, ${p.ocmem ?? '?'} MB used, ${p.ocfree ?? '?'} MB free${p.ocfull ? ', FULL' : ''}; interned strings ${p.ocstr ?? '?'} of ${p.ocstrmax ?? '?'} MB; realpath cache ${p.rp ?? '?'} KB`,
    );
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`error: ${errText(err)}\n`);
    process.exit(1);
  });
}
