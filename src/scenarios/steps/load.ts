/** `load`: start a background load run (a mapping, or `start`), or end the running one (`stop`, `wait`). */
import { isMap, isScalar } from 'yaml';
import { loadTarget, statusSources } from '../../load/command';
import { parseDuration } from '../../load/faults';
import { DEFAULT_LOAD, defaultRampUp, journeyFor, LoadOptions, pacing } from '../../load/run';
import { JourneyChoice, LoadStartStep, NamedRun, ScenarioError } from '../types';
import { clip, fmtMs, prune, quote, YamlNode } from '../yaml-reader';
import { ActiveRun, RunContext, StepFailed } from './run-context';
import { NUM, ref, stepObject } from './schema-parts';
import type { StepParser } from './parse-context';
import type { StepDefinition, StepInput, StepOf } from './step';
import { runSummary } from '../../core/summary';

export const LOAD_KEYS = ['users', 'journey', 'duration', 'name', 'throughput', 'think', 'rampUp'] as const;
export const JOURNEYS: readonly JourneyChoice[] = ['auto', 'moodle', 'probe'];
/** The load generator's defaults (src/load/run.ts DEFAULT_LOAD) for what a `load` step leaves out. */
export const DEFAULT_USERS = 30;
export const DEFAULT_DURATION_MS = 60_000;
const MAX_USERS = 1000;
const RUN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

const describe = {
  summary: 'Start a background load run (a mapping), or end the running one: `stop` now, `wait` until its duration is over.',
  example: '`load: { users: 30, duration: 60s }`, `load: stop` or `load: wait`',
};

export const loadStep: StepDefinition<StepOf<'load-start' | 'load-stop' | 'load-wait'>> = {
  key: 'load',
  kinds: ['load-start', 'load-stop', 'load-wait'],
  needsValue: true,
  describe,

  parse(p: StepParser, { e: entry, pos }: StepInput) {
    const e = entry!;
    const v = e.value!;
    if (isScalar(v) && typeof v.value === 'string' && ['stop', 'wait'].includes(v.value.trim())) {
      const kind = v.value.trim() === 'stop' ? ('load-stop' as const) : ('load-wait' as const);
      if (p.running === null) {
        p.fail(
          e.at,
          `load: ${v.value.trim()} but no load is running here${p.loads ? ' (the last one already ended)' : ''}: start one first with \`load: { users: 30, duration: 60s }\``,
        );
      }
      p.runs.get(p.running)!.done = true;
      p.running = null;
      return { pos, text: kind === 'load-stop' ? 'load stop' : 'load wait', kind };
    }
    const start = isScalar(v) && v.value === 'start';
    if (!start && !isMap(v)) p.fail(e.at, `load must be a mapping ({ users: 30, duration: 60s, … }), stop, wait or start, not ${p.show(v)}`);
    p.noLoadRunning(e.at, 'starting another');
    const step: LoadStartStep = { kind: 'load-start', users: DEFAULT_USERS, journey: 'auto', durationMs: DEFAULT_DURATION_MS };
    let nameAt: YamlNode = e.at;
    let rampAt: YamlNode | undefined;
    let journeyAt: YamlNode | undefined;
    if (isMap(v)) {
      for (const x of p.entries(v, 'load', LOAD_KEYS)) {
        switch (x.key) {
          case 'users':
            step.users = p.int(x, 'users', 1, MAX_USERS);
            break;
          case 'journey': {
            const j = x.value && isScalar(x.value) ? x.value.value : undefined;
            if (typeof j !== 'string' || !(JOURNEYS as readonly string[]).includes(j))
              p.fail(x.at, `journey must be one of ${quote(JOURNEYS)}, not ${p.show(x.value)}`);
            step.journey = j as JourneyChoice;
            journeyAt = x.at;
            break;
          }
          case 'duration':
            step.durationMs = p.duration(x, 'duration', { max: 24 * 3_600_000 });
            break;
          case 'name':
            step.name = p.string(x, 'load name');
            nameAt = x.at;
            if (!RUN_NAME_RE.test(step.name)) p.fail(x.at, `load name must be a short word (letters, digits, - and _), not "${clip(step.name)}"`);
            break;
          case 'throughput':
            step.throughputPerMin = p.number(x, 'throughput (samples per minute, 0 = unpaced)', 0, 1_000_000, '/min');
            break;
          case 'think': {
            const text = p.scalarText(x, 'think', '500ms-1s');
            const [a, b, extra] = text.split('-').map((s) => s.trim());
            try {
              if (!a || extra !== undefined) throw new Error();
              const lo = parseDuration(a, 'think');
              const hi = b !== undefined ? parseDuration(b, 'think') : lo;
              if (hi < lo) p.fail(x.at, `think: the range must go up, e.g. 500ms-1s (got "${clip(text)}")`);
              step.thinkMs = [lo, hi];
            } catch (err) {
              if (err instanceof ScenarioError) throw err;
              p.fail(x.at, `think must be a time or a range of times (each at most 24 h), e.g. 500ms-1s or 2s, not "${clip(text)}"`);
            }
            break;
          }
          default: // rampUp
            step.rampUpMs = p.duration(x, 'rampUp', { min: 0 });
            rampAt = x.at;
        }
      }
    }
    if (step.rampUpMs !== undefined && step.rampUpMs >= step.durationMs)
      p.fail(rampAt, `rampUp (${fmtMs(step.rampUpMs)}) must be shorter than the duration (${fmtMs(step.durationMs)})`);
    if (step.journey === 'moodle' && p.env.noMoodleLine !== undefined)
      p.fail(journeyAt, `journey moodle needs Moodle, but the \`up\` on line ${p.env.noMoodleLine} has moodle: false (use journey probe)`);
    p.loads++;
    const explicit = step.name !== undefined;
    const name = step.name ?? `run${p.loads}`;
    if (p.runs.has(name)) p.fail(nameAt, `a load run named "${name}" already exists (line ${p.runs.get(name)!.line}): give this one another name`);
    step.name = name;
    p.runs.set(name, { line: pos.line, done: false });
    p.running = name;
    const text = `load ${step.users} users ${step.journey} ${fmtMs(step.durationMs)}${explicit ? ` (run ${name})` : ''}`;
    return prune({ pos, text, ...step });
  },

  schema: stepObject(
    'load',
    describe.summary,
    {
      anyOf: [
        {
          type: 'string',
          enum: ['start', 'stop', 'wait'],
          description: 'start: the default load (30 users, 60s); stop: end the running load now; wait: wait until it has run its duration.',
        },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            users: { type: 'integer', minimum: 1, maximum: 1000, default: 30, description: 'Simulated users (JMeter threads). The paper used 30.' },
            journey: {
              type: 'string',
              enum: ['auto', 'moodle', 'probe'],
              default: 'auto',
              description:
                "moodle: log in, view the course, post (the paper's JMeter plan); probe: light HTTP checks; auto: moodle when Moodle is installed, else probe.",
            },
            duration: { ...ref('duration'), description: 'How long the load runs (default 60s).' },
            name: {
              type: 'string',
              pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$',
              description: 'Names the run, for `assert: { run: … }`, `compare` and the report (default run1, run2, …).',
              examples: ['ha', 'single'],
            },
            throughput: {
              description:
                "Samples per minute shared by all users; 0 = unpaced (users pause only their think time). Default: 120 for the Moodle journey (Moodle's JMeter test plan), unpaced for the probe journey.",
              anyOf: [
                { type: 'number', minimum: 0 },
                { type: 'string', pattern: `^\\s*${NUM}\\s*(/min)?\\s*$` },
              ],
              examples: [120],
            },
            think: {
              description: "Think time between a user's requests: a range (500ms-1s) or one value.",
              anyOf: [
                { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?(ms|s|m)?\\s*(-\\s*\\d+(\\.\\d+)?(ms|s|m)?\\s*)?$' },
                { type: 'number', minimum: 0 },
              ],
              examples: ['500ms-1s'],
            },
            rampUp: { ...ref('duration'), description: 'Start the users gradually over this long (shorter than duration).' },
          },
        },
      ],
    },
    [{ load: { users: 30, journey: 'auto', duration: '120s', name: 'ha' } }, { load: 'wait' }],
  ),

  async run(step, ctx) {
    if (step.kind === 'load-start') {
      const current = await startRun(step, ctx.runs.size, ctx);
      ctx.current = current;
      ctx.runs.set(current.name, current);
      const detail = `${current.name}: ${current.users} users, ${current.journey} journey, ${current.durationMs / 1000} s`;
      ctx.note('load', `load ${detail}`);
      return { detail };
    }
    if (!ctx.current) throw new StepFailed('no load is running');
    const r = await ctx.finish(ctx.current, step.kind === 'load-stop');
    return { detail: runSummary(r.result, { p95Ms: r.result.latencyMs.p95 }) };
  },
};

