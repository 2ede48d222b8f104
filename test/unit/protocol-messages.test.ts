import { strict as assert } from 'node:assert';
import {
  FaultIntent,
  HealIntent,
  MaintenanceIntent,
  OpenNodeIntent,
  Ready,
  RefreshIntent,
  Reply,
  SnapshotMessage,
  validateHostMessage,
  validateIncoming,
} from '../../src/protocol/messages';
import { labSnapshot } from '../support/lab-snapshot';

describe('dashboard protocol guards', () => {
  it('accepts ready and every intent built with its own descriptor', () => {
    assert.equal(validateIncoming(Ready.create({})).ok, true);
    for (const m of [
      FaultIntent.create('1', { request: { kind: 'kill', nodes: ['web2'] } }, 3),
      FaultIntent.create('2', { request: { kind: 'delay', nodes: ['galera1'], delayMs: 200, jitterMs: 20 } }),
      FaultIntent.create('3', { request: { kind: 'partition', nodes: ['galera1'], from: ['galera2', 'galera3'] } }),
      HealIntent.create('4', {}),
      HealIntent.create('5', { node: 'web2' }),
      MaintenanceIntent.create('6', { on: true, node: 'web1' }),
      OpenNodeIntent.create('7', { node: 'redis', what: 'logs' }),
      RefreshIntent.create('8', {}),
    ]) {
      const r = validateIncoming(m);
      assert.equal(r.ok, true, JSON.stringify(r));
    }
    assert.equal(FaultIntent.is(FaultIntent.create('1', { request: { kind: 'kill', nodes: ['web2'] } })), true);
    assert.equal(HealIntent.is(FaultIntent.create('1', { request: { kind: 'kill', nodes: ['web2'] } })), false);
  });

  it('rejects unknown, malformed and invalid messages, keeping the id for the error reply', () => {
    const cases: [unknown, RegExp, string | undefined][] = [
      [null, /not a protocol message/, undefined],
      ['ready', /not a protocol message/, undefined],
      [{ method: 'rm -rf', id: 'x', params: {} }, /unknown message "rm -rf"/, 'x'],
      [{ method: 'fault', params: { request: { kind: 'kill', nodes: ['web2'] } } }, /needs an id/, undefined],
      [{ method: 'fault', id: 'a', params: { request: { kind: 'explode', nodes: ['web2'] } } }, /kind must be one of/, 'a'],
      [{ method: 'fault', id: 'b', params: { request: { kind: 'kill', nodes: [] } } }, /nodes must be/, 'b'],
      [{ method: 'fault', id: 'c', params: { request: { kind: 'kill', nodes: ['../etc'] } } }, /nodes must be/, 'c'],
      [{ method: 'fault', id: 'd', params: { request: { kind: 'loss', nodes: ['web1'], lossPct: 140 } } }, /lossPct/, 'd'],
      [{ method: 'fault', id: 'e', params: { request: { kind: 'partition', nodes: ['galera1'] } } }, /partition needs/, 'e'],
      [{ method: 'maintenance', id: 'f', params: { on: 'yes' } }, /on must be true or false/, 'f'],
      [{ method: 'heal', id: 'g', params: [] }, /params must be an object/, 'g'],
      [{ method: 'heal', id: 'h', revision: 'old', params: {} }, /revision must be a number/, 'h'],
      [{ method: 'openNode', id: 'i', params: { node: 'web1', what: 'rootkit' } }, /what must be/, 'i'],
    ];
    for (const [raw, re, id] of cases) {
      const r = validateIncoming(raw);
      assert.equal(r.ok, false, JSON.stringify(raw));
      if (!r.ok) {
        assert.match(r.error, re);
        assert.equal(r.id, id);
      }
    }
  });

  it('validates what the host sends: snapshots need a revision, replies an id', () => {
    assert.ok(validateHostMessage(SnapshotMessage.create({ snapshot: labSnapshot() })));
    assert.ok(validateHostMessage({ ...Reply.create({ ok: true }), id: '1' }));
    assert.equal(validateHostMessage(Reply.create({ ok: true })), undefined);
    assert.equal(validateHostMessage({ method: 'snapshot', params: { snapshot: { nodes: [] } } }), undefined);
    assert.equal(validateHostMessage({ method: 'eval', params: {} }), undefined);
  });
});
