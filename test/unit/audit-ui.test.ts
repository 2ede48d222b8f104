/**
 * The audit from a UI: the host's audit session (LabLive.startAudit/stopAudit, progress in the
 * snapshot, the report written where reports go), the dashboard's intents, and VS Code's Run Audit
 * command driven through a fake `AuditUi`. No Docker: a fake lab and fake load runs.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LabLive } from '../../src/host/live';
import type { LoadHandle, LoadOptions, LoadRun } from '../../src/load/run';
import { IntegrityLedger } from '../../src/load/integrity';
import { MetricsRecorder } from '../../src/metrics/recorder';
import { AuditStartIntent, AuditStopIntent, validateIncoming } from '../../src/protocol/messages';
import type { AuditView } from '../../src/protocol/audit';
import type { LabSnapshot, TimelineEvent } from '../../src/protocol/snapshot';
import { runAuditCommand, AuditUi, AuditPickItem } from '../../src/vscode/audit-pick';
import { DashboardSession } from '../../src/dashboard/session';
import type { SnapshotStore } from '../../src/state/snapshot-store';
import { FakeLab, result } from '../support/scenario-lab';
import { notYet, ready, waitFor } from '../../src/core/wait';

/** Load runs that end on their own after `ms` (real time), or when stopped; `hold` keeps them running until stopped. */
function fakeLoads(o: { ms?: number; hold?: boolean } = {}) {
  const started: LoadOptions[] = [];
  const start = (_t: unknown, opts: LoadOptions): LoadHandle => {
    started.push(opts);
    let finish!: (r: LoadRun) => void;
    const done = new Promise<LoadRun>((r) => (finish = r));
    const f = opts.faults[0];
    const end = () =>
      finish({
        result: result({
          faults: f
            ? [{ fault: f.text, source: 'injected', atMs: f.atMs, detectedMs: 800, failedRequests: 2, requests: 100, blackoutMs: 300, recoveredMs: 900 }]
            : [],
        }),
        recorder: new MetricsRecorder(),
        faultEvents: [],
        ledger: new IntegrityLedger(),
        window: { startMs: 0, endMs: 0 },
      });
    // A run without a fault is a plain load (runs until stopped), or an audit's baseline (the
    // audit's runs have no probes): that one ends on its own like a fault's.
    const timer = o.hold || (!f && opts.probeHz !== 0) ? undefined : setTimeout(end, o.ms ?? 5);
    let stopped = false;
    return {
      startedAt: Date.now(),
      recorder: new MetricsRecorder(),
      fault: async () => undefined,
      heal: async () => undefined,
      stop: () => {
        clearTimeout(timer);
        stopped = true;
        end();
      },
      get stopped() {
        return stopped;
      },
      done,
    };
  };
  return { start, started };
}

class Store {
  live: Partial<LabSnapshot> = {};
  readonly events: Omit<TimelineEvent, 'seq' | 'atMs'>[] = [];
  readonly audits: AuditView[] = [];
  setMetrics() {}
  note(e: Omit<TimelineEvent, 'seq' | 'atMs'>) {
    this.events.push(e);
  }
  setLive(p: Partial<LabSnapshot>) {
    this.live = { ...this.live, ...p };
    if (p.audit) this.audits.push(p.audit);
  }
}

function setup(loads = fakeLoads()) {
  const lab = new FakeLab('aud-ui');
  const store = new Store();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-ui-'));
  const live = new LabLive({ lab, store, builtinDir: '/nonexistent', reportsDir: dir, startLoad: loads.start });
  return { lab, store, dir, live, loads };
}

const until = (what: string, ok: () => boolean) => waitFor(async () => (ok() ? ready(true) : notYet(what)), { timeoutMs: 10_000, intervalMs: 5, what });

