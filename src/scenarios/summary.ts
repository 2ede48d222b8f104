/**
 * `scenario summary results/*.json --report class.html [--json]`: many learners' runs in one
 * page. Per question (per scenario): how many answered and how many were right, how the answers
 * were distributed, and the spread (min/median/max) of the measured figure across the runs.
 * The inputs are `scenario run` results (`--json` output, or the .json beside a `--report`);
 * a file that is not one is a usage error naming it (exit 2), before anything is written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CSS } from './report/css';
import { esc, pageHead } from './report/format';

const SUMMARY_CSS = `${CSS}
.dist{width:auto;min-width:50%}.barcell{width:16rem}.bar{display:inline-block;height:.9rem;border-radius:3px;vertical-align:middle}.bar.right{background:var(--ok)}.bar.other{background:var(--p95)}
.why{background:var(--say);padding:.6rem .8rem;border-radius:6px}.question{break-inside:avoid}`;
import type { PredictionResult, ScenarioResult } from './types';

export interface Spread {
  n: number;
  min: number;
  median: number;
  max: number;
}

export interface QuestionSummary {
  scenario: string;
  id: string;
  question: string;
  kind: 'choice' | 'number';
  unit?: string;
  bound: string;
  explain?: string;
  /** Runs that asked it. */
  runs: number;
  answered: number;
  right: number;
  wrong: number;
  ungraded: number;
  /** Choices: every choice, how often it was picked and in how many runs it was the right one. Numbers: each answer given, by count, and how many of those were right. */
  distribution: { answer: string; count: number; rightIn?: number }[];
  /** Number questions: the spread of the answers. */
  answers?: Spread;
  /** The measured figure across the runs (in `unit`); null when no run measured it. */
  measured: Spread | null;
}

export interface ClassSummary {
  files: number;
  scenarios: string[];
  learners: string[];
  questions: QuestionSummary[];
}

export function spread(xs: readonly number[]): Spread | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { n: s.length, min: r(s[0]!), median: r(median), max: r(s.at(-1)!) };
}

/** What is wrong with a parsed file as a scenario result with predictions, or undefined. */
export function resultProblem(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x))
    return 'not a scenario result (a JSON object from `scenario run --json` or the .json beside a --report)';
  const r = x as Record<string, unknown>;
  if (typeof r.name !== 'string' || !Array.isArray(r.steps)) return 'not a scenario result (it has no name and steps)';
  if (r.predictions === undefined) return undefined;
  if (!Array.isArray(r.predictions)) return 'predictions must be a list';
  for (const [i, p] of (r.predictions as unknown[]).entries()) {
    const q = p as Record<string, unknown>;
    if (typeof q !== 'object' || q === null || typeof q.id !== 'string' || typeof q.question !== 'string' || typeof q.grade !== 'string')
      return `predictions[${i}] is not a graded prediction (id, question, grade)`;
    if (q.measured !== null && typeof q.measured !== 'number') return `predictions[${i}].measured must be a number or null`;
  }
  return undefined;
}

/** The summary of many runs' predictions, questions in the order first seen. */
export function summarize(results: readonly (ScenarioResult & { file?: string })[]): ClassSummary {
  const byKey = new Map<string, { scenario: string; items: PredictionResult[] }>();
  const learners: string[] = [];
  for (const r of results) {
    learners.push(r.learner ?? (r.file ? path.basename(r.file).replace(/\.json$/i, '') : `run ${learners.length + 1}`));
    for (const p of r.predictions ?? []) {
      const key = `${r.name}\u0000${p.id}`;
      if (!byKey.has(key)) byKey.set(key, { scenario: r.name, items: [] });
      byKey.get(key)!.items.push(p);
    }
  }
  const questions: QuestionSummary[] = [];
  for (const { scenario, items } of byKey.values()) {
    const last = items.at(-1)!;
    const answered = items.filter((p) => p.answer !== null);
    const distribution: QuestionSummary['distribution'] = [];
    if (last.kind === 'choice') {
      const texts = [...new Set([...(last.choices ?? []), ...answered.map((p) => String(p.answer))])];
      for (const t of texts)
        distribution.push({
          answer: t,
          count: answered.filter((p) => p.answer === t).length,
          rightIn: items.filter((p) => p.expected === t).length,
        });
    } else {
      const counts = new Map<string, number>();
      for (const p of answered) counts.set(String(p.answer), (counts.get(String(p.answer)) ?? 0) + 1);
      for (const [a, c] of [...counts].sort((x, y) => Number(x[0]) - Number(y[0]))) {
        const right = answered.filter((p) => String(p.answer) === a && p.grade === 'right').length;
        distribution.push({ answer: a, count: c, ...(right ? { rightIn: right } : {}) });
      }
    }
    const nums = answered.map((p) => p.answer).filter((a): a is number => typeof a === 'number');
    questions.push({
      scenario,
      id: last.id,
      question: last.question,
      kind: last.kind,
      unit: last.unit,
      bound: last.bound,
      explain: last.explain,
      runs: items.length,
      answered: answered.length,
      right: items.filter((p) => p.grade === 'right').length,
      wrong: items.filter((p) => p.grade === 'wrong').length,
      ungraded: items.filter((p) => p.grade === 'ungraded').length,
      distribution,
      ...(last.kind === 'number' ? { answers: spread(nums) ?? undefined } : {}),
      measured: spread(items.map((p) => p.measured).filter((m): m is number => typeof m === 'number')),
    });
  }
  return { files: results.length, scenarios: [...new Set(results.map((r) => r.name))], learners, questions };
}

