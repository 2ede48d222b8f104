import { strict as assert } from 'node:assert';
import {
  faultProblem,
  FaultIntent,
  INTENTS,
  isScenarioRef,
  LIMITS,
  LoadStartIntent,
  Ready,
  Reply,
  ScenarioRunIntent,
  SnapshotMessage,
  validateHostMessage,
  validateIncoming,
} from '../../src/protocol/messages';

const fault = (request: unknown, id = 'f') => ({ method: 'fault', id, params: { request } });
const refused = (raw: unknown, re: RegExp) => {
  const r = validateIncoming(raw);
  assert.equal(r.ok, false, `accepted: ${JSON.stringify(raw)?.slice(0, 200)}`);
  if (!r.ok) assert.match(r.error, re);
  return r;
};
const accepted = (raw: unknown) => {
  const r = validateIncoming(raw);
  assert.equal(r.ok, true, JSON.stringify(r));
};

describe('dashboard protocol: bounds on what a page may send', () => {
  it('rejects a delay of 0 ms like the fault injector (delayMs from 1 to 60000), and a delay without one', () => {
    refused(fault({ kind: 'delay', nodes: ['web1'], delayMs: 0 }), /delayMs must be 1\.\.60000/);
    refused(fault({ kind: 'delay', nodes: ['web1'] }), /delay needs --ms/);
    refused(fault({ kind: 'delay', nodes: ['web1'], delayMs: 60_001 }), /delayMs must be 1\.\.60000/);
    refused(fault({ kind: 'delay', nodes: ['web1'], delayMs: -5 }), /delayMs must be 1\.\.60000/);
    refused(fault({ kind: 'delay', nodes: ['web1'], delayMs: 200, jitterMs: -1 }), /jitterMs must be 0\.\.60000/);
    accepted(fault({ kind: 'delay', nodes: ['web1'], delayMs: 1 }));
    accepted(fault({ kind: 'delay', nodes: ['web1'], delayMs: 60_000, jitterMs: 0 }));
  });

  it("loss needs a percentage the lab applies exactly: 0.01 to 100, two decimals (the injector's rule)", () => {
    refused(fault({ kind: 'loss', nodes: ['web1'], lossPct: 0 }), /lossPct must be above 0/);
    refused(fault({ kind: 'loss', nodes: ['web1'], lossPct: 0.001 }), /from 0\.01 to 100, at most two decimals/);
    refused(fault({ kind: 'loss', nodes: ['web1'] }), /loss needs --percent/);
    refused(fault({ kind: 'loss', nodes: ['web1'], lossPct: 100.5 }), /lossPct must be above 0 and at most 100/);
    accepted(fault({ kind: 'loss', nodes: ['web1'], lossPct: 100 }));
  });

  it('bounds self-revert durations to 24 h, positive, and only on faults that break something', () => {
    refused(fault({ kind: 'kill', nodes: ['web1'], forMs: 0 }), /forMs must be a duration above 0/);
    refused(fault({ kind: 'kill', nodes: ['web1'], forMs: LIMITS.forMs.max + 1 }), /at most 86400000 ms/);
    refused(fault({ kind: 'start', nodes: ['web1'], forMs: 1000 }), /--for applies to faults that break something/);
    accepted(fault({ kind: 'kill', nodes: ['web1'], forMs: 86_400_000 }));
  });

  it('rejects non-finite numbers (1e309 parses to Infinity) wherever a number goes', () => {
    const inf = JSON.parse('1e309') as number;
    assert.equal(inf, Infinity);
    refused(fault({ kind: 'delay', nodes: ['web1'], delayMs: inf }), /delayMs/);
    refused(fault({ kind: 'kill', nodes: ['web1'], forMs: inf }), /forMs/);
    refused(LoadStartIntent.create('l', { users: inf }), /users/);
    refused({ method: 'heal', id: 'r', revision: inf, params: {} }, /revision/);
    refused({ method: 'heal', id: 'r', revision: 1.5, params: {} }, /revision/);
    refused(LoadStartIntent.create('l', { durationS: 3601 }), /durationS/);
    refused(LoadStartIntent.create('l', { users: 2.5 }), /users/);
  });

  it('takes one node for single-node faults, "from" only for partitions, at most 16 nodes', () => {
    refused(fault({ kind: 'kill', nodes: ['web1', 'web2'] }), /takes one node/);
    refused(fault({ kind: 'kill', nodes: ['web1'], from: ['web2'] }), /takes one node/);
    refused(fault({ kind: 'partition', nodes: Array.from({ length: 17 }, (_, i) => `n${i}`), from: ['web1'] }), /nodes must be/);
    refused(fault({ kind: 'kill', nodes: ['a'.repeat(32)] }), /nodes must be/);
  });

  it('bounds every string: method, id, node, scenario name or path', () => {
    const long = 'm'.repeat(100_000);
    const r = refused({ method: long, id: 'x', params: {} }, /unknown message \(a method name of 100000 characters\)/);
    assert.ok(!r.ok && r.error.length < 200 && r.id === 'x', 'the error does not echo a huge method name');
    refused({ method: 'heal', id: 'i'.repeat(LIMITS.id + 1), params: {} }, /needs an id of 1 to 64 characters/);
    refused({ method: 'heal', id: 'h', params: { node: long } }, /node must be a node name/);
    refused(ScenarioRunIntent.create('s', { name: 'n'.repeat(65) }), /name must be a built-in scenario name/);
    refused(ScenarioRunIntent.create('s', { name: `/${'d/'.repeat(2100)}x.yaml` }), /name must be/);
    refused(ScenarioRunIntent.create('s', { name: '../etc/passwd' }), /name must be/);
    refused(ScenarioRunIntent.create('s', { name: 'relative/dir/x.yaml' }), /name must be/);
    refused(ScenarioRunIntent.create('s', { name: '/tmp/x.yaml\u0000.yaml' }), /name must be/);
    accepted(ScenarioRunIntent.create('s', { name: 'failover-web' }));
    accepted(ScenarioRunIntent.create('s', { name: '/home/me/lab/my.scenario.yaml' }));
    assert.equal(isScenarioRef('C:\\Users\\me\\drill.yml'), true);
    assert.equal(isScenarioRef(`/${'a'.repeat(LIMITS.text)}.yaml`), false);
  });

  it('answers unknown kinds with an error that keeps the id', () => {
    const r = refused({ method: 'format', id: 'u', params: {} }, /unknown message "format"/);
    assert.equal(!r.ok && r.id, 'u');
  });
});

