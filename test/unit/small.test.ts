import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tarOneFile, untarFirstFile } from '../../src/docker/tar';
import { choosePort } from '../../src/engine/ports';
import { StateStore, newSecrets } from '../../src/engine/state';
import { resolveDefinition } from '../../src/engine/topology';
import { waitFor, WaitTimeoutError } from '../../src/core/wait';
import { fakeClock } from '../support/clock';
import { parseVolumeStatus } from '../../src/roles/gluster';

describe('tar', () => {
  it('round-trips one file, including sizes that are not a multiple of 512', async () => {
    for (const size of [0, 1, 511, 512, 513, 4000]) {
      const content = Buffer.alloc(size, 7);
      const archive = await tarOneFile('haproxy.cfg', content);
      assert.equal(archive.length % 512, 0);
      assert.deepEqual(await untarFirstFile(archive), content);
    }
  });

  it('keeps the mode, takes long names, and reads the first regular file after a folder entry', async () => {
    const long = `${'d'.repeat(120)}.cfg`;
    const archive = await tarOneFile(long, Buffer.from('x'), 0o600);
    assert.deepEqual(await untarFirstFile(archive), Buffer.from('x'));
    const tar = await import('tar-stream');
    const pack = tar.pack();
    pack.entry({ name: 'etc/', type: 'directory' });
    pack.entry({ name: 'etc/a.cfg' }, 'first');
    pack.entry({ name: 'etc/b.cfg' }, 'second');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    assert.equal((await untarFirstFile(Buffer.concat(chunks)))?.toString(), 'first');
    assert.equal(await untarFirstFile(Buffer.alloc(1024)), undefined, 'an empty archive has no file');
  });
});

describe('ports', () => {
  it('takes the preferred port when free, else the next free one, never one already given out', async () => {
    const busy = new Set([8080, 8081]);
    const probe = async (p: number) => !busy.has(p);
    assert.equal(await choosePort(9000, new Set(), probe), 9000);
    assert.equal(await choosePort(8080, new Set(), probe), 8082);
    assert.equal(await choosePort(8080, new Set([8082]), probe), 8083);
    await assert.rejects(
      choosePort(8080, new Set(), async () => false, 3),
      /no free port on 127\.0\.0\.1 between 8080 and 8082/,
    );
  });
});

describe('wait strategies', () => {
  it('polls until ready, without real sleeping', async () => {
    const clock = fakeClock();
    let n = 0;
    const v = await waitFor(async () => (++n >= 4 ? { ok: true as const, value: 'up' } : { ok: false as const, problem: `try ${n}` }), {
      what: 'x',
      timeoutMs: 10_000,
      intervalMs: 100,
      clock,
    });
    assert.equal(v, 'up');
    assert.equal(clock.slept, 300);
  });

  it('times out naming what it waited for and the last problem seen', async () => {
    const clock = fakeClock();
    await assert.rejects(
      waitFor(
        async () => {
          throw new Error('connection refused');
        },
        { what: 'galera2 (galera-synced)', timeoutMs: 5000, intervalMs: 1000, clock },
      ),
      (err: unknown) => err instanceof WaitTimeoutError && /galera2 \(galera-synced\): not ready after 5 s \(last: connection refused\)/.test(err.message),
    );
  });
});

describe('state store', () => {
  it('keeps secrets private (0600) and round-trips the state', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-state-'));
    const store = new StateStore(home);
    const state = {
      lab: 'x',
      createdAt: 'now',
      preset: 'ha' as const,
      webCount: 3,
      definition: resolveDefinition('ha'),
      baseImage: 'b',
      secrets: newSecrets(),
      ports: { moodle: 8080 },
      extra: {},
    };
    await store.create(state);
    assert.deepEqual(store.load('x'), state);
    assert.equal(fs.statSync(path.join(home, 'x', 'state.json')).mode & 0o777, 0o600);
    const s = newSecrets();
    assert.notEqual(s.dbPassword, s.dbRootPassword);
    assert.ok(s.dbPassword.length >= 20);
    await store.remove('x');
    assert.equal(store.load('x'), undefined);
  });
});

describe('gluster volume status', () => {
  it("reads the helper's JSON line, ignoring other output", () => {
    const s = parseVolumeStatus(
      'warning: something\n{"volume":"moodledata","exists":true,"started":true,"bricks":[{"host":"gluster1","online":true},{"host":"gluster2","online":false}],"healPending":4}\n',
    );
    assert.equal(s.started, true);
    assert.deepEqual(
      s.bricks.map((b) => b.online),
      [true, false],
    );
    assert.equal(s.healPending, 4);
    assert.throws(() => parseVolumeStatus('Connection failed'), /printed no JSON/);
  });
});

describe('gluster volume status: the arbiter brick', () => {
  it('marks the brick volume info calls an arbiter, and only that one', () => {
    const s = parseVolumeStatus(
      '{"volume":"moodledata","exists":true,"started":true,"bricks":[{"host":"gluster1","path":"/bricks/moodledata","online":true},{"host":"gluster3","path":"/bricks/moodledata","online":true,"arbiter":true}],"healPending":0}',
    );
    assert.deepEqual(
      s.bricks.map((b) => `${b.host}${b.arbiter ? ' arbiter' : ''}`),
      ['gluster1', 'gluster3 arbiter'],
    );
  });
});
