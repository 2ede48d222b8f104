/**
 * `npm run lab -- scenario run <file|builtin> [--json] [--report out.html] [--no-moodle]
 *  [--moodle-source SRC]` and `scenario list`. The file is parsed and checked before any lab is
 * touched; progress and narration go to stderr; the result (or, with --json, only the contract
 * JSON) to stdout; `--junit` writes each assert as a JUnit test case. Exit 0 when every step and
 * assert passed, 1 when an assert failed, 3 when a step could not be carried out.
 */
import { formatSummary } from '../metrics/export';
import { listBuiltins, loadScenario } from './parse';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { toJUnit, scenarioExitCode } from './junit';
import { writeReports } from './report';
import { RunnerDeps, ScenarioRunner } from './runner';
import type { PredictAnswer, PredictStep, ScenarioResult } from './types';
import { loadAnswers } from './answers';
import { answerHint, letter, questionsOf, readAnswer } from './predictions';
import type { PredictionSource } from './runner';
import { summaryCommand } from './summary';

export interface ScenarioArgs {
  json?: boolean;
  report?: string;
  junit?: string;
  'no-moodle'?: boolean;
  'moodle-source'?: string;
  answers?: string;
}

export const SCENARIO_OPTIONS = {
  report: { type: 'string' },
  junit: { type: 'string' },
  answers: { type: 'string' },
} as const;

export interface ScenarioIo {
  out(text: string): void;
  err(text: string): void;
  /** A line the user types on a terminal (undefined at end of input); absent when no one is at a terminal. */
  ask?(prompt: string): Promise<string | undefined>;
}

/** The CLI's prompt for `predict` steps: the question, its choices, and a line typed back (empty: skip). */
export function promptSource(ask: (prompt: string) => Promise<string | undefined>, err: (text: string) => void): PredictionSource {
  return {
    async ask(q: PredictStep): Promise<PredictAnswer | undefined> {
      const lines = [``, `PREDICT (${q.id}): ${q.question}`];
      for (const [i, c] of (q.choices ?? []).entries()) lines.push(`  ${letter(i)}) ${c.text}`);
      err(lines.join('\n') + '\n');
      for (;;) {
        const line = await ask(`your answer (${answerHint(q)}; empty to skip): `);
        if (line === undefined || !line.trim()) return undefined;
        const a = readAnswer(q, line);
        if (!('problem' in a)) return a;
        err(`  ${a.problem}\n`);
      }
    },
  };
}

const GRADE_MARK: Record<string, string> = { right: '✓', wrong: '✗', 'not answered': '·', ungraded: '?' };

export function formatScenario(r: ScenarioResult): string {
  const out: string[] = [`scenario ${r.name}: ${r.passed ? 'PASSED' : 'FAILED'} (${(r.durationMs / 1000).toFixed(0)} s)`, ''];
  for (const s of r.steps)
    out.push(`  ${s.passed ? '✓' : '✗'} ${s.line ? `line ${String(s.line).padEnd(4)}` : '         '}${s.step}${s.detail ? ` — ${s.detail}` : ''}`);
  for (const run of r.runs) {
    out.push('', `load run "${run.name}" on ${run.lab} (${run.preset}):`);
    out.push(formatSummary(run).trimEnd());
  }
  if (r.comparison) {
    const c = r.comparison;
    const w = Math.max(...c.rows.map((x) => x.metric.length)) + 2;
    out.push('', `comparison: ${c.runs.join(' vs ')}`, `  ${''.padEnd(w)}${c.runs.map((n) => n.padStart(12)).join('')}`);
    for (const row of c.rows) out.push(`  ${row.metric.padEnd(w)}${row.values.map((v) => (v === null ? '—' : String(v)).padStart(12)).join('')}`);
  }
  if (r.predictions?.length) {
    const right = r.predictions.filter((p) => p.grade === 'right').length;
    out.push('', `predictions${r.learner ? ` of ${r.learner}` : ''}: ${right} of ${r.predictions.length} right (they never change the verdict)`);
    for (const p of r.predictions) {
      const unit = p.kind === 'number' && p.unit ? ` ${p.unit}` : '';
      out.push(`  ${GRADE_MARK[p.grade]} ${p.id}: ${p.question}`);
      out.push(
        `      your answer: ${p.answer === null ? 'none' : `${p.answer}${unit}`} · measured: ${p.measuredText} · right: ${p.expected} → ${p.grade.toUpperCase()}`,
      );
      if (p.explain) out.push(`      why: ${p.explain}`);
    }
  }
  return out.join('\n') + '\n';
}

