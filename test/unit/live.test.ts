/**
 * The host's live services with injected fakes: the load session (metrics → snapshot mapping,
 * one run at a time, stop, faults through the run), LabLive (scenario progress, export), the new
 * protocol messages, the dashboard session's routing of them, and the chart geometry.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DashboardSession, LiveControls, Transport } from '../../src/dashboard/session';
import { abortableClock, CancelledError, LabLive, loadAsScenarioResult } from '../../src/host/live';
import { LoadSession, LiveSink, StartLoadFn } from '../../src/host/load-session';
import type { LoadDeps, LoadHandle, LoadOptions, LoadRun } from '../../src/load/run';
import type { LoadResult } from '../../src/metrics/export';
import { MetricsRecorder } from '../../src/metrics/recorder';
import type { FaultRequest } from '../../src/protocol/faults';
import {
  ExportReportIntent,
  LoadStartIntent,
  LoadStopIntent,
  Ready,
  ScenarioRunIntent,
  ScenarioStopIntent,
  validateIncoming,
  WireMessage,
} from '../../src/protocol/messages';
import type { LabSnapshot, LoadMetrics, TimelineEvent } from '../../src/protocol/snapshot';
import type { LabStatus } from '../../src/protocol/status';
import type { Scenario } from '../../src/scenarios/types';
import { parseScenario } from '../../src/scenarios/parse';
import { notYet, ready, waitFor } from '../../src/core/wait';
import { SnapshotStore, Timer } from '../../src/state/snapshot-store';
import { chartModel, niceMax } from '../../webview/chart';
import { loadLine } from '../../webview/live-text';
import { tileValues } from '../../webview/panels';
import { FakeDocker } from '../support/fake-docker';
import { labSnapshot, labStatus } from '../support/lab-snapshot';
import { sample } from '../support/samples';

const settle = () => new Promise((r) => setImmediate(r));
const T0 = 1_700_000_000_000;

const RESULT: LoadResult = {
  users: 10,
  durationS: 20,
  requests: 100,
  failures: 4,
  errorRate: 0.04,
  apdex: 0.91,
  latencyMs: { p50: 40, p95: 120, p99: 300, max: 900 },
  throughputRps: 5,
  byLabel: {},
  faults: [{ fault: 'kill web2', atMs: 5000, detectedMs: 1200, failedRequests: 4, blackoutMs: 900, recoveredMs: 8000 }],
};

/** A startLoad whose run ends when stopped (or `end()` is called); every call and option recorded. */
function fakeLoad() {
  const calls: { opts: LoadOptions; deps: LoadDeps }[] = [];
  const injected: string[] = [];
  let resolveDone: ((r: LoadRun) => void) | undefined;
  let stopped = false;
  const recorder = new MetricsRecorder();
  const startLoad: StartLoadFn = (_target, opts, deps) => {
    calls.push({ opts, deps });
    stopped = false;
    const done = new Promise<LoadRun>((r) => (resolveDone = r));
    const handle: LoadHandle = {
      startedAt: T0,
      recorder,
      fault: async (req: FaultRequest) => void injected.push(`run fault ${req.kind} ${req.nodes.join(',')}`),
      heal: async (node?: string) => void injected.push(`run heal ${node ?? 'all'}`),
      stop: () => {
        stopped = true;
        end();
      },
      get stopped() {
        return stopped;
      },
      done,
    };
    return handle;
  };
  const end = () => resolveDone?.({ result: RESULT, recorder, faultEvents: [], ledger: undefined as never, window: { startMs: 0, endMs: 0 } });
  return { startLoad, calls, injected, recorder, end, window: (_i: number) => calls.at(-1)!.deps.onWindow! };
}

