import { strict as assert } from 'node:assert';
import type { DockerEvent, Labels } from '../../src/docker/types';
import type { LabSnapshot } from '../../src/protocol/snapshot';
import type { LabStatus } from '../../src/protocol/status';
import { diffStatus } from '../../src/state/diff';
import { SnapshotStore, Timer } from '../../src/state/snapshot-store';
import { FakeDocker } from '../support/fake-docker';
import { labStatus } from '../support/lab-snapshot';

/** FakeDocker whose event stream the test drives. */
class EventfulDocker extends FakeDocker {
  listener: ((e: DockerEvent) => void) | undefined;
  filter: Labels | undefined;
  unsubscribed = 0;
  override async events(labels: Labels, onEvent: (e: DockerEvent) => void): Promise<() => void> {
    this.filter = labels;
    this.listener = onEvent;
    return () => {
      this.unsubscribed += 1;
      this.listener = undefined;
    };
  }
}

function manualTimer(): Timer & { tick(): void; active: number[] } {
  const fns = new Map<number, () => void>();
  let seq = 0;
  const t = {
    active: [] as number[],
    setInterval: (fn: () => void, ms: number) => {
      fns.set(++seq, fn);
      t.active.push(ms);
      return seq;
    },
    clearInterval: (h: unknown) => {
      fns.delete(h as number);
      t.active.pop();
    },
    tick: () => {
      for (const fn of fns.values()) fn();
    },
  };
  return t;
}

const settle = () => new Promise((r) => setImmediate(r));

function setup(statuses: () => LabStatus) {
  const docker = new EventfulDocker();
  const timer = manualTimer();
  let collects = 0;
  const store = new SnapshotStore({
    lab: 'mlt-unit',
    docker,
    timer,
    now: () => 1_000,
    collect: async () => {
      collects += 1;
      return statuses();
    },
  });
  return { docker, timer, store, collects: () => collects };
}

describe('SnapshotStore', () => {
  it('publishes a new revision only when something changed', async () => {
    let tick = 0;
    const { store, timer } = setup(() => labStatus(tick));
    const seen: LabSnapshot[] = [];
    const stop = store.subscribe((s) => seen.push(s));
    await settle();
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.revision, 1);
    timer.tick(); // same status (only collectedAt differs)
    await settle();
    assert.equal(seen.length, 1);
    tick = 1; // web2 down
    timer.tick();
    await settle();
    assert.equal(seen.length, 2);
    assert.equal(seen[1]?.revision, 2);
    assert.ok(
      seen[1]?.events.some((e) => e.text === 'HAProxy web/web2: UP → DOWN (L7OK)'),
      JSON.stringify(seen[1]?.events),
    );
    assert.ok(store.nodeChangedAt('web2') === 2 && store.nodeChangedAt('web1') <= 1);
    stop();
  });

  it('refreshes at once on a container event of the lab, with a timeline entry', async () => {
    let tick = 0;
    const { store, docker, collects } = setup(() => labStatus(tick));
    const seen: LabSnapshot[] = [];
    store.subscribe((s) => seen.push(s));
    await settle();
    assert.deepEqual(docker.filter, { 'io.moodle-lab.lab': 'mlt-unit' });
    const before = collects();
    tick = 1;
    docker.listener?.({ type: 'container', action: 'die', id: 'c2', labels: { 'io.moodle-lab.node': 'web2', exitCode: '137' }, timeMs: 5_000 });
    // shown at once, before any collection ran
    assert.equal(seen.at(-1)?.nodes.find((n) => n.name === 'web2')?.container, 'exited');
    assert.equal(seen.at(-1)?.haproxy.servers.find((x) => x.server === 'web2')?.status, 'UP', 'the collection has not answered yet');
    docker.listener?.({ type: 'container', action: 'exec_start: mysql -e', id: 'c5', labels: { 'io.moodle-lab.node': 'galera1' }, timeMs: 5_001 });
    await settle();
    await settle();
    assert.equal(collects(), before + 1, 'one refresh for the die event, none for exec');
    const last = seen.at(-1);
    assert.ok(last);
    const die = last.events.find((e) => e.source === 'docker');
    assert.deepEqual(
      { text: die?.text, node: die?.node, severity: die?.severity, atMs: die?.atMs },
      { text: 'web2 die (exit 137)', node: 'web2', severity: 'error', atMs: 5_000 },
    );
    assert.equal(last.nodes.find((n) => n.name === 'web2')?.container, 'exited');
  });

  it('polls only while someone subscribes, at the smallest interval asked for', async () => {
    const { store, timer, docker } = setup(() => labStatus(0));
    const a = store.subscribe(() => undefined, { intervalMs: 5000 });
    await settle();
    assert.deepEqual(timer.active, [5000]);
    const b = store.subscribe(() => undefined, { intervalMs: 1000 });
    assert.deepEqual(timer.active, [1000]);
    b();
    assert.deepEqual(timer.active, [5000]);
    a();
    assert.deepEqual(timer.active, []);
    assert.equal(docker.unsubscribed, 1);
  });

  it('keeps the last good view and reports the error when collecting fails', async () => {
    let fail = false;
    const { store, timer } = setup(() => {
      if (fail) throw new Error('Docker is not running');
      return labStatus(0);
    });
    const seen: LabSnapshot[] = [];
    store.subscribe((s) => seen.push(s));
    await settle();
    fail = true;
    timer.tick();
    await settle();
    assert.equal(seen.at(-1)?.error, 'Docker is not running');
    assert.equal(seen.at(-1)?.nodes.length, 11);
  });

  it('notes user actions in the timeline and publishes them', async () => {
    const { store } = setup(() => labStatus(0));
    const seen: LabSnapshot[] = [];
    store.subscribe((s) => seen.push(s));
    await settle();
    store.note({ source: 'action', severity: 'info', text: 'dashboard: fault kill web2' });
    assert.equal(seen.at(-1)?.events.at(-1)?.text, 'dashboard: fault kill web2');
    assert.equal(seen.at(-1)?.revision, 2);
  });
});

