/** The audit's report: one self-contained HTML file (scorecard, topology coloured by verdict), and its JUnit XML. */
import { CSS, esc, NodeVerdicts, pageHead, topologySvg } from '../report';
import type { AuditReport, AuditResult } from './audit';

const AUDIT_CSS = `.topology .verdict-spof rect{fill:var(--failbg);stroke:var(--fail);stroke-width:4}.topology .verdict-ok rect{fill:var(--okbg);stroke:var(--ok);stroke-width:3}
.topology .verdict-exempt rect{stroke-dasharray:6 4}.topology .node-verdict{font-size:14px;font-weight:700;text-anchor:middle;fill:var(--fg)}
.topology .verdict-spof .node-verdict{fill:var(--fail)}.topology .verdict-ok .node-verdict{fill:var(--ok)}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}td.n{text-align:right}
.side{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:2rem}.side .scorecard{font-size:.75rem}
tr.row-spof td:first-child{border-left:6px solid var(--fail)}tr.row-ok td:first-child{border-left:6px solid var(--ok)}`;

const load = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(1));
const num = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');

function verdictsOf(a: AuditReport): NodeVerdicts {
  return Object.fromEntries(
    a.nodes.map((n) => [n.node, { cls: n.exempt ? 'exempt' : n.spof ? 'spof' : 'ok', label: n.exempt ? 'exempt' : n.spof ? 'SPOF' : 'survives' }]),
  );
}

function diagram(a: AuditReport, allNodes: { name: string; role: string }[]): string {
  return topologySvg({ topology: { preset: a.topology, nodes: allNodes }, timeline: [], runs: [], faults: [] }, verdictsOf(a));
}

function scorecard(a: AuditReport): string {
  const spof = new Set(a.nodes.filter((n) => n.spof).map((n) => n.node));
  const row = (r: AuditResult) =>
    `<tr class="${spof.has(r.node) ? 'row-spof' : 'row-ok'}"><td><strong>${esc(r.node)}</strong> <span class="muted">${esc(r.role)}</span></td><td>${esc(r.fault)}</td>` +
    [r.detectedMs, r.failedRequests, r.requests, r.blackoutMs, r.p99Ms, r.recoveredMs, r.greenMs].map((x) => `<td class="n">${num(x)}</td>`).join('') +
    `<td class="n">${load(r.hostLoad)}</td>` +
    `<td>${r.lost.writes}/${r.lost.files}/${r.lost.sessions}</td><td class="muted">${esc(r.reported)}${r.error ? ` <span class="err">${esc(r.error)}</span>` : ''}</td></tr>`;
  const b = a.baseline;
  const base = b
    ? `<tr class="row-baseline"><td><strong>—</strong></td><td>no fault (baseline)</td><td class="n">—</td>` +
      [b.failedRequests, b.requests, b.blackoutMs, b.p99Ms].map((x) => `<td class="n">${num(x)}</td>`).join('') +
      `<td class="n">—</td><td class="n">—</td><td class="n">${load(b.hostLoad)}</td><td>—</td><td class="muted">the same load and window with no fault: the lab's own gaps${b.disturbed ? ` <span class="err">(external faults meanwhile: ${esc(b.disturbed.join(', '))})</span>` : ''}</td></tr>`
    : '';
  return (
    '<table class="scorecard"><thead><tr><th>node</th><th>fault</th><th>detected ms</th><th>failed</th><th>requests</th><th>blackout ms</th><th>p99 ms</th><th>recovered ms</th><th>green again ms</th><th>host load</th><th>lost writes/files/sessions</th><th>the cluster reported</th></tr></thead><tbody>' +
    base +
    a.results.map(row).join('') +
    '</tbody></table>'
  );
}

