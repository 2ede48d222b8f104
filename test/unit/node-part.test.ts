import { strict as assert } from 'node:assert';
import { labSnapshot } from '../support/lab-snapshot';
import { changedViews, nodeViews, toMermaid, topologyKey } from '../../webview/topology';
import { treeModel } from '../../src/vscode/tree-model';
import { reportNodes, topologySvg } from '../../src/scenarios/report/svg-topology';
import type { LabSnapshot } from '../../src/protocol/snapshot';
import type { NodeStatus, RedisStatus } from '../../src/protocol/status';

/** The ha lab with a Sentinel group: redis1–3 instead of the lone redis, and the status's redis section. */
function sentinelSnapshot(redis: RedisStatus, killed?: string): LabSnapshot {
  const base = labSnapshot(0);
  const cache: NodeStatus[] = ['redis1', 'redis2', 'redis3'].map((name) =>
    name === killed ? { name, role: 'cache', container: 'exited', healthy: false } : { name, role: 'cache', container: 'running', healthy: true },
  );
  return { ...base, nodes: [...base.nodes.filter((n) => n.role !== 'cache'), ...cache], redis };
}

const BEFORE: RedisStatus = {
  up: true,
  mode: 'sentinel',
  master: 'redis1',
  keys: 12,
  replicas: [
    { name: 'redis2', linkUp: true, masterHost: 'redis1', lagBytes: 0 },
    { name: 'redis3', linkUp: true, masterHost: 'redis1', lagBytes: 40 },
  ],
};
// redis1 killed; the sentinels promoted redis3, redis2 replicates from it.
const AFTER: RedisStatus = {
  up: true,
  mode: 'sentinel',
  master: 'redis3',
  keys: 12,
  replicas: [{ name: 'redis2', linkUp: true, masterHost: 'redis3', lagBytes: 0 }],
};

describe("Redis Sentinel nodes named by their part (the status's master and replicas)", () => {
  it('diagram: redis1 (master), redis2/redis3 (replica) with their lag; after the failover redis3 (master) and redis1 down, with no new render', () => {
    const before = sentinelSnapshot(BEFORE);
    const text = toMermaid(before);
    assert.match(text, /redis1\["redis1 \(master\)<br\/>12 keys"\]/);
    assert.match(text, /redis2\["redis2 \(replica\)<br\/>lag 0 B"\]/);
    assert.match(text, /redis3\["redis3 \(replica\)<br\/>lag 40 B"\]/);
    assert.doesNotMatch(text, /\["Redis</, 'no node is drawn "Redis" when the role has several');

    const after = sentinelSnapshot(AFTER, 'redis1');
    assert.equal(topologyKey(after), topologyKey(before), 'a failover is a state change: the diagram is not rendered again');
    const prev = new Map(nodeViews(before).map((v) => [v.node, v]));
    const changed = new Map(changedViews(prev, nodeViews(after)).map((v) => [v.node, v]));
    assert.equal(changed.get('redis3')?.label, 'redis3 (master)');
    assert.equal(changed.get('redis1')?.label, 'redis1', 'a killed node has no part');
    assert.equal(changed.get('redis1')?.state, 'down');
    assert.ok(!changed.has('redis2'), 'redis2 is still a replica with lag 0: unchanged');
  });

  it('tree: the node label names its part, before and after the failover', () => {
    const labels = (s: LabSnapshot) =>
      treeModel(s)
        .find((t) => t.id === 'cache')!
        .children.map((c) => c.label);
    assert.deepEqual(labels(sentinelSnapshot(BEFORE)), ['redis1 (master)', 'redis2 (replica)', 'redis3 (replica)']);
    assert.deepEqual(labels(sentinelSnapshot(AFTER, 'redis1')), ['redis1', 'redis2 (replica)', 'redis3 (master)']);
    const item = treeModel(sentinelSnapshot(AFTER, 'redis1'))
      .find((t) => t.id === 'cache')!
      .children.find((c) => c.node === 'redis3')!;
    assert.equal(item.node, 'redis3', 'the node id stays the name (commands and menus use it)');
  });

  it('report: each node with its part as the status says at the end', () => {
    const s = sentinelSnapshot(AFTER, 'redis1');
    const nodes = reportNodes(
      s.nodes.map((n) => ({ name: n.name, role: n.role })),
      s,
    );
    assert.deepEqual(
      nodes.filter((n) => n.role === 'cache'),
      [
        { name: 'redis1', role: 'cache' },
        { name: 'redis2', role: 'cache', part: 'replica' },
        { name: 'redis3', role: 'cache', part: 'master' },
      ],
    );
    const svg = topologySvg({ topology: { preset: 'ha-full', nodes }, timeline: [], runs: [], faults: [] });
    assert.match(svg, /data-node="redis3" data-faults="0" data-part="master">.*?>redis3<\/text><text [^>]*class="node-part">master<\/text>/);
    assert.doesNotMatch(svg, /data-node="redis1"[^>]*data-part/);
  });

  it('a single Redis (the ha lab) has no part: drawn "Redis" as before, the tree label is its name', () => {
    const s = labSnapshot(0);
    assert.match(toMermaid(s), /redis\["Redis<br\/>/);
    assert.equal(treeModel(s).find((t) => t.id === 'cache')!.children[0]!.label, 'redis');
    assert.ok(reportNodes([{ name: 'redis', role: 'cache' }], s).every((n) => n.part === undefined));
  });
});
