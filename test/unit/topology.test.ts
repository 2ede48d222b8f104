import { strict as assert } from 'node:assert';
import { buildTopology, nodesOf } from '../../src/engine/topology';

describe('topology', () => {
  it('ha preset: the 11 nodes with the fixed names, roles and start order', () => {
    const t = buildTopology('ha');
    assert.deepEqual(
      t.nodes.map((n) => `${n.name}:${n.role}`),
      [
        'haproxy:lb',
        'web1:web',
        'web2:web',
        'web3:web',
        'galera1:db',
        'galera2:db',
        'galera3:db',
        'gluster1:storage',
        'gluster2:storage',
        'gluster3:storage',
        'redis:cache',
      ],
    );
    // Web nodes start only after everything they depend on.
    assert.equal(t.stages.length, 2);
    assert.deepEqual(t.stages[1], ['web']);
    assert.deepEqual([...t.stages[0]!].sort(), ['cache', 'db', 'lb', 'storage']);
    assert.equal(t.entry.name, 'haproxy');
  });

  it('single preset: one web node publishing the Moodle port, one DB, no Gluster, no Redis', () => {
    const t = buildTopology('single');
    assert.deepEqual(
      t.nodes.map((n) => n.name),
      ['web1', 'galera1'],
    );
    assert.equal(t.entry.name, 'web1');
    assert.deepEqual(
      t.entry.ports.map((p) => p.name),
      ['moodle'],
    );
    assert.deepEqual(t.stages, [['db'], ['web']]);
  });

  it('--web N varies the web tier only', () => {
    const t = buildTopology('ha', 5);
    assert.deepEqual(
      nodesOf(t, 'web').map((n) => n.name),
      ['web1', 'web2', 'web3', 'web4', 'web5'],
    );
    assert.equal(nodesOf(t, 'db').length, 3);
  });

  it('refuses impossible sizes and unknown presets with a clear message', () => {
    assert.throws(() => buildTopology('ha', 0), /--web must be a whole number from 1 to 9/);
    assert.throws(() => buildTopology('ha', 2.5), /--web must be/);
    assert.throws(() => buildTopology('single', 2), /exactly one web node/);
    assert.throws(() => buildTopology('huge' as never), /unknown topology "huge"/);
  });
});
