/**
 * Lab identity on a real Docker engine: a container someone else started with the lab's labels
 * (node galera1) is not adopted. `status` and `up` send it no exec (Docker's own events say so:
 * an exec would carry the lab's root DB password), `destroy` removes it and says so.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import type { DockerEvent } from '../../src/docker/types';
import { LABEL_ID, LABEL_LAB, LABEL_NODE, LABEL_ROLE } from '../../src/docker/labels';
import { notYet, ready, waitFor } from '../../src/core/wait';
import { CliRun, freshLabOrSkip, LabUnderTest } from '../support/integration';

const LAB = process.env.LAB_TEST_IDENTITY_NAME ?? 'mlt-identity';
const FOREIGN = 'io.moodle-lab.test-foreign';

/**
 * `up`, resumed (at most 3 runs) while it fails with exit 3: on a host so loaded that a readiness
 * wait runs out, the next `up` completes the lab (that is what `up` promises). Every run's stderr.
 */
async function upResuming(lab: LabUnderTest, args: string[]): Promise<CliRun[]> {
  const runs: CliRun[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await lab.cli(args);
    runs.push(r);
    if (r.code === 0) return runs;
    if (r.code !== 3) break;
  }
  throw new Error(`lab ${args.join(' ')} failed ${runs.length} times; last exit ${runs.at(-1)?.code}\n${runs.at(-1)?.stderr.slice(-3000)}`);
}

describe(`lab identity on a real Docker engine (lab "${LAB}")`, function () {
  this.timeout(1_800_000);
  const lab = new LabUnderTest(LAB);
  let foreignId = '';

  before(async function () {
    await freshLabOrSkip(this, lab);
  });

  after(async function () {
    if (process.env.LAB_TEST_KEEP) return;
    await lab.cli(['destroy']);
    if (foreignId) await lab.docker.containers.remove(foreignId).catch(() => undefined);
  });

  // The single topology (web1, galera1): light enough for a busy host, and it has a galera1.
  it('every object of a new lab carries the id kept in its state', async () => {
    await upResuming(lab, ['up', '--no-moodle', '--topology', 'single']);
    const state = JSON.parse(fs.readFileSync(`${lab.home}/${LAB}/state.json`, 'utf8')) as { extra: { identity?: { id: string } } };
    const id = state.extra.identity?.id;
    assert.match(id ?? '', /^[0-9a-f]{16}$/);
    const all = { [LABEL_LAB]: LAB };
    const mine = { [LABEL_LAB]: LAB, [LABEL_ID]: id! };
    assert.equal((await lab.docker.containers.list(mine)).length, 2);
    assert.equal((await lab.docker.containers.list(all)).length, 2);
    assert.deepEqual((await lab.docker.networks.list(mine)).length, (await lab.docker.networks.list(all)).length);
    assert.deepEqual((await lab.docker.volumes.list(mine)).length, (await lab.docker.volumes.list(all)).length);
    // The images are shared by content: the lab's containers run `moodle-lab/<name>:<hash>`, built
    // by this lab (then labelled with its id) or found built by an earlier one.
    for (const c of await lab.docker.containers.list(mine)) assert.match(c.image, /^moodle-lab\/(web|galera):[0-9a-f]{16}$/);
    const labelled = await lab.docker.images.list(all);
    assert.deepEqual(
      labelled.filter((i) => !i.tags.some((t) => t.startsWith('moodle-lab/'))),
      [],
      'no per-lab image',
    );
  });

  it('a foreign container labelled as galera1 gets no exec from `status` or `up`; `destroy` removes it and says so', async () => {
    const base = 'debian:trixie-slim';
    foreignId = await lab.docker.containers.create({
      name: `${LAB}-intruder`,
      image: base,
      hostname: 'intruder',
      labels: { [LABEL_LAB]: LAB, [LABEL_NODE]: 'galera1', [LABEL_ROLE]: 'db', [FOREIGN]: 'yes' },
      env: {},
      network: 'bridge',
      aliases: [],
      ports: [],
      volumes: [],
      capAdd: [],
      devices: [],
      stopTimeoutS: 1,
      cmd: ['sleep', 'infinity'],
    });
    await lab.docker.containers.start(foreignId);
    const events: DockerEvent[] = [];
    const stop = await lab.docker.events({ [FOREIGN]: 'yes' }, (e) => events.push(e));
    try {
      // The lab's own galera1 answers status (its exec may time out on a very busy host: ask again).
      const s = await waitFor(
        async () => {
          const st = await lab.status();
          return st.galera.nodes[0]?.state === 'Synced' ? ready(st) : notYet(`galera1: ${JSON.stringify(st.galera.nodes[0])}`);
        },
        { what: 'status: galera1 Synced', timeoutMs: 60_000, intervalMs: 1000 },
      );
      assert.equal(s.nodes.find((n) => n.name === 'galera1')?.healthy, true);
      const ups = await upResuming(lab, ['up', '--no-moodle']);
      for (const up of ups) assert.match(up.stderr, new RegExp(`ignoring container ${LAB}-intruder: .*not its id`));
      // A probe exec into the foreign container: the event stream does report execs on it.
      const probe = await lab.docker.containers.exec(foreignId, ['true']);
      assert.equal(probe.exitCode, 0);
      const created = () => events.filter((e) => e.action.startsWith('exec_create')).map((e) => e.action.trim());
      await waitFor(async () => (created().includes('exec_create: true') ? ready(true) : notYet(`events so far: ${events.map((e) => e.action).join(', ')}`)), {
        what: 'the probe exec in the event stream',
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      assert.ok(created().includes('exec_create: true'), `the probe exec shows in the events (${events.map((e) => e.action).join(', ')})`);
      assert.deepEqual(
        created().filter((a) => a !== 'exec_create: true'),
        [],
        "status/up exec'd into the foreign container",
      );
    } finally {
      stop();
    }
    const d = await lab.cliOk(['destroy']);
    assert.match(d.stderr, new RegExp(`also removed 1 object carrying lab "${LAB}"'s label but not its id .*container ${LAB}-intruder`));
    assert.deepEqual(await lab.leftovers(), { containers: 0, networks: 0, volumes: 0, images: 0 });
    foreignId = '';
  });
});
