import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PAPER_REFERENCE, renderHtml, renderMarkdown, writeReports } from '../../src/scenarios/report';
import type { ScenarioResult } from '../../src/scenarios/types';
import { paperFailoverResult, singleVsHaResult } from '../fixtures/scenario-result';

/** The text of the first element with this class (no DOM here: a tolerant regex is enough). */
const count = (html: string, re: RegExp) => (html.match(re) ?? []).length;

describe('scenario report', () => {
  it('escapes every user-written string: a <script> in a say line comes out inert', () => {
    const evil = '<script>alert("x")</script><img src="http://evil.example/x.png" onerror="y()">';
    const base = paperFailoverResult();
    const r = paperFailoverResult({
      name: 'n<b>ame</b>',
      description: '"quoted" & <i>italic</i>',
      timeline: [...base.timeline, { atMs: 60_000, kind: 'say', text: evil }, { atMs: 70_000, kind: 'fault', text: evil }],
      steps: [...base.steps, { step: evil, passed: false, detail: evil, atMs: 1, durationMs: 1, line: 9 }],
      topology: { preset: '<x>', nodes: [...base.topology.nodes, { name: '<web9>', role: '<r>' }] },
    });
    const html = renderHtml(r);
    assert.ok(!/<script/i.test(html), 'no script element');
    assert.ok(!/<img/i.test(html), 'no img element');
    assert.ok(!/<b>ame|<i>italic|<web9>|<x>|<r>/.test(html), 'tags from the result are escaped');
    assert.ok(html.includes('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;'));
    assert.ok(html.includes('&#34;quoted&#34; &#38; &#60;i&#62;'));
    const md = renderMarkdown(r);
    assert.ok(!/<script|<b>/.test(md), 'markdown carries no raw HTML');
  });

  it('shows the verdict in words, not colour alone', () => {
    const ok = renderHtml(paperFailoverResult());
    assert.match(ok, /<div class="verdict passed"[^>]*>.*PASSED/);
    assert.ok(!/FAILED/.test(ok.replace(/<style>[\s\S]*?<\/style>/, '')));
    const base = paperFailoverResult();
    const bad = renderHtml(
      paperFailoverResult({
        passed: false,
        steps: [...base.steps, { step: 'assert: apdex >= 0.95', passed: false, detail: 'apdex 0.872', atMs: 140_000, durationMs: 1, line: 30 }],
      }),
    );
    assert.match(bad, /<div class="verdict failed"[^>]*>.*FAILED.*1 of 18 steps failed/);
    assert.match(bad, /<tr class="failed">.*✗ FAIL/);
    assert.match(bad, /<title>paper-failover: FAILED/);
  });

  it('draws one chart per run with a marker per fault, heal and maintenance entry', () => {
    const r = paperFailoverResult();
    const html = renderHtml(r);
    assert.equal(count(html, /<svg class="latency-chart"/g), 1);
    const faults = r.timeline.filter((e) => e.kind === 'fault').length;
    assert.equal(faults, 2);
    assert.equal(count(html, /<g class="marker m-fault" data-kind="fault">/g), faults);
    assert.equal(count(html, /data-kind="heal"><line/g), 1);
    assert.match(html, /<path class="series s-p50" d="M[\d.]+ [\d.]+ L/);
    assert.match(html, /<path class="series s-p95"/);
    assert.match(html, /<path class="series s-max"/);
    assert.ok(count(html, /<g class="fail-bars"><rect/g) === 1, 'failure bars');
    assert.match(html, /seconds since scenario start/);
    // both faulted nodes are marked in the topology, the others are not
    assert.match(html, /<g class="node faulted" data-node="web2" data-faults="1">/);
    assert.match(html, /<g class="node faulted" data-node="web3" data-faults="1">/);
    assert.match(html, /<g class="node" data-node="web1" data-faults="0">/);
    assert.equal(count(html, /<g class="node/g), 11);

    const two = renderHtml(singleVsHaResult());
    assert.equal(count(two, /<svg class="latency-chart"/g), 2);
    // markers are drawn on the run whose time window they fall in
    assert.equal(count(two, /data-kind="fault"><line/g), 2);
    assert.equal(count(two, /data-kind="maintenance"><line/g), 2);
  });

  it('has no external resource: a strict CSP and no http(s) URL in any src or href', () => {
    for (const r of [paperFailoverResult(), singleVsHaResult()]) {
      const html = renderHtml(r);
      assert.ok(html.includes(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`));
      assert.ok(!/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i.test(html), 'no src/href to the network');
      assert.ok(!/\b(src|href)\s*=/i.test(html), 'no src/href at all');
      assert.ok(!/<(script|link|iframe|object|embed)\b/i.test(html));
      assert.ok(!/url\(/i.test(html), 'no CSS url()');
    }
  });

  it('renders the failover table for every run with — for missing values', () => {
    const html = renderHtml(paperFailoverResult());
    const table = /<table class="failover">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    assert.match(
      table,
      /<strong>kill web2<\/strong><\/td><td class="num">30.0<\/td><td class="num">1,180<\/td><td class="num">2<\/td><td class="num">1,020<\/td>/,
    );
    assert.match(table, /<strong>stop web3<\/strong>.*<td class="num">—<\/td>/);
    assert.match(table, /still degraded/);
    assert.match(html, /data-tile="apdex"><div class="tile-value">0.872</);
    assert.match(html, /data-tile="errorRate"><div class="tile-value">0.15<small>%<\/small></);
    assert.match(html, /data-tile="max"><div class="tile-value">2.03<small>s<\/small></);
    assert.match(html, /<section id="integrity">[\s\S]*none lost/);
    assert.match(html, /<li class="k-say say" data-kind="say">/);
  });

  it('shows the comparison table, with the paper beside it for the paper scenarios', () => {
    const html = renderHtml(singleVsHaResult());
    const table = /<table class="comparison">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
    assert.ok(table, 'comparison table');
    assert.match(table, /<th class="num">single<\/th><th class="num">ha<\/th>/);
    assert.match(table, new RegExp(PAPER_REFERENCE.figures.single.label));
    assert.match(table, new RegExp(PAPER_REFERENCE.figures.ha.label));
    assert.match(
      table,
      /<td>Apdex<\/td><td class="num">0.612<\/td><td class="num">0.861<\/td><td class="num"><span class="paper">—<\/span><\/td><td class="num"><span class="paper">0.850<\/span>/,
    );
    assert.match(table, /<td>error rate<\/td>.*<span class="paper">0.11 %<\/span>.*<span class="paper">0 %<\/span>/);
    assert.match(table, /<td>max latency<\/td><td class="num">11.8 s<\/td><td class="num">1.92 s<\/td>.*12.0 s.*2.00 s/);
    assert.match(table, /<td>blackout<\/td><td class="num">—<\/td>/);
    // paper-failover has no comparison: the main run against the paper's HA figures
    const pf = renderHtml(paperFailoverResult());
    assert.match(pf, /<h2>Against the paper<\/h2>/);
    assert.ok(!pf.includes(PAPER_REFERENCE.figures.single.label));
    // other scenarios: no paper
    const other = renderHtml(paperFailoverResult({ name: 'kill-galera' }));
    assert.ok(!/class="paper"|Against the paper/.test(other));
  });

  it('does not crash on a scenario without load, runs or topology, nor on a single point', () => {
    const empty: ScenarioResult = {
      users: 0,
      durationS: 0,
      requests: 0,
      failures: 0,
      errorRate: 0,
      apdex: 0,
      latencyMs: { p50: 0, p95: 0, p99: 0, max: 0 },
      throughputRps: 0,
      byLabel: {},
      faults: [],
      name: 'empty',
      passed: true,
      steps: [],
      runs: [],
      timeline: [],
      topology: { preset: 'ha', nodes: [] },
      startedAt: 'not a date',
      durationMs: 0,
    };
    const html = renderHtml(empty);
    assert.match(html, /PASSED/);
    assert.match(html, /This scenario ran no load/);
    assert.match(renderMarkdown(empty), /# empty: ✅ PASSED/);

    const base = paperFailoverResult();
    const one = { ...base.runs[0]!, series: [base.runs[0]!.series[0]!] };
    const none = { ...base.runs[0]!, name: 'none', series: [] };
    const h = renderHtml({ ...base, runs: [one, none] });
    assert.match(h, /<circle class="dot s-p50"/);
    assert.match(h, /No per-second samples were recorded for run “none”/);
    assert.ok(!/NaN|Infinity|undefined/.test(h), 'no NaN/Infinity/undefined in the output');
    const zero = { ...base.runs[0]!, series: base.runs[0]!.series.map((p) => ({ ...p, p50: 0, p95: 0, max: 0, failures: 0 })) };
    assert.ok(!/NaN|Infinity/.test(renderHtml({ ...base, runs: [zero] })));
  });

  it('writes a markdown summary with the tables', () => {
    const md = renderMarkdown(singleVsHaResult());
    assert.match(md, /^# single-vs-ha: ✅ PASSED/);
    assert.match(md, /\| run \| requests \| failures \| error rate \| Apdex \|/);
    assert.match(md, /\| single \| [\d,]+ \| \d+ \|/);
    assert.match(md, /## Failover[\s\S]*\| ha \| stop web2 \| 20.0 \| 1,050 \|/);
    assert.match(md, /## Comparison[\s\S]*\| metric \| single \| ha \| \*paper: one server\* \| \*paper: HA, 2 of 3 web off\* \|/);
    assert.match(md, /\| Apdex \| 0.612 \| 0.861 \| — \| 0.850 \|/);
    assert.ok(!/## Failed steps/.test(md));
    const base = paperFailoverResult();
    const failed = renderMarkdown(
      paperFailoverResult({
        passed: false,
        steps: [...base.steps, { step: 'assert: p95 | <= 500ms', passed: false, detail: 'p95 880\nms', atMs: 1, durationMs: 1, line: 31 }],
      }),
    );
    assert.match(failed, /❌ FAILED/);
    assert.match(failed, /## Failed steps\n\n\| step \| line \| detail \|\n\|---\|---:\|---:\|\n\| assert: p95 \\\| &lt;= 500ms \| 31 \| p95 880 ms \|/);
    assert.match(failed, /## Against the paper/);
    assert.match(failed, /\*\*Integrity:\*\* nothing lost/);
  });

  it('writes out.html, out.json and out.md side by side', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-unit-'));
    try {
      const r = paperFailoverResult();
      const paths = writeReports(r, path.join(dir, 'sub', 'out.html'));
      assert.deepEqual(paths, { html: path.join(dir, 'sub', 'out.html'), json: path.join(dir, 'sub', 'out.json'), md: path.join(dir, 'sub', 'out.md') });
      assert.deepEqual(JSON.parse(fs.readFileSync(paths.json, 'utf8')), JSON.parse(JSON.stringify(r)));
      assert.equal(fs.readFileSync(paths.html, 'utf8'), renderHtml(r));
      assert.equal(fs.readFileSync(paths.md, 'utf8'), renderMarkdown(r));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it("shows each link fault's method as the lab reported it (HTML and Markdown); no section without one", () => {
    const base = paperFailoverResult();
    const r = paperFailoverResult({
      steps: [
        ...base.steps,
        {
          step: 'fault delay web3 300ms',
          kind: 'fault',
          passed: true,
          atMs: 1,
          durationMs: 1,
          impairments: [{ node: 'web3', kind: 'delay', method: 'nfqueue', inForce: true }],
        },
        {
          step: 'fault rate web2 512kbit',
          kind: 'fault',
          passed: true,
          atMs: 2,
          durationMs: 1,
          impairments: [{ node: 'web2', kind: 'rate', method: 'tbf', inForce: false, problem: 'web2 is <exited>' }],
        },
      ],
    });
    const html = renderHtml(r);
    assert.match(html, /<section id="impairments">/);
    assert.equal(count(html, /data-method="nfqueue"/g), 1);
    assert.equal(count(html, /data-method="tbf"/g), 1);
    assert.ok(html.includes('web2 is &#60;exited&#62;'));
    const md = renderMarkdown(r);
    assert.match(md, /## Link impairments/);
    assert.match(md, /\| fault delay web3 300ms \| web3 \| delay \| `nfqueue` \| yes \|/);
    assert.match(md, /\| fault rate web2 512kbit \| web2 \| rate \| `tbf` \| no: web2 is &lt;exited&gt; \|/);
    assert.doesNotMatch(renderHtml(base), /id="impairments"/);
    assert.doesNotMatch(renderMarkdown(base), /Link impairments/);
  });
});
