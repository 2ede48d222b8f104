/**
 * Arbitrators on a real lab built from a lab file (no Moodle: the lab's own probes): two Galera
 * data nodes + garbd, a Gluster volume with an arbiter brick. What is asserted is what the
 * cluster reports (wsrep status, the volume's own brick list, a real write). Plus: a broken lab
 * file is refused with file:line:col, exit 2, and no Docker object is created.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freshLabOrSkip, getJson, LabUnderTest } from '../support/integration';
import { notYet, ready, waitFor } from '../../src/core/wait';
import { LABEL_LAB } from '../../src/docker/labels';
import type { LabStatus } from '../../src/protocol/status';

const LAB = process.env.LAB_TEST_ARBITERS_NAME ?? 'core-arbiters';
const LAB_FILE = path.resolve(__dirname, '../../lab/topologies/galera-2plus1.lab.yaml');

describe(`arbitrators on a real lab (lab "${LAB}", ${path.basename(LAB_FILE)})`, function () {
  this.timeout(1_800_000);
  const lab = new LabUnderTest(LAB);

  before(async function () {
    await freshLabOrSkip(this, lab);
  });
  after(async () => {
    await lab.destroyLeavingNothing();
  });

  it('a broken lab file: file:line:col, exit 2, and no Docker object carries the lab', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'broken-lab-'));
    const file = path.join(dir, 'broken.lab.yaml');
    fs.writeFileSync(file, 'name: broken\nroles:\n  web: { count: 1 }\n  db: { count: 2 }\n');
    const r = await lab.cli(['up', '--no-moodle', '--topology', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:16: db: count 2 is even`));
    assert.equal((await lab.docker.containers.list({ [LABEL_LAB]: LAB })).length, 0);
    assert.deepEqual(
      Object.values(await lab.leftovers()).filter((n) => n > 0),
      [],
    );
  });

  it('up: all healthy; status shows garbd as a member and the arbiter brick; kill galera2 keeps galera1 Primary and writable; heal → 3', async () => {
    await lab.cliOk(['up', '--no-moodle', '--topology', LAB_FILE]);
    let s = await lab.status();
    assert.deepEqual(
      s.nodes.map((n) => n.name),
      ['haproxy', 'web1', 'web2', 'galera1', 'galera2', 'gluster1', 'gluster2', 'gluster3', 'redis', 'garbd'],
    );
    assert.deepEqual(
      s.nodes.filter((n) => !n.healthy).map((n) => `${n.name}: ${n.detail}`),
      [],
    );
    assert.equal(s.nodes.find((n) => n.name === 'garbd')!.role, 'arbitrator');
    assert.deepEqual(s.galera.arbitrators, [{ name: 'garbd', member: true }]);
    assert.equal(s.galera.status, 'Primary');
    assert.equal(s.galera.clusterSize, 3, '2 data nodes + garbd');
    assert.deepEqual(
      s.gluster.bricks.map((b) => `${b.name}${b.arbiter ? ' (arbiter)' : ''}`),
      ['gluster1', 'gluster2', 'gluster3 (arbiter)'],
    );

    await lab.cliOk(['fault', 'kill', 'galera2']);
    s = await waitFor(
      async () => {
        const st = await lab.status();
        const g1 = st.galera.nodes.find((n) => n.name === 'galera1')!;
        return g1.clusterStatus === 'Primary' && g1.clusterSize === 2 ? ready(st) : notYet(`galera1 ${g1.clusterStatus}/${g1.clusterSize}`);
      },
      { what: 'galera1 Primary of size 2 (itself + garbd)', timeoutMs: 30_000, intervalMs: 250 },
    );
    // A real write through HAProxy's writer listener lands on galera1.
    const web1 = s.nodes.find((n) => n.name === 'web1')!.url!;
    const w = await getJson(`${web1}/lab/probe/db.php?write=arb-${Date.now()}`);
    assert.equal(w.status, 200, JSON.stringify(w.json));
    assert.equal(w.json.dbNode, 'galera1');

    await lab.cliOk(['heal']);
    const healed: LabStatus = await waitFor(
      async () => {
        const st = await lab.status();
        return st.galera.status === 'Primary' && st.galera.clusterSize === 3 ? ready(st) : notYet(`${st.galera.status}/${st.galera.clusterSize}`);
      },
      { what: 'Galera back to 3 members', timeoutMs: 240_000, intervalMs: 1000 },
    );
    assert.deepEqual(healed.galera.arbitrators, [{ name: 'garbd', member: true }]);
  });
});
