import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { DashboardSession, LiveControls, SessionDeps, Transport } from '../../src/dashboard/session';
import { Ready, Reply, ScenarioRunIntent, SnapshotMessage, WireMessage } from '../../src/protocol/messages';
import type { LabSnapshot } from '../../src/protocol/snapshot';
import { SnapshotStore, Timer } from '../../src/state/snapshot-store';
import { FakeDocker } from '../support/fake-docker';
import { labStatus } from '../support/lab-snapshot';

const noTimer: Timer = { setInterval: () => 0, clearInterval: () => undefined };
const settle = () => new Promise((r) => setImmediate(r));

function setup(extra: Partial<SessionDeps> = {}) {
  const store = new SnapshotStore({ lab: 'mlt-unit', docker: new FakeDocker(), timer: noTimer, collect: async () => labStatus(0) });
  store.setLive({ scenarios: [{ name: 'failover-web', description: 'kill a web node under load' }] });
  const sent: WireMessage[] = [];
  const transport: Transport = { post: (m) => sent.push(m), onMessage: () => () => undefined };
  const ran: string[] = [];
  const live: LiveControls = {
    startLoad: async () => 'load',
    stopLoad: async () => 'stopped',
    // what LabLive does with a name it is handed: loads it (a built-in, or any file by that name)
    runScenario: async (name) => {
      ran.push(name);
      return `scenario ${name} started`;
    },
    stopScenario: async () => 'stopped',
    exportReport: async () => ({ detail: 'written' }),
  };
  const session = new DashboardSession(transport, {
    store,
    actions: { fault: async () => '', heal: async () => '', maintenance: async () => '' },
    live,
    ...extra,
  });
  const reply = (id: string) => sent.filter((m) => Reply.is(m) && m.id === id).map((m) => m.params as { ok: boolean; error?: string; detail?: string })[0];
  return { store, session, sent, ran, reply };
}

describe('dashboard scenarios: only built-ins and the files the host offers', () => {
  it('runs a built-in from the catalog', async () => {
    const t = setup();
    await t.session.handle(ScenarioRunIntent.create('a', { name: 'failover-web' }));
    assert.deepEqual(t.ran, ['failover-web']);
    assert.equal(t.reply('a')?.ok, true);
  });

  it('refuses any other name (e.g. a file in the server folder) with one clear error, before loading anything', async () => {
    const t = setup();
    for (const [id, name] of [
      ['b', 'LICENSE'],
      ['c', 'package'],
      ['d', '/etc/ssh/sshd_config.yaml'],
      ['e', path.resolve('test/fixtures/not-offered.yaml')],
    ]) {
      await t.session.handle(ScenarioRunIntent.create(id!, { name: name! }));
      const r = t.reply(id!);
      assert.equal(r?.ok, false, name);
      assert.match(
        String(r?.error),
        /is not a scenario this dashboard offers: pick a built-in \(failover-web\) or an offered scenario file \(in VS Code: a \.yaml file open in the editor\)/,
      );
    }
    assert.deepEqual(t.ran, [], 'nothing was loaded');
  });

  it('runs a scenario file the host allows (open in VS Code / named on the command line), and lists it', async () => {
    const file = path.resolve('/home/me/drills/my-drill.scenario.yaml');
    const t = setup({ scenarioFiles: () => [file] });
    await t.session.handle(ScenarioRunIntent.create('f', { name: file }));
    assert.deepEqual(t.ran, [file]);
    assert.equal(t.reply('f')?.ok, true);
    await t.session.handle(ScenarioRunIntent.create('g', { name: path.resolve('/home/me/drills/other.yaml') }));
    assert.equal(t.reply('g')?.ok, false);
    await t.session.handle(Ready.create({}));
    await t.store.refresh();
    await settle();
    const snap = t.sent.filter((m) => SnapshotMessage.is(m)).at(-1)?.params as { snapshot: LabSnapshot } | undefined;
    assert.deepEqual(
      snap?.snapshot.scenarios?.map((s) => s.name),
      ['failover-web', file],
    );
    assert.deepEqual(
      t.store.current()?.scenarios?.map((s) => s.name),
      ['failover-web'],
      'the shared snapshot is not changed',
    );
  });
});