const u = (q: QuestionSummary) => (q.unit ? (q.unit === '%' ? '%' : ` ${q.unit}`) : '');
const spreadText = (s: Spread | null | undefined, unit: string) =>
  s ? `${s.min}${unit} · ${s.median}${unit} · ${s.max}${unit} <span class="muted">(${s.n})</span>` : '—';

/** The class page: one self-contained HTML document (inline CSS, no script, no network). */
export function renderSummaryHtml(s: ClassSummary): string {
  const bar = (n: number, of: number, cls: string) => `<span class="bar ${cls}" style="width:${of ? Math.round((n / of) * 100) : 0}%"></span>`;
  const sections = s.questions.map((q) => {
    const max = Math.max(1, ...q.distribution.map((d) => d.count));
    const dist = q.distribution.length
      ? `<table class="dist"><tbody>${q.distribution
          .map(
            (d) =>
              `<tr><td>${esc(d.answer)}${q.kind === 'number' ? esc(u(q)) : ''}${d.rightIn ? ` <span class="ok" title="the right answer in ${d.rightIn} run(s)">✓ right in ${d.rightIn}</span>` : ''}</td><td class="num">${d.count}</td><td class="barcell">${bar(d.count, max, d.rightIn ? 'right' : 'other')}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '<p class="empty">Nobody answered.</p>';
    return `<section class="question" data-question="${esc(q.id)}">
<h2>${esc(q.question)}</h2>
<p class="muted"><code>${esc(q.scenario)} · ${esc(q.id)} · ${esc(q.bound)}</code></p>
<div class="tiles">
<div class="tile" data-tile="right"><div class="tile-value">${q.right}<small>of ${q.runs}</small></div><div class="tile-label">predicted right</div></div>
<div class="tile" data-tile="answered"><div class="tile-value">${q.answered}<small>of ${q.runs}</small></div><div class="tile-label">answered</div></div>
<div class="tile" data-tile="wrong"><div class="tile-value">${q.wrong}</div><div class="tile-label">wrong</div></div>
</div>
<h3>Answers</h3>${dist}${q.answers ? `<p>answers min · median · max: ${spreadText(q.answers, esc(u(q)))}</p>` : ''}
<h3>Measured</h3><p data-measured>min · median · max: ${spreadText(q.measured, esc(u(q)))}</p>
${q.explain ? `<p class="why"><b>Why:</b> ${esc(q.explain)}</p>` : ''}
</section>`;
  });
  return `${pageHead('Class summary — Moodle HA Lab', SUMMARY_CSS)}<body>
<main>
<header>
<p class="muted">Moodle HA Lab · class summary</p>
<h1>${s.scenarios.map(esc).join(', ') || 'No scenario'}</h1>
<div class="meta"><span>runs <b>${s.files}</b></span><span>learners <b>${esc(s.learners.join(', '))}</b></span><span>questions <b>${s.questions.length}</b></span></div>
</header>
${sections.join('\n') || '<p class="empty">These runs asked no predictions.</p>'}
</main>
</body>
</html>
`;
}

export function formatSummaryText(s: ClassSummary): string {
  const out = [`class summary: ${s.files} runs of ${s.scenarios.join(', ')}`];
  for (const q of s.questions) {
    out.push('', `${q.scenario} · ${q.id}: ${q.question}`, `  right ${q.right} of ${q.runs} (answered ${q.answered})`);
    for (const d of q.distribution)
      out.push(`    ${String(d.count).padStart(3)} × ${d.answer}${q.kind === 'number' ? u(q) : ''}${d.rightIn ? `  (right in ${d.rightIn})` : ''}`);
    const m = q.measured;
    out.push(`  measured: ${m ? `min ${m.min}${u(q)}, median ${m.median}${u(q)}, max ${m.max}${u(q)} over ${m.n} runs` : 'no value'}`);
  }
  return out.join('\n') + '\n';
}

/** Reads result files (each at most 64 MB); a bad one is a usage error naming it. */
export function readResults(files: readonly string[], usage: (m: string) => Error): (ScenarioResult & { file: string })[] {
  return files.map((f) => {
    let text: string;
    try {
      const st = fs.statSync(f);
      if (!st.isFile()) throw usage(`${f}: not a file`);
      if (st.size > 64 * 1024 * 1024) throw usage(`${f}: ${st.size} bytes is too large for a scenario result`);
      text = fs.readFileSync(f, 'utf8');
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(`${f}:`)) throw err;
      throw usage(`${f}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    let x: unknown;
    try {
      x = JSON.parse(text);
    } catch {
      throw usage(`${f}: not JSON (give the .json results of \`scenario run --json\` or beside a --report)`);
    }
    const problem = resultProblem(x);
    if (problem) throw usage(`${f}: ${problem}`);
    return { ...(x as ScenarioResult), file: f };
  });
}

export async function summaryCommand(
  files: string[],
  args: { json?: boolean; report?: string },
  io: { out(text: string): void; err(text: string): void },
  usage: (m: string) => Error,
): Promise<number> {
  if (!files.length) throw usage('usage: scenario summary <result.json…> [--report class.html] [--json]');
  const summary = summarize(readResults(files, usage));
  if (args.report) {
    const file = path.resolve(args.report);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, renderSummaryHtml(summary));
    io.err(`class summary: ${file}\n`);
  }
  io.out(args.json ? JSON.stringify(summary, null, 2) + '\n' : formatSummaryText(summary));
  return 0;
}
