import { strict as assert } from 'node:assert';
import { chooseBootstrapNode, parseGrastate, parseStatusRows, survivorVerdict } from '../../src/roles/galera';

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
