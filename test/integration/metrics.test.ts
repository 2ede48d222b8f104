/**
 * Metrics for Prometheus on a real lab: `load --metrics-port` serves the lab's state and the
 * run's counters while the load goes, `metrics` serves the lab alone, and HAProxy's own exporter
 * answers on the stats port. Every scrape is parsed with a Prometheus text parser from npm.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import parsePrometheusTextFormat, { ParsedFamily } from 'parse-prometheus-text-format';
import { waitFor, ready, notYet } from '../../src/core/wait';
import { freshLabOrSkip, LabUnderTest, ROOT } from '../support/integration';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The CLI as a long-running subprocess (load, metrics): stopped with SIGINT. */
function startCli(lab: LabUnderTest, args: string[]) {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'lab.mjs'), ...args, '--lab', lab.lab], {
    cwd: ROOT,
    env: { ...process.env, MOODLE_LAB_HOME: lab.home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  child.stdout.resume();
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return { child, exited, stderr: () => stderr };
}

async function scrapeWhen(url: string, ok: (f: ParsedFamily[]) => string | undefined, what: string): Promise<ParsedFamily[]> {
  return waitFor(
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e as Error);
      if (res instanceof Error) return notYet(res.message);
      if (res.status !== 200) return notYet(`HTTP ${res.status}`);
      const parsed = parsePrometheusTextFormat(await res.text());
      const problem = ok(parsed);
      return problem ? notYet(problem) : ready(parsed);
    },
    { what, timeoutMs: 60_000, intervalMs: 500 },
  );
}

const metric = (all: ParsedFamily[], name: string, labels: Record<string, string> = {}) =>
  all.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));

describe('metrics for Prometheus (real lab)', function () {
  const lab = new LabUnderTest('it-metrics');

  before(async function () {
    await freshLabOrSkip(this, lab);
    await lab.cliOk(['up', '--no-moodle']);
  });

  after(async () => {
    await lab.cli(['destroy']);
  });

  it('load --metrics-port: the lab and the running load, scraped while it goes', async () => {
    const port = await freePort();
    const load = startCli(lab, ['load', '--journey', 'probe', '--users', '5', '--duration', '25s', '--think', '100ms-200ms', '--metrics-port', String(port)]);
    try {
      const parsed = await scrapeWhen(
        `http://127.0.0.1:${port}/metrics`,
        (f) => (Number(metric(f, 'moodle_lab_load_requests_total')?.value ?? 0) > 0 ? undefined : 'no request counted yet'),
        'a scrape with load counters',
      );
      assert.equal(metric(parsed, 'moodle_lab_load_running')?.value, '1');
      assert.equal(metric(parsed, 'moodle_lab_node_healthy', { node: 'galera2', role: 'db' })?.value, '1');
      assert.equal(metric(parsed, 'moodle_lab_galera_cluster_size')?.value, '3');
      assert.equal(metric(parsed, 'moodle_lab_gluster_bricks_online')?.value, '3');
      assert.equal(metric(parsed, 'moodle_lab_redis_up')?.value, '1');
      assert.equal(parsed.find((f) => f.name === 'moodle_lab_load_latency_seconds')?.type, 'HISTOGRAM');
      const nodes = new Set(parsed.find((f) => f.name === 'moodle_lab_load_requests_total')!.metrics.map((m) => m.labels?.node));
      assert.ok(
        [...nodes].some((n) => /^web\d$/.test(n ?? '')),
        `requests labelled by the web node that answered: ${[...nodes].join(', ')}`,
      );
      assert.equal(await load.exited, 0, load.stderr().slice(-2000));
    } finally {
      load.child.kill('SIGINT');
    }
  });

  it('metrics --port: the lab alone; HAProxy exporter on the stats port', async () => {
    const port = await freePort();
    const server = startCli(lab, ['metrics', '--port', String(port)]);
    try {
      const parsed = await scrapeWhen(
        `http://127.0.0.1:${port}/metrics`,
        (f) => (metric(f, 'moodle_lab_up') ? undefined : 'no moodle_lab_up'),
        'the metrics command',
      );
      assert.equal(metric(parsed, 'moodle_lab_up')?.value, '1');
      assert.equal(metric(parsed, 'moodle_lab_haproxy_server_up', { backend: 'web', server: 'web1' })?.value, '1');
      assert.equal(
        parsed.some((f) => f.name.startsWith('moodle_lab_load_')),
        false,
        'no load in this process',
      );
    } finally {
      server.child.kill('SIGINT');
    }
    assert.equal(await server.exited, 0, server.stderr());

    const stats = (await lab.status()).endpoints.haproxyStats;
    assert.ok(stats, 'status names the stats endpoint');
    const exporter = new URL('/metrics', stats).toString();
    const parsed = await scrapeWhen(
      exporter,
      (f) => (f.some((x) => x.name === 'haproxy_server_status') ? undefined : 'no haproxy_server_status'),
      "HAProxy's exporter",
    );
    const web1 = parsed.find((f) => f.name === 'haproxy_server_status')!.metrics.filter((m) => m.labels?.proxy === 'web' && m.labels?.server === 'web1');
    assert.ok(web1.length > 0, 'the exporter lists web1 of the web backend');
    assert.equal(web1.find((m) => m.labels?.state === 'UP')?.value, '1');
  });
});