function fakeLab(status: Partial<LabStatus> = {}) {
  const calls: string[] = [];
  const st: LabStatus = {
    ...labStatus(0),
    lab: 'ui-unit',
    endpoints: { moodle: 'http://localhost:8080', haproxyStats: 'http://127.0.0.1:1/stats' },
    ...status,
  };
  return {
    calls,
    lab: {
      lab: 'ui-unit',
      status: async () => st,
      up: async () => st,
      down: async () => void calls.push('down'),
      maintenance: async () => 'ok',
      fault: async (req: FaultRequest) => void calls.push(`lab fault ${req.kind} ${req.nodes.join(',')}`),
      heal: async (node?: string) => void calls.push(`lab heal ${node ?? 'all'}`),
    },
  };
}

function fakeSink() {
  const metrics: (LoadMetrics | undefined)[] = [];
  const notes: Omit<TimelineEvent, 'seq' | 'atMs'>[] = [];
  const live: Partial<LabSnapshot>[] = [];
  const sink: LiveSink & { setLive(p: Partial<LabSnapshot>): void } = {
    setMetrics: (m) => void metrics.push(m),
    note: (e) => void notes.push(e),
    setLive: (p) => void live.push(p),
  };
  return { sink, metrics, notes, live };
}

describe('LoadSession', () => {
  it('starts with the defaults (30 users, 60 s, auto → probe without Moodle) and publishes live metrics every second', async () => {
    const load = fakeLoad();
    const { lab } = fakeLab();
    const out = fakeSink();
    const s = new LoadSession({ lab, sink: out.sink, startLoad: load.startLoad, now: () => T0 });
    const info = await s.start();
    assert.deepEqual([info.users, info.durationMs, info.journey], [30, 60_000, 'probe']);
    assert.equal(load.calls[0]!.opts.users, 30);
    assert.ok(load.calls[0]!.deps.injector, 'faults can go through the run');
    assert.equal(out.metrics.at(-1)?.running, true);
    assert.equal(out.metrics.at(-1)?.requests, 0);
    // one second of traffic: 9 fine, 1 failed
    for (let i = 0; i < 9; i++) load.recorder.record(sample({ label: 'front', startMs: T0 + i * 50, elapsedMs: 100 + i, activeThreads: 10 }));
    load.recorder.record(sample({ label: 'front', startMs: T0 + 600, elapsedMs: 5, success: false, activeThreads: 10 }));
    load.window(0)({ atMs: T0, requests: 10, failures: 1, p50: 104, p95: 108, max: 108 });
    const m = out.metrics.at(-1)!;
    assert.equal(m.running, true);
    assert.equal(m.requests, 10);
    assert.equal(m.failures, 1);
    assert.ok(Math.abs(m.availability - 0.9) < 1e-9);
    assert.ok(Math.abs(m.errorRate - 0.1) < 1e-9);
    assert.equal(m.apdex, load.recorder.apdex.score);
    assert.ok(m.p95Ms >= 100 && m.p95Ms <= 110, `p95 ${m.p95Ms}`);
    assert.ok(m.p50Ms! >= 100);
    assert.equal(m.activeUsers, 10);
    assert.deepEqual(m.series, [{ atMs: T0, p95Ms: 108, p50Ms: 104, maxMs: 108, errors: 1, requests: 10 }]);
    assert.deepEqual([m.users, m.journey, m.startedAtMs], [30, 'probe', T0]);
  });

  it('runs one load at a time: a second start is refused with a clear error', async () => {
    const load = fakeLoad();
    const s = new LoadSession({ lab: fakeLab().lab, sink: fakeSink().sink, startLoad: load.startLoad });
    const first = s.start({ users: 10, durationMs: 20_000, journey: 'probe' });
    await assert.rejects(s.start(), /already running/);
    await first;
    await assert.rejects(s.start(), /a load is already running \(load: 10 users, 20 s, probe journey\)/);
    assert.equal(load.calls.length, 1);
    s.busy = 'scenario x is running';
    await assert.rejects(s.start(), /scenario x is running/);
  });

  it('refuses bad input and the moodle journey without Moodle', async () => {
    const s = new LoadSession({ lab: fakeLab().lab, sink: fakeSink().sink, startLoad: fakeLoad().startLoad });
    await assert.rejects(s.start({ users: 0 }), /users/);
    await assert.rejects(s.start({ durationMs: 10 }), /duration/);
    await assert.rejects(s.start({ journey: 'moodle' }), /Moodle installed/);
  });

  it('stop ends the run, freezes the final figures and puts each fault analysis on the timeline', async () => {
    const load = fakeLoad();
    const out = fakeSink();
    const s = new LoadSession({ lab: fakeLab().lab, sink: out.sink, startLoad: load.startLoad });
    const ended: string[] = [];
    s.onEnd((f) => ended.push(f.info.label));
    await s.start({ users: 10, durationMs: 20_000 });
    const f = await s.stop();
    assert.equal(f?.run?.result.requests, 100);
    assert.equal(s.running, false);
    assert.deepEqual(ended, ['load']);
    const m = out.metrics.at(-1)!;
    assert.equal(m.running, false);
    assert.equal(m.p95Ms, 120);
    assert.equal(m.apdex, 0.91);
    assert.ok(Math.abs(m.availability - 0.96) < 1e-9);
    const analysis = out.notes.find((n) => n.kind === 'analysis');
    assert.equal(analysis?.text, 'kill web2 at 5.0 s: detected after 1.2 s, 4 failed requests, blackout 0.9 s, recovered after 8.0 s');
    assert.ok(out.notes.some((n) => /load ended: 100 requests, 4 failed/.test(n.text)));
    assert.equal(await s.stop(), undefined, 'nothing to stop any more');
  });

  it('routes faults and heals through the running load, and to the lab otherwise', async () => {
    const load = fakeLoad();
    const { lab, calls } = fakeLab();
    const live = new LabLive({ lab, store: fakeSink().sink, builtinDir: '/nonexistent', reportsDir: os.tmpdir(), startLoad: load.startLoad });
    const actions = live.actions({
      fault: async (r) => (await lab.fault(r), 'direct'),
      heal: async (n) => (await lab.heal(n), 'direct'),
      maintenance: async () => 'ok',
    });
    assert.equal(await actions.fault({ kind: 'kill', nodes: ['web2'] }), 'direct');
    await live.startLoad({ users: 5, durationS: 10, journey: 'probe' });
    assert.match(await actions.fault({ kind: 'kill', nodes: ['web2'] }), /recorded in the running load/);
    await actions.heal('web2');
    assert.deepEqual(load.injected, ['run fault kill web2', 'run heal web2']);
    await live.stopLoad();
    await actions.heal();
    assert.deepEqual(calls, ['lab fault kill web2', 'lab heal all']);
  });
});

