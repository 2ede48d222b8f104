/**
 * External faults drawn apart from injected ones: on the scenario timeline, in the report's chart
 * (marker style, legend, numbered list, timeline), in the dashboard's live chart and timeline.
 */
import { strict as assert } from 'node:assert';
import { renderHtml } from '../../src/scenarios/report';
import { parseScenario } from '../../src/scenarios/parse';
import { externalMarkers } from '../../src/host/load-session';
import { chartModel, markerText } from '../../webview/chart';
import type { TimelineEvent } from '../../src/protocol/snapshot';
import type { ScenarioResult } from '../../src/scenarios/types';
import { IntegrityLedger } from '../../src/load/integrity';
import { MetricsRecorder } from '../../src/metrics/recorder';
import { paperFailoverResult } from '../fixtures/scenario-result';
import { FakeLab, fakeLoads, result, runner } from '../support/scenario-lab';

const EXTERNAL = { fault: 'kill web3', source: 'external' as const, atMs: 4000, detectedMs: 900, failedRequests: 4, blackoutMs: 300, recoveredMs: null };
const INJECTED = { fault: 'kill web2', source: 'injected' as const, atMs: 2000, detectedMs: 800, failedRequests: 2, blackoutMs: 200, recoveredMs: 1500 };

/** The marker groups of the report's chart: class, data-external, label text. */
function markers(html: string): { cls: string; external: boolean; label: string }[] {
  return [...html.matchAll(/<g class="marker ([^"]+)" data-kind="[^"]+"( data-external="true")?><line[^>]*\/><text[^>]*>([^<]*)<\/text>/g)].map((m) => ({
    cls: m[1]!,
    external: Boolean(m[2]),
    label: m[3]!,
  }));
}

describe('external faults drawn apart from injected ones', () => {
  it('the scenario timeline gets the faults a load run noticed and no step injected, where they happened, marked external', async () => {
    const lab = new FakeLab('lab');
    const loads = fakeLoads([result({ faults: [INJECTED, EXTERNAL] })]);
    const s = parseScenario(
      ['name: t', 'steps:', '  - up', '  - load: { users: 5, duration: 10s }', '  - fault: kill web2', '  - load: wait'].join('\n'),
      't.yaml',
    );
    const r = await runner({ lab }, loads).run(s);
    const faults = r.timeline.filter((e) => e.kind === 'fault');
    assert.deepEqual(
      faults.map((e) => [e.text, e.external ?? false]),
      [
        ['kill web2', false],
        ['kill web3 (external)', true],
      ],
    );
    const ext = faults[1]!;
    assert.equal(ext.atMs, 4000, 'at the run start (0 on the virtual clock) + the fault’s atMs');
    const times = r.timeline.map((e) => e.atMs);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'in time order',
    );
  });

  it('the report: an injected and an external fault two seconds apart — two markers told apart (class, ⚠, legend, timeline), labels apart', () => {
    const base = paperFailoverResult();
    const at = base.timeline.find((e) => e.kind === 'fault')!.atMs;
    const res: ScenarioResult = {
      ...base,
      timeline: [...base.timeline, { atMs: at + 2000, kind: 'fault' as const, text: 'kill web3 (external)', external: true }].sort((a, b) => a.atMs - b.atMs),
    };
    const html = renderHtml(res);
    const ms = markers(html);
    const injected = ms.filter((m) => m.cls === 'm-fault');
    const external = ms.filter((m) => m.external);
    assert.ok(injected.length >= 1);
    assert.equal(external.length, 1);
    assert.equal(external[0]!.cls, 'm-fault m-external');
    assert.match(external[0]!.label, /^(⚠ kill web3|\d+)$/);
    assert.ok(injected.every((m) => !m.label.startsWith('⚠')));
    assert.match(html, /<span class="sw m-fault m-external"><\/span>external fault \(not injected/);
    assert.match(html, /<span class="sw m-fault"><\/span>fault \(injected\)/);
    assert.match(html, /data-external="true"><span class="t">[^<]*<\/span><span class="k">fault <span class="ext">external<\/span>/);
    assert.match(html, /\.m-external line\{stroke:var\(--ext\)/);
    // labels: each marker text at its own (row, x) — never two on one spot
    const texts = [...html.matchAll(/<g class="marker [^"]+"[^>]*><line[^>]*\/><text x="([\d.]+)" y="([\d.]+)"/g)].map((m) => `${m[1]}|${m[2]}`);
    assert.equal(new Set(texts).size, texts.length);
  });

  it('the dashboard chart: the external fault gets ⚠ and "(external)", the injected one ⚡; both placed by the shared label layout', () => {
    const t0 = 1_700_000_000_000;
    const series = Array.from({ length: 30 }, (_, i) => ({ atMs: t0 + i * 1000, requests: 5, errors: 0, p95Ms: 100, p50Ms: 50 }));
    const ev = (seq: number, atMs: number, text: string, external?: boolean): TimelineEvent => ({
      seq,
      atMs,
      source: external ? 'load' : 'action',
      severity: 'warn',
      kind: 'fault',
      text,
      ...(external ? { external } : {}),
    });
    const m = chartModel({ series, startedAtMs: t0, durationMs: 30_000, running: false }, [
      ev(1, t0 + 10_000, 'dashboard: fault kill web2'),
      ev(2, t0 + 11_000, 'kill web3 (external: not injected through this run)', true),
    ])!;
    assert.deepEqual(
      m.markers.map((x) => [x.label, x.external ?? false]),
      [
        ['kill web2', false],
        ['kill web3 (external)', true],
      ],
    );
    assert.match(markerText(m.markers[0]!), /^⚡ /);
    assert.match(markerText(m.markers[1]!), /^⚠ /);
    assert.notDeepEqual([m.markers[0]!.place.row, m.markers[0]!.place.x], [m.markers[1]!.place.row, m.markers[1]!.place.x]);
  });

  it('the dashboard timeline: a finished run’s external faults become fault markers at the time they happened, with their node', () => {
    const startedAt = 1_700_000_000_000;
    const run = {
      result: result({ faults: [INJECTED, EXTERNAL] }),
      recorder: new MetricsRecorder(),
      ledger: new IntegrityLedger(),
      window: { startMs: 0, endMs: 0 },
      faultEvents: [
        { fault: 'kill web2', kind: 'kill', nodes: ['web2'], atMs: startedAt + 2000, source: 'injected' as const },
        { fault: 'kill web3', kind: 'kill', nodes: ['web3'], atMs: startedAt + 4000, source: 'external' as const },
      ],
    };
    const out = externalMarkers({ run, info: { label: 'load', users: 5, durationMs: 10_000, journey: 'probe', startedAt } });
    assert.equal(out.length, 1);
    assert.equal(out[0]!.atMs, startedAt + 4000);
    assert.deepEqual({ kind: out[0]!.event.kind, external: out[0]!.event.external, node: out[0]!.event.node }, { kind: 'fault', external: true, node: 'web3' });
    assert.match(out[0]!.event.text, /^kill web3 \(external/);
    assert.deepEqual(externalMarkers({ run: undefined, info: { label: 'load', users: 5, durationMs: 1, journey: 'probe', startedAt } }), []);
  });
});
