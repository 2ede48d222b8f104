import { strict as assert } from 'node:assert';
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAnswers } from '../../src/scenarios/answers';
import { promptSource, scenarioCommand } from '../../src/scenarios/command';
import { toJUnit } from '../../src/scenarios/junit';
import { PredictAnswerIntent, validateIncoming } from '../../src/protocol/messages';
import { askPrediction, PredictionUi } from '../../src/vscode/predict-pick';
import { LabLive } from '../../src/host/live';
import { notYet, ready, waitFor } from '../../src/core/wait';
import { loadScenario, parseScenario } from '../../src/scenarios/parse';
import { answerProblem as answerProblemOf, grade, questionsOf, readAnswer } from '../../src/scenarios/predictions';
import { renderHtml, renderMarkdown } from '../../src/scenarios/report';
import { readResults, renderSummaryHtml, summarize } from '../../src/scenarios/summary';
import { PredictAnswer, PredictStep, ScenarioError, ScenarioResult } from '../../src/scenarios/types';
import { FakeLab, fakeLoads, result, runner } from '../support/scenario-lab';
import { scenarioError } from '../support/scenario-error';

/** Real time for LabLive (its own clock is real): the fake load ends after its 1 s. */
const realClock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), run: <T>(p: Promise<T>) => p };
const BUILTINS = path.resolve(__dirname, '../../lab/scenarios');

const SCENARIO = [
  'name: t',
  'steps:',
  '  - up',
  '  - predict:',
  '      id: blackout',
  '      question: How long will requests fail when web2 stops?',
  '      number: { unit: s, tolerance: 2s }',
  '      bound: blackout@web2',
  '      explain: HAProxy needs three failed checks.',
  '  - predict:',
  '      id: logged-in',
  '      question: Will users stay logged in?',
  '      choices:',
  '        - { text: "Yes", when: 0 }',
  '        - { text: "No, some are logged out" }',
  '      bound: ha.lostSessions',
  '  - load: { name: ha, users: 5, duration: 10s }',
  '  - fault: stop web2',
  '  - load: wait',
].join('\n');

const FAULT = { fault: 'stop web2', atMs: 3000, detectedMs: 2500, failedRequests: 4, blackoutMs: 3200, recoveredMs: 5000 };
const measuredRun = (lost: string[] = []) =>
  result({ faults: [FAULT], integrity: { dbWrites: 1, files: 1, sessions: 5, lostDbWrites: [], lostFiles: [], lostSessions: lost, unchecked: [] } });

const fixed = (answers: Record<string, PredictAnswer>) => ({ ask: async (q: PredictStep) => answers[q.id] });

