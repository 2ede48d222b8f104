/** The report as one self-contained HTML document: inline CSS and SVG, no script, no network. */
import type { LoadFaultResult, LoadResult } from '../../metrics/export';
import type { NamedRun, ScenarioResult } from '../types';
import { CSS } from './css';
import { apdex, clock, DASH, duration, esc, int, isNum, metricLabel, metricValue, ms, msUnit, Num, pageHead, pct, rps, runsOf, when } from './format';
import { PAPER_REFERENCE, paperColumns, paperValue } from './paper';
import { latencyChart } from './svg-chart';
import { topologySvg } from './svg-topology';

/** `numeric(col)`: right-aligned, no wrapping (default: every column but the first). */
function table(
  cls: string,
  head: string[],
  rows: string[][],
  numeric: (col: number) => boolean = (i) => i >= 1,
  rowClass: (row: number) => string = () => '',
): string {
  const nc = (i: number) => (numeric(i) ? ' class="num"' : '');
  const th = head.map((h, i) => `<th${nc(i)}>${h}</th>`).join('');
  const tr = rows.map((r, ri) => `<tr${rowClass(ri) ? ` class="${rowClass(ri)}"` : ''}>${r.map((c, i) => `<td${nc(i)}>${c}</td>`).join('')}</tr>`).join('');
  return `<div class="scroll"><table class="${cls}"><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table></div>`;
}

function tiles(r: LoadResult): string {
  // the unit smaller than the number, so a projected tile reads at a glance
  const u = (v: string) => v.replace(/^([^ ]+) (.+)$/, (_, n: string, unit: string) => `${n}<small>${unit}</small>`);
  const t = (key: string, label: string, value: string, bad = false) =>
    `<div class="tile${bad ? ' bad' : ''}" data-tile="${key}"><div class="tile-value">${u(value)}</div><div class="tile-label">${label}</div></div>`;
  return `<div class="tiles">${[
    t('requests', 'requests', int(r.requests)),
    t('failures', 'failures', int(r.failures), r.failures > 0),
    t('errorRate', 'error rate', pct(r.errorRate), r.errorRate > 0),
    t('apdex', 'Apdex (T 500 ms)', apdex(r.apdex)),
    t('throughput', 'throughput', rps(r.throughputRps)),
  ].join('')}</div><div class="tiles">${[
    t('p50', 'p50 latency', msUnit(r.latencyMs?.p50)),
    t('p95', 'p95 latency', msUnit(r.latencyMs?.p95)),
    t('p99', 'p99 latency', msUnit(r.latencyMs?.p99)),
    t('max', 'max latency', msUnit(r.latencyMs?.max)),
  ].join('')}</div>`;
}

const FAULT_HEAD = ['fault', 'at s', 'detected ms', 'failed requests', 'blackout ms', 'recovered ms', 'p99 ms', 'max ms', 'error'];
function faultRow(f: LoadFaultResult): string[] {
  return [
    `<strong>${esc(f.fault)}</strong>${f.source === 'external' ? ' <span class="muted">(external)</span>' : ''}`,
    isNum(f.atMs) ? (f.atMs / 1000).toFixed(1) : DASH,
    ms(f.detectedMs),
    int(f.failedRequests),
    ms(f.blackoutMs),
    `${ms(f.recoveredMs)}${f.recoveredBy && isNum(f.recoveredMs) ? ` <span class="muted">(${esc(f.recoveredBy)})</span>` : ''}`,
    ms(f.p99Ms),
    ms(f.maxMs),
    f.error ? `<span class="err">${esc(f.error)}</span>` : DASH,
  ];
}

/** The link faults' impairments as the lab reported them when each step applied one (method, in force). */
function impairmentsSection(result: ScenarioResult): string {
  const rows = result.steps.flatMap((s) => (s.impairments ?? []).map((i) => ({ s, i })));
  if (!rows.length) return '';
  return `<section id="impairments"><h2>Link impairments</h2>${table(
    'impairments',
    ['step', 'node', 'kind', 'method', 'in force'],
    rows.map(({ s, i }) => [
      esc(s.step),
      esc(i.node),
      esc(i.kind),
      `<strong data-method="${esc(i.method)}">${esc(i.method)}</strong>`,
      i.inForce ? '<span class="ok">✓ yes</span>' : `<span class="err">✗ no</span>${i.problem ? ` <span class="muted">${esc(i.problem)}</span>` : ''}`,
    ]),
    () => false,
  )}<p class="muted">method: how the lab applied the impairment, as its status said right after the step (netem: the kernel's; tbf: a rate limit alone; nfqueue: the userspace delayer).</p></section>`;
}

