import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ASSERT_KEYS, FAULT_KEYS, LOAD_KEYS, listBuiltins, loadScenario, parseScenario, STEP_KINDS, TOP_KEYS } from '../../src/scenarios/parse';
import { SCENARIO_SCHEMA } from '../../src/scenarios/schema';
import { METRIC_KEYS, ScenarioError, Step } from '../../src/scenarios/types';
import { scenarioError } from '../support/scenario-error';

const ROOT = path.resolve(__dirname, '../..');
const BUILTINS = path.join(ROOT, 'lab/scenarios');
const FIXTURES = path.join(ROOT, 'test/fixtures/scenarios');

const err = (text: string) => scenarioError(text);

const steps = (lines: string) => `name: t\nsteps:\n${lines}`;
/** Strips pos so steps compare by content. */
const bare = (s: Step) => {
  const { pos: _pos, ...rest } = s;
  return rest;
};

describe('scenario files', () => {
  describe('built-ins', () => {
    const expected = [
      'flapping-web',
      'galera-2plus1',
      'galera-quorum',
      'galera-wan',
      'gluster-brick',
      'lb-failover',
      'paper-failover',
      'redis-failover',
      'redis-spof',
      'rolling-maintenance',
      'single-vs-ha',
      'slow-node',
    ];

    it('lists every built-in with their descriptions', () => {
      const list = listBuiltins(BUILTINS);
      assert.deepEqual(
        list.map((b) => b.name),
        expected,
      );
      for (const b of list) assert.ok(b.description.length > 20, `${b.name} has a description`);
    });

    for (const name of expected) {
      it(`${name} parses, is named after its file and narrates`, () => {
        const s = loadScenario(name, BUILTINS);
        assert.equal(s.name, name);
        assert.equal(s.source, `builtin:${name}`);
        assert.ok(
          s.steps.some((st) => st.kind === 'say'),
          'has say: narration',
        );
        assert.ok(
          s.steps.some((st) => st.kind === 'assert' || st.kind === 'compare'),
          'checks something',
        );
        assert.ok(s.steps.every((st) => st.pos.line > 0 && st.pos.col > 0 && st.text.length > 0));
      });
    }

    it('paper-failover: 30 users at 120/min, two of three web nodes stopped, 0 failures and Apdex >= 0.85', () => {
      const s = loadScenario('paper-failover', BUILTINS);
      const load = s.steps.find((st) => st.kind === 'load-start');
      assert.ok(load && load.kind === 'load-start');
      assert.equal(load.users, 30);
      assert.equal(load.throughputPerMin, 120);
      assert.deepEqual(
        s.steps.filter((st) => st.kind === 'fault').map((st) => st.text),
        ['fault stop web2', 'fault stop web3'],
      );
      const last = s.steps.filter((st) => st.kind === 'assert').pop();
      assert.ok(last && last.kind === 'assert');
      assert.deepEqual(last.metrics.failures, { op: '==', value: 0, text: '== 0' });
      assert.deepEqual(last.metrics.apdex, { op: '>=', value: 0.85, text: '>= 0.85' });
    });

    it('single-vs-ha switches preset and compares the two named runs', () => {
      const s = loadScenario('single-vs-ha', BUILTINS);
      assert.deepEqual(
        s.steps.filter((st) => st.kind === 'up').map((st) => st.kind === 'up' && st.preset),
        ['single', 'ha'],
      );
      assert.deepEqual(s.steps.at(-2), { ...s.steps.at(-2), kind: 'compare', runs: ['single', 'ha'] });
    });

    it('loads a file by path, and refuses unknown built-ins and missing files with a plain Error', () => {
      const file = path.join(BUILTINS, 'redis-spof.yaml');
      assert.equal(loadScenario(file, BUILTINS).source, file);
      assert.throws(
        () => loadScenario('paper-failovr', BUILTINS),
        (e: Error) =>
          !(e instanceof ScenarioError) &&
          /did you mean "paper-failover".*built-ins: flapping-web, galera-2plus1, galera-quorum, galera-wan, gluster-brick, lb-failover, paper-failover/.test(
            e.message,
          ),
      );
      assert.throws(() => loadScenario('nope.yaml', BUILTINS), /scenario file "nope.yaml" not found/);
    });
  });

  describe('broken.yaml (the acceptance fixture)', () => {
    it('names file, line 7 and column of the type error', () => {
      const ref = path.relative(process.cwd(), path.join(FIXTURES, 'broken.yaml'));
      assert.throws(
        () => loadScenario(ref, BUILTINS),
        (e: unknown) => {
          assert.ok(e instanceof ScenarioError);
          assert.equal(e.line, 7);
          assert.equal(e.col, 14);
          assert.equal(e.message, `${ref}:7:14: users must be a whole number from 1 to 1000 (got "thirty")`);
          return true;
        },
      );
    });
  });

  describe('syntax', () => {
    it('parses every step form into the Step model', () => {
      const s = parseScenario(
        [
          'name: demo',
          'description: >-',
          '  Two lines',
          '  folded.',
          'topology: { preset: ha, web: 3 }',
          'steps:',
          '  - up',
          '  - say: "Thirty users: go"',
          '  - load: { users: 30, journey: auto, duration: 120s, name: ha, throughput: 120, think: 500ms-1s, rampUp: 10s }',
          '  - wait: 20s',
          '  - fault: stop web2',
          '  - fault: { kind: delay, node: web3, ms: 300, jitter: 20 }',
          '  - fault: { kind: partition, nodes: [galera1], from: [galera2, galera3], for: 10s }',
          '  - fault: loss web1 30% for 10s',
          '  - fault: delay web1 0.5s',
          '  - fault: partition galera1 --from galera2,galera3',
          '  - heal: web2',
          '  - heal',
          '  - maintenance: on',
          '  - maintenance: { on: true, node: web2 }',
          '  - assert: { failures: 0, apdex: ">= 0.85", p95: "<= 1500ms", blackout: "<3s", errorRate: "< 1%", run: ha }',
          '  - assert: { galeraSize: 2, galeraStatus: Primary, within: 15s }',
          '  - assert: { healthy: [web1, web3], unhealthy: web2, haproxy: { web2: DOWN }, bricksOnline: ">= 2", healPending: 0, redisUp: false, lostWrites: 0 }',
          '  - load: wait',
          '  - load: { name: again, users: 5, duration: 1m }',
          '  - load: stop',
          '  - compare: [ha, again]',
          '  - down',
        ].join('\n'),
        'demo.yaml',
      );
      assert.equal(s.name, 'demo');
      assert.equal(s.description, 'Two lines folded.');
      assert.deepEqual(s.topology, { preset: 'ha', web: 3 });
      assert.equal(s.source, 'demo.yaml');
      assert.deepEqual(s.steps[0], { pos: { line: 7, col: 5 }, text: 'up ha (3 web)', kind: 'up', preset: 'ha', web: 3 });
      assert.deepEqual(s.steps.slice(1).map(bare), [
        { text: 'say "Thirty users: go"', kind: 'say', message: 'Thirty users: go' },
        {
          text: 'load 30 users auto 120s (run ha)',
          kind: 'load-start',
          users: 30,
          journey: 'auto',
          durationMs: 120_000,
          name: 'ha',
          throughputPerMin: 120,
          thinkMs: [500, 1000],
          rampUpMs: 10_000,
        },
        { text: 'wait 20s', kind: 'wait', ms: 20_000 },
        { text: 'fault stop web2', kind: 'fault', fault: { kind: 'stop', nodes: ['web2'] } },
        { text: 'fault delay web3 300ms ±20ms', kind: 'fault', fault: { kind: 'delay', nodes: ['web3'], delayMs: 300, jitterMs: 20 } },
        {
          text: 'fault partition galera1 from galera2,galera3 for 10s',
          kind: 'fault',
          fault: { kind: 'partition', nodes: ['galera1'], from: ['galera2', 'galera3'], forMs: 10_000 },
        },
        { text: 'fault loss web1 30% for 10s', kind: 'fault', fault: { kind: 'loss', nodes: ['web1'], lossPct: 30, forMs: 10_000 } },
        { text: 'fault delay web1 500ms', kind: 'fault', fault: { kind: 'delay', nodes: ['web1'], delayMs: 500 } },
        { text: 'fault partition galera1 from galera2,galera3', kind: 'fault', fault: { kind: 'partition', nodes: ['galera1'], from: ['galera2', 'galera3'] } },
        { text: 'heal web2', kind: 'heal', node: 'web2' },
        { text: 'heal', kind: 'heal' },
        { text: 'maintenance on', kind: 'maintenance', on: true },
        { text: 'maintenance on web2', kind: 'maintenance', on: true, node: 'web2' },
        {
          text: 'assert failures == 0, apdex >= 0.85, p95 <= 1500ms, blackout <3s, errorRate < 1% (run ha)',
          kind: 'assert',
          run: 'ha',
          metrics: {
            failures: { op: '==', value: 0, text: '== 0' },
            apdex: { op: '>=', value: 0.85, text: '>= 0.85' },
            p95: { op: '<=', value: 1500, text: '<= 1500ms' },
            blackout: { op: '<', value: 3000, text: '<3s' },
            errorRate: { op: '<', value: 0.01, text: '< 1%' },
          },
        },
        {
          text: 'assert galeraSize == 2, galeraStatus Primary within 15s',
          kind: 'assert',
          metrics: {},
          state: { galeraSize: { op: '==', value: 2, text: '== 2' }, galeraStatus: 'Primary' },
          withinMs: 15_000,
        },
        {
          text: 'assert healthy web1,web3, unhealthy web2, haproxy web2=DOWN, bricksOnline >= 2, healPending == 0, redisUp false, lostWrites == 0',
          kind: 'assert',
          metrics: { lostWrites: { op: '==', value: 0, text: '== 0' } },
          state: {
            healthy: ['web1', 'web3'],
            unhealthy: ['web2'],
            haproxy: { web2: 'DOWN' },
            bricksOnline: { op: '>=', value: 2, text: '>= 2' },
            healPending: { op: '==', value: 0, text: '== 0' },
            redisUp: false,
          },
        },
        { text: 'load wait', kind: 'load-wait' },
        { text: 'load 5 users auto 60s (run again)', kind: 'load-start', users: 5, journey: 'auto', durationMs: 60_000, name: 'again' },
        { text: 'load stop', kind: 'load-stop' },
        { text: 'compare ha, again', kind: 'compare', runs: ['ha', 'again'] },
        { text: 'down', kind: 'down' },
      ]);
    });

    it('fills defaults: topology ha, load 30 users auto 60s named run<n>', () => {
      const s = parseScenario(steps('  - load: start\n  - load: wait\n  - load: { users: 2 }\n  - load: stop\n  - compare: run1, run2\n'), 'f.yaml');
      assert.deepEqual(s.topology, { preset: 'ha' });
      assert.deepEqual(bare(s.steps[0]!), { text: 'load 30 users auto 60s', kind: 'load-start', users: 30, journey: 'auto', durationMs: 60_000, name: 'run1' });
      assert.equal(s.steps[2]!.kind === 'load-start' && s.steps[2]!.name, 'run2');
      assert.deepEqual(bare(s.steps[4]!), { text: 'compare run1, run2', kind: 'compare', runs: ['run1', 'run2'] });
    });

    it('an up with another preset switches the node set for the following steps', () => {
      const s = parseScenario(steps('  - up: { preset: single, moodle: false }\n  - fault: stop web1\n  - up\n  - fault: stop web3\n'), 'f.yaml');
      assert.deepEqual(bare(s.steps[0]!), { text: 'up single without Moodle', kind: 'up', preset: 'single', moodle: false });
      assert.deepEqual(bare(s.steps[2]!), { text: 'up ha', kind: 'up', preset: 'ha' });
      assert.match(
        err(steps('  - up: single\n  - fault: stop web2\n')).message,
        /^f\.yaml:4:12: unknown node "web2": after the `up` on line 3 the lab \(single\) has web1, galera1$/,
      );
    });

    it('resolves YAML anchors and aliases', () => {
      const s = parseScenario(steps('  - load: &l { users: 3, duration: 10s }\n  - load: wait\n  - load: *l\n'), 'f.yaml');
      assert.equal(s.steps[2]!.kind === 'load-start' && s.steps[2]!.users, 3);
    });
  });

  describe('errors: file:line:col and one clear reason, before anything runs', () => {
    const cases: [string, string, RegExp][] = [
      // [what, scenario text, expected message]
      ['empty file', '', /^f\.yaml:1:1: the file is empty/],
      ['YAML syntax', 'name: t\nsteps:\n  - load: { users: 3\n', /^f\.yaml:4:1: YAML syntax error: /],
      ['unquoted colon in text', steps('  - say: Heal: now\n'), /^f\.yaml:3:10: YAML syntax error: .*must be quoted/],
      ['tab indentation', 'name: t\n\tsteps: [up]\n', /^f\.yaml:2:1: YAML syntax error: Tabs/],
      ['duplicate key', 'name: t\nname: u\nsteps: [up]\n', /^f\.yaml:2:1: YAML syntax error: Map keys must be unique/],
      ['missing name', 'steps: [up]\n', /^f\.yaml:1:1: the scenario needs a `name:`/],
      ['name not kebab-case', 'name: My Scenario\nsteps: [up]\n', /^f\.yaml:1:7: name must be kebab-case/],
      ['empty steps', 'name: t\nsteps: []\n', /^f\.yaml:2:8: steps is empty/],
      ['steps not a list', 'name: t\nsteps: up\n', /^f\.yaml:2:8: steps must be a list/],
      ['unknown top-level key', 'name: t\nstep: [up]\n', /^f\.yaml:2:1: unknown key "step" in the scenario: did you mean "steps"\?/],
      ['bad preset', 'name: t\ntopology: { preset: cluster }\nsteps: [up]\n', /^f\.yaml:2:21: preset must be one of ha, single, ha-full, not "cluster"/],
      ['single with 3 web', 'name: t\ntopology: { preset: single, web: 3 }\nsteps: [up]\n', /^f\.yaml:2:34: the single preset has exactly one web node/],
      ['unknown step', steps('  - up\n  - lod: { users: 3 }\n'), /^f\.yaml:4:5: unknown key "lod" in a step: did you mean "load"\?/],
      ['unknown bare step', steps('  - restart\n'), /^f\.yaml:3:5: unknown step "restart"/],
      ['empty step', steps('  - up\n  -\n  - down\n'), /^f\.yaml:4:4: empty step/],
      ['a number as a step', steps('  - 42\n'), /^f\.yaml:3:5: unknown step 42 \(steps: up, down/],
      ['typo in a bare step', steps('  - heall\n'), /^f\.yaml:3:5: unknown step "heall": did you mean "heal"\?/],
      ['step written as text', steps('  - wait 20s\n'), /^f\.yaml:3:5: write this step as `wait: <value>`/],
      [
        'mis-indented option',
        steps('  - load:\n    users: 30\n'),
        /^f\.yaml:4:5: a step has exactly one kind, and this one has "load" and "users" \(indent "users"/,
      ],
      ['two steps in one item', steps('  - wait: 1s\n    say: hi\n'), /^f\.yaml:4:5: .*start a new step with "- "/],
      ['unknown load key', steps('  - load: { userz: 3 }\n'), /^f\.yaml:3:13: unknown key "userz" in load: did you mean "users"\?/],
      ['users not a number', steps('  - load: { users: thirty }\n'), /^f\.yaml:3:20: users must be a whole number from 1 to 1000 \(got "thirty"\)/],
      ['users too many', steps('  - load: { users: 5000 }\n'), /^f\.yaml:3:20: users must be a whole number from 1 to 1000 \(got 5000\)/],
      ['bad journey', steps('  - load: { journey: jmeter }\n'), /^f\.yaml:3:22: journey must be one of auto, moodle, probe/],
      ['bad duration', steps('  - wait: 20 seconds\n'), /^f\.yaml:3:11: wait: "20 seconds" is not a duration/],
      ['bad think', steps('  - load: { think: 2s-1s }\n'), /^f\.yaml:3:20: think: the range must go up/],
      ['rampUp too long', steps('  - load: { duration: 10s, rampUp: 20s }\n'), /^f\.yaml:3:36: rampUp \(20s\) must be shorter than the duration/],
      [
        'moodle journey without Moodle',
        steps('  - up: { moodle: false }\n  - load: { journey: moodle }\n'),
        /^f\.yaml:4:22: journey moodle needs Moodle, but the `up` on line 3/,
      ],
      ['load stop with none running', steps('  - load: stop\n'), /^f\.yaml:3:11: load: stop but no load is running here/],
      [
        'load wait after it ended',
        steps('  - load: start\n  - load: wait\n  - load: wait\n'),
        /^f\.yaml:5:11: load: wait but no load is running here \(the last one already ended\)/,
      ],
      [
        'second load while one runs',
        steps('  - load: { users: 3 }\n  - load: { users: 4 }\n'),
        /^f\.yaml:4:11: load run "run1" \(line 3\) is still running: add `load: wait` or `load: stop` before starting another/,
      ],
      ['down while a load runs', steps('  - load: start\n  - down\n'), /^f\.yaml:4:5: load run "run1" \(line 3\) is still running/],
      [
        'duplicate run name',
        steps('  - load: { name: a }\n  - load: stop\n  - load: { name: a }\n'),
        /^f\.yaml:5:19: a load run named "a" already exists \(line 3\)/,
      ],
      ['unknown fault kind', steps('  - fault: stpo web2\n'), /^f\.yaml:3:12: unknown fault kind "stpo" \(did you mean "stop"\?\): use one of stop, start/],
      ['unknown fault kind (mapping)', steps('  - fault: { kind: explode, node: web2 }\n'), /^f\.yaml:3:20: unknown fault kind "explode"/],
      [
        'unknown node',
        steps('  - fault: stop web5\n'),
        /^f\.yaml:3:12: unknown node "web5": in this scenario's topology the lab \(ha\) has haproxy, web1, web2, web3, galera1/,
      ],
      ['misspelt node', steps('  - fault: { kind: kill, node: gallera2 }\n'), /^f\.yaml:3:32: unknown node "gallera2" \(did you mean "galera2"\?\)/],
      ['node beyond web count', 'name: t\ntopology: { web: 2 }\nsteps:\n  - heal: web3\n', /^f\.yaml:4:11: unknown node "web3"/],
      ['fault without node', steps('  - fault: kill\n'), /^f\.yaml:3:12: fault kill needs a node/],
      ['two nodes for stop', steps('  - fault: stop web1,web2\n'), /^f\.yaml:3:12: fault stop takes one node/],
      [
        'overlapping partition',
        steps('  - fault: { kind: partition, nodes: [galera1, galera2], from: [galera2, galera3] }\n'),
        /^f\.yaml:3:64: a node cannot be on both sides of a partition: galera2/,
      ],
      ['partition without from', steps('  - fault: partition galera1\n'), /^f\.yaml:3:12: a partition needs the other side/],
      ['delay without ms', steps('  - fault: delay web2\n'), /^f\.yaml:3:12: fault delay needs the added latency/],
      ['delay out of range', steps('  - fault: { kind: delay, node: web2, ms: 90000 }\n'), /^f\.yaml:3:43: delay must be between 1 and 60000 ms, got 90000/],
      [
        'loss out of range',
        steps('  - fault: { kind: loss, node: web1, percent: 130 }\n'),
        /^f\.yaml:3:47: loss percent must be from 0\.01 to 100 with at most two decimals .*, got 130/,
      ],
      [
        'loss finer than the lab applies',
        steps('  - fault: loss web1 0.001\n'),
        /^f\.yaml:3:12: loss percent must be from 0\.01 to 100 with at most two decimals .*, got 0\.001$/,
      ],
      [
        'loss with three decimals',
        steps('  - fault: { kind: loss, node: web1, percent: 33.333 }\n'),
        /^f\.yaml:3:47: loss percent must be from 0\.01 .*, got 33\.333$/,
      ],
      ['wait beyond 24 h (setTimeout would fire after 1 ms)', steps('  - wait: 2147484s\n'), /^f\.yaml:3:11: wait must be at most 1440m, got "2147484s"$/],
      ['wait of 400 digits (Infinity)', steps(`  - wait: ${'9'.repeat(400)}s\n`), /^f\.yaml:3:11: wait must be at most 1440m, got "9{59}…"$/],
      ['fault for beyond 24 h', steps('  - fault: stop web2 for 1441m\n'), /^f\.yaml:3:12: fault for must be at most 1440m, got "1441m"$/],
      [
        'fault for beyond 24 h (mapping)',
        steps('  - fault: { kind: pause, node: web2, for: 100000s }\n'),
        /^f\.yaml:3:44: fault for must be at most 1440m, got "100000s"$/,
      ],
      ['within beyond 24 h', steps('  - assert: { healthy: web1, within: 1441m }\n'), /^f\.yaml:3:38: within must be at most 1440m/],
      ['rampUp beyond 24 h', steps('  - load: { rampUp: 90000s }\n'), /^f\.yaml:3:21: rampUp must be at most 1440m/],
      ['think beyond 24 h', steps('  - load: { think: 1s-90000s }\n'), /^f\.yaml:3:20: think must be a time or a range of times \(each at most 24 h\)/],
      [
        'threshold of 400 digits (Infinity)',
        steps(`  - load: start\n  - assert: { p95: "<= ${'9'.repeat(400)}s" }\n`),
        /^f\.yaml:4:20: p95: <= 9+… is too large to compare with$/,
      ],
      ['name over 200 characters', `name: ${'a'.repeat(201)}\nsteps:\n  - up\n`, /^f\.yaml:1:7: name is 201 characters long; at most 200$/],
      [
        'description over 2000 characters',
        `name: t\ndescription: ${'d'.repeat(2001)}\nsteps:\n  - up\n`,
        /^f\.yaml:2:14: description is 2001 characters long; at most 2000$/,
      ],
      ['say over 2000 characters', steps(`  - say: ${'x'.repeat(2001)}\n`), /^f\.yaml:3:10: say is 2001 characters long; at most 2000$/],
      ['more than 500 steps', steps('  - say: hi\n'.repeat(501)), /^f\.yaml:503:5: a scenario has at most 500 steps, and this one has 501$/],
      ['more than 100 aliases', steps(`  - say: &s hi\n${'  - say: *s\n'.repeat(101)}`), /^f\.yaml:104:10: more than 100 aliases \(\*name\) in one scenario$/],
      ['alias without anchor', steps('  - say: *nope\n'), /^f\.yaml:3:10: alias \*nope has no anchor &nope before it$/],
      ['flow nesting deeper than 64', steps(`  - ${'['.repeat(100)}\n`), /^f\.yaml:3:67: nesting deeper than 64 levels/],
      ['block nesting deeper than 64 on one line', steps(`  - ${'- '.repeat(100)}up\n`), /^f\.yaml:3:129: nesting deeper than 64 levels/],
      [
        'block nesting by indentation, 100 levels',
        `name: t\nsteps:\n${Array.from({ length: 100 }, (_, i) => `${' '.repeat(i + 2)}a:`).join('\n')} 1\n`,
        /^f\.yaml:66:67: nesting deeper than 64 levels/,
      ],
      [
        '… with blank and comment lines between the levels',
        `name: t\nsteps:\n${Array.from({ length: 100 }, (_, i) => `${' '.repeat(i + 2)}a:`).join('\n\n # hi\n')} 1\n`,
        /^f\.yaml:192:67: nesting deeper than 64 levels/,
      ],
      [
        '70 keys on one line are wide, not deep',
        steps(`  - load: { ${'users: 3, '.repeat(70)}}\n`),
        /^f\.yaml:3:23: YAML syntax error: Map keys must be unique \("users" is given twice in load\)$/,
      ],
      [
        'a long unknown word is not echoed whole',
        steps(`  - fault: { kind: ${'z'.repeat(1500)}, node: web1 }\n`),
        /^f\.yaml:3:20: unknown fault kind "z{59}…": use one of stop, /,
      ],
      ['jitter on stop', steps('  - fault: stop web2 jitter 10\n'), /^f\.yaml:3:12: jitter belongs to delay, not to stop/],
      ['for on a repair', steps('  - fault: start web2 for 10s\n'), /^f\.yaml:3:12: `for` applies to faults that break something/],
      [
        'maintenance node not web',
        steps('  - maintenance: { on: true, node: galera1 }\n'),
        /^f\.yaml:3:36: maintenance of one node \(an HAProxy drain\) needs a web node, and galera1 is db/,
      ],
      [
        'maintenance node on single',
        'name: t\ntopology: single\nsteps:\n  - maintenance: { on: true, node: web1 }\n',
        /^f\.yaml:4:36: maintenance of one node drains it in HAProxy/,
      ],
      ['maintenance value', steps('  - maintenance: maybe\n'), /^f\.yaml:3:18: maintenance \(on or off\) must be true or false, not "maybe"/],
      ['say empty', steps('  - say:\n'), /^f\.yaml:3:5: say needs a value/],
      [
        'metric assert before any load',
        steps('  - assert: { failures: 0 }\n'),
        /^f\.yaml:3:15: metric thresholds read a load run, and no load was started before this assert/,
      ],
      [
        'assert run unknown',
        steps('  - load: { name: a }\n  - assert: { failures: 0, run: b }\n'),
        /^f\.yaml:4:33: no load run named "b" before this step: runs so far are a$/,
      ],
      [
        'bad threshold',
        steps('  - load: start\n  - assert: { apdex: "about 0.9" }\n'),
        /^f\.yaml:4:22: apdex: "about 0.9" is not a threshold; write e.g. ">= 0.85"/,
      ],
      ['apdex above 1', steps('  - load: start\n  - assert: { apdex: 85 }\n'), /^f\.yaml:4:22: apdex is a fraction from 0 to 1, got == 85/],
      ['bad time unit', steps('  - load: start\n  - assert: { p95: "<= 2h" }\n'), /^f\.yaml:4:20: p95: unit "h" is not a time unit/],
      ['unit on a count', steps('  - load: start\n  - assert: { failures: "<= 2s" }\n'), /^f\.yaml:4:25: failures: "<= 2s" has a unit/],
      ['unknown assert key', steps('  - assert: { galeraSise: 3 }\n'), /^f\.yaml:3:15: unknown key "galeraSise" in assert: did you mean "galeraSize"\?/],
      ['galera status', steps('  - assert: { galeraStatus: quorum }\n'), /^f\.yaml:3:29: galeraStatus must be Primary or non-Primary/],
      ['haproxy status', steps('  - assert: { haproxy: { web2: SLEEPING } }\n'), /^f\.yaml:3:32: haproxy status of web2 must be one of UP, DOWN, MAINT, DRAIN/],
      [
        'bricks on single',
        'name: t\ntopology: single\nsteps:\n  - assert: { bricksOnline: 3 }\n',
        /^f\.yaml:4:15: bricksOnline: in this scenario's topology the lab \(single\) has web1, galera1 \(no GlusterFS\)/,
      ],
      ['healthy and unhealthy', steps('  - assert: { healthy: [web1], unhealthy: web1 }\n'), /^f\.yaml:3:43: web1 cannot be both healthy and unhealthy/],
      ['within on metrics only', steps('  - load: start\n  - assert: { failures: 0, within: 10s }\n'), /^f\.yaml:4:28: `within` retries state predicates/],
      ['empty assert', steps('  - assert: {}\n'), /^f\.yaml:3:13: assert needs at least one metric threshold/],
      ['compare unknown run', steps('  - load: { name: a }\n  - load: wait\n  - compare: [a, b]\n'), /^f\.yaml:5:18: no load run named "b" before this step/],
      [
        'compare a running run',
        steps('  - load: { name: a }\n  - load: wait\n  - load: { name: b }\n  - compare: [a, b]\n'),
        /^f\.yaml:6:18: run "b" is still running here: add `load: wait` before compare/,
      ],
      ['compare one run', steps('  - load: { name: a }\n  - load: wait\n  - compare: [a]\n'), /^f\.yaml:5:14: compare needs at least two load runs/],
    ];
    for (const [what, text, re] of cases) {
      it(what, () => assert.match(err(text).message, re));
    }

    it('stops at the first problem', () => {
      const e = err(steps('  - fault: stop web9\n  - load: { users: lots }\n'));
      assert.equal(e.line, 3);
    });
  });

  describe('JSON Schema', () => {
    it('media/scenario.schema.json is SCENARIO_SCHEMA (regenerate: node --import tsx scripts/write-scenario-schema.mjs)', () => {
      const file = fs.readFileSync(path.join(ROOT, 'media/scenario.schema.json'), 'utf8');
      assert.equal(file, `${JSON.stringify(SCENARIO_SCHEMA, null, 2)}\n`);
    });

    it('knows the same keys as the parser', () => {
      const s = SCENARIO_SCHEMA as unknown as {
        properties: Record<string, unknown>;
        definitions: { step: { anyOf: { required?: string[]; properties?: Record<string, { anyOf?: { properties?: Record<string, unknown> }[] }> }[] } };
      };
      assert.deepEqual(Object.keys(s.properties), [...TOP_KEYS]);
      const objects = s.definitions.step.anyOf.filter((a) => a.required);
      assert.deepEqual(
        objects.map((a) => a.required![0]),
        [...STEP_KINDS],
      );
      const inner = (kind: string) => {
        const step = objects.find((a) => a.required![0] === kind)!;
        const value = step.properties![kind]! as { anyOf?: { properties?: Record<string, unknown> }[]; properties?: Record<string, unknown> };
        return Object.keys(value.properties ?? value.anyOf!.find((v) => v.properties)!.properties!);
      };
      assert.deepEqual(inner('load'), [...LOAD_KEYS]);
      assert.deepEqual(inner('fault'), [...FAULT_KEYS]);
      assert.deepEqual(inner('assert'), [...ASSERT_KEYS]);
      assert.deepEqual(inner('assert').slice(0, METRIC_KEYS.length), [...METRIC_KEYS]);
    });

    it('package.json contributes it for *.scenario.yaml and lab/scenarios', () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        contributes: { yamlValidation: { fileMatch: string[]; url: string }[] };
      };
      assert.deepEqual(pkg.contributes.yamlValidation, [
        { fileMatch: ['*.scenario.yaml', '*.scenario.yml', '**/lab/scenarios/*.yaml'], url: './media/scenario.schema.json' },
        { fileMatch: ['*.lab.yaml', '*.lab.yml'], url: './media/lab.schema.json' },
      ]);
    });
  });

  it('loadScenario reads a temporary .scenario.yaml and reports errors with its path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scenario-'));
    const file = path.join(dir, 'mine.scenario.yaml');
    fs.writeFileSync(file, 'name: mine\nsteps:\n  - fault: kill web7\n');
    assert.throws(
      () => loadScenario(file, BUILTINS),
      (e: Error) => e.message.startsWith(`${file}:3:12: unknown node "web7"`),
    );
    fs.rmSync(dir, { recursive: true });
  });
});
