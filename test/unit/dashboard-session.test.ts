import { strict as assert } from 'node:assert';
import { DashboardSession, LabActions, Transport } from '../../src/dashboard/session';
import type { FaultRequest } from '../../src/protocol/faults';
import { FaultIntent, HealIntent, Ready, Reply, SnapshotMessage, WireMessage } from '../../src/protocol/messages';
import { SnapshotStore, Timer } from '../../src/state/snapshot-store';
import { FakeDocker } from '../support/fake-docker';
import { labStatus } from '../support/lab-snapshot';

const noTimer: Timer = { setInterval: () => 0, clearInterval: () => undefined };
const settle = () => new Promise((r) => setImmediate(r));

function setup(actions: Partial<LabActions> = {}) {
  let tick = 0;
  const store = new SnapshotStore({ lab: 'mlt-unit', docker: new FakeDocker(), timer: noTimer, collect: async () => labStatus(tick) });
  const sent: WireMessage[] = [];
  let deliver: (raw: unknown) => void = () => undefined;
  const transport: Transport = {
    post: (m) => sent.push(m),
    onMessage: (l) => {
      deliver = l;
      return () => (deliver = () => undefined);
    },
  };
  const calls: string[] = [];
  const session = new DashboardSession(transport, {
    store,
    actions: {
      fault: async (r: FaultRequest) => {
        calls.push(`fault ${r.kind} ${r.nodes.join(',')}`);
        tick = 1;
        return `${r.kind} ${r.nodes[0]}: done`;
      },
      heal: async () => {
        calls.push('heal');
        throw new Error('heal failed: web2 did not start');
      },
      maintenance: async () => 'ok',
      ...actions,
    },
  });
  return {
    store,
    sent,
    session,
    calls,
    send: (raw: unknown) => session.handle(raw),
    deliver: (raw: unknown) => deliver(raw),
    setTick: (t: number) => (tick = t),
  };
}

const replies = (sent: WireMessage[]) => sent.filter((m) => Reply.is(m));
const snapshots = (sent: WireMessage[]) => sent.filter((m) => SnapshotMessage.is(m));

describe('DashboardSession (one handler, any transport)', () => {
  it('sends nothing before ready, then the current snapshot', async () => {
    const t = setup();
    await t.store.refresh();
    assert.equal(t.sent.length, 0);
    await t.send(Ready.create({}));
    await settle();
    assert.equal(snapshots(t.sent).length, 1);
  });

  it('answers every intent: ok with the detail, errors with the message, unknown and invalid ones too', async () => {
    const t = setup();
    await t.send(Ready.create({}));
    await settle();
    await t.send(FaultIntent.create('a', { request: { kind: 'kill', nodes: ['web2'] } }));
    await t.send(HealIntent.create('b', {}));
    await t.send({ method: 'selfDestruct', id: 'c', params: {} });
    await t.send({ method: 'fault', id: 'd', params: { request: { kind: 'kill' } } });
    await t.send('garbage');
    const r = replies(t.sent).map((m) => ({ id: m.id, ...m.params }));
    assert.deepEqual(r[0], { id: 'a', ok: true, detail: 'kill web2: done' });
    assert.deepEqual(r[1], { id: 'b', ok: false, error: 'heal failed: web2 did not start' });
    assert.equal(r[2]?.id, 'c');
    assert.match(String(r[2]?.error), /unknown message "selfDestruct"/);
    assert.equal(r[3]?.id, 'd');
    assert.match(String(r[3]?.error), /nodes must be/);
    assert.equal(r[4]?.id, '');
    assert.deepEqual(t.calls, ['fault kill web2', 'heal']);
    const texts = (t.store.current()?.events ?? []).map((e) => e.text);
    assert.ok(texts.includes('dashboard: fault kill web2') && texts.includes('kill web2: done'), texts.join('|'));
  });

  it('refuses a stale intent on a node that changed since, with a fresh snapshot', async () => {
    const t = setup();
    await t.send(Ready.create({}));
    await settle();
    const seenRevision = t.store.current()?.revision ?? 0;
    t.setTick(1); // web2 goes down meanwhile
    await t.store.refresh();
    const before = snapshots(t.sent).length;
    await t.send(FaultIntent.create('s', { request: { kind: 'kill', nodes: ['web2'] } }, seenRevision));
    const r = replies(t.sent).at(-1);
    assert.equal(r?.params.ok, false);
    assert.equal(r?.params.stale, true);
    assert.equal(snapshots(t.sent).length, before + 1);
    assert.deepEqual(t.calls, []);
    // an intent on a node that did not change goes through
    await t.send(FaultIntent.create('t', { request: { kind: 'pause', nodes: ['web1'] } }, seenRevision));
    assert.equal(replies(t.sent).at(-1)?.params.ok, true);
  });

  it('stops sending after dispose', async () => {
    const t = setup();
    t.deliver(Ready.create({}));
    await settle();
    t.session.dispose();
    const n = t.sent.length;
    t.setTick(1);
    await t.store.refresh();
    assert.equal(t.sent.length, n);
  });
});