export async function scenarioCommand(
  positionals: string[],
  args: ScenarioArgs,
  ctx: { lab: string; builtinDir: string; deps: Omit<RunnerDeps, 'progress'> },
  io: ScenarioIo,
  usage: (m: string) => Error,
): Promise<number> {
  const [sub, ref, ...extra] = positionals;
  if (sub === 'summary') return summaryCommand(positionals.slice(1), args, io, usage);
  if (sub === 'list' && !ref) {
    for (const b of listBuiltins(ctx.builtinDir)) io.out(`${b.name.padEnd(22)}${b.description ?? ''}\n`);
    return 0;
  }
  if (sub !== 'run' || !ref || extra.length)
    throw usage(
      'usage: scenario run <file.yaml|builtin> [--json] [--report out.html] [--junit out.xml] [--answers answers.yaml]   |   scenario list   |   scenario summary <result.json…> --report class.html [--json]',
    );
  if (args['moodle-source'] && args['no-moodle']) throw usage('--moodle-source and --no-moodle exclude each other');
  // Parsing and every name check happen here, before any lab is looked at.
  const scenario = loadScenario(ref, ctx.builtinDir);
  // The answers are checked against the scenario's questions here too: a mismatch is exit 2, with no lab touched.
  const answerSet = args.answers ? loadAnswers(args.answers, questionsOf(scenario.steps), scenario.name) : undefined;
  const answers: PredictionSource | undefined = answerSet
    ? { ask: async (q) => answerSet.answers.get(q.id) }
    : io.ask && questionsOf(scenario.steps).length
      ? promptSource(io.ask, io.err)
      : undefined;
  if (args.junit) {
    const dir = path.dirname(path.resolve(args.junit));
    try {
      fs.accessSync(dir, fs.constants.W_OK);
    } catch {
      throw usage(`--junit ${args.junit}: the folder ${dir} does not exist or is not writable`);
    }
  }
  const stamp = Date.now();
  const log = (line: string) => io.err(`[${((Date.now() - stamp) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  const runner = new ScenarioRunner(
    {
      ...ctx.deps,
      progress: {
        step: (i, n, s) => log(`step ${i + 1}/${n}: ${s.text}`),
        stepDone: (_i, r) => {
          if (!r.passed) log(`  ✗ ${r.detail ?? 'failed'}`);
          else if (r.detail) log(`  ✓ ${r.detail}`);
        },
        say: (m) => log(`» ${m}`),
        log,
      },
      answers,
    },
    { lab: ctx.lab, moodleSource: args['moodle-source'], noMoodle: args['no-moodle'], learner: answerSet?.learner },
  );
  log(`scenario ${scenario.name} (${scenario.source}): ${scenario.steps.length} steps on lab ${ctx.lab}`);
  const result = await runner.run(scenario);
  if (args.report) {
    const files = writeReports(result, args.report);
    log(`report: ${files.html} (+ ${files.json}, ${files.md})`);
  }
  if (args.junit) {
    fs.writeFileSync(args.junit, toJUnit(result));
    log(`junit: ${args.junit}`);
  }
  io.out(args.json ? JSON.stringify(result, null, 2) + '\n' : formatScenario(result));
  return scenarioExitCode(result);
}
