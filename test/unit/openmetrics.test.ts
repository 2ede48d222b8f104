import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import parsePrometheusTextFormat, { ParsedFamily } from 'parse-prometheus-text-format';
import { renderMetrics } from '../../src/metrics/openmetrics';
import { cachedStatus, startMetricsServer } from '../../src/metrics/server';
import type { Sample } from '../../src/metrics/types';
import { syntheticStatus } from '../support/lab-snapshot';

function sample(node: string, label: string, elapsedMs: number, success = true): Sample {
  const startMs = 1_000_000;
  return {
    label,
    startMs,
    intendedStartMs: startMs,
    elapsedMs,
    success,
    status: success ? 200 : 503,
    message: success ? 'OK' : 'HTTP 503',
    node,
    bytes: 1,
    sentBytes: 1,
    thread: 'vu 1',
    url: '/',
    activeThreads: 1,
  };
}

const family = (all: ParsedFamily[], name: string) => {
  const f = all.find((x) => x.name === name);
  assert.ok(f, `family ${name} in ${all.map((x) => x.name).join(', ')}`);
  return f;
};
const value = (f: ParsedFamily, labels: Record<string, string>) => {
  const m = f.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  assert.ok(m, `${f.name}${JSON.stringify(labels)}`);
  return m;
};