async function startRun(step: LoadStartStep, index: number, ctx: RunContext): Promise<ActiveRun> {
  const { lab, preset, t0 } = ctx;
  const log = (s: string) => ctx.progress.log(s);
  const status = await lab.status();
  if (status.state !== 'running') throw new StepFailed(`lab ${lab.lab} is ${status.state}: add an \`up\` step before the load`);
  const journey = journeyFor(step.journey, status.moodle.installed);
  if (journey === 'moodle' && !status.moodle.installed)
    throw new StepFailed('the moodle journey needs Moodle installed on the lab (use journey: auto or probe)');
  const opts: LoadOptions = {
    ...DEFAULT_LOAD,
    journey,
    users: step.users,
    durationMs: step.durationMs,
    rampUpMs: step.rampUpMs ?? defaultRampUp(step.durationMs),
    ...pacing(journey, step.throughputPerMin, step.thinkMs),
  };
  const name = step.name ?? `run${index + 1}`;
  const series: NamedRun['series'] = [];
  const handle = ctx.startLoad(loadTarget(status), opts, {
    injector: lab,
    sources: statusSources(status, lab, true),
    progress: (line) => log(`[${name}] ${line}`),
    onWindow: (w) => {
      series.push({ atMs: w.atMs - t0, requests: w.requests, failures: w.failures, p50: Math.round(w.p50), p95: Math.round(w.p95), max: Math.round(w.max) });
      ctx.deps.onWindow?.(name, w);
    },
  });
  return { name, lab: lab.lab, preset, handle, users: opts.users, journey, durationMs: opts.durationMs, series };
}
