/**
 * `scenario run … --answers answers.yaml`: a learner's predictions for a headless run, checked
 * against the scenario's questions before any lab is touched. The file maps each `predict` id to
 * an answer (a choice's letter or text; a number, optionally with the question's unit), plus an
 * optional `learner:` name for the class summary:
 *
 *   learner: alice
 *   blackout-web2: 4s
 *   still-logged-in: b
 *
 * An unknown id, a question left out or an answer of the wrong kind is one `ScenarioError`
 * (file:line:col: reason): the CLI exits 2 and nothing runs.
 */
import { isMap, isScalar } from 'yaml';
import { readScenarioFile } from './files';
import { answerHint, readAnswer } from './predictions';
import { PredictAnswer, PredictStep } from './types';
import { parseYaml, YamlReader } from './yaml-reader';

export const LEARNER_KEY = 'learner';
const LEARNER_RE = /^[\p{L}\p{N}][\p{L}\p{N} ._@-]{0,79}$/u;

export interface AnswerSet {
  learner?: string;
  answers: Map<string, PredictAnswer>;
}

/** Parses and checks an answers file's text against the questions of a scenario. */
export function parseAnswers(text: string, file: string, questions: readonly PredictStep[], scenarioName: string): AnswerSet {
  const { doc, at } = parseYaml(text, file, 'an answers file maps question ids to answers');
  const r: YamlReader = new YamlReader(file, doc, at);
  r.resolveAliases();
  const root = r.resolve(doc.contents);
  if (!questions.length) r.fail(root, `scenario ${scenarioName} has no \`predict\` step: there is nothing to answer (leave out --answers)`);
  const ids = questions.map((q) => q.id);
  if (!root || !isMap(root))
    r.fail(root, `an answers file is a mapping of question id to answer (${ids.map((i) => `${i}: …`).join(', ')}), not ${r.show(root)}`);
  const out: AnswerSet = { answers: new Map() };
  for (const e of r.entries(root, 'the answers', [LEARNER_KEY, ...ids])) {
    if (e.key === LEARNER_KEY) {
      const name = r.string(e, 'learner', 80);
      if (!LEARNER_RE.test(name)) r.fail(e.at, 'learner must be a short name (letters, digits, spaces, . _ @ -)');
      out.learner = name;
      continue;
    }
    const q = questions.find((x) => x.id === e.key)!;
    const v = e.value;
    const raw = v && isScalar(v) ? v.value : undefined;
    if (raw === undefined || raw === null) r.fail(e.at, `${e.key}: no answer; answer with ${answerHint(q)}`);
    if (q.choices && typeof raw !== 'string') r.fail(e.at, `${e.key} is a multiple-choice question: answer with ${answerHint(q)}, not ${r.show(v)}`);
    const a = readAnswer(q, raw);
    if ('problem' in a) r.fail(e.at, a.problem);
    out.answers.set(e.key, a);
  }
  const missing = ids.filter((i) => !out.answers.has(i));
  if (missing.length) {
    const q = questions.find((x) => x.id === missing[0])!;
    r.fail(
      root,
      `no answer for ${missing.map((m) => `"${m}"`).join(', ')} (scenario ${scenarioName} asks ${ids.length}): add e.g. \`${q.id}: …\` with ${answerHint(q)}`,
    );
  }
  return out;
}

/** Reads an answers file (the scenario file rules: a regular UTF-8 file of at most 1 MB) and checks it. */
export function loadAnswers(file: string, questions: readonly PredictStep[], scenarioName: string): AnswerSet {
  return parseAnswers(readScenarioFile(file), file, questions, scenarioName);
}
