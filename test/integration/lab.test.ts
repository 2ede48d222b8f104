/**
 * The lab engine on a real Docker engine: the `ha` topology comes up through the CLI, the
 * cluster works end to end (sessions, files, rows across nodes), survives down/up with its data,
 * and destroy leaves nothing labelled.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { dockerAvailable, getJson, LabUnderTest } from '../support/integration';
import { sql } from '../../src/roles/galera';
import { tcpRuntime } from '../../src/roles/haproxy-runtime';
import { notYet, ready, waitFor } from '../../src/core/wait';
import type { LabStatus } from '../../src/protocol/status';

const LAB = process.env.LAB_TEST_NAME ?? 'mlt-engine';

function nodeUrl(status: LabStatus, node: string): string {
  const url = status.nodes.find((n) => n.name === node)?.url;
  assert.ok(url, `${node} has no direct URL in status`);
  return url;
}

function assertHealthyHa(s: LabStatus) {
  assert.equal(s.state, 'running');
  assert.equal(s.nodes.length, 11);
  const unhealthy = s.nodes.filter((n) => !n.healthy).map((n) => `${n.name}: ${n.container} ${n.detail ?? ''}`);
  assert.deepEqual(unhealthy, [], 'every node healthy');
  assert.equal(s.galera.clusterSize, 3);
  assert.equal(s.galera.status, 'Primary');
  assert.deepEqual(
    s.galera.nodes.map((n) => `${n.name}:${n.state}:${n.ready}`),
    ['galera1:Synced:true', 'galera2:Synced:true', 'galera3:Synced:true'],
  );
  assert.deepEqual(
    s.gluster.bricks.map((b) => `${b.name}:${b.online}`),
    ['gluster1:true', 'gluster2:true', 'gluster3:true'],
  );
  assert.equal(s.redis.up, true);
  const web = s.haproxy.servers.filter((x) => x.backend === 'web').map((x) => `${x.server}:${x.status}`);
  assert.deepEqual(web, ['web1:UP', 'web2:UP', 'web3:UP']);
}

describe(`lab engine on a real Docker engine (lab "${LAB}")`, function () {
  this.timeout(1_800_000);
  const lab = new LabUnderTest(LAB);
  const marker = `it-${randomUUID().slice(0, 8)}`;
  let rowId = 0;

  before(async function () {
    const ok = await dockerAvailable();
    if (ok !== true) {
      console.log(`    skipped: no Docker engine answers (${ok}). Start one (see README) to run the integration tier.`);
      this.skip();
    }
    // A leftover lab of an interrupted run: remove it by label first.
    await lab.cli(['destroy']);
  });

  after(async function () {
    if (process.env.LAB_TEST_KEEP) return;
    await lab.cli(['destroy']);
  });

  it('`up --no-moodle` brings up the 11-node ha topology; status --json shows every node healthy', async () => {
    await lab.cliOk(['up', '--no-moodle']);
    assertHealthyHa(await lab.status());
  });

  it('one stray unauthenticated redis-cli does not make Redis look down (health is an authenticated PING)', async () => {
    const redis = await lab.containerId('redis');
    const stray = await lab.docker.containers.exec(redis, ['redis-cli', 'ping']);
    assert.match(stray.stdout + stray.stderr, /NOAUTH/);
    // What fooled the old check: INFO (authenticated) now counts that NOAUTH error.
    const state = JSON.parse(fs.readFileSync(`${lab.home}/${LAB}/state.json`, 'utf8'));
    const info = await lab.docker.containers.exec(redis, ['redis-cli', 'info'], { env: [`REDISCLI_AUTH=${state.secrets.redisPassword}`] });
    assert.match(info.stdout, /errorstat_NOAUTH:count=\d+/);
    // A status whose exec timed out on a busy host may say down; one that asked must say up.
    const s = await waitFor(
      async () => {
        const st = await lab.status();
        return st.redis.up ? ready(st) : notYet(`redis: ${JSON.stringify(st.redis)}`);
      },
      { what: 'status saying redis.up', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.equal(s.nodes.find((n) => n.name === 'redis')?.healthy, true);
    assert.equal(typeof s.redis.usedMemoryBytes, 'number');
  });

  it('the runtime port on the host is read-only: `set server` is refused there; `maintenance --node` drains through the admin socket', async () => {
    const s = await lab.status();
    const port = Number(/:(\d+)$/.exec(s.endpoints.haproxyRuntime ?? '')?.[1]);
    assert.ok(port > 0, `runtime endpoint ${s.endpoints.haproxyRuntime}`);
    const tcp = tcpRuntime(port);
    assert.match(await tcp('set server web/web1 state maint'), /Permission denied/);
    assert.match(await tcp('show stat'), /^# pxname,svname/, 'show stat still answers on the read-only socket');
    const web1 = (await lab.status()).haproxy.servers.find((x) => x.backend === 'web' && x.server === 'web1');
    assert.equal(web1?.status, 'UP', 'web1 stays UP: the refused command put nothing in maintenance');
    const on = await lab.cliOk(['maintenance', 'on', '--node', 'web2']);
    assert.match(on.stdout, /web2: DRAIN in HAProxy/);
    assert.equal((await lab.status()).haproxy.servers.find((x) => x.backend === 'web' && x.server === 'web2')?.status, 'DRAIN');
    const off = await lab.cliOk(['maintenance', 'off', '--node', 'web2']);
    assert.match(off.stdout, /web2: UP in HAProxy/);
  });

  it('a session value written through web1 is read through web3 (PHP sessions in Redis)', async () => {
    const s = await lab.status();
    const set = await getJson(`${nodeUrl(s, 'web1')}/lab/probe/session.php?set=${marker}`);
    assert.equal(set.status, 200, JSON.stringify(set.json));
    const cookie = /LABSESSID=[^;]+/.exec(set.setCookie ?? '')?.[0];
    assert.ok(cookie, 'web1 set a session cookie');
    const get = await getJson(`${nodeUrl(s, 'web3')}/lab/probe/session.php`, { cookie });
    assert.equal(get.json.node, 'web3');
    assert.equal(get.json.value, marker);
    assert.equal(get.json.setBy, 'web1');
  });

  it('a file written through web1 is read through web2 (Gluster replica 3)', async () => {
    const s = await lab.status();
    const w = await getJson(`${nodeUrl(s, 'web1')}/lab/probe/file.php?write=${marker}&value=${marker}-content`);
    assert.equal(w.status, 200, JSON.stringify(w.json));
    const r = await getJson(`${nodeUrl(s, 'web2')}/lab/probe/file.php?read=${marker}`);
    assert.equal(r.json.node, 'web2');
    assert.equal(r.json.value, `${marker}-content`);
  });

  it('a row written through the writer listener is read from each Galera node', async () => {
    const s = await lab.status();
    const w = await getJson(`${nodeUrl(s, 'web1')}/lab/probe/db.php?write=${marker}`);
    assert.equal(w.status, 200, JSON.stringify(w.json));
    rowId = Number(w.json.id);
    assert.ok(rowId > 0);
    const state = JSON.parse(fs.readFileSync(`${lab.home}/${LAB}/state.json`, 'utf8'));
    for (const node of ['galera1', 'galera2', 'galera3']) {
      const out = await sql(
        lab.docker.containers,
        await lab.containerId(node),
        state.secrets.dbRootPassword,
        `SELECT value FROM labprobe.probes WHERE id=${rowId}`,
      );
      assert.equal(out.trim(), marker, `row ${rowId} on ${node}`);
    }
  });

  it('`down` stops everything; `up` resumes with the file and the row still there', async () => {
    await lab.cliOk(['down']);
    const stopped = await lab.status();
    assert.equal(stopped.state, 'stopped');
    assert.ok(stopped.nodes.every((n) => n.container === 'exited'));
    await lab.cliOk(['up', '--no-moodle']);
    const s = await lab.status();
    assertHealthyHa(s);
    const f = await getJson(`${nodeUrl(s, 'web3')}/lab/probe/file.php?read=${marker}`);
    assert.equal(f.json.value, `${marker}-content`);
    for (const web of ['web1', 'web2', 'web3']) {
      const r = await getJson(`${nodeUrl(s, web)}/lab/probe/db.php?read=${rowId}&via=reader`);
      assert.equal((r.json.row as { value?: string } | undefined)?.value, marker, `row via reader from ${web}`);
    }
  });

  it('`destroy` leaves zero objects carrying the lab label, and keeps the images (shared by content) for the next lab', async () => {
    const ran = [...new Set((await lab.docker.containers.list({ 'io.moodle-lab.lab': lab.lab })).map((c) => c.image))].sort();
    assert.equal(ran.length, 5, ran.join(', '));
    for (const t of ran) assert.match(t, /^moodle-lab\/(haproxy|web|galera|gluster|redis):[0-9a-f]{16}$/);
    const r = await lab.cliOk(['destroy']);
    assert.match(r.stdout, /removed 11 containers/);
    assert.deepEqual(await lab.leftovers(), { containers: 0, networks: 0, volumes: 0, images: 0 });
    for (const t of ran) assert.equal(await lab.docker.images.exists(t), true, `${t} kept`);
  });
});
