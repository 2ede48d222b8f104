/** The report's Markdown summary. */
import type { ScenarioResult } from '../types';
import { apdex, DASH, duration, int, isNum, metricLabel, metricValue, ms, msUnit, pct, rps, runsOf, when } from './format';
import { PAPER_REFERENCE, paperColumns, paperValue } from './paper';

/** A table cell: no pipes or newlines, and no raw HTML (say lines are user-written). */
function md(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\s*[\r\n]+\s*/g, ' ');
}
function mdTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i ? '---:' : '---')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** A compact summary: verdict, tiles, faults, comparison (with the paper), failed steps. */
export function renderMarkdown(result: ScenarioResult): string {
  const out: string[] = [];
  const failed = result.steps.filter((s) => !s.passed);
  out.push(`# ${md(result.name)}: ${result.passed ? '✅ PASSED' : '❌ FAILED'}`, '');
  if (result.description) out.push(md(result.description), '');
  out.push(
    `Started ${md(when(result.startedAt))}, ${duration(result.durationMs)}, topology \`${md(result.topology.preset)}\` (${result.topology.nodes.length} nodes); ` +
      `${result.steps.length - failed.length} of ${result.steps.length} steps passed.`,
    '',
  );
  const runs = runsOf(result);
  const shown = runs.length > 1 ? runs : [{ ...result, name: runs[0]?.name ?? 'main' }];
  out.push('## Load', '');
  out.push(
    mdTable(
      ['run', 'requests', 'failures', 'error rate', 'Apdex', 'p50', 'p95', 'p99', 'max', 'throughput'],
      shown.map((r) => [
        md(r.name),
        int(r.requests),
        int(r.failures),
        pct(r.errorRate),
        apdex(r.apdex),
        msUnit(r.latencyMs?.p50),
        msUnit(r.latencyMs?.p95),
        msUnit(r.latencyMs?.p99),
        msUnit(r.latencyMs?.max),
        rps(r.throughputRps),
      ]),
    ),
    '',
  );
  const faults = runs.flatMap((r) => r.faults.map((f) => ({ run: r.name, f })));
  if (faults.length) {
    out.push('## Failover', '');
    out.push(
      mdTable(
        ['run', 'fault', 'at s', 'detected ms', 'failed', 'blackout ms', 'recovered ms', 'p99 ms', 'max ms', 'error'],
        faults.map(({ run, f }) => [
          md(run),
          md(f.fault),
          isNum(f.atMs) ? (f.atMs / 1000).toFixed(1) : DASH,
          ms(f.detectedMs),
          int(f.failedRequests),
          ms(f.blackoutMs),
          `${ms(f.recoveredMs)}${f.recoveredBy && isNum(f.recoveredMs) ? ` (${md(f.recoveredBy)})` : ''}`,
          ms(f.p99Ms),
          ms(f.maxMs),
          f.error ? md(f.error) : DASH,
        ]),
      ),
      '',
    );
  }
  const impaired = result.steps.flatMap((s) => (s.impairments ?? []).map((i) => ({ s, i })));
  if (impaired.length) {
    out.push('## Link impairments', '');
    out.push(
      mdTable(
        ['step', 'node', 'kind', 'method', 'in force'],
        impaired.map(({ s, i }) => [
          md(s.step),
          md(i.node),
          md(i.kind),
          `\`${md(i.method)}\``,
          i.inForce ? 'yes' : `no${i.problem ? `: ${md(i.problem)}` : ''}`,
        ]),
      ),
      '',
    );
  }
  const paper = paperColumns(result);
  if (result.comparison) {
    const c = result.comparison;
    out.push('## Comparison', '');
    out.push(
      mdTable(
        ['metric', ...c.runs.map(md), ...paper.map((p) => `*${md(p.label)}*`)],
        c.rows.map((row) => [
          md(metricLabel(row.metric)),
          ...c.runs.map((_, i) => metricValue(row.metric, row.values[i])),
          ...paper.map((p) => metricValue(row.metric, paperValue(row.metric, p))),
        ]),
      ),
      '',
    );
    if (paper.length) out.push(`*${md(PAPER_REFERENCE.source)}.*`, '');
  } else if (paper.length) {
    out.push('## Against the paper', '');
    const has = result.requests > 0;
    out.push(
      mdTable(
        ['metric', 'measured', ...paper.map((p) => `*${md(p.label)}*`)],
        [
          ['success rate', pct(has ? 1 - result.errorRate : null), ...paper.map((p) => pct(p.successRate))],
          ['error rate', pct(has ? result.errorRate : null), ...paper.map((p) => pct(p.errorRate))],
          ['Apdex', apdex(has ? result.apdex : null), ...paper.map((p) => apdex(p.apdex))],
          ['max latency', msUnit(has ? result.latencyMs.max : null), ...paper.map((p) => msUnit(p.maxMs))],
        ],
      ),
      '',
      `*${md(PAPER_REFERENCE.source)}.*`,
      '',
    );
  }
  const lost = runs.flatMap((r) =>
    r.integrity ? [...r.integrity.lostDbWrites, ...r.integrity.lostFiles, ...r.integrity.lostSessions].map((id) => `${r.name}: ${id}`) : [],
  );
  if (runs.some((r) => r.integrity)) out.push(`**Integrity:** ${lost.length ? `LOST ${lost.map(md).join(', ')}` : 'nothing lost'}.`, '');
  const ps = result.predictions ?? [];
  if (ps.length) {
    const mark: Record<string, string> = { right: '✅ right', wrong: '❌ wrong', 'not answered': 'not answered', ungraded: '? ungraded' };
    out.push(`## Predictions${result.learner ? ` of ${md(result.learner)}` : ''}`, '');
    out.push(
      `${ps.filter((p) => p.grade === 'right').length} of ${ps.length} predicted right (graded against the measurement; never part of the verdict).`,
      '',
    );
    out.push(
      mdTable(
        ['question', 'answer', 'measured', 'right answer', 'grade', 'why'],
        ps.map((p) => [
          md(p.question),
          p.answer === null ? DASH : md(`${p.answer}${p.kind === 'number' && p.unit ? ` ${p.unit}` : ''}`),
          md(p.measuredText),
          md(p.expected),
          mark[p.grade] ?? md(p.grade),
          md(p.explain ?? ''),
        ]),
      ),
      '',
    );
  }
  if (failed.length) {
    out.push('## Failed steps', '');
    out.push(
      mdTable(
        ['step', 'line', 'detail'],
        failed.map((s) => [md(s.step), isNum(s.line) ? String(s.line) : DASH, md(s.detail ?? '')]),
      ),
      '',
    );
  }
  return out.join('\n');
}
