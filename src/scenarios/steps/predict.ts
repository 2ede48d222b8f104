/**
 * `predict`: a question the learner answers before the experiment, bound to a figure a load run
 * measures; after the run the result grades it (../predictions.ts). Never an assert: a wrong
 * prediction does not fail the scenario.
 *
 *   - predict:
 *       id: blackout-web2
 *       question: How long will requests fail when web2 stops?
 *       number: { unit: s, tolerance: 2s }
 *       bound: ha.blackout@web2        # <run>.<metric> or <run>.<figure>@<node>; the run may be left out
 *       explain: HAProxy checks every 2 s and needs 3 failures ...
 */
import { isSeq } from 'yaml';
import { answerProblem, choiceGap, displayUnit, figureKind, isFaultFigure, letter, showAnswer, TIME_UNITS } from '../predictions';
import { FAULT_FIGURES, METRIC_KEYS, PredictBinding, PredictChoice, PredictNumber, PredictStep } from '../types';
import { clip, closest, Entry, prune, quote, YamlNode } from '../yaml-reader';
import { threshold } from './assert';
import type { StepParser } from './parse-context';
import { stepObject } from './schema-parts';
import type { StepDefinition, StepInput, StepOf } from './step';

export const PREDICT_KEYS = ['id', 'question', 'choices', 'number', 'bound', 'explain'] as const;
export const NUMBER_KEYS = ['unit', 'tolerance', 'min', 'max'] as const;
export const CHOICE_KEYS = ['text', 'when'] as const;
const ID_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const BOUND_RE = /^(?:([A-Za-z0-9][A-Za-z0-9_-]{0,39})\.)?([A-Za-z]+)(?:@([a-z][a-z0-9-]{0,30}))?$/;
const UNIT_RE = /^[A-Za-z%/]{1,20}$/;
export const MAX_CHOICES = 8;
export const MAX_QUESTION_CHARS = 500;

const describe = {
  summary:
    'A question learners answer before the experiment (choices, or a number with a tolerance), bound to a figure a load run measures (`ha.blackout@web2`, `sessions.lostSessions`); the result grades it and shows `explain`. Never fails the scenario.',
  example: '`predict: { id: blackout, question: "How long will requests fail?", number: { unit: s, tolerance: 2s }, bound: ha.blackout@web2 }`',
};

export const predictStep: StepDefinition<StepOf<'predict'>> = {
  key: 'predict',
  kinds: ['predict'],
  needsValue: true,
  describe,

  parse(p: StepParser, { e: entry, pos }: StepInput) {
    const e = entry!;
    const map = p.mapping(e.value, 'predict', e.at);
    p.noLoadRunning(e.at, 'a prediction (learners take their time to answer, and the faults would move inside the run)');
    const got = new Map<string, Entry>();
    for (const x of p.entries(map, 'predict', PREDICT_KEYS)) got.set(x.key, x);
    for (const k of ['id', 'question', 'bound'] as const) if (!got.has(k)) p.fail(e.at, `predict needs \`${k}:\` (e.g. ${describe.example})`);
    const idE = got.get('id')!;
    const id = p.string(idE, 'predict id', 60);
    if (!ID_RE.test(id)) p.fail(idE.at, `predict id must be kebab-case (e.g. blackout-web2), not "${clip(id)}"`);
    if (p.questions.has(id)) p.fail(idE.at, `a prediction with id "${id}" already exists (line ${p.questions.get(id)}): ids name questions in answers files`);
    p.questions.set(id, pos.line);
    const question = p.string(got.get('question')!, 'question', MAX_QUESTION_CHARS);
    const explain = got.has('explain') ? p.string(got.get('explain')!, 'explain') : undefined;
    const bound = binding(p, got.get('bound')!);
    const choicesE = got.get('choices');
    const numberE = got.get('number');
    if (!!choicesE === !!numberE)
      p.fail(choicesE?.keyNode ?? e.at, 'predict needs exactly one of `choices:` (a list, one of them right) or `number:` ({ unit, tolerance })');
    const step: PredictStep = { kind: 'predict', id, question, bound, explain };
    if (choicesE) step.choices = choices(p, choicesE, bound);
    else step.number = numberSpec(p, numberE!, bound);
    const one = question.replace(/\s+/g, ' ');
    return prune({ pos, text: `predict ${id}: ${one.length > 60 ? `${one.slice(0, 57)}…` : one}`, ...step });
  },

  schema: stepObject(
    'predict',
    describe.summary,
    {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'question', 'bound'],
      properties: {
        id: { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', description: 'Names the question (answers files, the class summary).' },
        question: { type: 'string', minLength: 1, maxLength: MAX_QUESTION_CHARS, description: 'What learners are asked, before the experiment.' },
        choices: {
          type: 'array',
          minItems: 2,
          maxItems: MAX_CHOICES,
          description:
            'The answers offered; the right one is the choice whose `when` holds for the measured figure (one choice may leave `when` out: "otherwise").',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['text'],
            properties: {
              text: { type: 'string', minLength: 1 },
              when: { description: 'A threshold on the bound figure, as in `assert`: 0, ">= 1", "< 5s".', anyOf: [{ type: 'number' }, { type: 'string' }] },
            },
          },
        },
        number: {
          type: 'object',
          additionalProperties: false,
          required: ['tolerance'],
          description: 'A number answer, right within a tolerance of the measured value.',
          properties: {
            unit: { type: 'string', description: 'The unit learners answer in: s, ms or m for times (default s), % for errorRate, a word for counts.' },
            tolerance: {
              description: 'How far from the measured value still counts as right: in the unit (2, "2s") or a percentage of the measured value ("25%").',
              anyOf: [{ type: 'number', minimum: 0 }, { type: 'string' }],
            },
            min: { type: 'number', description: 'Smallest answer accepted (default 0).' },
            max: { type: 'number', description: 'Largest answer accepted.' },
          },
        },
        bound: {
          type: 'string',
          pattern: '^([A-Za-z0-9][A-Za-z0-9_-]{0,39}\\.)?[A-Za-z]+(@[a-z][a-z0-9-]*)?$',
          description: `The measured figure: <run>.<metric> (${METRIC_KEYS.join(', ')}) or <run>.<figure>@<node> (${FAULT_FIGURES.join(', ')} of the first fault on that node). Without <run>: the load run started next.`,
          examples: ['ha.blackout@web2', 'sessions.lostSessions', 'failures'],
        },
        explain: { type: 'string', minLength: 1, description: 'Why the measurement came out as it did: shown beside the graded answer.' },
      },
    },
    [
      {
        predict: {
          id: 'blackout-web2',
          question: 'How long will requests fail when web2 stops?',
          number: { unit: 's', tolerance: '2s' },
          bound: 'ha.blackout@web2',
        },
      },
    ],
  ),

  async run(step, ctx) {
    ctx.progress.say(`Predict (${step.id}): ${step.question}`);
    let answer = undefined as Awaited<ReturnType<NonNullable<typeof ctx.deps.answers>['ask']>>;
    if (ctx.deps.answers) {
      answer = await ctx.deps.answers.ask(step);
      const bad = answer === undefined ? undefined : answerProblem(step, answer);
      if (bad) {
        ctx.progress.log(`prediction ${step.id}: answer refused (${bad}); recorded as not answered`);
        answer = undefined;
      }
    }
    if (answer) ctx.answers.set(step.id, answer);
    const detail = answer ? `answered ${showAnswer(step, answer)} (graded after the run)` : 'not answered';
    ctx.note('predict', `${step.id}: ${detail}`);
    return { detail };
  },
};

