/**
 * The false-alarm check (issue 16): N minutes (default 10) of the 30-user load (Moodle's journey
 * when the lab has Moodle, else the lab's probes) beside a CPU-heavy neighbour (a plain container
 * from the lab's base image spinning a busy loop per core), with NO fault. Counts what a tight
 * failover setting may raise by mistake:
 * - HAProxy DOWN events of every server of every listener (HAProxy's own `chkdown` counter at the
 *   start and the end, and UP→DOWN transitions polled every second from `show stat`);
 * - Galera view changes (`wsrep_cluster_conf_id` of each node at the start and the end);
 * - Gluster disconnects (the brick-disconnect lines the FUSE clients and the self-heal daemon log,
 *   before vs after) and bricks seen offline (`gluster volume status`, polled through the lab's status);
 * and prints the load's Apdex/p95/failures. Exit 1 if any false alarm (failed requests are printed, not counted).
 * The neighbour is labelled, removed at the end, on Ctrl-C too, and before a new run.
 *
 *   npm run bench:false-alarm -- --lab NAME [--minutes 10m] [--journey auto|moodle|probe] [--users 30]
 *       [--neighbour on|off] [--topology ha [--moodle-source DIR]]
 */
import * as os from 'node:os';
import { LABEL_NODE, labLabels } from '../src/docker/labels';
import type { DockerClient } from '../src/docker/types';
import { sql } from '../src/roles/galera';
import { tcpRuntime } from '../src/roles/haproxy-runtime';
import { DEFAULT_LOAD, journeyFor, pacing, runLoad } from '../src/load/run';
import { haproxySource } from '../src/load/snapshots';
import { confId, disconnectLines, downEvents, isClientLog, serverStats, wentDown } from './false-alarm-checks';
import { benchLab, loadLine, loadTarget, machineLine, onInterrupt, pad, runBench } from './support';
import { durationFlag, intFlag, parseBenchArgs, UsageError } from './runs';

const USAGE =
  'bench/false-alarm.ts --lab NAME [--minutes 10m] [--journey auto|moodle|probe] [--users 30] [--neighbour on|off] [--topology ha [--moodle-source DIR]]';
const NEIGHBOUR_LABEL = 'io.moodle-lab.bench';
const log = (m: string) => process.stderr.write(`  ${m}\n`);

async function removeNeighbours(docker: DockerClient, lab: string): Promise<void> {
  for (const c of await docker.containers.list({ [NEIGHBOUR_LABEL]: `false-alarm-${lab}` })) {
    await docker.containers.kill(c.id).catch(() => undefined);
    await docker.containers.remove(c.id).catch(() => undefined);
  }
}