function verdictTable(a: AuditReport): string {
  return (
    '<table class="verdicts"><thead><tr><th>node</th><th>verdict</th><th>why</th></tr></thead><tbody>' +
    a.nodes
      .map(
        (n) =>
          `<tr class="${n.spof ? 'row-spof' : 'row-ok'}" data-node="${esc(n.node)}"><td><strong>${esc(n.node)}</strong> <span class="muted">${esc(n.role)}</span></td><td class="${n.spof ? 'err' : 'ok'}">${n.exempt ? 'exempt' : n.spof ? 'single point of failure' : 'survives'}</td><td>${n.reasons.map(esc).join('<br>')}</td></tr>`,
      )
      .join('') +
    '</tbody></table>'
  );
}

/** The audit (or several, side by side: `--compare`) as one self-contained HTML page: no script, no external resource. */
export function renderAuditHtml(audits: { report: AuditReport; nodes: { name: string; role: string }[] }[]): string {
  const title = audits.length > 1 ? `Audit: ${audits.map((a) => a.report.topology).join(' vs ')}` : `Audit of ${audits[0]!.report.topology}`;
  const t = audits[0]!.report.thresholds;
  const sections = audits.map(({ report: a, nodes }) => {
    const spofs = a.nodes.filter((n) => n.spof).map((n) => n.node);
    return (
      `<section class="audit" data-topology="${esc(a.topology)}"><h2>${esc(a.topology)} <span class="muted">(lab ${esc(a.lab)})</span></h2>` +
      `<div class="verdict ${spofs.length ? 'failed' : 'passed'}">${spofs.length ? `${spofs.length} single point${spofs.length > 1 ? 's' : ''} of failure` : 'no single point of failure'}<small>${esc(spofs.join(', '))}</small></div>` +
      `<p class="meta"><span>faults <b>${esc(a.options.kinds.join(', '))}</b></span><span>users <b>${a.options.users}</b></span><span>per fault <b>${a.options.perFaultS} s</b></span><span>journey <b>${esc(a.options.journey)}</b></span><span>took <b>${Math.round(a.durationMs / 1000)} s</b></span>${a.steady ? `<span>steady p95 <b>${a.steady.p95Ms} ms</b></span>` : ''}${a.baseline ? `<span>longest gap with no fault <b>${num(a.baseline.blackoutMs)} ms</b></span>` : ''}${a.host ? `<span>host <b>${a.host.cpus} cores</b></span>` : ''}${a.cancelled ? '<span class="err">cancelled</span>' : ''}</p>` +
      diagram(a, nodes) +
      '<h3>Verdicts</h3>' +
      verdictTable(a) +
      '<h3>Scorecard</h3>' +
      scorecard(a) +
      '</section>'
    );
  });
  const compare = audits.length > 1 ? comparison(audits.map((a) => a.report)) : '';
  return (
    `${pageHead(esc(title), CSS + AUDIT_CSS)}<body><main>` +
    `<h1>${esc(title)}</h1>` +
    `<p class="muted">Each node faulted in turn under the same load, healed, and the lab waited for until green before the next fault. A node is a <strong>single point of failure</strong> when its fault lost acknowledged data (DB writes, files, sessions), left users without any successful answer for ${t.blackoutMs / 1000} s or more, or failed more than ${Math.round(t.failedRatio * 100)} % of the requests sent meanwhile — both beyond what the lab does with no fault (the baseline row: the same load and window, no fault). detected: until the cluster showed the fault · blackout: the longest stretch with no request succeeding · recovered: heal → component healthy · green again: heal → the whole lab green · host load: the 1-minute load average of the machine that ran the audit as the fault's run ended (above its cores, the host was saturated: the figures are partly the host's).</p>` +
    compare +
    (audits.length > 1 ? `<div class="side">${sections.join('')}</div>` : sections.join('')) +
    '</main></body></html>\n'
  );
}

const mib = (b: number | undefined) => (b === undefined ? '—' : `${Math.round(b / 2 ** 20).toLocaleString('en-US')} MiB`);

