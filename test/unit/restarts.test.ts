/**
 * Restarts are clean starts (a fresh /run), a brick glusterd wrongly believes running is
 * repaired, and an engine gone mid-command becomes one DockerUnavailableError.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { engineFailure, engineGoneMessage, guardEngine, isEngineGone } from '../../src/docker/engine-errors';
import { DockerUnavailableError } from '../../src/docker/types';
import { brickPidfile, ensureBricksOnline, healVolume } from '../../src/roles/gluster';
import { HaproxyRuntime } from '../../src/roles/haproxy-runtime';
import { LabEngine } from '../../src/engine/lab';
import { StateStore } from '../../src/engine/state';
import { ROLES } from '../../src/engine/topology';
import { ready, waitFor } from '../../src/core/wait';
import { fakeClock } from '../support/clock';
import { FakeDocker, healthyClusterHandlers } from '../support/fake-docker';

const LAB_ROOT = path.resolve(__dirname, '..', '..', 'lab');
const ok = (stdout: string) => ({ stdout, stderr: '', exitCode: 0 });

describe('restarts are clean starts', () => {
  it('every role mounts a fresh tmpfs on /run, and up creates the containers with it', async () => {
    for (const spec of Object.values(ROLES)) assert.match(spec.tmpfs['/run'] ?? '', /\bsize=/, spec.role);
    const docker = new FakeDocker();
    docker.addImage('debian:trixie-slim');
    docker.execHandlers = healthyClusterHandlers();
    const allUp = [
      '# pxname,svname,status',
      ...['web1', 'web2', 'web3'].map((w) => `web,${w},UP`),
      ...['galera1', 'galera2', 'galera3'].map((g) => `db_writer,${g},UP`),
    ].join('\n');
    const engine = new LabEngine(
      {
        docker,
        store: new StateStore(fs.mkdtempSync(path.join(os.tmpdir(), 'restarts-unit-'))),
        labRoot: LAB_ROOT,
        clock: fakeClock(),
        portProbe: async () => true,
        http: async () => ({ status: 200, body: 'ok' }),
        runtime: () => new HaproxyRuntime(async () => allUp),
      },
      'unit-restarts',
    );
    await engine.up({ preset: 'ha' });
    const created = [...docker.containerMap.values()];
    assert.equal(created.length, 11);
    for (const c of created) assert.ok(c.spec.tmpfs?.['/run'], `${c.spec.hostname} has no tmpfs on /run`);
  });
});

describe('ensureBricksOnline: a brick glusterd believes running but is not', () => {
  const pidfile = brickPidfile('moodledata', 'gluster2', '/bricks/moodledata');

  /** gluster1..3 in a fake engine; gluster2's brick offline until `start force` after its pidfile is gone. */
  function cluster(pidfileText: string, cmdlines: Record<number, string>) {
    const docker = new FakeDocker();
    docker.addImage('img');
    const state = { pidfile: pidfileText as string | undefined, online: false, forced: 0 };
    docker.execHandlers = [
      (_c, argv) =>
        argv[0] === 'lab-volume-status'
          ? ok(
              JSON.stringify({
                volume: 'moodledata',
                exists: true,
                started: true,
                bricks: ['gluster1', 'gluster2', 'gluster3'].map((host) => ({ host, path: '/bricks/moodledata', online: host !== 'gluster2' || state.online })),
                healPending: 0,
              }),
            )
          : undefined,
      (c, argv) => {
        if (c.spec.hostname !== 'gluster2' || argv[0] !== 'cat') return undefined;
        if (argv[1] === pidfile) return state.pidfile === undefined ? { stdout: '', stderr: 'No such file', exitCode: 1 } : ok(`${state.pidfile}\n`);
        const pid = Number(/^\/proc\/(\d+)\/cmdline$/.exec(argv[1] ?? '')?.[1]);
        return cmdlines[pid] !== undefined ? ok(cmdlines[pid]) : { stdout: '', stderr: 'No such file', exitCode: 1 };
      },
      (c, argv) => {
        if (argv[0] !== 'rm') return undefined;
        assert.equal(c.spec.hostname, 'gluster2');
        assert.deepEqual(argv, ['rm', '-f', pidfile]);
        state.pidfile = undefined;
        return ok('');
      },
      (_c, argv) => {
        if (argv.join(' ') !== 'gluster --mode=script volume start moodledata force') return undefined;
        state.forced++;
        // glusterd starts the brick only when the pidfile names no live process (what it checks).
        const pid = Number(state.pidfile);
        if (state.pidfile === undefined || cmdlines[pid] === undefined) state.online = true;
        return ok('volume start: moodledata: success');
      },
    ];
    const nodes = ['gluster1', 'gluster2', 'gluster3'].map((name) => ({ name, id: name }));
    for (const n of nodes)
      docker.containerMap.set(n.id, {
        id: n.id,
        name: n.name,
        image: 'img',
        state: 'running',
        labels: {},
        ports: {},
        spec: { hostname: n.name } as never,
        files: new Map(),
      });
    return { docker, state, nodes };
  }

  it('a stale pidfile naming another live process (PID 1) is removed, then start force brings the brick back', async () => {
    const { docker, state, nodes } = cluster('1', { 1: '/sbin/docker-init\0--\0/usr/bin/tini\0' });
    const lines: string[] = [];
    const s = await ensureBricksOnline(docker.containers, nodes, 'moodledata', { clock: fakeClock(), report: (l) => lines.push(l) });
    assert.equal(s.bricks.filter((b) => b.online).length, 3);
    assert.equal(state.pidfile, undefined);
    assert.equal(state.forced, 1);
    assert.match(lines.join('\n'), /gluster2:\/bricks\/moodledata offline, its pidfile names PID 1, which is not its glusterfsd/);
  });

  it("a pidfile naming the brick's own glusterfsd is kept while the brick connects", async () => {
    const glusterfsd = '/usr/sbin/glusterfsd\0-s\0gluster2\0--volfile-id\0moodledata.gluster2.bricks-moodledata\0-p\0x.pid\0--brick-name\0/bricks/moodledata\0';
    const { docker, state, nodes } = cluster('77', { 77: glusterfsd });
    const clock = fakeClock();
    // glusterd sees the brick online on its own after 3 s (within the grace period).
    docker.execHandlers.unshift(() => {
      if (clock.now() >= 3000) state.online = true;
      return undefined;
    });
    await ensureBricksOnline(docker.containers, nodes, 'moodledata', { clock, graceMs: 5000 });
    assert.equal(state.pidfile, '77');
    assert.equal(state.forced, 0);
    assert.equal(docker.calls.filter((c) => / rm /.test(c)).length, 0);
  });

  it('no pidfile and the brick still offline after the grace period: start force', async () => {
    const { docker, state, nodes } = cluster('', {});
    state.pidfile = undefined;
    const clock = fakeClock();
    await ensureBricksOnline(docker.containers, nodes, 'moodledata', { clock, graceMs: 5000 });
    assert.equal(state.forced, 1);
    assert.ok(clock.now() >= 5000, `start force only after the grace period (at ${clock.now()} ms)`);
    assert.equal(docker.calls.filter((c) => / rm /.test(c)).length, 0);
  });

  it('every brick online: nothing is read or started', async () => {
    const { docker, state, nodes } = cluster('1', {});
    state.online = true;
    await ensureBricksOnline(docker.containers, nodes, 'moodledata', { clock: fakeClock() });
    assert.deepEqual(docker.calls, ['exec gluster1 lab-volume-status moodledata']);
  });
});

