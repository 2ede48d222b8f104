/**
 * Faults on a real `ha` lab (no Moodle needed: the lab's own probes), each followed by `heal`.
 * What is asserted is what the cluster itself reports (HAProxy, Galera, Gluster), not what our
 * code predicts.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { freshLabOrSkip, getJson, LabUnderTest } from '../support/integration';
import { sql } from '../../src/roles/galera';
import { notYet, ready, waitFor } from '../../src/core/wait';
import { HaproxyRuntime, tcpRuntime } from '../../src/roles/haproxy-runtime';
import type { LabStatus } from '../../src/protocol/status';

const LAB = process.env.LAB_TEST_FAULTS_NAME ?? 'mlt-faults';

describe(`faults on a real lab (lab "${LAB}")`, function () {
  this.timeout(1_800_000);
  const lab = new LabUnderTest(LAB);
  let status: LabStatus;
  let runtime: HaproxyRuntime;
  let rootPw = '';

  const url = (node: string) => status.nodes.find((n) => n.name === node)!.url!;
  const haproxyStatus = async (backend: string, server: string) =>
    (await runtime.servers()).find((s) => s.backend === backend && s.server === server)?.status ?? '?';
  const galera = (s: LabStatus, node: string) => s.galera.nodes.find((n) => n.name === node)!;
  /** Polls HAProxy's own view every 100 ms; the elapsed ms until `want` matches. */
  async function until(backend: string, server: string, want: RegExp, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    await waitFor(
      async () => {
        const st = await haproxyStatus(backend, server);
        return want.test(st) ? ready(st) : notYet(`${backend}/${server} is ${st}`);
      },
      { what: `${backend}/${server} ${want}`, timeoutMs, intervalMs: 100 },
    );
    return Date.now() - t0;
  }
  /**
   * After `partition galera1 from galera2,galera3`: galera1 out of the Primary component and BOTH
   * others in a size-2 view (each node installs the new view on its own: reading only one of
   * them raced the other's view change on a busy host).
   */
  const splitBrainSettled = () =>
    waitFor(
      async () => {
        const s = await lab.status();
        const views = ['galera1', 'galera2', 'galera3'].map((n) => `${n} ${galera(s, n).clusterStatus}/${galera(s, n).clusterSize}`).join(', ');
        const settled =
          galera(s, 'galera1').clusterStatus !== 'Primary' &&
          ['galera2', 'galera3'].every((n) => galera(s, n).clusterStatus === 'Primary' && galera(s, n).clusterSize === 2);
        return settled ? ready(s) : notYet(views);
      },
      { what: 'galera1 cut off, galera2 and galera3 Primary of size 2', timeoutMs: 30_000, intervalMs: 250 },
    );
  async function writeRow(value: string): Promise<{ id: number; dbNode: string }> {
    const r = await getJson(`${url('web1')}/lab/probe/db.php?write=${value}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    return { id: Number(r.json.id), dbNode: String(r.json.dbNode) };
  }

  before(async function () {
    await freshLabOrSkip(this, lab);
    await lab.cliOk(['up', '--no-moodle']);
    status = await lab.status();
    const state = JSON.parse(fs.readFileSync(`${lab.home}/${LAB}/state.json`, 'utf8'));
    rootPw = state.secrets.dbRootPassword;
    runtime = new HaproxyRuntime(tcpRuntime(state.ports.runtime));
  });

  // A restarted web node gets a new published port: read the status afresh before each test.
  beforeEach(async function () {
    if (runtime) status = await lab.status();
  });

  after(async function () {
    if (!process.env.LAB_TEST_KEEP) await lab.cli(['destroy']);
  });

  it('bad input: unknown node, missing option → one clear error, nothing changed', async () => {
    const r = await lab.cli(['fault', 'kill', 'web7']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown node "web7": this lab has haproxy, web1/);
    const p = await lab.cli(['fault', 'partition', 'galera1', '--from', 'db-of-another-lab']);
    assert.match(p.stderr, /unknown node "db-of-another-lab"/);
    assert.equal((await lab.status()).state, 'running');
  });

  it('kill web2 → DOWN in HAProxy within 2 s; heal → running and UP', async () => {
    await lab.cliOk(['fault', 'kill', 'web2']);
    const ms = await until('web', 'web2', /^DOWN/, 5000);
    assert.ok(ms <= 2000, `DOWN after ${ms} ms`);
    const s = await lab.status();
    assert.match(s.haproxy.servers.find((x) => x.server === 'web2' && x.backend === 'web')!.status, /^DOWN/);
    assert.equal(s.nodes.find((n) => n.name === 'web2')!.container, 'exited');
    await lab.cliOk(['heal']);
    assert.equal(await haproxyStatus('web', 'web2'), 'UP');
    assert.equal((await lab.status()).nodes.find((n) => n.name === 'web2')!.container, 'running');
  });

  it('pause web1 --for 10s → DOWN, then UP again by itself', async () => {
    const t0 = Date.now();
    const run = lab.cliOk(['fault', 'pause', 'web1', '--for', '10s']);
    await until('web', 'web1', /^DOWN/, 8000);
    await run; // returns once the fault has reverted itself
    assert.ok(Date.now() - t0 >= 10_000);
    await until('web', 'web1', /^UP$/, 8000);
  });

  it('partition galera1 from galera2,galera3 → galera1 non-Primary, the others Primary size 2, writes continue; heal → size 3 Synced', async () => {
    await lab.cliOk(['fault', 'partition', 'galera1', '--from', 'galera2,galera3']);
    let s = await splitBrainSettled();
    assert.notEqual(galera(s, 'galera1').clusterStatus, 'Primary');
    assert.equal(galera(s, 'galera1').ready, false);
    for (const n of ['galera2', 'galera3']) {
      assert.equal(galera(s, n).clusterStatus, 'Primary');
      assert.equal(galera(s, n).clusterSize, 2);
    }
    // The writer listener moved to a backup: writes keep being accepted.
    await until('db_writer', 'galera1', /^DOWN/, 10_000);
    const w = await writeRow(`part-${randomUUID().slice(0, 6)}`);
    assert.notEqual(w.dbNode, 'galera1');
    await lab.cliOk(['heal']);
    s = await lab.status();
    assert.equal(s.galera.clusterSize, 3);
    assert.ok(s.galera.nodes.every((n) => n.state === 'Synced'));
  });

  it('kill galera2 then galera3 → galera1 non-Primary; heal → size 3 Primary with every acknowledged row on all nodes', async () => {
    const rows = [];
    for (let i = 0; i < 5; i++) rows.push(await writeRow(`crash-${i}-${randomUUID().slice(0, 6)}`));
    await lab.cliOk(['fault', 'kill', 'galera2']);
    await lab.cliOk(['fault', 'kill', 'galera3']);
    let s = await waitFor(
      async () => {
        const st = await lab.status();
        return galera(st, 'galera1').clusterStatus === 'Primary' ? notYet('galera1 still Primary') : ready(st);
      },
      { what: 'galera1 out of the Primary component', timeoutMs: 15_000, intervalMs: 500 },
    );
    assert.equal(s.galera.status, 'non-Primary');
    assert.equal(galera(s, 'galera1').ready, false);
    await lab.cliOk(['heal']);
    s = await lab.status();
    assert.equal(s.galera.status, 'Primary');
    assert.equal(s.galera.clusterSize, 3);
    for (const node of ['galera1', 'galera2', 'galera3']) {
      const id = await lab.containerId(node);
      const out = await sql(lab.docker.containers, id, rootPw, `SELECT COUNT(*) FROM labprobe.probes WHERE id IN (${rows.map((r) => r.id).join(',')})`);
      assert.equal(Number(out.trim()), rows.length, `every acknowledged row on ${node}`);
    }
  });

  it('partition galera1, write on the majority, then kill galera2 and galera3 → heal restarts the stale galera1 and bootstraps from the node with the last commits: size 3, every acknowledged row on all nodes', async () => {
    await lab.cliOk(['fault', 'partition', 'galera1', '--from', 'galera2,galera3']);
    await splitBrainSettled();
    await until('db_writer', 'galera1', /^DOWN/, 10_000);
    const rows = [];
    for (let i = 0; i < 5; i++) rows.push(await writeRow(`cutoff-${i}-${randomUUID().slice(0, 6)}`));
    assert.ok(
      rows.every((r) => r.dbNode !== 'galera1'),
      JSON.stringify(rows),
    );
    await lab.cliOk(['fault', 'kill', 'galera2']);
    await lab.cliOk(['fault', 'kill', 'galera3']);
    const heal = await lab.cliOk(['heal']);
    // galera1 is running but never got those rows: it must not be the one that bootstraps.
    assert.match(heal.stderr, /galera1 never received .*stops cleanly/, heal.stderr);
    assert.doesNotMatch(heal.stderr, /galera1 \(last committed \d+\) bootstraps it/, heal.stderr);
    const s = await lab.status();
    assert.equal(s.galera.status, 'Primary');
    assert.equal(s.galera.clusterSize, 3);
    assert.ok(
      s.galera.nodes.every((n) => n.state === 'Synced'),
      JSON.stringify(s.galera.nodes),
    );
    for (const node of ['galera1', 'galera2', 'galera3']) {
      const id = await lab.containerId(node);
      const out = await sql(lab.docker.containers, id, rootPw, `SELECT COUNT(*) FROM labprobe.probes WHERE id IN (${rows.map((r) => r.id).join(',')})`);
      assert.equal(Number(out.trim()), rows.length, `every acknowledged row on ${node}`);
    }
  });

  it('stop gluster2 → 2 bricks online, files still readable and writable on every web node; heal → 3 online, nothing pending', async () => {
    await lab.cliOk(['fault', 'stop', 'gluster2']);
    let s = await lab.status();
    assert.equal(s.gluster.bricks.filter((b) => b.online).length, 2);
    const name = `brick-${randomUUID().slice(0, 6)}`;
    for (const web of ['web1', 'web2', 'web3']) {
      const w = await getJson(`${url(web)}/lab/probe/file.php?write=${name}-${web}&value=${web}`);
      assert.equal(w.status, 200, JSON.stringify(w.json));
    }
    for (const web of ['web1', 'web2', 'web3']) {
      const r = await getJson(`${url(web)}/lab/probe/file.php?read=${name}-web1`);
      assert.equal(r.json.value, 'web1');
    }
    await lab.cliOk(['heal']);
    s = await lab.status();
    assert.equal(s.gluster.bricks.filter((b) => b.online).length, 3);
    assert.equal(s.gluster.healPending, 0);
  });

  // delay, jitter, --to, loss and rate on any kernel: test/integration/impair.test.ts

  it('loss web3 --percent 100 → web3 unreachable directly, HAProxy takes it out; heal restores it', async () => {
    await lab.cliOk(['fault', 'loss', 'web3', '--percent', '100']);
    await assert.rejects(fetch(`${url('web3')}/lab/health.php`, { signal: AbortSignal.timeout(2000) }));
    await until('web', 'web3', /^DOWN/, 10_000);
    await lab.cliOk(['heal', 'web3']);
    const r = await fetch(`${url('web3')}/lab/health.php`, { signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 200);
    await until('web', 'web3', /^UP$/, 10_000);
  });

  it('maintenance on --node web2 → DRAIN with no failed request; off → UP', async () => {
    const on = await lab.cliOk(['maintenance', 'on', '--node', 'web2']);
    assert.match(on.stdout, /web2: DRAIN/);
    const proxy = status.endpoints.moodle!;
    let failed = 0;
    const served = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${proxy}/lab/health.php`);
      if (r.status !== 200) failed++;
      served.add((await r.text()).trim());
    }
    assert.equal(failed, 0);
    assert.ok(![...served].some((b) => b.includes('web2')), `drained web2 got no new requests: ${[...served].join(', ')}`);
    await lab.cliOk(['maintenance', 'off', '--node', 'web2']);
    assert.equal(await haproxyStatus('web', 'web2'), 'UP');
  });
});
