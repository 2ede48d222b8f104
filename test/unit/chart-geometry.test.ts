import { strict as assert } from 'node:assert';
import { LabelBox, LabelPlace, markerEvents, niceMax, niceTicks, placeLabels, plotArea, timeScale, timeTicks, valueScale } from '../../src/core/chart-geometry';
import { renderHtml } from '../../src/scenarios/report';
import { chartModel, markerText } from '../../webview/chart';
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

/** The label boxes of one row never overlap (numbers measured as numbers). */
function assertNoOverlap(items: readonly LabelBox[], places: readonly LabelPlace[], numberWidth: (n: number) => number): void {
  const boxes = places.map((p, i) => {
    const w = p.n !== undefined ? numberWidth(p.n) : items[i]!.width;
    return { row: p.row, left: p.anchor === 'end' ? p.x - w : p.x, right: p.anchor === 'end' ? p.x : p.x + w, i };
  });
  for (const a of boxes)
    for (const b of boxes)
      if (a.i < b.i && a.row === b.row) assert.ok(a.right <= b.left || b.right <= a.left, `labels ${a.i} and ${b.i} overlap in row ${a.row}`);
}

describe('marker labels stay readable at any spacing (report and dashboard)', () => {
  const numberWidth = (n: number) => String(n).length * 9 + 6;

  it('markers far apart: every label whole, in the top row', () => {
    const items = [100, 400, 700].map((x) => ({ x, width: 150 }));
    const places = placeLabels(items, { right: 1000, rows: 3, numberWidth });
    assert.deepEqual(
      places.map((p) => [p.row, p.n]),
      [
        [0, undefined],
        [0, undefined],
        [0, undefined],
      ],
    );
  });

  it('six markers seconds apart (rolling maintenance): three whole labels stacked, the others numbered, none overlapping', () => {
    const items = [100, 104, 108, 112, 116, 120].map((x) => ({ x, width: 180 }));
    const places = placeLabels(items, { right: 1000, rows: 3, numberWidth });
    assert.deepEqual(
      places.map((p) => p.row),
      [0, 1, 2, 3, 3, 3],
    );
    assert.deepEqual(
      places.map((p) => p.n),
      [undefined, undefined, undefined, 1, 2, 3],
    );
    assertNoOverlap(items, places, numberWidth);
  });

  it('any spacing, any widths: never two labels over each other', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 200; k++) {
      const items = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => ({ x: Math.round(rnd() * 1000), width: 20 + Math.round(rnd() * 200) })).sort(
        (a, b) => a.x - b.x,
      );
      assertNoOverlap(items, placeLabels(items, { right: 1000, rows: 3, numberWidth }), numberWidth);
    }
  });

  it('the report numbers what does not fit and spells it out under the chart', () => {
    const result = paperFailoverResult();
    const run = result.runs[0]!;
    const t = run.series[10]!.atMs;
    const drains = ['web1', 'web2', 'web3', 'web1', 'web2', 'web3'].map((n, i) => ({
      atMs: t + i * 2000,
      kind: 'maintenance' as const,
      text: `maintenance ${i % 2 ? 'off' : 'on'} --node ${n} (rolling step ${i + 1})`,
    }));
    const html = renderHtml({ ...result, timeline: [...result.timeline.filter((e) => e.kind !== 'fault' && e.kind !== 'heal'), ...drains] });
    const legend = /<ol class="marker-legend">(.*?)<\/ol>/.exec(html);
    assert.ok(legend, 'a legend for the numbered labels');
    const numbered = [...legend[1]!.matchAll(/<li value="(\d+)"/g)].map((m) => Number(m[1]));
    assert.ok(numbered.length >= 1 && numbered.length <= 3, `numbered: ${numbered.join(',')}`);
    for (const n of numbered) assert.match(html, new RegExp(`<text [^>]*class="n">${n}</text>`));
  });

  it('the dashboard chart: the same layout, numbers listed under it', () => {
    const t0 = 1_700_000_000_000;
    const box = { width: 640, height: 190, left: 46, right: 34, top: 10, bottom: 22 };
    const series = Array.from({ length: 60 }, (_, i) => ({ atMs: t0 + i * 1000, requests: 5, errors: 0, p95Ms: 100, p50Ms: 50 }));
    const events = ['web1', 'web2', 'web3', 'galera1', 'galera2', 'redis'].map((n, i) => ({
      seq: i + 1,
      atMs: t0 + 20_000 + i * 1000,
      source: 'action' as const,
      severity: 'warn' as const,
      kind: 'fault' as const,
      text: `dashboard: fault kill ${n}`,
    }));
    const m = chartModel({ series, startedAtMs: t0, durationMs: 60_000, running: false }, events, box)!;
    assert.ok(
      m.markers.some((mk) => mk.place.n !== undefined),
      'some labels are numbers',
    );
    assert.equal(markerText(m.markers.find((mk) => mk.place.n === 1)!), '⚡ 1');
    assert.equal(markerText(m.markers[0]!), '⚡ kill web1');
  });
});
