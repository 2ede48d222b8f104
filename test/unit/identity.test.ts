/**
 * Lab identity: every object the lab creates carries its random id, and only objects carrying
 * it (or adopted once from a lab made before ids) are the lab's. A foreign container labelled
 * with the lab's name and a node name gets no exec (the lab's passwords go with execs).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LabEngine } from '../../src/engine/lab';
import { identityOf, LABEL_ID, LABEL_LAB, LABEL_NODE, LABEL_ROLE, ownsContainer } from '../../src/docker/labels';
import { StateStore } from '../../src/engine/state';
import { collectStatus } from '../../src/engine/status';
import { FakeDocker, healthyClusterHandlers } from '../support/fake-docker';
import { fakeEngineDeps, upProbes } from '../support/engine';

const LAB = 'unit-id';

function setup() {
  const docker = new FakeDocker();
  docker.addImage('debian:trixie-slim');
  docker.execHandlers = healthyClusterHandlers();
  const store = new StateStore(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-identity-')));
  const steps: string[] = [];
  const engine = new LabEngine(fakeEngineDeps(docker, store, steps), LAB);
  return { docker, store, engine, steps };
}

/** A container someone else started with the lab's labels: node galera1, no (or another) id. */
async function intruder(docker: FakeDocker, name = 'intruder', extra: Record<string, string> = {}): Promise<string> {
  const id = await docker.containers.create({
    name,
    image: 'debian:trixie-slim',
    hostname: name,
    labels: { [LABEL_LAB]: LAB, [LABEL_NODE]: 'galera1', [LABEL_ROLE]: 'db', ...extra },
    env: {},
    network: 'bridge',
    aliases: [],
    ports: [],
    volumes: [],
    capAdd: [],
    devices: [],
    stopTimeoutS: 1,
  });
  await docker.containers.start(id);
  return id;
}

const execsInto = (docker: FakeDocker, hostname: string) => docker.calls.filter((c) => c.startsWith(`exec ${hostname} `));

describe('lab identity (fake engine)', () => {
  it('every container, network, volume and image the lab creates carries the id kept in its state', async () => {
    const { docker, engine } = setup();
    await engine.up();
    const id = identityOf(engine.state())?.id;
    assert.match(id ?? '', /^[0-9a-f]{16}$/);
    assert.equal(docker.containerMap.size, 11);
    for (const c of docker.containerMap.values()) assert.equal(c.labels[LABEL_ID], id, `container ${c.name}`);
    for (const n of docker.networkMap.values()) assert.equal(n.labels[LABEL_ID], id, `network ${n.name}`);
    assert.ok(docker.volumeMap.size > 0);
    for (const v of docker.volumeMap.values()) assert.equal(v.labels[LABEL_ID], id, `volume ${v.name}`);
    const built = [...docker.imageMap.values()].filter((i) => i.labels[LABEL_LAB] === LAB);
    assert.equal(built.length, 5);
    for (const i of built) assert.equal(i.labels[LABEL_ID], id, `image ${i.tags[0]}`);
    // Two labs never share an id.
    const other = setup();
    await other.engine.up();
    assert.notEqual(identityOf(other.engine.state())?.id, id);
  });

  it('a foreign container labelled as galera1 gets no exec from up or status, and destroy names it', async () => {
    const { docker, engine, steps } = setup();
    await engine.up();
    await intruder(docker);
    await intruder(docker, 'intruder2', { [LABEL_ID]: 'feedfacefeedface' });
    docker.calls = [];
    await engine.down();
    await engine.up();
    assert.deepEqual([...execsInto(docker, 'intruder'), ...execsInto(docker, 'intruder2')], [], 'up execs into an intruder');
    assert.ok(!docker.calls.includes('stop intruder'), 'down stopped the intruder');
    assert.ok(
      steps.some((s) => /ignoring container intruder: .*not its id/.test(s)),
      steps.join('\n'),
    );
    const own = (await engine.containers()).get('galera1')!;
    assert.equal(own.name, `${LAB}-galera1`);

    docker.calls = [];
    const status = await collectStatus({ docker, ...upProbes() }, LAB, engine.state());
    assert.deepEqual([...execsInto(docker, 'intruder'), ...execsInto(docker, 'intruder2')], [], 'status execs into an intruder');
    assert.ok(execsInto(docker, 'galera1').length > 0, 'status asks the real galera1');
    assert.equal(status.nodes.length, 11);

    const removed = await engine.destroy();
    assert.deepEqual(removed.foreign?.sort(), ['container intruder', 'container intruder2']);
    assert.ok(steps.some((s) => /also removed 2 objects .* not its id .*container intruder/.test(s)));
    assert.deepEqual(await engine.leftovers(), { containers: 0, networks: 0, volumes: 0, images: 0 });
  });

  it('a foreign volume under a name the lab needs is refused with a clear error, not mounted', async () => {
    const { docker, engine } = setup();
    await docker.volumes.create(`${LAB}-galera1-data`, { [LABEL_LAB]: LAB, [LABEL_NODE]: 'galera1' });
    await assert.rejects(
      engine.up(),
      /a volume named unit-id-galera1-data carries lab "unit-id"'s label but not its id .*docker volume rm unit-id-galera1-data/,
    );
    assert.ok(![...docker.containerMap.values()].some((c) => c.spec.volumes.some((v) => v.volume === `${LAB}-galera1-data`)));
  });

  it('a lab made before ids is adopted once by its first up (nothing recreated); a later look-alike is not', async () => {
    const { docker, engine, store, steps } = setup();
    await engine.up();
    // Make it look like a lab of the previous version: no id anywhere.
    for (const o of [...docker.containerMap.values(), ...docker.networkMap.values(), ...docker.volumeMap.values()]) delete o.labels[LABEL_ID];
    await store.update(LAB, (s) => {
      delete (s.extra as Record<string, unknown>).identity;
    });
    await intruder(docker); // already there when the upgrade happens, but not under the lab's own name
    await engine.down();
    docker.calls = [];
    await engine.up();
    assert.equal(docker.calls.filter((c) => c.startsWith('create ') || c.startsWith('remove ')).length, 0, docker.calls.join('\n'));
    const identity = identityOf(engine.state())!;
    assert.ok(identity.id);
    assert.equal(identity.adopted?.containers.length, 11);
    assert.deepEqual(identity.adopted?.networks, [`${LAB}-net`]);
    assert.equal(identity.adopted?.volumes.length, docker.volumeMap.size);
    assert.ok(steps.some((s) => /made before labs had an id: adopting its 11 containers/.test(s)));
    assert.deepEqual(execsInto(docker, 'intruder'), []);
    const intruderInfo = [...docker.containerMap.values()].find((c) => c.name === 'intruder')!;
    assert.equal(ownsContainer(identity, intruderInfo), false);
    // A web node recreated later gets the id; the lab still has its 11 nodes.
    assert.equal((await engine.containers()).size, 11);
    // A second up adopts nothing more.
    await engine.down();
    await engine.up();
    assert.deepEqual(identityOf(engine.state()), identity);
  });

  it('a malformed identity in the state is one clear error', () => {
    assert.throws(() => identityOf({ extra: { identity: { id: 'x y' } } }), /"extra.identity" must be/);
    assert.equal(identityOf({ extra: {} }), undefined);
  });
});