function binding(p: StepParser, e: Entry): PredictBinding {
  const text = p.scalarText(e, 'bound', 'ha.blackout@web2');
  const m = BOUND_RE.exec(text);
  if (!m)
    p.fail(e.at, `bound: "${clip(text)}" is not a figure; write <run>.<metric> (e.g. sessions.lostSessions) or <run>.<figure>@<node> (e.g. ha.blackout@web2)`);
  const [, run, metric, node] = m;
  const allowed: readonly string[] = node ? FAULT_FIGURES : METRIC_KEYS;
  if (!allowed.includes(metric!)) {
    const hint = closest(metric!, allowed);
    const other = node ? (METRIC_KEYS as readonly string[]).includes(metric!) : isFaultFigure(metric!);
    p.fail(
      e.at,
      `bound: "${clip(metric!)}" is not a ${node ? `figure of one fault (@${node})` : 'metric of a load run'}${hint ? `: did you mean "${hint}"?` : ''} (valid: ${quote(allowed)})${other ? (node ? '; drop the @node for a metric of the whole run' : '; a figure of one fault needs @<node>, e.g. blackout@web2') : ''}`,
    );
  }
  if (node) p.checkNode(node, e.at, undefined, 'bound');
  const b: PredictBinding = { run: run ?? '', metric: metric as PredictBinding['metric'], node, text };
  const startedBefore = p.loads;
  p.deferred.push(() => {
    const names = [...p.runs.keys()];
    if (run === undefined) {
      const next = names[startedBefore];
      if (next === undefined) p.fail(e.at, `bound: no load run starts after this prediction; start one with \`load:\` later, or name a run: <run>.${metric}`);
      b.run = next;
      b.text = `${next}.${text}`;
    } else if (!p.runs.has(run)) {
      const hint = closest(run, names);
      p.fail(
        e.at,
        `bound: no load run named "${clip(run)}" in this scenario${hint ? ` (did you mean "${hint}"?)` : ''}${names.length ? `: runs are ${quote(names)}` : ': start one with `load: { name: …, users: … }`'}`,
      );
    }
  });
  return prune(b);
}