function comparisonSection(result: ScenarioResult): string {
  const c = result.comparison;
  const paper = paperColumns(result);
  if (c) {
    const head = ['metric', ...c.runs.map((r) => esc(r)), ...paper.map((p) => `<span class="paper">${esc(p.label)}</span>`)];
    const rows = c.rows.map((row) => [
      esc(metricLabel(row.metric)),
      ...c.runs.map((_, i) => metricValue(row.metric, row.values[i])),
      ...paper.map((p) => `<span class="paper">${metricValue(row.metric, paperValue(row.metric, p))}</span>`),
    ]);
    return `<section id="comparison"><h2>Comparison</h2>${table('comparison', head, rows)}${paper.length ? `<p class="muted">${esc(PAPER_REFERENCE.source)}.</p>` : ''}</section>`;
  }
  if (!paper.length) return '';
  const metrics: [string, (r: LoadResult) => Num][] = [
    ['successRate', (r) => 1 - r.errorRate],
    ['errorRate', (r) => r.errorRate],
    ['apdex', (r) => r.apdex],
    ['p95', (r) => r.latencyMs.p95],
    ['max', (r) => r.latencyMs.max],
  ];
  const head = ['metric', 'measured', ...paper.map((p) => `<span class="paper">${esc(p.label)}</span>`)];
  const rows = metrics.map(([k, get]) => [
    metricLabel(k),
    metricValue(k, result.requests > 0 ? get(result) : null),
    ...paper.map((p) => `<span class="paper">${metricValue(k, paperValue(k, p))}</span>`),
  ]);
  return `<section id="comparison"><h2>Against the paper</h2>${table('comparison paper-table', head, rows)}<p class="muted">${esc(PAPER_REFERENCE.source)}.</p></section>`;
}

function integritySection(result: ScenarioResult): string {
  const items = runsOf(result).filter((r) => r.integrity);
  if (!items.length) return '';
  const parts = items.map((r) => {
    const i = r.integrity!;
    const lost = (ids: string[]) =>
      ids.length
        ? `<span class="err">${ids.length} lost: ${ids.map((id) => `<code>${esc(id)}</code>`).join(', ')}</span>`
        : '<span class="ok">none lost</span>';
    return `<h3>${esc(r.name)}</h3>${table(
      'integrity',
      ['checked', 'count', 'result'],
      [
        ['acknowledged DB writes', int(i.dbWrites), lost(i.lostDbWrites)],
        ['files', int(i.files), lost(i.lostFiles)],
        ['sessions', int(i.sessions), lost(i.lostSessions)],
      ],
      (c) => c === 1,
    )}${
      i.unchecked.length
        ? `<p class="muted">${i.unchecked.length} could not be checked (not counted as lost): ${i.unchecked
            .slice(0, 20)
            .map((id) => `<code>${esc(id)}</code>`)
            .join(', ')}${i.unchecked.length > 20 ? ', …' : ''}</p>`
        : ''
    }`;
  });
  return `<section id="integrity"><h2>Data integrity</h2>${parts.join('')}</section>`;
}

const GRADE_LABEL: Record<string, string> = {
  right: '<span class="ok">✓ right</span>',
  wrong: '<span class="err">✗ wrong</span>',
  'not answered': '<span class="muted">not answered</span>',
  ungraded: '<span class="muted">? ungraded</span>',
};

/** Each prediction graded: the question, the answer, the measured value beside it, what was right and why. */
function predictionsSection(result: ScenarioResult): string {
  const ps = result.predictions ?? [];
  if (!ps.length) return '';
  const right = ps.filter((p) => p.grade === 'right').length;
  const unit = (p: (typeof ps)[number]) => (p.kind === 'number' && p.unit ? ` ${esc(p.unit)}` : '');
  const rows = ps.map((p) => [
    `<strong>${esc(p.question)}</strong><br><code class="muted">${esc(p.id)} · ${esc(p.bound)}</code>`,
    p.answer === null ? DASH : `${esc(p.answer)}${unit(p)}`,
    esc(p.measuredText),
    esc(p.expected),
    GRADE_LABEL[p.grade] ?? esc(p.grade),
    p.explain ? esc(p.explain) : '',
  ]);
  return `<section id="predictions"><h2>Predictions${result.learner ? ` of ${esc(result.learner)}` : ''}</h2><p class="predict-score"><b>${right} of ${ps.length}</b> predicted right. Predictions are graded against the measurement; they never change the verdict.</p>${table(
    'predictions',
    ['question', 'answer', 'measured', 'right answer', 'grade', 'why'],
    rows,
    () => false,
    (i) => `grade-${ps[i]!.grade.replace(/ /g, '-')}`,
  )}</section>`;
}

