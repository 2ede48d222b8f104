/**
 * Benchmark (d): the load generator's own overhead. The same static endpoint (/lab/health.php
 * on one web node, directly, no HAProxy) is hammered for the same time with the same number of
 * connections, closed loop without think time, first by this generator (MoodleClient over
 * node:http, HDR histogram) and then by `wrk` (C, epoll; apt-get install wrk). The ratio of the
 * medians is what the generator adds per request on this machine.
 *
 *   BENCH_LAB=mlt-load MOODLE_LAB_HOME=/tmp/lh-load node --import tsx bench/generator-overhead.ts
 *   (BENCH_NODE=web1 BENCH_CONNECTIONS=4 BENCH_DURATION=10s; or BENCH_URL=http://127.0.0.1:PORT)
 */
import { execFileSync } from 'node:child_process';
import { loadTarget, machineLine, openLab, pad } from './support';
import { parseDuration } from '../src/load/faults';
import { runUsers } from '../src/load/generator';
import { okPage, timedRequest } from '../src/load/http';
import { MetricsRecorder } from '../src/metrics/recorder';
import { MoodleClient } from '../src/moodle/client';

const LAB = process.env.BENCH_LAB ?? 'mlt-load';
const NODE = process.env.BENCH_NODE ?? 'web1';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const DURATION = parseDuration(process.env.BENCH_DURATION ?? '10s');

/** wrk's "Latency Distribution" line for 50 % (or 99 %), in ms. */
export function wrkPercentile(out: string, p: 50 | 75 | 90 | 99): number {
  const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
  if (!m) throw new Error(`no ${p}% line in wrk's output:\n${out}`);
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function ours(url: string, durationMs: number): Promise<{ p50: number; p99: number; rps: number; requests: number; failures: number }> {
  const u = new URL(url);
  const rec = new MetricsRecorder();
  const clients = new Map<number, MoodleClient>();
  const { startMs, endMs } = await runUsers(
    async (vu) => {
      const c = clients.get(vu.id) ?? clients.set(vu.id, new MoodleClient({ wwwroot: u.origin, timeoutMs: 5000 })).get(vu.id)!;
      await vu.request('health', url, () => timedRequest(c, 'GET', u.pathname, okPage));
    },
    { users: CONNECTIONS, durationMs, rampUpMs: 0, thinkMinMs: 0, thinkMaxMs: 0 },
    (s) => rec.record(s),
  );
  const l = rec.uncorrected.summary();
  return { p50: l.p50, p99: l.p99, rps: rec.requests / ((endMs - startMs) / 1000), requests: rec.requests, failures: rec.failures };
}

async function main() {
  let url = process.env.BENCH_URL;
  if (!url) {
    const { controller } = openLab(LAB);
    const t = loadTarget(await controller.status()).probeTargets.find((p) => p.name === NODE);
    if (!t) throw new Error(`no direct URL for ${NODE}`);
    url = t.url;
  }
  url = `${url.replace(/\/$/, '')}/lab/health.php`;
  const wrkVersion = (() => {
    try {
      execFileSync('wrk', ['--version'], { encoding: 'utf8' });
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? '').split('\n')[0] ?? '?';
    }
    return '?';
  })();
  process.stderr.write(`  warm-up (2 s)\n`);
  await ours(url, 2000);
  process.stderr.write(`  this generator, ${CONNECTIONS} connections, ${DURATION / 1000} s\n`);
  const a = await ours(url, DURATION);
  process.stderr.write(`  wrk, ${CONNECTIONS} connections, ${DURATION / 1000} s\n`);
  const out = execFileSync('wrk', ['-t', String(Math.min(2, CONNECTIONS)), '-c', String(CONNECTIONS), '-d', `${DURATION / 1000}s`, '--latency', url], {
    encoding: 'utf8',
  });
  const b = { p50: wrkPercentile(out, 50), p99: wrkPercentile(out, 99), rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0) };

  process.stdout.write(
    `\ngenerator-overhead: GET ${url} (${NODE}, direct), ${CONNECTIONS} connections, closed loop, no think time, ${DURATION / 1000} s each\n${machineLine()}\nwrk: ${wrkVersion.trim()}\n\n`,
  );
  process.stdout.write(
    pad([
      ['client', 'p50 ms', 'p99 ms', 'req/s'],
      [`this generator (${a.requests} req, ${a.failures} failed)`, a.p50.toFixed(3), a.p99.toFixed(3), a.rps.toFixed(0)],
      ['wrk', b.p50.toFixed(3), b.p99.toFixed(3), b.rps.toFixed(0)],
      ['ratio (generator / wrk)', (a.p50 / b.p50).toFixed(2), (a.p99 / b.p99).toFixed(2), (a.rps / b.rps).toFixed(2)],
    ]) + '\n',
  );
  process.stdout.write(`\nwrk output:\n${out}`);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
