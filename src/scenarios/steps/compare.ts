/** `compare`: a comparison table of finished load runs (failures, Apdex, p95, max, …). */
import { isScalar, isSeq } from 'yaml';
import type { MetricKey } from '../types';
import { clip, closest, quote, YamlNode } from '../yaml-reader';
import { metricOf } from './checks';
import { StepFailed } from './run-context';
import { stepObject } from './schema-parts';
import type { StepParser } from './parse-context';
import type { StepDefinition, StepInput, StepOf } from './step';

/** Comparison rows, named by their metric key (the report pairs them with the paper's numbers). */
const COMPARE_ROWS: MetricKey[] = ['requests', 'failures', 'errorRate', 'apdex', 'p50', 'p95', 'p99', 'max', 'throughput'];

const describe = {
  summary: 'Print a comparison table of finished load runs (failures, Apdex, p95, max, …).',
  example: '`compare: [single, ha]`',
};

export const compareStep: StepDefinition<StepOf<'compare'>> = {
  key: 'compare',
  kinds: ['compare'],
  needsValue: true,
  describe,

  parse(p: StepParser, { e: entry, pos }: StepInput) {
    const e = entry!;
    const v = e.value!;
    const names: string[] = [];
    const at: YamlNode[] = [];
    if (isSeq(v)) {
      for (const item of v.items) {
        const n = p.resolve(item);
        if (!n || !isScalar(n) || typeof n.value !== 'string') p.fail(n ?? e.at, `compare lists run names, not ${p.show(n)}`);
        names.push(n.value.trim());
        at.push(n);
      }
    } else if (isScalar(v) && typeof v.value === 'string') {
      for (const n of v.value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        names.push(n);
        at.push(v);
      }
    } else p.fail(e.at, `compare must list load run names, e.g. [single, ha], not ${p.show(v)}`);
    if (names.length < 2) p.fail(e.at, 'compare needs at least two load runs, e.g. compare: [single, ha]');
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) p.fail(at[i], `run "${clip(n)}" is listed twice`);
      const run = p.runs.get(n);
      if (!run) {
        const hint = closest(n, [...p.runs.keys()]);
        p.fail(
          at[i],
          `no load run named "${clip(n)}" before this step${hint ? ` (did you mean "${hint}"?)` : ''}${p.runs.size ? `: runs so far are ${quote([...p.runs.keys()])}` : ''} (name runs with \`load: { name: ${clip(n, 40)}, … }\`)`,
        );
      }
      if (!run.done) p.fail(at[i], `run "${clip(n)}" is still running here: add \`load: wait\` before compare`);
    });
    return { pos, text: `compare ${names.join(', ')}`, kind: 'compare', runs: names };
  },

  schema: stepObject(
    'compare',
    describe.summary,
    {
      anyOf: [{ type: 'array', items: { type: 'string' }, minItems: 2, uniqueItems: true }, { type: 'string' }],
    },
    [{ compare: ['single', 'ha'] }],
  ),

  async run(step, ctx) {
    const missing = step.runs.filter((n) => !ctx.runs.has(n));
    if (missing.length) throw new StepFailed(`no load run named ${missing.join(', ')}`);
    const rs = await Promise.all(step.runs.map(async (n) => (await ctx.finish(ctx.runs.get(n)!, false)).result));
    const comparison = { runs: step.runs, rows: COMPARE_ROWS.map((key) => ({ metric: key, values: rs.map((r) => metricOf(r, key)) })) };
    ctx.comparison = comparison;
    const detail = comparison.rows
      .filter((r) => ['failures', 'apdex', 'p95', 'max'].includes(r.metric))
      .map((r) => `${r.metric}: ${r.values.map((v, j) => `${step.runs[j]} ${v ?? '—'}`).join(' vs ')}`)
      .join('; ');
    return { detail };
  },
};
