import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LabEngine, NodeFailedError } from '../../src/engine/lab';
import { BOOTSTRAP_REQUEST_PATH, GRASTATE_PATH } from '../../src/engine/galera';
import { HAPROXY_CONFIG_PATH } from '../../src/engine/haproxy';
import { StateStore } from '../../src/engine/state';
import { HaproxyRuntime } from '../../src/engine/haproxy-runtime';
import { fakeClock } from './fakes/clock';
import { FakeDocker, healthyClusterHandlers } from './fakes/fake-docker';

// HAProxy's `show stat` with every server of the ha topology UP.
const allUpStat = ['# pxname,svname,status', ...['web1', 'web2', 'web3'].map((w) => `web,${w},UP`), ...['galera1', 'galera2', 'galera3'].map((g) => `db_writer,${g},UP`)].join('\n');

const LAB_ROOT = path.resolve(__dirname, '..', '..', 'lab');

function setup(lab = 'unit-lab') {
  const docker = new FakeDocker();
  docker.addImage('debian:trixie-slim');
  docker.execHandlers = healthyClusterHandlers();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-unit-'));
  const store = new StateStore(home);
  const steps: string[] = [];
  const engine = new LabEngine(
    {
      docker,
      store,
      labRoot: LAB_ROOT,
      clock: fakeClock(),
      portProbe: async () => true,
      http: async () => ({ status: 200, body: 'ok' }),
      runtime: () => new HaproxyRuntime(async () => allUpStat),
      reporter: { step: (m) => steps.push(m), detail: () => undefined },
    },
    lab,
  );
  return { docker, store, engine, steps };
}

const order = (calls: string[], prefix: string) => calls.filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length));