function choices(p: StepParser, e: Entry, b: PredictBinding): PredictChoice[] {
  const seq = e.value;
  if (!seq || !isSeq(seq)) p.fail(e.at, `choices must be a list of { text, when }, not ${p.show(seq)}`);
  if (seq.items.length < 2 || seq.items.length > MAX_CHOICES) p.fail(e.at, `choices needs 2 to ${MAX_CHOICES} answers, got ${seq.items.length}`);
  const units =
    figureKind(b.metric) === 'ms' ? 'ms' : b.metric === 'apdex' || b.metric === 'errorRate' ? 'fraction' : b.metric === 'throughput' ? 'number' : 'count';
  const out: PredictChoice[] = [];
  let otherwiseAt: YamlNode | undefined;
  for (const raw of seq.items) {
    const item = p.resolve(raw);
    const map = p.mapping(item, 'a choice ({ text: …, when: ">= 1" })', item ?? e.at);
    let text: string | undefined;
    let when: PredictChoice['when'];
    for (const x of p.entries(map, 'a choice', CHOICE_KEYS)) {
      if (x.key === 'text') text = p.string(x, 'choice text', 200);
      else when = threshold(p, x, b.metric, units);
    }
    if (text === undefined) p.fail(map, 'a choice needs `text:`');
    if (out.some((c) => c.text.toLowerCase() === text.toLowerCase())) p.fail(map, `choice "${clip(text)}" is given twice`);
    if (!when) {
      if (otherwiseAt) p.fail(map, `only one choice may leave out \`when\` (it means "otherwise"); line ${p.pos(otherwiseAt).line} already does`);
      otherwiseAt = map;
    }
    out.push(prune({ text, when }));
  }
  const gap = choiceGap(out, figureKind(b.metric));
  if (gap) {
    const { unit, scale } = displayUnit(b.metric);
    const v = `${Math.round((gap.value / scale) * 1000) / 1000}${unit ? ` ${unit}` : ''}`;
    p.fail(
      e.at,
      gap.hits.length
        ? `choices ${gap.hits.map(letter).join(' and ')} both hold when ${b.metric} is ${v}: exactly one choice must be right for any measurement`
        : `no choice holds when ${b.metric} is ${v}: cover every value, or add one choice without \`when\` ("otherwise")`,
    );
  }
  return out;
}

function numberSpec(p: StepParser, e: Entry, b: PredictBinding): PredictNumber {
  const map = p.mapping(e.value, 'number ({ unit: s, tolerance: 2s })', e.at);
  const kind = figureKind(b.metric);
  const def = displayUnit(b.metric);
  let unit = def.unit;
  let scale = def.scale;
  let tolE: Entry | undefined;
  let min = 0;
  let max: number | undefined;
  for (const x of p.entries(map, 'number', NUMBER_KEYS)) {
    if (x.key === 'unit') {
      const u = p.scalarText(x, 'unit', 's');
      if (kind === 'ms') {
        if (TIME_UNITS[u] === undefined) p.fail(x.at, `unit: ${b.metric} is a time: answer in ms, s or m, not "${clip(u)}"`);
        scale = TIME_UNITS[u]!;
      } else if (b.metric === 'errorRate') {
        if (u !== '%' && u !== 'fraction') p.fail(x.at, 'unit: errorRate is answered in % or as a fraction (unit: fraction)');
        scale = u === '%' ? 0.01 : 1;
      } else if (!UNIT_RE.test(u)) p.fail(x.at, `unit must be a short word (e.g. requests), not "${clip(u)}"`);
      unit = u === 'fraction' ? '' : u;
    } else if (x.key === 'tolerance') tolE = x;
    else if (x.key === 'min') min = p.number(x, 'min', 0, 1e12);
    else max = p.number(x, 'max', 0, 1e12);
  }
  if (!tolE) p.fail(e.at, 'number needs a `tolerance:` (how far from the measured value still counts as right: 2s, or 25%)');
  const t = p.scalarText(tolE, 'tolerance', '2s or 25%');
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z%/]*)$/i.exec(t);
  if (!m) p.fail(tolE.at, `tolerance: "${clip(t)}" is not a number; write e.g. 2${unit === 's' ? 's' : ''} or 25%`);
  let value = Number(m[1]);
  const tu = m[2]!.toLowerCase();
  const percent = tu === '%' && unit !== '%';
  if (tu && !percent && tu !== unit.toLowerCase()) {
    if (kind === 'ms' && TIME_UNITS[tu] !== undefined) value = (value * TIME_UNITS[tu]!) / scale;
    else p.fail(tolE.at, `tolerance: "${clip(t)}" is in ${tu}, and this question is answered in ${unit || 'plain numbers'}`);
  }
  if (percent && value > 1000) p.fail(tolE.at, 'tolerance: at most 1000%');
  max ??= unit === '%' ? 100 : b.metric === 'apdex' || b.metric === 'errorRate' ? 1 : 1e9;
  if (max < min) p.fail(e.at, `number: max (${max}) is below min (${min})`);
  return { unit, scale, tolerance: { value, percent, text: percent ? `${value}%` : `${value}${unit ? (unit === '%' ? '%' : ` ${unit}`) : ''}` }, min, max };
}