async function main(): Promise<number> {
  const args = parseBenchArgs(
    process.argv.slice(2),
    { runs: 0, flags: { minutes: process.env.BENCH_DURATION ?? '10m', users: process.env.BENCH_USERS ?? '30', neighbour: 'on' } },
    process.env,
    'mlt-load',
  );
  const durationMs = durationFlag(args, 'minutes');
  const users = intFlag(args, 'users', 1, 500);
  if (args.extra.neighbour !== 'on' && args.extra.neighbour !== 'off') throw new UsageError(`--neighbour "${args.extra.neighbour}": on, off`);

  const { controller, docker, close } = await benchLab(args, log);
  const state = controller.engine.state();
  if (!state) throw new Error(`lab ${args.lab} has no state`);
  const status = await controller.status();
  if (!status.endpoints.haproxyRuntime) throw new Error(`lab ${args.lab} has no HAProxy runtime endpoint`);
  const journey = journeyFor(args.journey, status.moodle.installed);
  const runtime = tcpRuntime(Number(/:(\d+)$/.exec(status.endpoints.haproxyRuntime)![1]));
  const containers = await docker.containers.list(labLabels(args.lab));
  const idOf = (node: string) => containers.find((c) => c.labels[LABEL_NODE] === node)?.id;
  const galeraNodes = status.galera.nodes.map((n) => n.name).filter((n) => idOf(n));

  /** Gluster client logs of every node that has one: node → file → disconnect lines. */
  const glusterLogs = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const c of containers) {
      const node = c.labels[LABEL_NODE] ?? c.name;
      const ls = await docker.containers
        .exec(c.id, ['sh', '-c', 'ls /var/log/glusterfs/*.log 2>/dev/null || true'], { timeoutMs: 15_000 })
        .catch(() => undefined);
      for (const file of (ls?.stdout ?? '').split('\n').filter((f) => f && isClientLog(f))) {
        const text = (await docker.containers.getFile(c.id, file).catch(() => undefined))?.toString('utf8') ?? '';
        out.set(`${node}:${file}`, disconnectLines(text).length);
      }
    }
    return out;
  };
  const confIds = async (): Promise<Map<string, number | undefined>> => {
    const out = new Map<string, number | undefined>();
    for (const n of galeraNodes) {
      const text = await sql(docker.containers, idOf(n)!, state.secrets.dbRootPassword, "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_conf_id'", 15_000).catch(
        () => '',
      );
      out.set(n, confId(text));
    }
    return out;
  };

  let neighbourOn = false;
  const stopNeighbour = async () => {
    if (neighbourOn) log('removing the CPU neighbour');
    neighbourOn = false;
    await removeNeighbours(docker, args.lab);
  };
  onInterrupt(stopNeighbour);
  try {
    // The starting point, before the neighbour and the load.
    const stat0 = serverStats(await runtime('show stat'));
    const conf0 = await confIds();
    const gl0 = await glusterLogs();
    log(
      `start: ${stat0.size} HAProxy servers, Galera views ${[...conf0].map(([n, v]) => `${n}:${v ?? '?'}`).join(' ') || '-'}, ${gl0.size} Gluster client logs`,
    );

    if (args.extra.neighbour === 'on') {
      await removeNeighbours(docker, args.lab);
      const loops = os.cpus().length;
      const id = await docker.containers.create({
        name: `${args.lab}-cpu-neighbour`,
        image: state.baseImage,
        hostname: 'cpu-neighbour',
        labels: { [NEIGHBOUR_LABEL]: `false-alarm-${args.lab}` },
        env: {},
        network: 'none',
        aliases: [],
        ports: [],
        volumes: [],
        capAdd: [],
        devices: [],
        stopTimeoutS: 1,
        // A busy loop per core: the lab competes for every CPU.
        cmd: ['sh', '-c', `for i in $(seq ${loops}); do (while :; do :; done) & done; wait`],
      });
      neighbourOn = true;
      await docker.containers.start(id);
      log(`CPU neighbour up: ${loops} busy loops (${state.baseImage})`);
    }

    // HAProxy polled every second for UP→DOWN transitions; bricks through the lab's status every 5 s.
    const seenDown: string[] = [];
    const bricksOff: string[] = [];
    let polling = true;
    const poller = (async () => {
      let last = stat0;
      let nextStatus = Date.now() + 5000;
      while (polling) {
        const t = Date.now();
        try {
          const now = serverStats(await runtime('show stat'));
          for (const k of wentDown(last, now)) {
            seenDown.push(k);
            log(`DOWN: ${k} (${now.get(k)?.status})`);
          }
          last = now;
        } catch {
          // a missed poll: chkdown still counts
        }
        if (Date.now() >= nextStatus) {
          nextStatus = Date.now() + 5000;
          const s = await controller.status().catch(() => undefined);
          for (const b of s?.gluster.bricks.filter((x) => !x.online) ?? []) {
            bricksOff.push(b.name);
            log(`brick offline: ${b.name}`);
          }
        }
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - t))));
      }
    })();

    log(`${journey} journey, ${users} users, ${durationMs / 1000} s, no fault`);
    const run = await runLoad(
      loadTarget(status),
      { ...DEFAULT_LOAD, journey, ...pacing(journey), users, durationMs, probeHz: 2, integrityHz: journey === 'moodle' ? 2 : 0 },
      { sources: [haproxySource(status.endpoints.haproxyRuntime)], progress: everyHalfMinute },
    );
    polling = false;
    await poller;
    const loadAvg = loadLine();
    await stopNeighbour();

    const stat1 = serverStats(await runtime('show stat'));
    const conf1 = await confIds();
    const gl1 = await glusterLogs();
    const downs = downEvents(stat0, stat1, seenDown);
    const downTotal = [...downs.values()].reduce((a, b) => a + b, 0);
    const views = galeraNodes.map((n) => {
      const a = conf0.get(n);
      const b = conf1.get(n);
      return { n, a, b, changed: a === undefined || b === undefined ? NaN : b - a };
    });
    const viewChanges = views.some((v) => Number.isNaN(v.changed)) ? NaN : Math.max(0, ...views.map((v) => v.changed));
    const disc = [...gl1].map(([k, v]) => ({ k, n: v - (gl0.get(k) ?? 0) }));
    const discTotal = disc.reduce((a, d) => a + Math.max(0, d.n), 0);
    const r = run.result;

    process.stdout.write(
      `\nfalse-alarm: ${users} users, ${journey} journey, ${durationMs / 1000} s, no fault, CPU neighbour ${args.extra.neighbour}, lab ${args.lab}\n${machineLine()}, ${loadAvg} (at the end, neighbour still on)\n\n`,
    );
    const rows: (string | number)[][] = [
      ['check', 'count', 'detail'],
      [
        'HAProxy DOWN events',
        downTotal,
        [...downs]
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k}:${n}`)
          .join(' ') || `0 of ${downs.size} servers (every listener)`,
      ],
      [
        'Galera view changes',
        Number.isNaN(viewChanges) ? 'unknown' : viewChanges,
        views.map((v) => `${v.n} ${v.a ?? '?'}→${v.b ?? '?'}`).join(', ') || 'no Galera',
      ],
      [
        'Gluster disconnects',
        discTotal,
        disc
          .filter((d) => d.n > 0)
          .map((d) => `${d.k}:${d.n}`)
          .join(' ') || `0 in ${disc.length} client logs`,
      ],
      ['Gluster bricks seen offline', bricksOff.length, [...new Set(bricksOff)].join(' ') || '-'],
      ['failed requests', r.failures, `of ${r.requests}`],
      ['Apdex', r.apdex.toFixed(3), '-'],
      ['p95 ms', r.latencyMs.p95, `p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`],
    ];
    process.stdout.write(pad(rows) + '\n');
    const alarms = downTotal + (Number.isNaN(viewChanges) ? 1 : viewChanges) + discTotal + bricksOff.length;
    process.stdout.write(alarms ? `\nFALSE ALARMS: ${alarms}\n` : '\nno false alarm\n');
    return alarms ? 1 : 0;
  } finally {
    await stopNeighbour();
    await close();
  }
}

/** The load's progress lines every 30 s (they come every second), other lines as they come. */
function everyHalfMinute(line: string): void {
  const m = /^\[\s*(\d+) s\]/.exec(line);
  if (!m || Number(m[1]) % 30 === 0) log(line);
}

runBench(main, USAGE);
