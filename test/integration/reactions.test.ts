/**
 * The cluster's own reactions to heavier faults, read from `status --json` (the same collector the
 * live snapshot uses), on a real `ha` lab without Moodle:
 * - two bricks down → the Gluster client refuses writes (client quorum), status says writable false;
 * - Redis down → the sessions it held are gone after it comes back (no persistence);
 * - every Galera node killed → heal recovers each position, bootstraps the highest, rejoins the others.
 * Waits poll observable state with deadlines; nothing sleeps as a readiness guess.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freshLabOrSkip, getJson, LabUnderTest, ROOT } from '../support/integration';
import { LabController } from '../../src/controller/lab-controller';
import { sql } from '../../src/roles/galera';
import { notYet, ready, waitFor } from '../../src/core/wait';
import { StateStore } from '../../src/engine/state';
import type { LabSnapshot } from '../../src/protocol/snapshot';
import type { LabStatus } from '../../src/protocol/status';
import { SnapshotStore } from '../../src/state/snapshot-store';
import { runtimeAt } from '../../src/roles/haproxy-runtime';
import { BACKENDS } from '../../src/roles/haproxy';

const LAB = process.env.LAB_TEST_REACT_NAME ?? 'it-react';

describe(`the cluster's real reactions (lab "${LAB}")`, function () {
  this.timeout(1_800_000);
  const lab = new LabUnderTest(LAB);
  let status: LabStatus;
  let rootPw = '';

  const url = (node: string) => status.nodes.find((n) => n.name === node)!.url!;
  const proxy = () => status.endpoints.moodle!;

  /** Reads `status --json` until `pred` holds (deadline, no fixed sleep as readiness). */
  async function statusUntil(what: string, pred: (s: LabStatus) => boolean, timeoutMs = 30_000): Promise<LabStatus> {
    return waitFor(
      async () => {
        const s = await lab.status();
        return pred(s) ? ready(s) : notYet(`last status: ${JSON.stringify({ gluster: s.gluster, redis: s.redis, galera: s.galera })}`);
      },
      { what, timeoutMs, intervalMs: 250 },
    );
  }

  /** One refresh of the live snapshot (what the dashboard and VS Code render), same collector. */
  async function liveSnapshot(): Promise<LabSnapshot> {
    const controller = new LabController({ docker: lab.docker, store: new StateStore(lab.home), labRoot: path.join(ROOT, 'lab') }, LAB);
    const store = new SnapshotStore({ lab: LAB, docker: lab.docker, collect: () => controller.status(), activeFaults: () => controller.activeFaults() });
    try {
      return await store.refresh();
    } finally {
      store.dispose();
    }
  }

  before(async function () {
    await freshLabOrSkip(this, lab);
    await lab.cliOk(['up', '--no-moodle']);
    const state = JSON.parse(fs.readFileSync(`${lab.home}/${LAB}/state.json`, 'utf8'));
    rootPw = state.secrets.dbRootPassword;
  });

  beforeEach(async function () {
    if (rootPw) status = await lab.status();
  });

  after(async function () {
    await lab.destroyLeavingNothing();
  });

  it('healthy lab: the write probe says moodledata is writable', () => {
    assert.equal(status.gluster.writable, true, JSON.stringify(status.gluster));
    assert.equal(status.gluster.writeError, undefined);
    assert.match(status.gluster.writeNode ?? '', /^web\d$/);
    assert.equal(status.gluster.healPending, 0);
  });

  it('stop gluster2 and gluster3 → 1 brick online, the volume refuses writes (client quorum); heal → 3 online, writable, nothing pending', async () => {
    await lab.cliOk(['fault', 'stop', 'gluster2']);
    // One brick down: quorum (2 of 3) still met, writes go on.
    let s = await statusUntil('2 bricks online', (x) => x.gluster.bricks.filter((b) => b.online).length === 2);
    assert.equal(s.gluster.writable, true, JSON.stringify(s.gluster));
    // A file gluster2 misses: the heal must bring it there.
    const missed = `missed-${randomUUID().slice(0, 6)}`;
    const wm = await getJson(`${url('web1')}/lab/probe/file.php?write=${missed}&value=healed`);
    assert.equal(wm.status, 200, JSON.stringify(wm.json));
    await lab.cliOk(['fault', 'stop', 'gluster3']);
    s = await statusUntil('writable false', (x) => x.gluster.writable === false);
    console.log(
      `      status: ${s.gluster.bricks.filter((b) => b.online).length}/3 bricks online, writable ${s.gluster.writable} (${s.gluster.writeNode}: ${s.gluster.writeError})`,
    );
    assert.deepEqual(
      s.gluster.bricks.map((b) => b.online),
      [true, false, false],
    );
    const live = await liveSnapshot();
    assert.equal(live.gluster.writable, false, `live snapshot: ${JSON.stringify(live.gluster)}`);
    assert.ok(live.gluster.writeError);
    assert.equal(live.gluster.bricks.filter((b) => b.online).length, 1);
    // Moodle's code path (PHP writing on moodledata) sees the same.
    const w = await getJson(`${url('web2')}/lab/probe/file.php?write=quorum-${randomUUID().slice(0, 6)}&value=x`);
    console.log(`      file.php write through web2: HTTP ${w.status} ${String(w.json.error ?? '')}`);
    assert.equal(w.status, 500, JSON.stringify(w.json));
    // The client's own words, not our prediction. Client quorum (cluster.quorum-type auto, the
    // replica-3 default) is not met with 1 of 3 bricks: GlusterFS 11's AFR then fails even the
    // lookup of the volume root with ENOTCONN (older releases answered writes with EROFS).
    assert.match(s.gluster.writeError ?? '', /Transport endpoint is not connected|Read-only file system/, s.gluster.writeError);
    assert.match(String(w.json.error), /Transport endpoint is not connected|Read-only file system/);

    const heal = await lab.cliOk(['heal']);
    console.log(
      heal.stderr
        .split('\n')
        .filter((l) => /gluster/.test(l))
        .map((l) => `      | ${l}`)
        .join('\n'),
    );
    s = await statusUntil(
      '3 bricks online, writable, nothing pending',
      (x) => x.gluster.bricks.every((b) => b.online) && x.gluster.writable === true && x.gluster.healPending === 0,
      120_000,
    );
    assert.equal(s.gluster.bricks.filter((b) => b.online).length, 3);
    const after = await getJson(`${url('web2')}/lab/probe/file.php?write=quorum-back-${randomUUID().slice(0, 6)}&value=y`);
    assert.equal(after.status, 200, JSON.stringify(after.json));
    // Self-heal really copied the file written while gluster2 was down onto its brick.
    const onBrick = await lab.docker.containers.exec(await lab.containerId('gluster2'), ['cat', `/bricks/moodledata/lab-probe/${missed}`], { timeoutMs: 5000 });
    assert.equal(onBrick.stdout, 'healed', `gluster2's brick holds ${missed}: ${onBrick.stderr}`);
  });

  it("stop redis → status redis down, sessions fail; heal → redis up, the same cookie's session is gone (memory only)", async () => {
    const key = `sess-${randomUUID().slice(0, 8)}`;
    const set = await getJson(`${proxy()}/lab/probe/session.php?set=${key}`);
    assert.equal(set.status, 200, JSON.stringify(set.json));
    const cookie = /LABSESSID=[^;]+/.exec(set.setCookie ?? '')?.[0];
    assert.ok(cookie, `a session cookie: ${set.setCookie}`);
    const sid = String(set.json.sessionId);
    const before = await getJson(`${proxy()}/lab/probe/session.php`, { cookie });
    assert.equal(before.json.value, key);
    assert.equal(before.json.sessionId, sid);

    await lab.cliOk(['fault', 'stop', 'redis']);
    let s = await statusUntil('redis down', (x) => !x.redis.up);
    assert.equal(s.redis.up, false);
    assert.equal(s.nodes.find((n) => n.name === 'redis')!.container, 'exited');
    assert.equal((await liveSnapshot()).redis.up, false, 'live snapshot: redis down');
    const during = await getJson(`${proxy()}/lab/probe/session.php`, { cookie });
    assert.equal(during.status, 500, JSON.stringify(during.json));
    assert.match(String(during.json.error), /session store \(redis\)/);

    await lab.cliOk(['heal']);
    s = await statusUntil('redis up', (x) => x.redis.up);
    assert.equal(s.redis.up, true);
    const afterHeal = await getJson(`${proxy()}/lab/probe/session.php`, { cookie });
    assert.equal(afterHeal.status, 200, JSON.stringify(afterHeal.json));
    assert.equal(afterHeal.json.value, null, `the session is gone: ${JSON.stringify(afterHeal.json)}`);
    // Strict session mode: the unknown id is not resurrected, PHP hands out a new one.
    assert.notEqual(afterHeal.json.sessionId, sid);
    console.log(
      `      session ${sid.slice(0, 8)}… held "${key}" before; after redis restart: value ${afterHeal.json.value}, new id ${String(afterHeal.json.sessionId).slice(0, 8)}…`,
    );
  });

  it('pause galera1 (a hung writer) → HAProxy takes it out of the writer listener within 5 s, on its agent (Galera evicted it); heal → UP again', async () => {
    assert.ok(status.endpoints.haproxyRuntime, 'the lab publishes its HAProxy runtime endpoint');
    const runtime = runtimeAt(status.endpoints.haproxyRuntime);
    const writer = async () => (await runtime.servers()).find((x) => x.backend === BACKENDS.dbWriter && x.server === 'galera1');
    assert.equal((await writer())?.status, 'UP');
    const pausedAt = Date.now();
    await lab.cliOk(['fault', 'pause', 'galera1']);
    // HAProxy's own check of a paused node connects (its kernel answers) and waits 2 × 5 s: 10 s.
    const down = await waitFor(
      async () => {
        const w = await writer();
        return w?.status === 'DOWN' ? ready(w) : notYet(`galera1 ${w?.rawStatus ?? w?.status}`);
      },
      { what: 'galera1 DOWN in the writer listener', timeoutMs: 20_000, intervalMs: 100 },
    );
    const downMs = Date.now() - pausedAt;
    console.log(`      galera1 paused → ${down.rawStatus ?? down.status} after ${downMs} ms (check ${down.checkStatus})`);
    assert.ok(downMs <= 5000, `galera1 DOWN after ${downMs} ms (want ≤ 5000: Galera evicts a silent node after 1 s)`);
    assert.equal(down.rawStatus, 'DOWN (agent)', 'the agent (Galera membership) took it out, not the 2 × 5 s check');
    await lab.cliOk(['heal']);
    // Back when it has rejoined (Synced, a member again): its check and its agent both say so.
    await waitFor(
      async () => {
        const w = await writer();
        return w?.status === 'UP' ? ready(w) : notYet(`galera1 ${w?.rawStatus ?? w?.status}`);
      },
      { what: 'galera1 UP in the writer listener after heal', timeoutMs: 60_000, intervalMs: 250 },
    );
  });

  it('kill galera3, write, kill galera2 and galera1 → heal recovers every position, bootstraps a highest (not galera3), size 3 Synced with every acknowledged row on all nodes', async () => {
    const rows: number[] = [];
    const write = async (tag: string) => {
      const r = await getJson(`${url('web1')}/lab/probe/db.php?write=${tag}-${randomUUID().slice(0, 6)}`);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      rows.push(Number(r.json.id));
    };
    for (let i = 0; i < 5; i++) await write(`fullcrash-${i}`);
    // galera3 dies first: the rows written after it are only on galera1 and galera2, so its
    // recovered seqno is lower and bootstrapping from it would lose them.
    await lab.cliOk(['fault', 'kill', 'galera3']);
    await statusUntil('Primary of 2 without galera3', (x) => x.galera.status === 'Primary' && x.galera.clusterSize === 2);
    for (let i = 0; i < 5; i++) await write(`after-galera3-${i}`);
    for (const n of ['galera2', 'galera1']) await lab.cliOk(['fault', 'kill', n]);
    let s = await statusUntil('galera down', (x) => x.galera.nodes.every((n) => n.state === 'exited'));
    assert.equal(s.galera.status, 'down');
    assert.equal(s.galera.clusterSize, 0);
    assert.equal((await liveSnapshot()).galera.status, 'down', 'live snapshot: galera down');
    const w = await getJson(`${url('web1')}/lab/probe/db.php?write=while-down`);
    assert.equal(w.status, 500);

    const heal = await lab.cliOk(['heal']);
    const said = heal.stderr.split('\n').filter((l) => /galera: /.test(l));
    console.log(said.map((l) => `      | ${l}`).join('\n'));
    assert.ok(
      said.some((l) => /every node crashed/.test(l)),
      heal.stderr,
    );
    for (const n of ['galera1', 'galera2', 'galera3'])
      assert.ok(
        said.some((l) => new RegExp(`${n} recovered position [0-9a-f-]+:\\d+`).test(l)),
        `${n}'s recovered position printed`,
      );
    const choice = said.find((l) => /bootstraps the cluster: highest recovered seqno/.test(l));
    assert.ok(choice, 'the choice and its reason printed');
    const positions = [...choice.matchAll(/(galera\d) (-?\d+)/g)].map((m) => ({ node: m[1]!, seqno: Number(m[2]) }));
    const chosen = /(galera\d) bootstraps/.exec(choice)![1]!;
    const max = Math.max(...positions.map((p) => p.seqno));
    assert.equal(positions.length, 3);
    assert.equal(positions.find((p) => p.node === chosen)?.seqno, max, 'the chosen node has the highest recovered seqno');
    assert.ok(positions.find((p) => p.node === 'galera3')!.seqno < max, 'galera3, dead first, recovered a lower seqno');
    assert.notEqual(chosen, 'galera3');

    s = await lab.status();
    assert.equal(s.galera.status, 'Primary');
    assert.equal(s.galera.clusterSize, 3);
    assert.ok(
      s.galera.nodes.every((n) => n.state === 'Synced' && n.ready),
      JSON.stringify(s.galera.nodes),
    );
    for (const node of ['galera1', 'galera2', 'galera3']) {
      const id = await lab.containerId(node);
      const out = await sql(lab.docker.containers, id, rootPw, `SELECT COUNT(*) FROM labprobe.probes WHERE id IN (${rows.join(',')})`);
      assert.equal(Number(out.trim()), rows.length, `every acknowledged row on ${node}`);
    }
    // And the cluster takes writes again.
    const again = await getJson(`${url('web1')}/lab/probe/db.php?write=after-recovery`);
    assert.equal(again.status, 200, JSON.stringify(again.json));
  });
});
