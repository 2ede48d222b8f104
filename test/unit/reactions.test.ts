import { strict as assert } from 'node:assert';
import { parseGrastate } from '../../src/roles/galera';
import { explainBootstrapChoice } from '../../src/roles/galera-start';
import { parseStorageProbe } from '../../src/roles/gluster';

describe('storage write probe (lab-storage-probe output)', () => {
  it('a completed write → writable, no error', () => {
    assert.deepEqual(parseStorageProbe('{"ok":true,"ms":12}\n'), { writable: true, ms: 12 });
  });

  it("a refused write → not writable, with the client's own words", () => {
    const p = parseStorageProbe(
      'noise\n{"ok":false,"ms":4,"error":"dd: failed to open \'/var/moodledata/.lab-storage-probe.web1.1.2\': Read-only file system"}\n',
    );
    assert.equal(p.writable, false);
    assert.match(p.error!, /Read-only file system/);
  });

  it('a failure without a message still says something; no JSON → an error', () => {
    assert.deepEqual(parseStorageProbe('{"ok":false}'), { writable: false, error: 'write failed' });
    assert.throws(() => parseStorageProbe('OCI runtime exec failed: executable file not found'), /printed no JSON/);
    assert.equal(parseStorageProbe('{"ok":"yes"}').writable, false, 'only a literal true counts');
  });
});

describe('Galera bootstrap explanation', () => {
  const g = (seqno: number, safe: 0 | 1 = 0) => parseGrastate(`uuid: 9acf4d34-acdb-11e6-bcc3-d3e36276629f\nseqno: ${seqno}\nsafe_to_bootstrap: ${safe}\n`);

  it('after a full crash: every recovered position, the highest chosen, ties named', () => {
    const text = explainBootstrapChoice(
      [
        { node: 'galera1', grastate: g(41) },
        { node: 'galera2', grastate: g(42) },
        { node: 'galera3', grastate: g(42) },
      ],
      'galera2',
      true,
      'highest seqno (42)',
    );
    assert.match(text, /^galera2 bootstraps the cluster: highest recovered seqno \(galera1 41, galera2 42, galera3 42\)/);
    assert.match(text, /galera3 holds the same position/);
    assert.match(text, /the others rejoin/);
  });

  it('a clean shutdown: the safe node, and why', () => {
    const text = explainBootstrapChoice(
      [
        { node: 'galera1', grastate: g(10, 1) },
        { node: 'galera2', grastate: g(9) },
      ],
      'galera1',
      false,
      'safe_to_bootstrap: 1 in grastate.dat',
    );
    assert.match(text, /galera1 bootstraps the cluster \(safe_to_bootstrap: 1 .*last node to leave/);
  });

  it('an unrecovered node is named, a new cluster says so', () => {
    assert.match(
      explainBootstrapChoice(
        [
          { node: 'galera1', grastate: g(5) },
          { node: 'galera2', grastate: g(-1) },
        ],
        'galera1',
        true,
        'x',
      ),
      /no position could be recovered for galera2/,
    );
    assert.equal(
      explainBootstrapChoice([{ node: 'galera1' }, { node: 'galera2' }], 'galera1', false, 'new cluster'),
      'galera1 bootstraps the cluster (new cluster)',
    );
  });
});
