import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LabEngine, NodeFailedError } from '../../src/engine/lab';
import { BOOTSTRAP_REQUEST_PATH, GRASTATE_PATH } from '../../src/roles/galera';
import { HAPROXY_CONFIG_PATH } from '../../src/roles/haproxy';
import { StateStore } from '../../src/engine/state';
import { collectStatus } from '../../src/engine/status';
import { FakeDocker, healthyClusterHandlers } from '../support/fake-docker';
import type { ContainerSpec } from '../../src/docker/types';
import { ALL_UP_STAT, fakeEngineDeps, upProbes } from '../support/engine';

// HAProxy's `show stat` with every server of the ha topology UP.

function setup(lab = 'unit-lab') {
  const docker = new FakeDocker();
  docker.addImage('debian:trixie-slim');
  docker.execHandlers = healthyClusterHandlers();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-unit-'));
  const store = new StateStore(home);
  const steps: string[] = [];
  const engine = new LabEngine(fakeEngineDeps(docker, store, steps), lab);
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

  const builtTags = (docker: FakeDocker) => [...docker.imageMap.keys()].filter((t) => t !== 'debian:trixie-slim').sort();

  it('a second lab runs the images the first built (named by content, not by lab) with no build; destroy keeps them for it', async () => {
    const { docker, store, engine } = setup('unit-a');
    await engine.up();
    const tags = builtTags(docker);
    assert.equal(tags.length, 5);
    for (const t of tags) assert.match(t, /^moodle-lab\/(haproxy|web|galera|gluster|redis):[0-9a-f]{16}$/);
    for (const t of tags) assert.equal(docker.imageMap.get(t)!.labels['io.moodle-lab.lab'], 'unit-a', 'labelled by the lab that built it');
    const removed = await engine.destroy();
    assert.equal(removed.images, 0);
    assert.deepEqual(await engine.leftovers(), { containers: 0, networks: 0, volumes: 0, images: 0 });
    assert.deepEqual(builtTags(docker), tags, 'kept for the next lab');
    docker.calls = [];
    const b = new LabEngine(fakeEngineDeps(docker, store), 'unit-b');
    await b.up();
    assert.deepEqual(
      docker.calls.filter((c) => c.startsWith('build')),
      [],
    );
    const ran = new Set((await docker.containers.list({ 'io.moodle-lab.lab': 'unit-b' })).map((c) => c.image));
    assert.deepEqual([...ran].sort(), tags);
  });

  it('destroy --images removes the images the lab ran, but not while another lab runs them', async () => {
    const { docker, store, engine } = setup('unit-a');
    await engine.up();
    const tags = builtTags(docker);
    const b = new LabEngine(fakeEngineDeps(docker, store), 'unit-b');
    await b.up();
    const first = await engine.destroy({ images: true });
    assert.equal(first.images, 0);
    assert.deepEqual([...(first.keptImages ?? [])].sort(), tags);
    assert.deepEqual(builtTags(docker), tags);
    for (const c of await docker.containers.list({ 'io.moodle-lab.lab': 'unit-b' })) await docker.containers.stop(c.id, 1); // stopped ones still hold their images
    const second = await b.destroy({ images: true });
    assert.equal(second.images, 5, 'built by unit-a, run by unit-b: unit-b removes them');
    assert.equal(second.keptImages, undefined);
    assert.deepEqual(builtTags(docker), []);
  });

  it("destroy --images keeps the web image below a Moodle image another lab runs, and a Moodle image another lab's state records", async () => {
    const { docker, store, engine } = setup('unit-a');
    await engine.up();
    const web = builtTags(docker).find((t) => t.startsWith('moodle-lab/web:'))!;
    docker.addImage('moodle-lab/moodle:00000000000000aa', { 'io.moodle-lab.lab': 'other-lab' }, web);
    const other = await docker.containers.create({
      ...docker.containerMap.values().next().value!.spec,
      name: 'other-lab-web1',
      image: 'moodle-lab/moodle:00000000000000aa',
      labels: { 'io.moodle-lab.lab': 'other-lab' },
    });
    await docker.containers.stop(other, 1);
    docker.addImage('moodle-lab/moodle:00000000000000bb', { 'io.moodle-lab.lab': 'unit-a' }, web);
    fs.mkdirSync(path.join(store.home, 'lab-c'));
    fs.writeFileSync(path.join(store.home, 'lab-c', 'state.json'), JSON.stringify({ extra: { moodle: { image: 'moodle-lab/moodle:00000000000000bb' } } }));
    const removed = await engine.destroy({ images: true });
    assert.deepEqual([...(removed.keptImages ?? [])].sort(), ['moodle-lab/moodle:00000000000000bb', web]);
    assert.equal(removed.images, 4);
    assert.deepEqual(builtTags(docker), ['moodle-lab/moodle:00000000000000aa', 'moodle-lab/moodle:00000000000000bb', web]);
  });

  it('destroy --images also removes the web image below the Moodle image the lab ran, though a lab since destroyed built it', async () => {
    const { docker, engine } = setup('unit-a');
    docker.addImage('moodle-lab/web:00000000000000cc', { 'io.moodle-lab.lab': 'gone-lab' });
    docker.addImage('moodle-lab/moodle:00000000000000dd', { 'io.moodle-lab.lab': 'gone-lab' }, 'moodle-lab/web:00000000000000cc');
    const spec = { hostname: 'web1', labels: { 'io.moodle-lab.lab': 'unit-a' }, ports: [] } as unknown as ContainerSpec;
    await docker.containers.create({ ...spec, name: 'unit-a-web1', image: 'moodle-lab/moodle:00000000000000dd' });
    const removed = await engine.destroy({ images: true });
    assert.equal(removed.images, 2);
    assert.deepEqual(builtTags(docker), []);
  });

  it('destroy removes the images an older version tagged per lab', async () => {
    const { docker, engine } = setup();
    await engine.up();
    docker.addImage('unit-lab/web:0123456789abcdef', { 'io.moodle-lab.lab': 'unit-lab' });
    docker.addImage('unit-lab/moodle:0123456789abcdef', { 'io.moodle-lab.lab': 'unit-lab' }, 'unit-lab/web:0123456789abcdef');
    const removed = await engine.destroy();
    assert.equal(removed.images, 2);
    assert.ok(!docker.imageMap.has('unit-lab/web:0123456789abcdef'));
    assert.equal(builtTags(docker).length, 5);
  });

  it('down stops Galera one node after another with galera1 last; up resumes from the safe node', async () => {
    const { docker, engine } = setup();
    await engine.up();
    docker.calls = [];
    await engine.down();
    assert.deepEqual(
      order(docker.calls, 'stop ').filter((n) => n.startsWith('galera')),
      ['galera3', 'galera2', 'galera1'],
    );
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

  it('a stopped lab whose stats port was taken meanwhile: up moves it to the next free port, records it, and recreates HAProxy with it', async () => {
    const { docker, store, engine } = setup();
    await engine.up();
    await engine.down();
    const before = { ...engine.state()!.ports };
    const busy = new Set([before.stats!, before.stats! + 1]);
    const steps: string[] = [];
    const again = new LabEngine({ ...fakeEngineDeps(docker, store, steps), portProbe: async (p) => !busy.has(p) }, 'unit-lab');
    docker.calls = [];
    await again.up();
    const after = again.state()!.ports;
    assert.equal(after.stats, before.stats! + 2, "the next free port, skipping the lab's own");
    assert.equal(after.runtime, before.runtime);
    assert.equal(after.moodle, before.moodle);
    assert.ok(
      steps.some((m) => m === `port ${before.stats} (stats) is taken since the lab was made: haproxy moves it to ${after.stats}`),
      steps.join('\n'),
    );
    assert.deepEqual(order(docker.calls, 'create '), ['unit-lab-haproxy'], 'only HAProxy is recreated');
    const hap = [...docker.containerMap.values()].find((c) => c.spec.hostname === 'haproxy')!;
    assert.ok(
      hap.spec.ports.some((p) => p.hostPort === after.stats),
      JSON.stringify(hap.spec.ports),
    );
  });

  it("Moodle's port taken while the lab was down: up fails with one sentence naming it, and changes nothing", async () => {
    const { docker, store, engine } = setup();
    await engine.up();
    await engine.down();
    const before = structuredClone(engine.state()!);
    const again = new LabEngine({ ...fakeEngineDeps(docker, store), portProbe: async (p) => p !== before.ports.moodle }, 'unit-lab');
    docker.calls = [];
    await assert.rejects(
      again.up(),
      (e: Error) =>
        e.message ===
        `port ${before.ports.moodle} on 127.0.0.1 (moodle, haproxy) is taken by another program or lab since lab "unit-lab" was made, and it is the site's address (http://localhost:${before.ports.moodle}), so it cannot move: stop what holds it (another lab: \`npm run lab -- down --lab <name>\`), then run \`up\` again`,
    );
    assert.deepEqual(again.state()!.ports, before.ports);
    assert.deepEqual(
      docker.calls.filter((c) => /^(create|start|remove) /.test(c)),
      [],
    );
  });

  it("after heal, each role's afterHeal hook runs: Gluster's self-heal check on the first brick, with what it found told", async () => {
    const { docker, engine, steps } = setup();
    await engine.up();
    docker.calls = [];
    steps.length = 0;
    await engine.afterHeal();
    assert.deepEqual(
      docker.calls.filter((c) => c.startsWith('exec ')),
      ['exec gluster1 lab-volume-status moodledata'],
    );
    assert.ok(steps.includes('gluster: nothing pending heal (every brick is in sync)'), steps.join('\n'));
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
    docker.execHandlers.unshift((c, argv) =>
      c.spec.hostname === 'galera2' && argv[0] === 'mariadb' ? { stdout: 'wsrep_local_state_comment\tJoining\n', stderr: '', exitCode: 0 } : undefined,
    );
    await assert.rejects(
      engine.up(),
      (err: unknown) =>
        err instanceof NodeFailedError && err.node === 'galera2' && /wsrep_local_state_comment=Joining/.test(err.message) && /last line/.test(err.logs),
    );
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

  it("a failed image build surfaces the build's own error", async () => {
    const { docker, engine } = setup();
    docker.images.build = async () => {
      throw new Error("The command '/bin/sh -c apt-get install -y nosuchpkg' returned a non-zero code: 100");
    };
    await assert.rejects(engine.up(), /building the \w+ image failed: The command .*nosuchpkg.* returned a non-zero code: 100/);
    assert.equal(docker.calls.filter((c) => c.startsWith('create ')).length, 0);
  });
});

/** Makes one call of the fake engine throw once, as if `up` were interrupted right there (Ctrl-C, Docker gone). */
function interruptOnce<K extends 'containers' | 'volumes' | 'networks'>(
  docker: FakeDocker,
  client: K,
  method: string,
  when: (...args: unknown[]) => boolean,
): void {
  const target = docker[client] as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = target[method]!;
  let fired = false;
  target[method] = async (...args: unknown[]) => {
    if (!fired && when(...args)) {
      fired = true;
      throw new Error('interrupted');
    }
    return original(...args);
  };
}

describe('up resumes an interrupted up (fake engine)', () => {
  // Galera nodes left running by the interrupted up answer like a Primary component.
  const resumable = () => {
    const lab = setup();
    lab.docker.execHandlers.unshift((_c, argv) =>
      argv[0] === 'mariadb' && argv.join(' ').includes('Variable_name IN')
        ? { stdout: 'wsrep_local_state_comment\tSynced\nwsrep_cluster_status\tPrimary\nwsrep_ready\tON\n', stderr: '', exitCode: 0 }
        : undefined,
    );
    return lab;
  };
  const haproxyConfig = (docker: FakeDocker) => [...docker.containerMap.values()].find((c) => c.spec.hostname === 'haproxy')?.files.get(HAPROXY_CONFIG_PATH);

  it('HAProxy created but its config never copied in: the next up recreates it, configured, instead of reusing it', async () => {
    const { docker, engine, steps } = resumable();
    interruptOnce(docker, 'containers', 'putFile', (_id, p) => p === HAPROXY_CONFIG_PATH);
    await assert.rejects(engine.up(), /interrupted/);
    const half = [...docker.containerMap.values()].find((c) => c.spec.hostname === 'haproxy')!;
    assert.equal(half.state, 'created');
    assert.equal(half.files.has(HAPROXY_CONFIG_PATH), false);
    docker.calls = [];
    await engine.up();
    assert.ok(docker.calls.includes('remove unit-lab-haproxy'), docker.calls.join('\n'));
    assert.ok(!docker.containerMap.has(half.id));
    assert.ok(haproxyConfig(docker), 'the new HAProxy has its config');
    assert.ok(docker.calls.indexOf('put haproxy ' + HAPROXY_CONFIG_PATH) < docker.calls.indexOf('start haproxy'));
    assert.ok(steps.some((m) => /haproxy: created but never started .* recreating the container/.test(m)));
    assert.equal(docker.containerMap.size, 11);
  });

  it('HAProxy that was started without its config (or with an older one) is recreated with the current one', async () => {
    const { docker, engine, steps } = resumable();
    await engine.up();
    await engine.down();
    const lb = [...docker.containerMap.values()].find((c) => c.spec.hostname === 'haproxy')!;
    lb.files.set(HAPROXY_CONFIG_PATH, Buffer.from('global\n    stats socket ipv4@0.0.0.0:9999 level admin\n'));
    await engine.up();
    assert.ok(!docker.containerMap.has(lb.id), 'the old HAProxy container is gone');
    assert.doesNotMatch(haproxyConfig(docker)!.toString(), /ipv4@0\.0\.0\.0:9999 level admin/);
    assert.ok(steps.some((m) => /haproxy: configuration changed, recreating the container/.test(m)));
    await engine.down();
    const again = [...docker.containerMap.values()].find((c) => c.spec.hostname === 'haproxy')!;
    again.files.delete(HAPROXY_CONFIG_PATH);
    await engine.up();
    assert.ok(!docker.containerMap.has(again.id));
    assert.ok(steps.some((m) => /haproxy: no configuration .* recreating the container/.test(m)));
  });

  it('a node created but never started (start interrupted) is recreated, then started', async () => {
    const { docker, engine } = resumable();
    interruptOnce(docker, 'containers', 'start', (id) => docker.containerMap.get(id as string)?.spec.hostname === 'galera2');
    await assert.rejects(engine.up(), /galera2 failed: interrupted/);
    const half = [...docker.containerMap.values()].find((c) => c.spec.hostname === 'galera2')!;
    assert.equal(half.state, 'created');
    docker.calls = [];
    await engine.up();
    assert.ok(docker.calls.includes('remove unit-lab-galera2'));
    assert.ok(docker.calls.includes('start galera2'));
    assert.equal(docker.containerMap.size, 11);
    assert.ok([...docker.containerMap.values()].every((c) => c.state === 'running'));
  });

  it('network created, volumes not yet: the next up reuses the network and completes', async () => {
    const { docker, engine } = resumable();
    interruptOnce(docker, 'volumes', 'create', () => true);
    await assert.rejects(engine.up(), /interrupted/);
    assert.equal(docker.networkMap.size, 1);
    await engine.up();
    assert.equal(docker.networkMap.size, 1);
    assert.equal(docker.containerMap.size, 11);
  });

  it('volumes created, container not: the next up reuses the volumes and completes', async () => {
    const { docker, engine } = resumable();
    interruptOnce(docker, 'containers', 'create', (spec) => (spec as { hostname: string }).hostname === 'gluster2');
    await assert.rejects(engine.up(), /interrupted/);
    const volumes = [...docker.volumeMap.keys()].sort();
    assert.ok(volumes.includes('unit-lab-gluster2-bricks'));
    const createdAgain: string[] = [];
    const create = docker.volumes.create;
    docker.volumes.create = async (name, labels) => {
      createdAgain.push(name);
      return create(name, labels);
    };
    await engine.up();
    assert.deepEqual(
      createdAgain.filter((v) => volumes.includes(v)),
      [],
      'existing volumes are reused',
    );
    assert.equal(docker.containerMap.size, 11);
    const gluster2 = [...docker.containerMap.values()].find((c) => c.spec.hostname === 'gluster2')!;
    assert.deepEqual(gluster2.spec.volumes.map((v) => v.volume).sort(), ['unit-lab-gluster2-bricks', 'unit-lab-gluster2-glusterd']);
    assert.equal(docker.volumeMap.size, 9);
  });
});

describe('status and HAProxy admin (fake engine)', () => {
  const status = (docker: FakeDocker, engine: LabEngine) => collectStatus({ docker, ...upProbes() }, 'unit-lab', engine.state());
  const info = [
    '# Memory',
    'used_memory:1234567',
    'used_memory_human:1.18M',
    '',
    '# Errorstats',
    'errorstat_NOAUTH:count=1',
    '',
    '# Keyspace',
    'db0:keys=5,expires=2,avg_ttl=0',
    'db1:keys=2,expires=0,avg_ttl=0',
    '',
  ].join('\r\n');

  it('Redis is up when an authenticated PING answers PONG, although INFO keeps errorstat_NOAUTH from a stray client', async () => {
    const { docker, engine } = setup();
    await engine.up();
    docker.execHandlers.unshift((_c, argv) => (argv[0] === 'redis-cli' && argv[1] === 'info' ? { stdout: info, stderr: '', exitCode: 0 } : undefined));
    const s = await status(docker, engine);
    assert.equal(s.redis.up, true);
    assert.equal(s.redis.keys, 7);
    assert.equal(s.redis.usedMemoryBytes, 1234567);
    assert.equal(s.nodes.find((n) => n.name === 'redis')?.healthy, true);
    // The health question is PING, asked with the lab's password (in the environment, not argv).
    assert.ok(docker.calls.includes('exec redis redis-cli ping'));
  });

  it('Redis is down when PING does not answer PONG (wrong password, or no answer)', async () => {
    const { docker, engine } = setup();
    await engine.up();
    docker.execHandlers.unshift((_c, argv) =>
      argv[0] === 'redis-cli' && argv[1] === 'ping' ? { stdout: 'NOAUTH Authentication required.\n', stderr: '', exitCode: 0 } : undefined,
    );
    docker.execHandlers.unshift((_c, argv) =>
      argv[0] === 'redis-cli' && argv[1] === 'info' ? { stdout: 'used_memory:1\r\n', stderr: '', exitCode: 0 } : undefined,
    );
    const s = await status(docker, engine);
    assert.equal(s.redis.up, false);
    assert.equal(s.redis.keys, undefined);
    assert.match(s.nodes.find((n) => n.name === 'redis')?.detail ?? '', /PING: NOAUTH/);
  });

  it('state changes go to the admin socket inside the HAProxy container (docker exec), never to the published port', async () => {
    const { docker, engine } = setup();
    await engine.up();
    docker.execHandlers.unshift((c, argv) =>
      c.spec.hostname === 'haproxy' && argv[0] === 'lab-haproxy-admin'
        ? { stdout: argv[1] === 'show stat' ? ALL_UP_STAT.replace('web,web2,UP', 'web,web2,DRAIN') : '\n', stderr: '', exitCode: 0 }
        : undefined,
    );
    const admins = await engine.haproxyAdmins();
    assert.deepEqual(
      admins.map((a) => a.node),
      ['haproxy'],
    );
    const admin = admins[0]!.runtime;
    await admin.setServerState('web', 'web2', 'drain');
    assert.ok(
      docker.calls.includes('exec haproxy lab-haproxy-admin set server web/web2 state drain'),
      docker.calls.filter((c) => c.startsWith('exec haproxy')).join('\n'),
    );
    assert.equal((await admin.servers()).find((r) => r.server === 'web2')?.status, 'DRAIN');
    await engine.down();
    await assert.rejects(engine.haproxyAdmins(), /haproxy is exited: its runtime API needs it running/);
  });
});
