import { strict as assert } from 'node:assert';
import { tileValues } from '../../webview/panels';
import { sparklinePath } from '../../webview/sparkline';
import { changedViews, nodeActions, nodeIdOf, nodeViews, toMermaid, topologyKey } from '../../webview/topology';
import { labSnapshot } from '../support/lab-snapshot';

describe('dashboard: snapshot → mermaid text', () => {
  it('draws HAProxy → web, web → DB listeners → Galera, web → Gluster and Redis, 11 lab nodes', () => {
    const text = toMermaid(labSnapshot(0));
    assert.match(text, /^flowchart LR\n/);
    assert.match(text, /haproxy\["HAProxy<br\/>up"\]/);
    for (const w of ['web1', 'web2', 'web3']) assert.match(text, new RegExp(`haproxy --> ${w}\\n`));
    assert.match(text, /tier_web --> dbwriter\n/);
    assert.match(text, /tier_web --> dbreader\n/);
    assert.match(text, /dbwriter -\.-> galera1\n/);
    assert.match(text, /tier_web --> tier_storage\n/);
    assert.match(text, /tier_web --> redis\n/);
    assert.match(text, /dbwriter\[\/"DB writer<br\/>→ galera1"\/\]/);
    const cls = /class (.+) labnode/.exec(text)?.[1]?.split(',');
    assert.equal(cls?.length, 11);
  });

  it('the topology key ignores state: a state-only change never asks for a new render', () => {
    assert.equal(topologyKey(labSnapshot(0)), topologyKey(labSnapshot(1)));
    const bigger = labSnapshot(0);
    bigger.nodes = [...bigger.nodes, { name: 'web4', role: 'web', container: 'running', healthy: true }];
    assert.notEqual(topologyKey(bigger), topologyKey(labSnapshot(0)));
  });

  it('keeps label text safe for mermaid', () => {
    const s = labSnapshot(0);
    s.galera.nodes[0] = { ...s.galera.nodes[0]!, state: 'Joined"]; click x call evil()' };
    const text = toMermaid(s);
    assert.doesNotMatch(text, /Joined"/);
    assert.doesNotMatch(text, /;\s*click/);
  });
});

describe('dashboard: snapshot → class updates', () => {
  it('marks a killed web node down and only that view changes', () => {
    const up = nodeViews(labSnapshot(0));
    const down = nodeViews(labSnapshot(1));
    const web2 = down.find((v) => v.node === 'web2');
    assert.deepEqual({ state: web2?.state, status: web2?.status }, { state: 'down', status: 'exited' });
    assert.equal(up.find((v) => v.node === 'web2')?.state, 'up');
    assert.equal(up.find((v) => v.node === 'web2')?.status, 'UP');
    const changed = changedViews(new Map(up.map((v) => [v.node, v])), down).map((v) => v.node);
    assert.deepEqual(changed, ['web2']);
    assert.deepEqual(changedViews(new Map(down.map((v) => [v.node, v])), nodeViews(labSnapshot(1))), []);
  });

  it('maps HAProxy drain, pause, Galera and brick states', () => {
    const s = labSnapshot(0);
    s.haproxy.servers[0] = { ...s.haproxy.servers[0]!, status: 'DRAIN' };
    s.nodes = s.nodes.map((n) => (n.name === 'web3' ? { ...n, container: 'paused' } : n));
    s.galera.nodes[1] = { ...s.galera.nodes[1]!, state: 'Joining', ready: false };
    s.gluster.bricks[2] = { name: 'gluster3', online: false };
    const v = new Map(nodeViews(s).map((x) => [x.node, x]));
    assert.equal(v.get('web1')?.state, 'maint');
    assert.equal(v.get('web3')?.state, 'paused');
    assert.deepEqual([v.get('galera2')?.state, v.get('galera2')?.status], ['degraded', 'Joining']);
    assert.deepEqual([v.get('gluster3')?.state, v.get('gluster3')?.status], ['degraded', 'brick offline']);
    assert.equal(v.get('dbreader')?.status, '3/3 up');
  });

  it('finds the node id of a rendered group and offers actions by state', () => {
    assert.equal(nodeIdOf('topo1-flowchart-web2-3'), 'web2');
    assert.equal(nodeIdOf('topo1-flowchart-gluster1-12'), 'gluster1');
    assert.equal(nodeIdOf('something-else'), undefined);
    assert.deepEqual(nodeActions(labSnapshot(1), 'web2'), ['start', 'heal']);
    assert.deepEqual(nodeActions(labSnapshot(0), 'web1'), ['stop', 'kill', 'pause', 'disconnect', 'connect', 'delay', 'loss', 'rate', 'drain', 'heal']);
    assert.ok(!nodeActions(labSnapshot(0), 'galera1').includes('drain'));
  });

  it('tiles show "—" without load metrics, figures with them', () => {
    const none = new Map(tileValues(labSnapshot(0)).map((t) => [t.key, t.value]));
    assert.equal(none.get('availability'), '—');
    assert.equal(none.get('p95'), '—');
    assert.equal(none.get('nodes'), '11/11');
    const m = new Map(
      tileValues(labSnapshot(0, { metrics: { availability: 0.9987, errorRate: 0.0013, apdex: 0.93, p95Ms: 412.4 } })).map((t) => [t.key, t.value]),
    );
    assert.deepEqual([m.get('availability'), m.get('errors'), m.get('apdex'), m.get('p95')], ['99.87 %', '0.13 %', '0.93', '412 ms']);
  });
});

describe('dashboard: latency sparkline', () => {
  it('scales points into the box, highest value at the top', () => {
    assert.equal(sparklinePath([], 100, 20), '');
    assert.equal(sparklinePath([0, 50, 100], 100, 20), 'M0.0,20.0 L50.0,10.0 L100.0,0.0');
  });
});
