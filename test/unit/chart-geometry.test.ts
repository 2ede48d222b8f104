import { strict as assert } from 'node:assert';
import { markerEvents, niceMax, niceTicks, plotArea, timeScale, timeTicks, valueScale } from '../../src/core/chart-geometry';
import { renderHtml } from '../../src/scenarios/report';
import { chartModel } from '../../webview/chart';
import { paperFailoverResult } from '../fixtures/scenario-result';

describe('latency chart geometry (report and dashboard)', () => {
  const box = { width: 300, height: 120, left: 40, right: 20, top: 10, bottom: 30 };

  it('the plot is the box less its margins; time runs left to right, values bottom to top', () => {
    const plot = plotArea(box);
    assert.deepEqual(plot, { left: 40, top: 10, right: 280, bottom: 90, width: 240, height: 80 });
    const x = timeScale(plot, 10_000, 20_000);
    assert.deepEqual([x(10_000), x(15_000), x(20_000)], [40, 160, 280]);
    const y = valueScale(plot, 200);
    assert.deepEqual([y(0), y(100), y(200)], [90, 50, 10]);
  });

  it('round numbers and ticks', () => {
    assert.deepEqual([niceMax(0), niceMax(11), niceMax(230), niceMax(1001)], [10, 20, 250, 2000]);
    assert.deepEqual(niceTicks(1234, 5), [0, 250, 500, 750, 1000, 1250]);
    assert.deepEqual(niceTicks(0), [0, 1]);
    assert.deepEqual(niceTicks(3, 4), [0, 1, 2, 3]);
    assert.deepEqual(timeTicks(0, 95), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    assert.deepEqual(timeTicks(12.5, 17), [13, 14, 15, 16, 17]);
  });

  it('markers: the events of the given kinds inside the window (bounds included)', () => {
    const ev = (atMs: number, kind?: string) => ({ atMs, kind, text: `${kind} at ${atMs}` });
    const events = [ev(999, 'fault'), ev(1000, 'fault'), ev(1500, 'say'), ev(1600), ev(1700, 'heal'), ev(2000, 'maintenance'), ev(2001, 'heal')];
    assert.deepEqual(
      markerEvents(events, ['fault', 'heal'], 1000, 2000).map((e) => e.atMs),
      [1000, 1700],
    );
    assert.deepEqual(
      markerEvents(events, ['fault', 'heal', 'maintenance'], 1000, 2000).map((e) => e.atMs),
      [1000, 1700, 2000],
    );
  });

  it('the dashboard and the report put a marker where the shared time scale says', () => {
    const t0 = 1_700_000_000_000;
    const series = Array.from({ length: 20 }, (_, i) => ({ atMs: t0 + i * 1000, requests: 5, errors: 0, p95Ms: 100, p50Ms: 50 }));
    const m = chartModel(
      { series, startedAtMs: t0, durationMs: 20_000, running: false },
      [{ seq: 1, atMs: t0 + 5000, source: 'action', severity: 'warn', kind: 'fault', text: 'dashboard: fault kill web2' }],
      box,
    )!;
    assert.equal(m.markers[0]!.x, timeScale(plotArea(box), m.xStartMs, m.xEndMs)(t0 + 5000));

    const result = paperFailoverResult();
    const run = result.runs[0]!;
    const fault = result.timeline.find((e) => e.kind === 'fault')!;
    const html = renderHtml(result);
    const first = run.series[0]!.atMs,
      last = run.series.at(-1)!.atMs;
    const [from, to] = [Math.min(first, fault.atMs), Math.max(last, fault.atMs)];
    const x = timeScale(plotArea({ width: 1100, height: 420, left: 78, right: 70, top: 86, bottom: 58 }), from, to)(fault.atMs);
    assert.match(html, new RegExp(`<g class="marker m-fault" data-kind="fault"><line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}"`));
  });
});
