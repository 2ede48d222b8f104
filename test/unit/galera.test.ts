import { strict as assert } from 'node:assert';
import { chooseBootstrapNode, parseGrastate, parseStatusRows, survivorVerdict } from '../../src/roles/galera';
import { GaleraStarter } from '../../src/roles/galera-start';
import type { NodeSpec, RoleLabState } from '../../src/roles/types';
import type { ContainerInfo } from '../../src/docker/types';
import { FakeContainer, FakeDocker } from '../support/fake-docker';
import { fakeClock } from '../support/clock';

const grastate = (seqno: number, safe: 0 | 1) =>
  parseGrastate(`# GALERA saved state\nversion: 2.1\nuuid:    9acf4d34-acdb-11e6-bcc3-d3e36276629f\nseqno:   ${seqno}\nsafe_to_bootstrap: ${safe}\n`);

describe('Galera bootstrap choice', () => {
  it('parses grastate.dat', () => {
    assert.deepEqual(grastate(1234, 1), { uuid: '9acf4d34-acdb-11e6-bcc3-d3e36276629f', seqno: 1234, safeToBootstrap: true });
  });

  it('a brand-new cluster bootstraps from the first node', () => {
    assert.equal(chooseBootstrapNode([{ node: 'galera1' }, { node: 'galera2' }, { node: 'galera3' }]).node, 'galera1');
  });

  it('after a clean shutdown, the node marked safe_to_bootstrap (the last to leave)', () => {
    const c = chooseBootstrapNode([
      { node: 'galera1', grastate: grastate(10, 0) },
      { node: 'galera2', grastate: grastate(12, 1) },
      { node: 'galera3', grastate: grastate(11, 0) },
    ]);
    assert.deepEqual(c, { node: 'galera2', reason: 'safe_to_bootstrap: 1 in grastate.dat' });
  });

  it('without a safe node, the highest seqno', () => {
    const c = chooseBootstrapNode([
      { node: 'galera1', grastate: grastate(10, 0) },
      { node: 'galera2', grastate: grastate(-1, 0) },
      { node: 'galera3', grastate: grastate(15, 0) },
    ]);
    assert.equal(c.node, 'galera3');
  });

  it('refuses to guess when every seqno is unknown after crashes', () => {
    assert.throws(
      () =>
        chooseBootstrapNode([
          { node: 'galera1', grastate: grastate(-1, 0) },
          { node: 'galera2', grastate: grastate(-1, 0) },
        ]),
      /no Galera node is known to be safe/,
    );
  });

  it('parses SHOW STATUS rows', () => {
    assert.deepEqual(parseStatusRows('wsrep_cluster_size\t3\nwsrep_ready\tON\n'), { wsrep_cluster_size: '3', wsrep_ready: 'ON' });
  });
});

describe('Galera survivors without a Primary component', () => {
  const g = (seqno: number) => ({ seqno, safeToBootstrap: false });

  it('a running Primary node: the others join it', () => {
    assert.deepEqual(survivorVerdict([{ node: 'galera1', primary: true, lastCommitted: 5 }], [{ node: 'galera2', grastate: g(9) }]), { kind: 'primary' });
  });

  it('the survivor holds every commit: the one with the highest last_committed bootstraps', () => {
    const v = survivorVerdict(
      [
        { node: 'galera1', primary: false, lastCommitted: 12 },
        { node: 'galera2', primary: false, lastCommitted: 14 },
      ],
      [{ node: 'galera3', grastate: g(14) }],
    );
    assert.deepEqual(v, { kind: 'survivor', node: 'galera2', lastCommitted: 14 });
  });

  it('a survivor cut off before the others crashed: the stopped node with the later commits wins, the survivor restarts', () => {
    const v = survivorVerdict(
      [{ node: 'galera1', primary: false, lastCommitted: 3 }],
      [
        { node: 'galera2', grastate: g(11) },
        { node: 'galera3', grastate: g(9) },
      ],
    );
    assert.equal(v.kind, 'restart');
    assert.equal(v.kind === 'restart' && v.ahead.node, 'galera2');
  });

  it('stopped nodes of unknown position never outrank a survivor', () => {
    assert.equal(
      survivorVerdict([{ node: 'galera1', primary: false, lastCommitted: 3 }], [{ node: 'galera2', grastate: g(-1) }, { node: 'galera3' }]).kind,
      'survivor',
    );
  });
});

describe('Galera start order on a running cluster', () => {
  const names = ['galera1', 'galera2', 'galera3'];
  function cluster(answerAfter: number) {
    const docker = new FakeDocker();
    const tries = new Map<string, number>();
    for (const name of names)
      docker.containerMap.set(name, { id: name, name, state: 'running', labels: {}, spec: { hostname: name }, files: new Map() } as unknown as FakeContainer);
    docker.execHandlers.push((c, argv) => {
      if (argv[0] !== 'mariadb') return undefined;
      const n = (tries.get(c.name) ?? 0) + 1;
      tries.set(c.name, n);
      // A saturated host: the exec times out (the client's error) until the answerAfter-th try.
      if (n < answerAfter) return { stdout: '', stderr: 'exec mariadb timed out after 5000 ms', exitCode: 124 };
      return { stdout: 'wsrep_cluster_status\tPrimary\nwsrep_last_committed\t42\n', stderr: '', exitCode: 0 };
    });
    const starter = new GaleraStarter({ docker, lab: 't', reporter: { step: () => undefined }, clock: fakeClock() });
    const nodes = names.map((name) => ({ name }) as unknown as NodeSpec);
    const ids = new Map(names.map((n) => [n, n]));
    const existing = new Map(names.map((n) => [n, { state: 'running' } as unknown as ContainerInfo]));
    const state = { secrets: { dbRootPassword: 'pw' } } as unknown as RoleLabState;
    return { run: () => starter.startOrder(state, nodes, ids, existing, new Set()), tries };
  }

  it('a status read that times out is asked again, not taken for "no node answers" (a heal under load failed so)', async () => {
    const { run, tries } = cluster(3);
    const order = await run();
    assert.deepEqual(
      order.map((n) => n.name),
      names,
    );
    assert.equal(tries.get('galera1'), 3);
  });

  it('no node answers for 30 s: one error that names each node and its problem', async () => {
    const { run } = cluster(Infinity);
    await assert.rejects(run(), /no running Galera node answered its status read in 30 s: galera1: exec mariadb timed out after 5000 ms; galera2: /);
  });
});