describe('LabLive', () => {
  it('exports the last load run as a ScenarioResult named "load" with writeReports', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'live-test-'));
    try {
      const load = fakeLoad();
      const out = fakeSink();
      const live = new LabLive({
        lab: fakeLab().lab,
        store: out.sink,
        builtinDir: '/nonexistent',
        reportsDir: dir,
        startLoad: load.startLoad,
        now: () => T0 + 20_000,
      });
      assert.throws(() => live.exportReport(), /nothing to report yet/);
      await live.startLoad({ users: 10, durationS: 20, journey: 'probe' });
      load.window(0)({ atMs: T0 + 1000, requests: 5, failures: 1, p50: 10, p95: 20, max: 30 });
      await live.stopLoad();
      assert.ok(out.live.some((p) => p.reportReady === 'load'));
      const r = live.lastResult()!;
      assert.equal(r.name, 'load');
      assert.deepEqual(r.steps, []);
      assert.equal(r.runs[0]?.series[0]?.atMs, 1000);
      assert.equal(r.runs[0]?.series[0]?.max, 30);
      assert.equal(r.topology.nodes.length, 11);
      const files = live.exportReport(path.join(dir, 'mine.html'));
      assert.ok(fs.readFileSync(files.html, 'utf8').includes('kill web2'));
      assert.equal(JSON.parse(fs.readFileSync(files.json, 'utf8')).name, 'load');
      const auto = live.exportReport();
      assert.equal(path.dirname(auto.html), dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to wrap a failed load run', () => {
    assert.throws(
      () =>
        loadAsScenarioResult(
          { info: { label: 'load', users: 1, durationMs: 1000, journey: 'probe', startedAt: T0 }, error: 'boom', series: [], endedAt: T0 },
          'x',
        ),
      /boom/,
    );
  });

  it('a predict step waits for the dashboard (or VS Code) to answer; the answer is checked; the graded result lands in the view', async () => {
    const out = fakeSink();
    const { lab } = fakeLab({ state: 'running' });
    const live = new LabLive({ lab, store: out.sink, builtinDir: '/nonexistent', reportsDir: os.tmpdir(), startLoad: fakeLoad().startLoad });
    const scenario = parseScenario(
      [
        'name: unit',
        'steps:',
        '  - predict: { id: how-many, question: How many requests fail?, number: { unit: requests, tolerance: 1, max: 100 }, bound: failures }',
        '  - predict: { id: logged, question: Still logged in?, choices: [{ text: yes, when: 0 }, { text: no }], bound: lostSessions }',
        '  - load: { users: 1, duration: 1s }',
        '  - load: stop',
      ].join('\n'),
      'unit.yaml',
    );
    assert.throws(() => live.answerPrediction({ id: 'how-many', value: 1 }), /no prediction is waiting/);
    const { done } = await live.startScenario(scenario);
    await waitFor(async () => (live.waitingQuestion?.id === 'how-many' ? ready(true) : notYet('no question yet')), {
      timeoutMs: 5000,
      intervalMs: 5,
      what: 'the question',
    });
    const view = () => out.live.filter((p) => p.scenario).at(-1)!.scenario!;
    assert.deepEqual(view().question, { id: 'how-many', question: 'How many requests fail?', unit: 'requests', min: 0, max: 100 });
    assert.throws(() => live.answerPrediction({ id: 'logged', choice: 0 }), /the question waiting is "how-many", not "logged"/);
    assert.throws(() => live.answerPrediction({ id: 'how-many', value: 500 }), /out of range/);
    assert.match(live.answerPrediction({ id: 'how-many', value: 30 }), /^prediction how-many: 30 requests/);
    await waitFor(async () => (live.waitingQuestion?.id === 'logged' ? ready(true) : notYet('no second question')), {
      timeoutMs: 5000,
      intervalMs: 5,
      what: 'the question',
    });
    assert.deepEqual(view().question!.choices, ['yes', 'no']);
    assert.match(live.answerPrediction({ id: 'logged' }), /skipped/);
    const r = await done;
    assert.deepEqual(
      r.predictions!.map((p) => `${p.id} ${p.grade}`),
      ['how-many wrong', 'logged not answered'],
    );
    const last = view();
    assert.equal(last.question, undefined);
    assert.deepEqual(
      last.predictions!.map((p) => [p.id, p.answer, p.measuredText, p.grade]),
      [
        ['how-many', 30, '4 requests', 'wrong'],
        ['logged', null, 'no value: no integrity probes ran', 'not answered'],
      ],
    );
  });

  it('a question left waiting ends unanswered when the scenario is stopped', async () => {
    const out = fakeSink();
    const { lab } = fakeLab({ state: 'running' });
    const live = new LabLive({ lab, store: out.sink, builtinDir: '/nonexistent', reportsDir: os.tmpdir(), startLoad: fakeLoad().startLoad });
    const scenario = parseScenario(
      ['name: unit', 'steps:', '  - predict: { id: q, question: q?, number: { tolerance: 1 }, bound: failures }', '  - load: { users: 1, duration: 1s }'].join(
        '\n',
      ),
      'unit.yaml',
    );
    const { done } = await live.startScenario(scenario);
    await waitFor(async () => (live.waitingQuestion ? ready(true) : notYet('no question yet')), { timeoutMs: 5000, intervalMs: 5, what: 'the question' });
    live.stopScenario();
    const r = await done;
    assert.equal(r.predictions![0]!.grade, 'not answered');
    assert.equal(live.waitingQuestion, undefined);
  });

  it('runs a scenario with narration and step progress in the snapshot, one at a time, and tells its end', async () => {
    const out = fakeSink();
    const { lab } = fakeLab({ state: 'running' });
    const live = new LabLive({ lab, store: out.sink, builtinDir: '/nonexistent', reportsDir: os.tmpdir(), startLoad: fakeLoad().startLoad });
    const pos = { line: 3, col: 5 };
    const scenario: Scenario = {
      name: 'unit',
      topology: { preset: 'ha' },
      source: 'test',
      steps: [
        { kind: 'say', message: 'Watch web2', pos, text: 'say: Watch web2' },
        { kind: 'wait', ms: 5, pos, text: 'wait 5ms' },
        { kind: 'fault', fault: { kind: 'kill', nodes: ['web2'] }, pos, text: 'fault: kill web2' },
      ],
    };
    const ends: string[] = [];
    live.onScenarioEnd((e) => ends.push(`${e.name} ${e.result?.passed}`));
    const { done } = await live.startScenario(scenario);
    await assert.rejects(live.startScenario(scenario), /already running/);
    await assert.rejects(live.startLoad({}), /scenario unit is running/);
    const result = await done;
    assert.equal(result.passed, true);
    assert.deepEqual(ends, ['unit true']);
    const views = out.live.filter((p) => p.scenario).map((p) => p.scenario!);
    assert.ok(views.some((v) => v.narration === 'Watch web2' && v.running));
    const last = views.at(-1)!;
    assert.equal(last.running, false);
    assert.equal(last.passed, true);
    assert.deepEqual(
      last.steps.map((s) => s.state),
      ['passed', 'passed', 'passed', 'passed'],
    );
    assert.match(last.steps[0]!.text, /implicit/);
    assert.ok(out.notes.some((n) => n.kind === 'say' && /Watch web2/.test(n.text)));
    assert.ok(
      out.notes.some((n) => n.kind === 'fault' && /kill web2/.test(n.text)),
      'a fault marker for the chart',
    );
    assert.ok(out.live.some((p) => p.reportReady === 'scenario unit'));
    assert.equal(live.lastResult()?.name, 'unit');
  });

  it('cancels a scenario: its waits end and the steps left are not run', async () => {
    const out = fakeSink();
    const live = new LabLive({
      lab: fakeLab({ state: 'running' }).lab,
      store: out.sink,
      builtinDir: '/nonexistent',
      reportsDir: os.tmpdir(),
      startLoad: fakeLoad().startLoad,
    });
    const pos = { line: 1, col: 1 };
    const { done } = await live.startScenario({
      name: 'long',
      topology: { preset: 'ha' },
      source: 't',
      steps: [
        { kind: 'wait', ms: 60_000, pos, text: 'wait 60s' },
        { kind: 'say', message: 'never', pos, text: 'say' },
      ],
    });
    await settle();
    assert.match(live.stopScenario(), /cancelling/);
    const r = await done;
    assert.equal(r.passed, false);
    assert.match(r.steps.at(-1)!.detail ?? '', /not run/);
    assert.equal(live.scenarioRunning, false);
  });

  it('abortableClock rejects sleeps on abort', async () => {
    const ac = new AbortController();
    const c = abortableClock(ac.signal);
    const p = c.sleep(10_000);
    ac.abort();
    await assert.rejects(p, CancelledError);
  });
});