/** The whole report as one HTML document with no external resources. */
export function renderHtml(result: ScenarioResult): string {
  const passedSteps = result.steps.filter((s) => s.passed).length;
  const verdict = result.passed
    ? `<div class="verdict passed" id="verdict" data-verdict="passed" role="status"><span aria-hidden="true">✓</span> PASSED <small>${passedSteps} of ${result.steps.length} steps passed</small></div>`
    : `<div class="verdict failed" id="verdict" data-verdict="failed" role="status"><span aria-hidden="true">✗</span> FAILED <small>${result.steps.length - passedSteps} of ${result.steps.length} steps failed</small></div>`;
  const runs = runsOf(result);
  const multi = runs.length > 1;

  const charts = runs.length
    ? runs
        .map(
          (r) =>
            `${multi ? `<h3>${esc(r.name)}${'preset' in r ? ` <span class="muted">(${esc((r as NamedRun).preset)}, ${int(r.users)} users)</span>` : ''}</h3>` : ''}${latencyChart(r, result.timeline)}`,
        )
        .join('')
    : '<p class="empty">This scenario ran no load.</p>';
  const failover = runs.some((r) => r.faults.length)
    ? runs
        .filter((r) => r.faults.length)
        .map((r) => `${multi ? `<h3>${esc(r.name)}</h3>` : ''}${table('failover', FAULT_HEAD, r.faults.map(faultRow), (i) => i >= 1 && i <= 7)}`)
        .join('')
    : '<p class="empty">No fault was measured under load.</p>';
  const failoverNote = runs.some((r) => r.faults.length)
    ? '<p class="muted">at: seconds into the run · detected: until the cluster showed the fault (HAProxy DOWN, Galera shrank, brick offline) · blackout: the longest stretch with no request succeeding · recovered: after a heal, until the component was healthy again (heal); otherwise until the last failed request ended (service).</p>'
    : '';
  const runTiles = multi ? runs.map((r) => `<h3>${esc(r.name)}</h3>${tiles(r)}`).join('') : tiles(result);

  const steps = result.steps.length
    ? table(
        'steps',
        ['#', 'step', 'line', 'result', 'detail', 'at', 'took'],
        result.steps.map((s, i) => [
          String(i + 1),
          esc(s.step),
          isNum(s.line) ? String(s.line) : DASH,
          s.passed ? '<span class="ok">✓ pass</span>' : '<span class="err">✗ FAIL</span>',
          s.detail ? esc(s.detail) : '',
          clock(s.atMs),
          msUnit(s.durationMs),
        ]),
        (c) => c === 0 || c === 2 || c >= 5,
        (i) => (result.steps[i]!.passed ? '' : 'failed'),
      )
    : '<p class="empty">No steps.</p>';

  const timeline = result.timeline.length
    ? `<ol class="timeline">${result.timeline
        .map(
          (e) =>
            `<li class="k-${esc(e.kind)}${e.kind === 'say' ? ' say' : ''}${e.ok === false ? ' bad' : ''}${e.external ? ' m-external' : ''}" data-kind="${esc(e.kind)}"${e.external ? ' data-external="true"' : ''}>` +
            `<span class="t">${clock(e.atMs)}</span><span class="k">${esc(e.kind)}${e.external ? ' <span class="ext">external</span>' : ''}${e.ok === undefined ? '' : e.ok ? ' <span class="ok">✓</span>' : ' <span class="x">✗</span>'}</span><span class="text">${esc(e.text)}</span></li>`,
        )
        .join('')}</ol>`
    : '<p class="empty">Nothing happened.</p>';

  return `${pageHead(`${esc(result.name)}: ${result.passed ? 'PASSED' : 'FAILED'} — Moodle HA Lab`, CSS)}<body>
<main>
<header>
<p class="muted">Moodle HA Lab · scenario report</p>
<h1>${esc(result.name)}</h1>
${result.description ? `<p class="description">${esc(result.description)}</p>` : ''}
${verdict}
<div class="meta"><span>started <b>${esc(when(result.startedAt))}</b></span><span>duration <b>${duration(result.durationMs)}</b></span><span>topology <b>${esc(result.topology.preset)}</b> (${result.topology.nodes.length} nodes)</span>${result.journey ? `<span>journey <b>${esc(result.journey)}</b></span>` : ''}${result.users ? `<span>users <b>${int(result.users)}</b></span>` : ''}</div>
</header>
${predictionsSection(result)}
<section id="topology"><h2>Topology</h2>${topologySvg(result)}</section>
<section id="summary"><h2>Load${multi ? ' per run' : ''}</h2>${runTiles}</section>
<section id="latency"><h2>Latency and failures over time</h2>${charts}</section>
<section id="failover"><h2>Failover per fault</h2>${failover}${failoverNote}</section>
${impairmentsSection(result)}
${comparisonSection(result)}
${integritySection(result)}
<section id="steps"><h2>Steps and assertions</h2>${steps}</section>
<section id="timeline"><h2>Timeline</h2>${timeline}</section>
</main>
</body>
</html>
`;
}
