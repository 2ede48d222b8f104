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
import type { ScenarioResult } from './types';

export interface ScenarioArgs {
  json?: boolean;
  report?: string;
  junit?: string;
  'no-moodle'?: boolean;
  'moodle-source'?: string;
}

export const SCENARIO_OPTIONS = {
  report: { type: 'string' },
  junit: { type: 'string' },
} as const;

export interface ScenarioIo {
  out(text: string): void;
  err(text: string): void;
}

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
  if (sub === 'list' && !ref) {
    for (const b of listBuiltins(ctx.builtinDir)) io.out(`${b.name.padEnd(22)}${b.description ?? ''}\n`);
    return 0;
  }
  if (sub !== 'run' || !ref || extra.length)
    throw usage('usage: scenario run <file.yaml|builtin> [--json] [--report out.html] [--junit out.xml]   |   scenario list');
  if (args['moodle-source'] && args['no-moodle']) throw usage('--moodle-source and --no-moodle exclude each other');
  // Parsing and every name check happen here, before any lab is looked at.
  const scenario = loadScenario(ref, ctx.builtinDir);
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
    },
    { lab: ctx.lab, moodleSource: args['moodle-source'], noMoodle: args['no-moodle'] },
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