describe('dashboard protocol validators are total: any input, an error result, never a throw', () => {
  const nested = (depth: number) => {
    let v: unknown = {};
    for (let i = 0; i < depth; i++) v = { method: 'fault', id: 'n', params: { request: v } };
    return v;
  };
  const inputs: unknown[] = [
    null,
    undefined,
    0,
    -1,
    NaN,
    'ready',
    '',
    true,
    [],
    [{ method: 'heal', id: 'a', params: {} }],
    {},
    { method: null },
    { method: {} },
    { method: ['heal'] },
    { method: 'heal' },
    { method: 'heal', id: 'a' },
    { method: 'heal', id: 'a', params: null },
    { method: 'heal', id: 'a', params: 'x' },
    { method: 'heal', id: 42, params: {} },
    { method: 'fault', id: 'a', params: { request: null } },
    { method: 'fault', id: 'a', params: { request: [] } },
    { method: 'fault', id: 'a', params: { request: { kind: 'kill', nodes: 'web1' } } },
    { method: 'fault', id: 'a', params: { request: { kind: 'kill', nodes: [null, {}, []] } } },
    { method: 'fault', id: 'a', params: { request: { kind: 'kill', nodes: Array.from({ length: 100_000 }, () => 'web1') } } },
    { method: 'fault', id: 'a', params: { request: { kind: { toString: null }, nodes: ['web1'] } } },
    { method: 'scenarioRun', id: 'a', params: { name: 'x'.repeat(1_000_000) } },
    { method: 'loadStart', id: 'a', params: { users: '30', durationS: null, journey: {} } },
    JSON.parse('{"__proto__":{"method":"fault","id":"p","params":{}}}'),
    JSON.parse('{"method":"heal","id":"p","params":{"__proto__":{"node":"../x"}}}'),
    JSON.parse('{"method":"fault","id":"p","params":{"request":{"__proto__":{"kind":"kill","nodes":["web1"]}}}}'),
    JSON.parse('{"method":"__proto__","id":"p","params":{}}'),
    JSON.parse('{"method":"constructor","id":"p","params":{}}'),
    JSON.parse('{"method":"toString","id":"p","params":{}}'),
    nested(2000),
    Object.create(null),
    Object.assign(Object.create(null), { method: 'heal', id: 'a', params: Object.create(null) }),
  ];

  it('validateIncoming, validateHostMessage and each descriptor', () => {
    for (const raw of inputs) {
      const r = validateIncoming(raw);
      assert.equal(typeof r.ok, 'boolean');
      if (!r.ok) assert.equal(typeof r.error, 'string');
      assert.equal(validateHostMessage(raw), undefined);
      for (const d of [...INTENTS, Ready, Reply, SnapshotMessage]) {
        assert.equal(typeof d.is(raw), 'boolean');
        const p = d.problem(raw);
        assert.ok(p === undefined || typeof p === 'string');
      }
      assert.equal(typeof faultProblem(raw), 'string');
    }
  });

  it('__proto__ keys never turn into accepted payloads', () => {
    for (const text of [
      '{"__proto__":{"method":"fault","id":"p","params":{}}}',
      '{"method":"fault","id":"p","params":{"request":{"__proto__":{"kind":"kill","nodes":["web1"]}}}}',
    ]) {
      assert.equal(validateIncoming(JSON.parse(text)).ok, false, text);
    }
    assert.equal(validateIncoming(JSON.parse('{"method":"__proto__","id":"p","params":{}}')).ok, false);
    assert.equal(FaultIntent.is(JSON.parse('{"method":"fault","id":"p","params":{"request":{"__proto__":{"kind":"kill","nodes":["web1"]}}}}')), false);
  });
});