describe('metrics for Prometheus', () => {
  const samples = [sample('web1', 'login', 120), sample('web1', 'login', 700), sample('web2', 'course', 2000, false), sample('web1', 'course', 40)];

  it('a scrape parses with a Prometheus text parser: node health by role, Galera, bricks, Redis, and the load by node and step', async () => {
    const status = syntheticStatus(1); // web2 down
    const server = await startMetricsServer({ lab: 'bench', status: async () => status, load: () => ({ samples, users: 30, running: true }) });
    try {
      const res = await fetch(server.url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const parsed = parsePrometheusTextFormat(text);
      const healthy = family(parsed, 'moodle_lab_node_healthy');
      assert.equal(healthy.type, 'GAUGE');
      assert.equal(value(healthy, { node: 'web2', role: 'web' }).value, '0');
      assert.equal(value(healthy, { node: 'galera1', role: 'db' }).value, '1');
      assert.equal(value(family(parsed, 'moodle_lab_haproxy_server_up'), { backend: 'web', server: 'web2' }).value, '0');
      assert.equal(value(family(parsed, 'moodle_lab_galera_cluster_size'), { lab: 'bench' }).value, '3');
      assert.equal(value(family(parsed, 'moodle_lab_gluster_bricks_online'), {}).value, '3');
      assert.equal(value(family(parsed, 'moodle_lab_gluster_heal_pending'), {}).value, '0');
      assert.equal(value(family(parsed, 'moodle_lab_redis_up'), {}).value, '1');
      const requests = family(parsed, 'moodle_lab_load_requests_total');
      assert.equal(requests.type, 'COUNTER');
      assert.equal(value(requests, { node: 'web1', step: 'login' }).value, '2');
      assert.equal(value(family(parsed, 'moodle_lab_load_failures_total'), { node: 'web2', step: 'course' }).value, '1');
      assert.equal(family(parsed, 'moodle_lab_load_latency_seconds').type, 'HISTOGRAM');
      // This parser folds every series of a histogram family into one (prom2json's shape keeps
      // one unlabelled histogram): read each series through it on its own.
      const series = (node: string, step: string) => {
        const lines = text
          .split('\n')
          .filter(
            (l) =>
              l.startsWith('# HELP moodle_lab_load_latency_seconds') ||
              l.startsWith('# TYPE moodle_lab_load_latency_seconds') ||
              (l.startsWith('moodle_lab_load_latency_seconds_bucket') && l.includes(`node="${node}",step="${step}"`)),
          );
        return family(parsePrometheusTextFormat(lines.join('\n') + '\n'), 'moodle_lab_load_latency_seconds').metrics[0]!;
      };
      const login = series('web1', 'login');
      assert.equal(login.buckets?.['0.5'], '1', 'one login within 0.5 s');
      assert.equal(login.buckets?.['1'], '2', 'both within 1 s (cumulative)');
      assert.equal(login.buckets?.['+Inf'], '2');
      assert.equal(series('web2', 'course').buckets?.['1.5'], '0');
      assert.equal(series('web2', 'course').buckets?.['2.5'], '1');
      assert.match(text, /^moodle_lab_load_latency_seconds_count\{lab="bench",node="web1",step="login"\} 2$/m);
      assert.match(text, /^moodle_lab_load_latency_seconds_sum\{lab="bench",node="web1",step="login"\} 0\.82$/m);
      const other = await fetch(server.url.replace('/metrics', '/'));
      assert.equal(other.status, 404);
    } finally {
      await server.close();
    }
  });

  it('OpenMetrics when the scraper asks for it: counters named without _total in TYPE, # EOF last', async () => {
    const server = await startMetricsServer({ lab: 'bench', status: async () => syntheticStatus(0), load: () => ({ samples, users: 30, running: false }) });
    try {
      const res = await fetch(server.url, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
      assert.match(res.headers.get('content-type') ?? '', /^application\/openmetrics-text; version=1\.0\.0/);
      const text = await res.text();
      assert.ok(text.endsWith('# EOF\n'));
      assert.match(text, /^# TYPE moodle_lab_load_requests counter$/m);
      assert.match(text, /^moodle_lab_load_requests_total\{lab="bench",node="web1",step="login"\} 2$/m);
      assert.match(text, /^moodle_lab_load_latency_seconds_bucket\{lab="bench",node="web1",step="login",le="\+Inf"\} 2$/m);
      // The Prometheus parser reads it too (the EOF marker is a comment to it).
      assert.equal(family(parsePrometheusTextFormat(text), 'moodle_lab_load_running').metrics[0]!.value, '0');
    } finally {
      await server.close();
    }
  });

  it('without a load only the lab is described; label values are escaped', () => {
    const st = { ...syntheticStatus(0), lab: 'a"b\\c' };
    const text = renderMetrics({ lab: st.lab, status: st, openMetrics: false });
    assert.doesNotMatch(text, /moodle_lab_load_/);
    assert.match(text, /moodle_lab_redis_up\{lab="a\\"b\\\\c"\} 1/);
    assert.equal(family(parsePrometheusTextFormat(text), 'moodle_lab_redis_up').metrics[0]!.labels!.lab, 'a"b\\c');
  });

  it('the status is collected at most once a second however often Prometheus scrapes, and a failure is a 503', async () => {
    let t = 0;
    let calls = 0;
    const get = cachedStatus({ lab: 'x', now: () => t, status: async () => (calls++, syntheticStatus(0)) });
    await Promise.all([get(), get(), get()]);
    t = 500;
    await get();
    assert.equal(calls, 1);
    t = 1500;
    await get();
    assert.equal(calls, 2);
    const server = await startMetricsServer({ lab: 'x', status: async () => Promise.reject(new Error('Docker is not running')) });
    try {
      const res = await fetch(server.url);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /Docker is not running/);
    } finally {
      await server.close();
    }
  });
});

describe('the Grafana dashboard (media/grafana-dashboard.json)', () => {
  it('reads only metrics the lab serves', () => {
    const file = path.join(__dirname, '..', '..', 'media', 'grafana-dashboard.json');
    const dash = JSON.parse(fs.readFileSync(file, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const st = syntheticStatus(0);
    st.haproxy.servers = st.haproxy.servers.map((x) => ({ ...x, queue: 0 })); // as collected: qcur of `show stat`
    const served = renderMetrics({
      lab: 'x',
      status: { ...st, faults: [] },
      load: { samples: [sample('web1', 'login', 100)], users: 1, running: true },
      openMetrics: false,
    });
    const names = new Set([...served.matchAll(/^([a-z_]+)(?:\{| )/gm)].map((m) => m[1]!));
    const used = dash.panels.flatMap((p) =>
      p.targets.flatMap((t) => [...t.expr.matchAll(/\b(moodle_lab_[a-z_]+)/g)].map((m) => ({ panel: p.title, name: m[1]! }))),
    );
    assert.ok(used.length >= 10, `${used.length} metric uses`);
    for (const u of used) assert.ok(names.has(u.name), `panel "${u.panel}" reads ${u.name}, which the lab does not serve`);
  });
});
