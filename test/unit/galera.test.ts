import { strict as assert } from 'node:assert';
import { chooseBootstrapNode, parseGrastate, parseStatusRows } from '../../src/engine/galera';

const grastate = (seqno: number, safe: 0 | 1) => parseGrastate(`# GALERA saved state\nversion: 2.1\nuuid:    9acf4d34-acdb-11e6-bcc3-d3e36276629f\nseqno:   ${seqno}\nsafe_to_bootstrap: ${safe}\n`);

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
    assert.throws(() => chooseBootstrapNode([{ node: 'galera1', grastate: grastate(-1, 0) }, { node: 'galera2', grastate: grastate(-1, 0) }]), /no Galera node is known to be safe/);
  });

  it('parses SHOW STATUS rows', () => {
    assert.deepEqual(parseStatusRows('wsrep_cluster_size\t3\nwsrep_ready\tON\n'), { wsrep_cluster_size: '3', wsrep_ready: 'ON' });
  });
});