describe('healVolume: self-heal after a brick came back', () => {
  function volume(pending: () => number, trigger: () => boolean) {
    const docker = new FakeDocker();
    docker.addImage('img');
    docker.containerMap.set('g1', {
      id: 'g1',
      name: 'gluster1',
      image: 'img',
      state: 'running',
      labels: {},
      ports: {},
      spec: { hostname: 'gluster1' } as never,
      files: new Map(),
    });
    docker.execHandlers = [
      (_c, argv) =>
        argv[0] === 'lab-volume-status'
          ? ok(JSON.stringify({ volume: 'moodledata', exists: true, started: true, bricks: [], healPending: pending() }))
          : undefined,
      (_c, argv) =>
        argv.join(' ') === 'gluster --mode=script volume heal moodledata'
          ? trigger()
            ? ok('Launching heal operation to perform index self heal on volume moodledata has been successful')
            : {
                stdout: '',
                stderr:
                  "Launching heal operation to perform index self heal on volume moodledata has been unsuccessful:\nGlusterd Syncop Mgmt brick op 'Heal' failed.",
                exitCode: 1,
              }
          : undefined,
    ];
    return docker;
  }

  it('a refused trigger (self-heal daemons not connected yet) is retried while waiting; pending 0 ends it', async () => {
    let tries = 0;
    let healed = false;
    const clock = fakeClock();
    const docker = volume(
      () => (healed ? 0 : 4),
      () => {
        tries++;
        if (tries < 3) return false;
        healed = true;
        return true;
      },
    );
    const lines: string[] = [];
    await healVolume(docker.containers, 'g1', 'moodledata', { clock, report: (l) => lines.push(l), retryMs: 5000 });
    assert.equal(tries, 3);
    assert.deepEqual(lines, [
      'gluster: 4 entries pending heal (written while a brick was down)',
      'gluster: self-heal triggered',
      'gluster: heal complete, nothing pending',
    ]);
  });

  it('the daemons heal by themselves while the trigger is still refused: done, no error', async () => {
    const clock = fakeClock();
    const docker = volume(
      () => (clock.now() >= 3000 ? 0 : 2),
      () => false,
    );
    await healVolume(docker.containers, 'g1', 'moodledata', { clock });
    assert.ok(clock.now() >= 3000);
  });

  it('still pending at the deadline: the error says what the trigger answered', async () => {
    const docker = volume(
      () => 2,
      () => false,
    );
    await assert.rejects(
      healVolume(docker.containers, 'g1', 'moodledata', { clock: fakeClock(), timeoutMs: 30_000 }),
      /gluster self-heal: not ready after 30 s \(last: 2 entries pending heal \(heal trigger refused: .*brick op 'Heal' failed/s,
    );
  });
});

describe('the Docker engine gone mid-command', () => {
  const where = 'unix:///tmp/gone.sock';
  const refused = () => Object.assign(new Error('connect ECONNREFUSED /tmp/gone.sock'), { code: 'ECONNREFUSED', syscall: 'connect' });

  it('socket errors of a gone engine are recognised; an engine answer or a missing file is not', () => {
    assert.equal(isEngineGone(refused()), true);
    assert.equal(isEngineGone(Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT', syscall: 'connect' })), true);
    assert.equal(isEngineGone(new Error('socket hang up')), true);
    assert.equal(isEngineGone(new Error('read ECONNRESET')), true, 'a message already flattened by the client');
    assert.equal(isEngineGone(Object.assign(new Error("ENOENT: no such file or directory, open 'lab/web/x'"), { code: 'ENOENT', syscall: 'open' })), false);
    assert.equal(isEngineGone(new Error('No such container: abc')), false);
    assert.equal(isEngineGone(new Error('Conflict. The container name "/x" is already in use')), false);
  });

  it('a guarded client turns every call of a gone engine into one DockerUnavailableError; other errors pass unchanged', async () => {
    const fake = new FakeDocker();
    let gone = false;
    const list = fake.containers.list;
    fake.containers.list = async (labels) => {
      if (gone) throw refused();
      return list(labels);
    };
    fake.images.exists = async () => {
      throw new Error('No such image: x');
    };
    const docker = guardEngine(fake, where);
    assert.deepEqual(await docker.containers.list({}), []);
    gone = true;
    await assert.rejects(docker.containers.list({}), (e: unknown) => e instanceof DockerUnavailableError && e.message === engineGoneMessage(where));
    assert.match(engineGoneMessage(where), /^the Docker engine does not answer at unix:\/\/\/tmp\/gone\.sock: start Docker/);
    await assert.rejects(docker.images.exists('x'), (e: unknown) => !(e instanceof DockerUnavailableError) && /No such image/.test((e as Error).message));
  });

  it('after any failure, a ping that fails says it was the engine; a ping that answers leaves the error alone', async () => {
    const fake = new FakeDocker();
    const stepFailed = new Error('galera2 (galera-synced): not ready after 240 s');
    assert.equal(await engineFailure(stepFailed, () => fake.ping(), where), undefined);
    fake.running = false;
    const e = await engineFailure(stepFailed, () => fake.ping(), where);
    assert.ok(e instanceof DockerUnavailableError);
    assert.equal(e.message, engineGoneMessage(where));
    const hung = await engineFailure(stepFailed, () => new Promise<void>(() => undefined), where, 20);
    assert.equal(hung?.message, engineGoneMessage(where), 'an engine that never answers the ping');
    const direct = new DockerUnavailableError('Docker is not running: x refused the connection.');
    assert.equal(await engineFailure(direct, () => fake.ping(), where), direct);
  });

  it('waitFor stops at once when the engine is gone (no polling until the deadline)', async () => {
    const clock = fakeClock();
    let calls = 0;
    await assert.rejects(
      waitFor(
        async () => {
          calls++;
          throw new DockerUnavailableError(engineGoneMessage(where));
        },
        { what: 'x', timeoutMs: 60_000, clock },
      ),
      DockerUnavailableError,
    );
    assert.equal(calls, 1);
    assert.equal(clock.now(), 0);
    assert.equal(await waitFor(async () => ready(1), { what: 'y', timeoutMs: 10, clock }), 1);
  });
});