describe('protocol: load, scenario and report messages', () => {
  it('validates the new intents', () => {
    assert.equal(validateIncoming(LoadStartIntent.create('1', { users: 10, durationS: 20, journey: 'probe' })).ok, true);
    assert.equal(validateIncoming(LoadStartIntent.create('1', {})).ok, true);
    for (const bad of [{ users: 0 }, { users: 1.5 }, { users: 5000 }, { durationS: 0 }, { durationS: 'x' }, { journey: 'jmeter' }]) {
      const r = validateIncoming({ method: 'loadStart', id: 'a', params: bad });
      assert.equal(r.ok, false, JSON.stringify(bad));
      if (!r.ok) assert.equal(r.id, 'a');
    }
    assert.equal(validateIncoming(ScenarioRunIntent.create('2', { name: 'web-failover' })).ok, true);
    assert.equal(validateIncoming({ method: 'scenarioRun', id: '2', params: { name: '../etc/passwd' } }).ok, false);
    assert.equal(validateIncoming({ method: 'scenarioRun', id: '2', params: {} }).ok, false);
    for (const i of [LoadStopIntent, ScenarioStopIntent, ExportReportIntent]) assert.equal(validateIncoming(i.create('3', {})).ok, true);
    assert.equal(validateIncoming({ method: 'loadStop', params: {} }).ok, false, 'needs an id');
  });
});