describe('predict step', () => {
  describe('parse', () => {
    it('reads number and choice questions; a binding without a run takes the run started next', () => {
      const s = parseScenario(SCENARIO, 't.yaml');
      const [a, b] = questionsOf(s.steps);
      assert.equal(a!.bound.text, 'ha.blackout@web2');
      assert.equal(a!.bound.run, 'ha');
      assert.deepEqual(a!.number, { unit: 's', scale: 1000, tolerance: { value: 2, percent: false, text: '2 s' }, min: 0, max: 1e9 });
      assert.equal(b!.choices!.length, 2);
      assert.equal(b!.choices![0]!.when!.text, '== 0');
      assert.equal(s.steps[1]!.text, 'predict blackout: How long will requests fail when web2 stops?');
    });

    it('refuses bad questions with file:line:col', () => {
      const cases: [string, string, RegExp][] = [
        ['bound: blackout@web2', 'bound: blackot@web2', /^f\.yaml:8:14: bound: "blackot" is not a figure of one fault \(@web2\): did you mean "blackout"\?/],
        ['bound: ha.lostSessions', 'bound: hx.lostSessions', /^f\.yaml:16:14: bound: no load run named "hx" in this scenario \(did you mean "ha"\?\)/],
        ['bound: blackout@web2', 'bound: failedRequests', /^f\.yaml:8:14: .*a figure of one fault needs @<node>/],
        ['bound: blackout@web2', 'bound: ha.blackout@web9', /^f\.yaml:8:14: unknown node "web9"/],
        ['bound: blackout@web2', 'bound: "ha blackout"', /^f\.yaml:8:14: bound: "ha blackout" is not a figure/],
        ['{ text: "No, some are logged out" }', '{ text: "No", when: ">= 2" }', /^f\.yaml:14:9: no choice holds when lostSessions is 1/],
        ['{ text: "No, some are logged out" }', '{ text: "No", when: ">= 0" }', /^f\.yaml:14:9: choices a and b both hold when lostSessions is 0/],
        ['tolerance: 2s', 'tolerance: 2x', /^f\.yaml:7:37: tolerance: "2x" is in x/],
        ['{ unit: s, tolerance: 2s }', '{ unit: h, tolerance: 2s }', /^f\.yaml:7:23: unit: blackout is a time: answer in ms, s or m/],
        ['{ unit: s, tolerance: 2s }', '{ unit: s }', /^f\.yaml:7:15: number needs a `tolerance:`/],
        ['id: logged-in', 'id: blackout', /^f\.yaml:11:11: a prediction with id "blackout" already exists \(line 4\)/],
        ['id: logged-in', 'id: Logged In', /^f\.yaml:11:11: predict id must be kebab-case/],
        [
          '      bound: ha.lostSessions',
          '      bound: ha.lostSessions\n      number: { tolerance: 1 }',
          /^f\.yaml:13:7: predict needs exactly one of `choices:`/,
        ],
      ];
      for (const [from, to, re] of cases) {
        const text = SCENARIO.replace(from, to);
        assert.notEqual(text, SCENARIO, from);
        assert.match(scenarioError(text).message, re);
      }
    });

    it('is asked before the load starts (an answer takes time, the faults would move inside the run)', () => {
      const text = SCENARIO.replace('  - load: { name: ha, users: 5, duration: 10s }\n', '').replace(
        '  - up\n',
        '  - up\n  - load: { name: ha, users: 5, duration: 10s }\n',
      );
      assert.match(
        scenarioError(text).message,
        /^f\.yaml:6:7: load run "ha" \(line 4\) is still running: add `load: wait` or `load: stop` before a prediction/,
      );
    });

    it('a prediction with no run after it and none named is refused', () => {
      assert.match(
        scenarioError(['name: t', 'steps:', '  - predict: { id: x, question: q, number: { tolerance: 1 }, bound: failures }'].join('\n')).message,
        /^f\.yaml:3:69: bound: no load run starts after this prediction/,
      );
    });

    it('any predict step parses into a checked question, or one ScenarioError with file:line:col (fuzzed)', () => {
      const scalar = fc.oneof(
        fc.constantFrom('ha.blackout@web2', 'failures', 'ha.lostSessions', 'x.y@z', 'ha.p99@web9', '2s', '25%', '0', '>= 1', 's', 'requests'),
        fc.string({ maxLength: 12 }),
        fc.double(),
        fc.integer(),
        fc.constant(null),
      );
      const choice = fc.dictionary(fc.constantFrom('text', 'when', 'x'), scalar, { maxKeys: 3 });
      const predict = fc.record(
        {
          id: fc.oneof(fc.constantFrom('q', 'q-1', 'Bad'), scalar),
          question: scalar,
          bound: scalar,
          choices: fc.oneof(fc.array(choice, { maxLength: 4 }), scalar),
          number: fc.oneof(fc.dictionary(fc.constantFrom('unit', 'tolerance', 'min', 'max', 'y'), scalar, { maxKeys: 4 }), scalar),
          explain: scalar,
        },
        { requiredKeys: [] },
      );
      fc.assert(
        fc.property(predict, (pr) => {
          const text = stringify({
            name: 'f',
            steps: ['up', { predict: pr }, { load: { name: 'ha', users: 1, duration: '1s' } }, { fault: 'kill web2' }, { load: 'wait' }],
          });
          try {
            const q = questionsOf(parseScenario(text, 'f.yaml').steps)[0]!;
            assert.ok(Boolean(q.choices) !== Boolean(q.number), 'choices or a number');
            assert.equal(q.bound.run, 'ha');
          } catch (err) {
            assert.ok(err instanceof ScenarioError, `not a ScenarioError: ${err instanceof Error ? err.stack : String(err)}`);
            assert.ok(err.message.startsWith(`f.yaml:${err.line}:${err.col}: `), err.message);
          }
        }),
        { numRuns: 300, seed: 14 },
      );
    });

    it('the built-in guided exercises ask predictions', () => {
      for (const name of ['paper-failover', 'redis-spof', 'galera-quorum']) {
        const s = loadScenario(name, BUILTINS);
        assert.ok(questionsOf(s.steps).length >= 1, name);
        for (const q of questionsOf(s.steps)) assert.ok(q.explain, `${name} ${q.id} explains`);
      }
    });
  });

  describe('grading', () => {
    const s = parseScenario(SCENARIO, 't.yaml');
    const [num, choice] = questionsOf(s.steps) as [PredictStep, PredictStep];
    const runs = [{ ...measuredRun(['u3']), name: 'ha' }];

    it('a number is right within its tolerance and wrong outside it, with the measured value beside it', () => {
      const right = grade(num, { value: 4 }, runs);
      assert.equal(right.grade, 'right');
      assert.equal(right.measured, 3.2);
      assert.equal(right.measuredText, '3.2 s');
      assert.equal(right.expected, '3.2 s ± 2 s');
      const wrong = grade(num, { value: 10 }, runs);
      assert.equal(wrong.grade, 'wrong');
      assert.equal(wrong.answer, 10);
      assert.equal(wrong.explain, 'HAProxy needs three failed checks.');
    });

    it('a percentage tolerance is relative to the measured value', () => {
      const pct = { ...num, number: { ...num.number!, tolerance: { value: 25, percent: true, text: '25%' } } };
      assert.equal(grade(pct, { value: 4 }, runs).grade, 'right'); // 3.2 ± 0.8
      assert.equal(grade(pct, { value: 4.1 }, runs).grade, 'wrong');
    });

    it('a choice is right when its `when` holds for the measurement; "otherwise" covers the rest', () => {
      assert.equal(grade(choice, { choice: 1 }, runs).grade, 'right');
      const g = grade(choice, { choice: 0 }, runs);
      assert.equal(g.grade, 'wrong');
      assert.equal(g.answer, 'Yes');
      assert.equal(g.expected, 'No, some are logged out');
      assert.equal(g.measured, 1);
      assert.equal(grade(choice, { choice: 0 }, [{ ...measuredRun([]), name: 'ha' }]).grade, 'right');
    });

    it('no answer is "not answered"; nothing measured is "ungraded", with the reason', () => {
      assert.equal(grade(num, undefined, runs).grade, 'not answered');
      const none = grade(num, { value: 3 }, [{ ...result(), name: 'ha' }]);
      assert.equal(none.grade, 'ungraded');
      assert.equal(none.measured, null);
      assert.match(none.measuredText, /no fault on web2 in load run ha/);
      assert.match(grade(choice, { choice: 0 }, [{ ...result(), name: 'ha' }]).measuredText, /no integrity probes ran/);
    });

    it('the node of a per-fault figure is matched as a word (web2 is not web20)', () => {
      const other = [{ ...result({ faults: [{ ...FAULT, fault: 'stop web20', blackoutMs: 9000 }, FAULT] }), name: 'ha' }];
      assert.equal(grade(num, { value: 3 }, other).measured, 3.2);
    });
  });

  describe('answers', () => {
    const s = parseScenario(SCENARIO, 't.yaml');
    const qs = questionsOf(s.steps);

    it('reads letters, choice texts, numbers and numbers with a time unit', () => {
      const a = parseAnswers('learner: alice\nblackout: 4500ms\nlogged-in: b\n', 'a.yaml', qs, 't');
      assert.equal(a.learner, 'alice');
      assert.deepEqual(a.answers.get('blackout'), { value: 4.5 });
      assert.deepEqual(a.answers.get('logged-in'), { choice: 1 });
      assert.deepEqual(parseAnswers('blackout: 3\nlogged-in: "yes"\n', 'a.yaml', qs, 't').answers.get('logged-in'), { choice: 0 });
    });

    it('an unknown id, a missing answer or a wrong type is one error with file:line:col', () => {
      const err = (text: string) => {
        try {
          parseAnswers(text, 'a.yaml', qs, 't');
        } catch (e) {
          assert.ok(e instanceof ScenarioError);
          return e.message;
        }
        assert.fail(`no error for ${text}`);
      };
      assert.match(err('blackout: 3\nlogged-in: b\nblakout: 4\n'), /^a\.yaml:3:1: unknown key "blakout" in the answers: did you mean "blackout"\?/);
      assert.match(err('blackout: 3\n'), /^a\.yaml:1:1: no answer for "logged-in" \(scenario t asks 2\)/);
      assert.match(err('blackout: soon\nlogged-in: b\n'), /^a\.yaml:1:11: "soon" is not a number: answer "blackout" with a number from 0 to/);
      assert.match(err('blackout: 3\nlogged-in: 2\n'), /^a\.yaml:2:12: logged-in is a multiple-choice question: answer with a letter from a to b/);
      assert.match(err('blackout: 3\nlogged-in: d\n'), /^a\.yaml:2:12: "d" is not a choice of "logged-in"/);
      assert.match(err('blackout: 3kg\nlogged-in: a\n'), /is answered in s, not kg/);
      assert.match(err('- 3\n'), /^a\.yaml:1:1: an answers file is a mapping of question id to answer/);
      assert.match(err('blackout:\nlogged-in: a\n'), /^a\.yaml:1:1: blackout: no answer/);
    });

    it('any answers file is an AnswerSet that fits the questions, or one ScenarioError with file:line:col (fuzzed)', () => {
      const value = fc.oneof(
        fc.constantFrom('a', 'b', 'c', 'Yes', 'no', '3s', '4500ms', '1e400', '-1', ''),
        fc.string({ maxLength: 20 }),
        fc.double(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.integer(), { maxLength: 3 }),
      );
      const key = fc.constantFrom('blackout', 'logged-in', 'learner', 'other', '');
      fc.assert(
        fc.property(
          fc.oneof(
            fc.dictionary(key, value, { maxKeys: 4 }).map((o) => stringify(o)),
            fc.string({ maxLength: 80 }),
          ),
          (text) => {
            try {
              const a = parseAnswers(text, 'a.yaml', qs, 't');
              assert.deepEqual([...a.answers.keys()].sort(), ['blackout', 'logged-in']);
              for (const q of qs) assert.equal(answerProblemOf(q, a.answers.get(q.id)), undefined);
            } catch (err) {
              assert.ok(err instanceof ScenarioError, `not a ScenarioError: ${err instanceof Error ? err.stack : String(err)}`);
              assert.ok(err.message.startsWith(`a.yaml:${err.line}:${err.col}: `), err.message);
            }
          },
        ),
        { numRuns: 400, seed: 14 },
      );
    });

    it('`scenario run --answers` that does not match is exit-2 material before any lab is looked at', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-'));
      const file = path.join(dir, 's.yaml');
      fs.writeFileSync(file, SCENARIO);
      fs.writeFileSync(path.join(dir, 'a.yaml'), 'blackout: 3\n');
      let touched = 0;
      await assert.rejects(
        scenarioCommand(
          ['run', file],
          { answers: path.join(dir, 'a.yaml') },
          {
            lab: 'lab',
            builtinDir: BUILTINS,
            deps: {
              labFor: () => {
                touched++;
                return new FakeLab('lab');
              },
            },
          },
          { out: () => undefined, err: () => undefined },
          (m) => new Error(m),
        ),
        (e: unknown) => e instanceof ScenarioError && /no answer for "logged-in"/.test(e.message),
      );
      assert.equal(touched, 0);
    });

    it('the terminal prompt shows the choices and asks again after a wrong answer; empty skips', async () => {
      const lines = ['x', 'b'];
      const said: string[] = [];
      const src = promptSource(
        async () => lines.shift(),
        (t) => said.push(t),
      );
      assert.deepEqual(await src.ask(qs[1]!), { choice: 1 });
      assert.match(said.join(''), /PREDICT \(logged-in\): Will users stay logged in\?\n {2}a\) Yes\n {2}b\) No, some are logged out/);
      assert.match(said.join(''), /"x" is not a choice/);
      assert.equal(
        await promptSource(
          async () => '',
          () => undefined,
        ).ask(qs[0]!),
        undefined,
      );
      assert.deepEqual(readAnswer(qs[0]!, '1m'), { value: 60 });
    });
  });

  describe('a run with predictions', () => {
    it('records the answers, grades them after the run, and never changes the verdict', async () => {
      const s = parseScenario(SCENARIO, 't.yaml');
      const r = await runner({ lab: new FakeLab('lab') }, fakeLoads([measuredRun(['u3'])]), fixed({ blackout: { value: 10 }, 'logged-in': { choice: 1 } })).run(
        s,
      );
      assert.equal(r.passed, true);
      assert.deepEqual(
        r.predictions!.map((p) => `${p.id} ${p.grade} ${p.answer} ${p.measuredText}`),
        ['blackout wrong 10 3.2 s', 'logged-in right No, some are logged out 1'],
      );
      assert.match(r.steps[1]!.detail!, /^answered 10 s \(graded after the run\)$/);
      assert.ok(r.timeline.some((e) => e.kind === 'predict'));
    });

    it('without an answer source (CI, no terminal) every prediction is "not answered" and the run goes on', async () => {
      const s = parseScenario(SCENARIO, 't.yaml');
      const r = await runner({ lab: new FakeLab('lab') }, fakeLoads([measuredRun()])).run(s);
      assert.equal(r.passed, true);
      assert.deepEqual(
        r.predictions!.map((p) => p.grade),
        ['not answered', 'not answered'],
      );
      assert.equal(r.steps[1]!.detail, 'not answered');
    });

    it('an answer a UI hands back out of range is refused (recorded as not answered)', async () => {
      const s = parseScenario(SCENARIO, 't.yaml');
      const r = await runner({ lab: new FakeLab('lab') }, fakeLoads([measuredRun()]), fixed({ blackout: { value: -1 }, 'logged-in': { choice: 7 } })).run(s);
      assert.deepEqual(
        r.predictions!.map((p) => p.grade),
        ['not answered', 'not answered'],
      );
    });

    it('the reports show each graded prediction beside its measurement; JUnit lists them as properties, not tests', async () => {
      const s = parseScenario(SCENARIO, 't.yaml');
      const r = await runner({ lab: new FakeLab('lab') }, fakeLoads([measuredRun(['u3'])]), fixed({ blackout: { value: 10 }, 'logged-in': { choice: 1 } })).run(
        s,
      );
      const html = renderHtml(r);
      assert.match(html, /<section id="predictions"><h2>Predictions<\/h2><p class="predict-score"><b>1 of 2<\/b>/);
      assert.match(
        html,
        /<tr class="grade-wrong"><td><strong>How long will requests fail when web2 stops\?<\/strong>.*?<\/td><td>10 s<\/td><td>3\.2 s<\/td><td>3\.2 s ± 2 s<\/td><td><span class="err">✗ wrong<\/span><\/td><td>HAProxy needs three failed checks\.<\/td><\/tr>/,
      );
      const md = renderMarkdown(r);
      assert.match(
        md,
        /\| How long will requests fail when web2 stops\? \| 10 s \| 3\.2 s \| 3\.2 s ± 2 s \| ❌ wrong \| HAProxy needs three failed checks\. \|/,
      );
      const xml = toJUnit(r);
      assert.match(xml, /<property name="prediction\.blackout" value="wrong: answer 10, measured 3\.2 s"\/>/);
      assert.doesNotMatch(xml, /testcase[^>]*predict/);
    });
  });

  it("the dashboard's answer message is bounded and checked", () => {
    const ok = (params: unknown) => validateIncoming({ method: PredictAnswerIntent.method, id: '1', params });
    assert.equal(ok({ id: 'blackout', value: 4 }).ok, true);
    assert.equal(ok({ id: 'logged-in', choice: 1 }).ok, true);
    assert.equal(ok({ id: 'logged-in' }).ok, true, 'neither: skip');
    for (const bad of [
      { id: 'x'.repeat(61) },
      { id: 'Bad Id' },
      { id: 'a', choice: -1 },
      { id: 'a', choice: 1.5 },
      { id: 'a', value: Infinity },
      { id: 'a', value: '3' },
      { id: 'a', choice: 1, value: 2 },
    ]) {
      const r = ok(bad);
      assert.equal(r.ok, false, JSON.stringify(bad));
    }
  });

  describe('VS Code: quick pick for choices, input box for numbers', () => {
    const fakeUi = (pickIndex: number | undefined, typed: string | undefined) => {
      const seen: { items?: string[]; placeHolder?: string; prompt?: string; problems: (string | undefined)[] } = { problems: [] };
      const ui: PredictionUi = {
        pick: async (items, o) => {
          seen.items = items.map((i) => i.label);
          seen.placeHolder = o.placeHolder;
          return pickIndex === undefined ? undefined : items[pickIndex];
        },
        input: async (o) => {
          seen.prompt = o.prompt;
          seen.problems = ['abc', '-1', '700', '4.5'].map((v) => o.validate(v));
          return typed;
        },
      };
      return { ui, seen };
    };
    const choiceQ = { id: 'logged-in', question: 'Will users stay logged in?', choices: ['Yes', 'No'] };
    const numberQ = { id: 'blackout', question: 'How long?', unit: 's', min: 0, max: 600 };

    it('a quick pick lists the lettered choices under the question; dismissing it skips', async () => {
      const { ui, seen } = fakeUi(1, undefined);
      assert.deepEqual(await askPrediction(choiceQ, ui), { id: 'logged-in', choice: 1 });
      assert.deepEqual(seen.items, ['a) Yes', 'b) No']);
      assert.equal(seen.placeHolder, 'Will users stay logged in?');
      assert.deepEqual(await askPrediction(choiceQ, fakeUi(undefined, undefined).ui), { id: 'logged-in' });
    });

    it('an input box takes a number in the unit, checked as it is typed', async () => {
      const { ui, seen } = fakeUi(undefined, ' 4.5 ');
      assert.deepEqual(await askPrediction(numberQ, ui), { id: 'blackout', value: 4.5 });
      assert.equal(seen.prompt, 'How long? (in s)');
      assert.deepEqual(seen.problems, ['a number of s', 'from 0 to 600 s', 'from 0 to 600 s', undefined]);
    });

    it('LabLive tells the quick pick each question, and that it is gone once answered elsewhere', async () => {
      const lab = new FakeLab('lab');
      const store = { setMetrics: () => undefined, note: () => undefined, setLive: () => undefined };
      const live = new LabLive({ lab, store, builtinDir: '/nonexistent', reportsDir: os.tmpdir(), startLoad: fakeLoads([measuredRun()], realClock).start });
      const asked: { id: string; gone: AbortSignal }[] = [];
      live.onQuestion((q, gone) => asked.push({ id: q.id, gone }));
      const { done } = await live.startScenario(parseScenario(SCENARIO.replace('duration: 10s', 'duration: 1s'), 't.yaml'));
      await waitFor(async () => (asked.length ? ready(true) : notYet('no question')), { timeoutMs: 5000, intervalMs: 5, what: 'the question' });
      assert.equal(asked[0]!.id, 'blackout');
      assert.equal(asked[0]!.gone.aborted, false);
      live.answerPrediction({ id: 'blackout', value: 3 }); // the dashboard was faster
      assert.equal(asked[0]!.gone.aborted, true);
      await waitFor(async () => (asked.length === 2 ? ready(true) : notYet('no second question')), { timeoutMs: 5000, intervalMs: 5, what: 'the question' });
      const a = await askPrediction({ id: 'logged-in', question: 'q', choices: ['Yes', 'No'] }, fakeUi(0, undefined).ui, asked[1]!.gone);
      live.answerPrediction(a);
      const r = await done;
      assert.deepEqual(
        r.predictions!.map((p) => `${p.id} ${p.answer}`),
        ['blackout 3', 'logged-in Yes'],
      );
    });
  });

  describe('class summary', () => {
    const s = parseScenario(SCENARIO, 't.yaml');
    const run = (answers: Record<string, PredictAnswer>, lost: string[], blackoutMs: number, learner: string) =>
      runner({ lab: new FakeLab('lab') }, fakeLoads([result({ ...measuredRun(lost), faults: [{ ...FAULT, blackoutMs }] })]), fixed(answers))
        .run(s)
        .then((r): ScenarioResult => ({ ...r, learner }));

    it('counts right per question, the answers given and the spread of the measured figure', async () => {
      const rs = [
        await run({ blackout: { value: 3 }, 'logged-in': { choice: 0 } }, [], 3000, 'ana'),
        await run({ blackout: { value: 9 }, 'logged-in': { choice: 1 } }, ['u1'], 5000, 'bo'),
        await run({ 'logged-in': { choice: 0 } }, ['u1'], 4000, 'cy'),
      ];
      const sum = summarize(rs);
      assert.deepEqual(sum.learners, ['ana', 'bo', 'cy']);
      const [b, l] = sum.questions;
      assert.deepEqual({ right: b!.right, wrong: b!.wrong, answered: b!.answered, runs: b!.runs }, { right: 1, wrong: 1, answered: 2, runs: 3 });
      assert.deepEqual(b!.measured, { n: 3, min: 3, median: 4, max: 5 });
      assert.deepEqual(b!.answers, { n: 2, min: 3, median: 6, max: 9 });
      assert.deepEqual(l!.distribution, [
        { answer: 'Yes', count: 2, rightIn: 1 },
        { answer: 'No, some are logged out', count: 1, rightIn: 2 },
      ]);
      assert.equal(l!.right, 2); // ana (0 lost, Yes) and bo (1 lost, No)
      const html = renderSummaryHtml(sum);
      assert.match(html, /<div class="tile" data-tile="right"><div class="tile-value">1<small>of 3<\/small>/);
      assert.match(html, /min · median · max: 3 s · 4 s · 5 s/);
      assert.doesNotMatch(html, /<script|src=|href=/);
    });

    it('a file that is not a scenario result is a usage error naming it', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'predict-'));
      const bad = path.join(dir, 'bad.json');
      fs.writeFileSync(bad, '{"hello": 1}');
      assert.throws(() => readResults([bad], (m) => new Error(m)), new RegExp(`^Error: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not a scenario result`));
      fs.writeFileSync(bad, 'nope');
      assert.throws(() => readResults([bad], (m) => new Error(m)), /: not JSON/);
      assert.throws(() => readResults([path.join(dir, 'none.json')], (m) => new Error(m)), /none\.json: cannot read it \(ENOENT\)/);
    });
  });
});