describe('lab lifecycle (fake engine)', () => {
  it('up creates 11 labelled containers, bootstraps galera1 once, joins the others one by one, web last', async () => {
    const { docker, engine } = setup();
    await engine.up();
    const containers = await docker.containers.list({ 'io.moodle-lab.lab': 'unit-lab' });
    assert.equal(containers.length, 11);
    for (const c of containers) {
      assert.ok(c.labels['io.moodle-lab.node'], 'node label');
      assert.ok(c.labels['io.moodle-lab.role'], 'role label');
    }
    const galera1 = containers.find((c) => c.labels['io.moodle-lab.node'] === 'galera1')!;
    assert.ok(docker.calls.includes('put galera1 ' + BOOTSTRAP_REQUEST_PATH));
    assert.ok(!docker.calls.some((c) => /^put galera[23] /.test(c)), 'only one node may bootstrap');
    assert.ok(docker.containerMap.get(galera1.id)!.files.has(BOOTSTRAP_REQUEST_PATH));
    const starts = order(docker.calls, 'start ');
    assert.ok(starts.indexOf('galera1') < starts.indexOf('galera2') && starts.indexOf('galera2') < starts.indexOf('galera3'));
    for (const web of ['web1', 'web2', 'web3']) {
      for (const dep of ['haproxy', 'galera3', 'gluster3', 'redis']) assert.ok(starts.indexOf(dep) < starts.indexOf(web), `${dep} before ${web}`);
    }
    // The HAProxy config is in place before HAProxy starts.
    assert.ok(docker.calls.indexOf('put haproxy ' + HAPROXY_CONFIG_PATH) < docker.calls.indexOf('start haproxy'));
    // The volume is set up once every brick host is ready, before any web node mounts it.
    assert.ok(docker.calls.findIndex((c) => c.includes('lab-volume-setup moodledata gluster1 gluster2 gluster3')) < docker.calls.indexOf('start web1'));
    // Published ports bind loopback only.
    for (const c of docker.containerMap.values()) for (const p of c.spec.ports) assert.equal(p.hostIp, '127.0.0.1');
    // No secret literal: every password in the environment comes from the state's random secrets.
    const state = engine.state()!;
    assert.equal(docker.containerMap.get(galera1.id)!.spec.env.DB_PASSWORD, state.secrets.dbPassword);
  });

  it('images are built once per context and reused on the next up', async () => {
    const { docker, engine } = setup();
    await engine.up();
    const builds = docker.calls.filter((c) => c.startsWith('build ')).length;
    assert.equal(builds, 5);
    await engine.down();
    await engine.up();
    assert.equal(docker.calls.filter((c) => c.startsWith('build ')).length, 5);
  });

  it('down stops Galera one node after another with galera1 last; up resumes from the safe node', async () => {
    const { docker, engine } = setup();
    await engine.up();
    docker.calls = [];
    await engine.down();
    assert.deepEqual(order(docker.calls, 'stop ').filter((n) => n.startsWith('galera')), ['galera3', 'galera2', 'galera1']);
    // The node that left last is the one grastate marks safe; pretend galera2 left last this time.
    for (const c of docker.containerMap.values()) {
      const name = c.spec.hostname;
      if (name.startsWith('galera')) c.files.set(GRASTATE_PATH, Buffer.from(`seqno: 42\nsafe_to_bootstrap: ${name === 'galera2' ? 1 : 0}\n`));
    }
    docker.calls = [];
    await engine.up();
    assert.ok(docker.calls.includes('put galera2 ' + BOOTSTRAP_REQUEST_PATH));
    assert.ok(!docker.calls.includes('put galera1 ' + BOOTSTRAP_REQUEST_PATH));
    assert.equal(order(docker.calls, 'start ').filter((n) => n.startsWith('galera'))[0], 'galera2');
    assert.equal(docker.calls.filter((c) => c.startsWith('create ')).length, 0, 'resume creates nothing');
  });

  it('destroy removes every labelled object of this lab and nothing of another lab', async () => {
    const { docker, engine } = setup();
    docker.addImage('someone/else:1', { 'io.moodle-lab.lab': 'other-lab' });
    await docker.volumes.create('other-vol', { 'io.moodle-lab.lab': 'other-lab' });
    await engine.up();
    const removed = await engine.destroy();
    assert.equal(removed.containers, 11);
    assert.deepEqual(await engine.leftovers(), { containers: 0, networks: 0, volumes: 0, images: 0 });
    assert.ok(docker.imageMap.has('someone/else:1'));
    assert.ok(docker.volumeMap.has('other-vol'));
    assert.equal(engine.state(), undefined);
  });

  it('a node that never gets ready fails up with its name and last log lines; destroy still cleans', async () => {
    const { docker, engine } = setup();
    docker.execHandlers.unshift((c, argv) => (c.spec.hostname === 'galera2' && argv[0] === 'mariadb' ? { stdout: 'wsrep_local_state_comment\tJoining\n', stderr: '', exitCode: 0 } : undefined));
    await assert.rejects(engine.up(), (err: unknown) => err instanceof NodeFailedError && err.node === 'galera2' && /wsrep_local_state_comment=Joining/.test(err.message) && /last line/.test(err.logs));
    await engine.destroy();
    assert.deepEqual(await engine.leftovers(), { containers: 0, networks: 0, volumes: 0, images: 0 });
  });

  it('Docker not running: up fails at once and creates nothing', async () => {
    const { docker, engine } = setup();
    docker.running = false;
    await assert.rejects(engine.up(), /Docker is not running/);
    assert.equal(docker.calls.length, 0);
    assert.equal(engine.state(), undefined);
  });

  it('refuses to change the topology of an existing lab', async () => {
    const { engine } = setup();
    await engine.up();
    await assert.rejects(engine.up({ preset: 'single' }), /exists with topology "ha"/);
    await assert.rejects(engine.up({ webCount: 4 }), /exists with 3 web nodes/);
  });

  it('a failed image build surfaces the build\'s own error', async () => {
    const { docker, engine } = setup();
    docker.images.build = async () => {
      throw new Error("The command '/bin/sh -c apt-get install -y nosuchpkg' returned a non-zero code: 100");
    };
    await assert.rejects(engine.up(), /building the \w+ image failed: The command .*nosuchpkg.* returned a non-zero code: 100/);
    assert.equal(docker.calls.filter((c) => c.startsWith('create ')).length, 0);
  });
});