describe('DashboardSession: live intents', () => {
  const noTimer: Timer = { setInterval: () => 0, clearInterval: () => undefined };
  function setup(live?: LiveControls) {
    const store = new SnapshotStore({ lab: 'ui-unit', docker: new FakeDocker(), timer: noTimer, collect: async () => labStatus(0) });
    const sent: WireMessage[] = [];
    let deliver: (raw: unknown) => Promise<void> | void = () => undefined;
    const transport: Transport = { post: (m) => sent.push(m), onMessage: (l) => ((deliver = l), () => undefined) };
    const session = new DashboardSession(transport, {
      store,
      actions: { fault: async () => 'f', heal: async () => 'h', maintenance: async () => 'm' },
      live,
      reportUrl: (f) => `/reports/${path.basename(f)}?token=t`,
    });
    return { store, sent, session, deliver: (m: unknown) => session.handle(m), _d: deliver };
  }
  const reply = (sent: WireMessage[], id: string) =>
    sent.find((m) => m.method === 'reply' && m.id === id)?.params as { ok: boolean; detail?: string; error?: string; url?: string };

  it('routes load, scenario and export intents to the live controls; replies with a report link', async () => {
    const calls: string[] = [];
    const { sent, deliver, store } = setup({
      startLoad: async (p) => (calls.push(`start ${p.users} ${p.durationS} ${p.journey}`), 'load started'),
      stopLoad: async () => (calls.push('stop'), 'stopped'),
      runScenario: async (n) => (calls.push(`run ${n}`), 'started'),
      stopScenario: async () => (calls.push('cancel'), 'cancelling'),
      exportReport: async () => ({ detail: 'written', file: '/tmp/r/x.html' }),
    });
    store.setLive({ scenarios: [{ name: 'web-failover', description: '' }] }); // a scenario runs only from the catalog
    await deliver(Ready.create({}));
    await deliver(LoadStartIntent.create('a', { users: 10, durationS: 20, journey: 'probe' }));
    await deliver(LoadStopIntent.create('b', {}));
    await deliver(ScenarioRunIntent.create('c', { name: 'web-failover' }));
    await deliver(ScenarioStopIntent.create('d', {}));
    await deliver(ExportReportIntent.create('e', {}));
    assert.deepEqual(calls, ['start 10 20 probe', 'stop', 'run web-failover', 'cancel']);
    assert.equal(reply(sent, 'a').detail, 'load started');
    assert.deepEqual(reply(sent, 'e'), { ok: true, detail: 'written', url: '/reports/x.html?token=t' });
  });

  it('answers an error when the host has no live controls, and when a start is refused', async () => {
    const { sent, deliver } = setup();
    await deliver(LoadStartIntent.create('a', {}));
    assert.match(reply(sent, 'a').error ?? '', /not available/);
    const s2 = setup({
      startLoad: async () => Promise.reject(new Error('a load is already running')),
      stopLoad: async () => '',
      runScenario: async () => '',
      stopScenario: async () => '',
      exportReport: async () => ({ detail: '' }),
    });
    await s2.deliver(LoadStartIntent.create('x', {}));
    assert.deepEqual(reply(s2.sent, 'x'), { ok: false, error: 'a load is already running' });
  });

  it('marks dashboard faults and heals for the chart', async () => {
    const { store, deliver } = setup();
    await store.refresh();
    await deliver({ method: 'fault', id: 'f', params: { request: { kind: 'kill', nodes: ['web2'] } } });
    await deliver({ method: 'heal', id: 'h', params: {} });
    const kinds = store
      .current()!
      .events.filter((e) => e.kind)
      .map((e) => `${e.kind} ${e.node ?? ''}`);
    assert.deepEqual(kinds, ['fault web2', 'heal ']);
  });

  it('publishes live fields through the store', async () => {
    const { store } = setup();
    await store.refresh();
    const rev = store.current()!.revision;
    store.setLive({ scenarios: [{ name: 'a', description: 'b' }], reportReady: 'load' });
    assert.equal(store.current()!.revision, rev + 1);
    assert.equal(store.current()!.reportReady, 'load');
    store.setLive({ reportReady: undefined });
    assert.equal('reportReady' in store.current()!, false);
    assert.deepEqual(store.current()!.scenarios, [{ name: 'a', description: 'b' }]);
  });
});