/** The designs side by side: steady-state cost, and the difference per node. */
function comparison(reports: AuditReport[]): string {
  const cost =
    '<h2>Steady-state cost</h2><table class="cost"><thead><tr><th>design</th><th>nodes audited</th><th>single points of failure</th><th>idle memory</th><th>steady p95 (same load)</th><th>audit took</th></tr></thead><tbody>' +
    reports
      .map(
        (r) =>
          `<tr data-topology="${esc(r.topology)}"><td><strong>${esc(r.topology)}</strong></td><td class="n">${r.nodes.length}</td><td>${esc(
            r.nodes
              .filter((n) => n.spof)
              .map((n) => n.node)
              .join(', ') || 'none',
          )}</td><td class="n">${mib(r.idleMemoryBytes)}</td><td class="n">${r.steady ? `${r.steady.p95Ms} ms` : '—'}</td><td class="n">${Math.round(r.durationMs / 1000)} s</td></tr>`,
      )
      .join('') +
    '</tbody></table>';
  return cost + '<h2>Difference per node</h2>' + diffTable(reports);
}

/** One row per node of either design: its verdict and worst figures in each. */
export function diffRows(
  reports: AuditReport[],
): { node: string; cells: { verdict: string; failed: number | null; blackoutMs: number | null }[]; changed: boolean }[] {
  const names = [...new Set(reports.flatMap((r) => r.nodes.map((n) => n.node)))];
  return names.map((node) => {
    const cells = reports.map((r) => {
      const v = r.nodes.find((n) => n.node === node);
      const res = r.results.filter((x) => x.node === node);
      return {
        verdict: !v ? 'absent' : v.exempt ? 'exempt' : v.spof ? 'SPOF' : 'survives',
        failed: res.length ? Math.max(...res.map((x) => x.failedRequests)) : null,
        blackoutMs: res.length ? Math.max(...res.map((x) => x.blackoutMs)) : null,
      };
    });
    return { node, cells, changed: new Set(cells.map((c) => c.verdict)).size > 1 };
  });
}

function diffTable(reports: AuditReport[]): string {
  return (
    `<table class="diff"><thead><tr><th>node</th>${reports.map((r) => `<th>${esc(r.topology)}</th>`).join('')}<th>difference</th></tr></thead><tbody>` +
    diffRows(reports)
      .map(
        (r) =>
          `<tr data-node="${esc(r.node)}"><td><strong>${esc(r.node)}</strong></td>${r.cells.map((c) => `<td class="${c.verdict === 'SPOF' ? 'err' : c.verdict === 'survives' ? 'ok' : 'muted'}">${c.verdict}${c.failed !== null ? ` <span class="muted">(${c.failed} failed, blackout ${num(c.blackoutMs)} ms)</span>` : ''}</td>`).join('')}<td>${r.changed ? r.cells.map((c) => c.verdict).join(' → ') : 'same'}</td></tr>`,
      )
      .join('') +
    '</tbody></table>'
  );
}

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One test case per node: a SPOF is a failure, with its reasons. */
export function auditJUnit(a: AuditReport): string {
  const cases = a.nodes.map(
    (n) =>
      `  <testcase classname="audit.${xml(a.topology)}" name="${xml(n.node)} (${xml(n.role)})">` +
      (n.spof
        ? `<failure message="${xml(`single point of failure: ${n.reasons.join('; ')}`)}"/>`
        : n.exempt
          ? `<skipped message="${xml(n.reasons.join('; '))}"/>`
          : '') +
      '</testcase>',
  );
  const failures = a.nodes.filter((n) => n.spof).length;
  const skipped = a.nodes.filter((n) => n.exempt).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="audit ${xml(a.topology)}" tests="${a.nodes.length}" failures="${failures}" skipped="${skipped}" time="${(a.durationMs / 1000).toFixed(1)}">\n${cases.join('\n')}\n</testsuite>\n`;
}