describe('audit from a UI', () => {
  it('the protocol: kinds from the audit list (no repeats), node names, bounded users and seconds per fault', () => {
    const ok = (params: unknown) => validateIncoming({ method: AuditStartIntent.method, id: '1', params }).ok;
    assert.equal(ok({ kinds: ['kill'] }), true);
    assert.equal(ok({ kinds: ['kill', 'pause', 'partition'], nodes: ['web2', 'redis'], users: 10, perFaultS: 20 }), true);
    for (const bad of [
      {},
      { kinds: [] },
      { kinds: ['melt'] },
      { kinds: ['kill', 'kill'] },
      { kinds: ['kill'], nodes: [] },
      { kinds: ['kill'], nodes: ['Web 2'] },
      { kinds: ['kill'], users: 0 },
      { kinds: ['kill'], perFaultS: 2 },
      { kinds: ['kill'], perFaultS: 12.5 },
    ])
      assert.equal(ok(bad), false, JSON.stringify(bad));
    assert.equal(validateIncoming({ method: AuditStopIntent.method, id: '2', params: {} }).ok, true);
  });

  it('runs through the host: progress per fault in the snapshot, each fault load through the load session, the report written', async () => {
    const { live, store, dir, loads, lab } = setup();
    const { total, done } = await live.startAudit({ kinds: ['kill', 'pause'], nodes: ['web2', 'redis'], users: 3, perFaultS: 8 });
    assert.equal(total, 4);
    assert.match((await live.startLoad({}).catch((e: Error) => e)).toString(), /audit is running/);
    const end = await done;
    assert.equal(end.error, undefined);
    assert.deepEqual(
      loads.started.map((o) => [o.users, o.durationMs, o.faults[0]?.text]),
      [
        [3, 8000, undefined],
        [3, 8000, 'kill web2'],
        [3, 8000, 'pause web2'],
        [3, 8000, 'kill redis'],
        [3, 8000, 'pause redis'],
      ],
    );
    assert.ok(store.audits.some((v) => v.running && v.line === 'fault 3/4: kill redis …'));
    assert.ok(store.audits.some((v) => v.running && v.line === "before the 4 faults: no fault (baseline), the lab's own gaps under the same load …"));
    assert.ok(store.audits.some((v) => /^fault 2\/4: pause web2 — 2\/100 failed, blackout 0\.3 s$/.test(v.line)));
    const last = store.live.audit!;
    assert.equal(last.running, false);
    assert.equal(last.done, 4);
    assert.deepEqual(last.spof, []);
    assert.match(last.summary!, /4 faults .* no single point of failure/);
    assert.equal(path.dirname(last.report!), dir);
    assert.match(fs.readFileSync(last.report!, 'utf8'), /<h1>Audit of ha<\/h1>/);
    assert.equal(JSON.parse(fs.readFileSync(last.report!.replace(/\.html$/, '.json'), 'utf8')).results.length, 4);
    assert.ok(store.events.some((e) => /audit started: 4 faults/.test(e.text)));
    assert.ok(!lab.calls.includes('heal'), 'not cancelled: no heal-all');
    // the load session is free again
    assert.equal(live.load.busy, undefined);
  });

  it('bad input is one clear error before the lab is touched: unknown node, nothing left to fault, a scenario or a load running', async () => {
    const { live, loads, lab, store } = setup();
    await assert.rejects(live.startAudit({ kinds: ['kill'], nodes: ['web9'] }), /unknown node "web9"/);
    await assert.rejects(live.startAudit({ kinds: [] }), /at least one fault kind/);
    await assert.rejects(live.startAudit({ kinds: ['partition'], nodes: ['redis'] }), /nothing to audit/);
    assert.equal(loads.started.length, 0);
    assert.deepEqual(lab.calls, []);
    assert.equal(store.live.audit, undefined);
    assert.equal(live.audit.running, false);
    await live.startLoad({ users: 1, durationS: 60 });
    await assert.rejects(live.startAudit({ kinds: ['kill'] }), /a load is running/);
    await live.stopLoad();
  });

  it('Cancel: the load stops, the lab is healed (the audit’s cancel path), the view says cancelled and the partial report is written', async () => {
    const { live, store, lab } = setup(fakeLoads({ hold: true }));
    const { done } = await live.startAudit({ kinds: ['kill'], nodes: ['web2', 'web3'] });
    await until('the first fault running', () => live.load.running);
    assert.match(live.stopAudit(), /cancelling/);
    assert.ok(store.audits.some((v) => v.cancelling && /healing the lab/.test(v.line)));
    const end = await done;
    assert.equal(end.report?.cancelled, true);
    assert.ok(lab.calls.includes('heal'), 'healed');
    const v = store.live.audit!;
    assert.equal(v.running, false);
    assert.equal(v.cancelled, true);
    assert.ok(v.report && fs.existsSync(v.report));
    assert.throws(() => live.stopAudit(), /no audit is running/);
  });

  it('the dashboard: auditStart/auditStop intents reach the host; the report becomes a link this view can open', async () => {
    const { live, dir } = setup();
    const posted: { method: string; id?: string; params: Record<string, unknown> }[] = [];
    let listener: (raw: unknown) => void = () => undefined;
    const current = (): LabSnapshot =>
      ({ revision: 1, nodes: [], audit: { running: false, kinds: ['kill'], done: 1, total: 1, line: 'x', report: path.join(dir, 'audit-1.html') } }) as never;
    const store = {
      current,
      subscribe: (fn: (s: LabSnapshot) => void) => (fn(current()), () => undefined),
      refresh: async () => current(),
      liveFields: () => ({}),
      nodeChangedAt: () => 0,
      note: () => undefined,
    };
    const session = new DashboardSession(
      { post: (m) => void posted.push(m as never), onMessage: (l) => ((listener = l), () => undefined) },
      { store: store as unknown as SnapshotStore, actions: {} as never, live: live.controls(), reportUrl: (f) => `/reports/${path.basename(f)}` },
    );
    await session.handle({ method: 'ready', params: {} });
    const snap = posted.find((m) => m.method === 'snapshot')!.params.snapshot as LabSnapshot;
    assert.equal(snap.audit?.reportUrl, '/reports/audit-1.html');
    await session.handle(AuditStartIntent.create('a1', { kinds: ['kill'], nodes: ['web2'], perFaultS: 8 }));
    const reply = posted.find((m) => m.id === 'a1')!;
    assert.equal(reply.params.ok, true, String(reply.params.error));
    assert.match(String(reply.params.detail), /audit started: 1 fault —/);
    await until('the audit ended', () => !live.audit.running);
    await session.handle(AuditStopIntent.create('a2', {}));
    assert.match(String(posted.find((m) => m.id === 'a2')!.params.error), /no audit is running/);
    session.dispose();
    void listener;
  });

  describe('VS Code: Run Audit', () => {
    const fakeUi = (answers: ((items: AuditPickItem[]) => AuditPickItem[] | undefined)[], o: { cancel?: boolean; open?: boolean } = {}) => {
      const seen = {
        titles: [] as string[],
        lines: [] as string[],
        told: [] as string[],
        opened: [] as string[],
        failed: [] as string[],
        items: [] as string[][],
      };
      const ui: AuditUi = {
        pick: async (items, p) => {
          seen.titles.push(p.title);
          seen.items.push(items.map((i) => `${i.label}${i.picked ? '*' : ''}`));
          return answers.shift()?.(items);
        },
        progress: async (_title, work) => {
          let cancel: (() => void) | undefined;
          const p = work(
            (line) => {
              seen.lines.push(line);
              // The first line of a run: the baseline's (the load is running then).
              if (o.cancel && /^before the \d+ faults?: no fault \(baseline\).* …$/.test(line)) setTimeout(() => cancel?.(), 0);
            },
            (fn) => (cancel = fn),
          );
          return p;
        },
        tell: async (text, _warn, ...actions) => {
          seen.told.push(`${text} [${actions.join(',')}]`);
          return o.open ? actions[0] : undefined;
        },
        openFile: async (f) => void seen.opened.push(f),
        fail: (what, err) => void seen.failed.push(`${what}: ${(err as Error).message}`),
        log: () => undefined,
      };
      return { ui, seen };
    };
    const nodes = async () => [
      { name: 'web2', role: 'web' },
      { name: 'redis', role: 'cache' },
      { name: 'edge', role: 'edge', exempt: 'the network' },
    ];

    it('kinds (several; kill and pause ticked), then all nodes or some; each fault’s line shown; the report offered and opened', async () => {
      const { live, dir } = setup();
      const { ui, seen } = fakeUi([(items) => items.filter((i) => i.id === 'kill'), (items) => [items[1]!], (items) => items.filter((i) => i.id === 'redis')], {
        open: true,
      });
      const end = await runAuditCommand(live, ui, 'aud-ui', nodes);
      assert.deepEqual(seen.items[0], ['kill*', 'pause*', 'partition']);
      assert.deepEqual(seen.items[1], ['All nodes (2)', 'Choose nodes…']);
      assert.deepEqual(seen.items[2], ['web2', 'redis'], 'exempt nodes are not offered');
      assert.deepEqual(
        end?.report?.results.map((r) => r.fault),
        ['kill redis'],
      );
      assert.ok(seen.lines.includes('fault 1/1: kill redis …'), seen.lines.join('\n'));
      assert.match(seen.told[0]!, /no single point of failure \[Open Report\]/);
      assert.equal(seen.opened.length, 1);
      assert.equal(path.dirname(seen.opened[0]!), dir);
      assert.deepEqual(seen.failed, []);
    });

    it('Cancel stops the audit through the host and the lab is healed; dismissing a pick starts nothing', async () => {
      const { live, lab } = setup(fakeLoads({ hold: true }));
      const { ui, seen } = fakeUi([(items) => items.filter((i) => i.id === 'kill'), (items) => [items[0]!]], { cancel: true });
      const end = await runAuditCommand(live, ui, 'aud-ui', nodes);
      assert.equal(end?.report?.cancelled, true);
      assert.ok(lab.calls.includes('heal'));
      assert.ok(seen.lines.some((l) => /cancelling/.test(l)));
      assert.match(seen.told[0]!, /cancelled, lab healed/);

      const again = setup();
      const dismissed = fakeUi([() => undefined]);
      assert.equal(await runAuditCommand(again.live, dismissed.ui, 'aud-ui', nodes), undefined);
      assert.equal(again.loads.started.length, 0);
    });

    it('refused while a load runs (one warning, nothing asked)', async () => {
      const { live } = setup();
      await live.startLoad({ users: 1, durationS: 60 });
      const { ui, seen } = fakeUi([]);
      assert.equal(await runAuditCommand(live, ui, 'aud-ui', nodes), undefined);
      assert.match(seen.told[0]!, /A load is running/);
      assert.deepEqual(seen.titles, []);
      await live.stopLoad();
    });
  });
});