describe('dashboard view: chart, tiles, load line', () => {
  const ev = (seq: number, atMs: number, kind: TimelineEvent['kind'], text: string): TimelineEvent => ({
    seq,
    atMs,
    kind,
    text,
    source: 'action',
    severity: 'info',
  });

  it('puts fault and heal markers where they happened, and failures as bars', () => {
    const series = Array.from({ length: 20 }, (_, i) => ({ atMs: T0 + i * 1000, p95Ms: 100 + i, p50Ms: 50, errors: i === 5 ? 3 : 0 }));
    const m = chartModel(
      { series, startedAtMs: T0, durationMs: 20_000, running: true },
      [
        ev(1, T0 + 5000, 'fault', 'dashboard: fault kill web2'),
        ev(2, T0 + 15_000, 'heal', 'dashboard: heal all'),
        ev(3, T0 + 6000, undefined, 'other'),
        ev(4, T0 - 60_000, 'fault', 'old'),
      ],
      { width: 240, height: 100, left: 20, right: 20, top: 0, bottom: 0 },
    )!;
    assert.equal(m.xStartMs, T0);
    assert.equal(m.xEndMs, T0 + 20_000);
    assert.deepEqual(
      m.markers.map((x) => [x.kind, Math.round(x.x), x.label]),
      [
        ['fault', 70, 'kill web2'],
        ['heal', 170, 'heal all'],
      ],
    );
    assert.equal(m.bars.length, 1);
    assert.equal(m.bars[0]!.errors, 3);
    assert.equal(m.yMaxMs, 200);
    assert.match(m.p95, /^M/);
    assert.equal(m.p95.split('L').length, 20);
    assert.equal(chartModel(undefined, []), undefined);
    assert.deepEqual([niceMax(0), niceMax(11), niceMax(230), niceMax(1001)], [10, 20, 250, 2000]);
  });

  it('tiles show numbers once the run has requests; the load line tells what runs', () => {
    const m: LoadMetrics = {
      running: true,
      availability: 0.98,
      errorRate: 0.02,
      apdex: 0.9,
      p95Ms: 123.4,
      requests: 0,
      users: 10,
      journey: 'probe',
      durationMs: 20_000,
      startedAtMs: Date.now(),
    };
    assert.equal(tileValues(labSnapshot(0, { metrics: m })).find((t) => t.key === 'p95')?.value, '—');
    const t = tileValues(labSnapshot(0, { metrics: { ...m, requests: 50 } }));
    assert.equal(t.find((x) => x.key === 'p95')?.value, '123 ms');
    assert.equal(t.find((x) => x.key === 'availability')?.value, '98.00 %');
    assert.match(loadLine({ metrics: { ...m, requests: 50, failures: 1 } }), /^Running — load: 10 users, probe journey, 0\/20 s, 50 requests, 1 failed/);
    assert.equal(loadLine({}), 'No load running.');
    assert.match(loadLine({ metrics: { ...m, running: false, requests: 50, failures: 1 } }), /^Last run/);
  });
});