describe('status diff → timeline', () => {
  it('derives HAProxy, Galera, brick and Redis changes', () => {
    const a = labStatus(0);
    const b: LabStatus = JSON.parse(JSON.stringify(a));
    b.galera = { ...b.galera, clusterSize: 2, nodes: b.galera.nodes.map((g) => (g.name === 'galera3' ? { ...g, state: 'unreachable', ready: false } : g)) };
    b.gluster.bricks[1] = { name: 'gluster2', online: false };
    b.redis.up = false;
    b.haproxy.servers[0] = { ...b.haproxy.servers[0]!, status: 'DRAIN' };
    const texts = diffStatus(a, b).map((e) => `${e.source}:${e.severity}:${e.text}`);
    assert.deepEqual(texts, [
      'haproxy:warn:HAProxy web/web1: UP → DRAIN (L7OK)',
      'galera:warn:Galera Primary size 3 → Primary size 2',
      'galera:warn:galera3 wsrep Synced → unreachable',
      'gluster:error:brick gluster2 offline',
      'redis:error:Redis down',
    ]);
    assert.deepEqual(diffStatus(undefined, a), []);
  });

  it('link impairments: in force with their method, no longer in force with the reason, removed', () => {
    const a = labStatus(0);
    const row = { node: 'galera3', kind: 'delay', method: 'nfqueue', faultId: 'f1', delayMs: 100, to: ['galera1', 'galera2'], inForce: true };
    const b: LabStatus = { ...a, impairments: [row] };
    const c: LabStatus = { ...a, impairments: [{ ...row, inForce: false, problem: 'galera3 restarted after the delay was set' }] };
    const texts = (x: LabStatus, y: LabStatus) => diffStatus(x, y).map((e) => `${e.severity}:${e.text}`);
    assert.deepEqual(texts(a, b), ['warn:galera3 delay 100ms to galera1,galera2 in force (method nfqueue)']);
    assert.deepEqual(texts(b, b), []);
    assert.deepEqual(texts(b, c), ['warn:galera3 delay 100ms to galera1,galera2 no longer in force: galera3 restarted after the delay was set']);
    assert.deepEqual(texts(c, a), ['ok:galera3 delay 100ms to galera1,galera2 removed']);
  });
});
