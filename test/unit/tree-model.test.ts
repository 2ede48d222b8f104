import { strict as assert } from 'node:assert';
import { statusBarText, treeModel } from '../../src/vscode/tree-model';
import { labSnapshot } from '../support/lab-snapshot';

describe('VS Code tree: snapshot → tree items', () => {
  it('groups nodes by tier with state descriptions', () => {
    const tiers = treeModel(labSnapshot(0));
    assert.deepEqual(
      tiers.map((t) => [t.label, t.children.map((c) => c.label).join(','), t.description]),
      [
        ['Load balancer', 'haproxy', '1/1 healthy'],
        ['Moodle web', 'web1,web2,web3', '3/3 healthy'],
        ['Database (Galera)', 'galera1,galera2,galera3', '3/3 healthy'],
        ['Storage (Gluster)', 'gluster1,gluster2,gluster3', '3/3 healthy'],
        ['Cache (Redis)', 'redis', '1/1 healthy'],
      ],
    );
    const g1 = tiers[2]?.children[0];
    assert.equal(g1?.description, 'running · HAProxy UP · Synced');
    assert.equal(tiers[3]?.children[0]?.description, 'running · brick online');
    assert.match(g1?.tooltip ?? '', /wsrep: Synced, cluster size 3, Primary/);
  });

  it('shows a killed web node as down, with context for start and a warning tier', () => {
    const web = treeModel(labSnapshot(1))[1];
    const web2 = web?.children[1];
    assert.equal(web2?.description, 'exited · HAProxy DOWN');
    assert.deepEqual(web2?.icon, { id: 'error', color: 'testing.iconFailed' });
    assert.equal(web2?.contextValue, 'node role-web state-exited');
    assert.equal(web?.description, '2/3 healthy');
    assert.equal(web?.icon.color, 'list.warningForeground');
  });

  it('marks drained web nodes and active faults', () => {
    const s = labSnapshot(0, { activeFaults: [{ id: 'f1', kind: 'delay', nodes: ['web1'], detail: 'delay web1 200ms', appliedAt: '2026-01-01T00:00:00Z' }] });
    s.haproxy.servers[0] = { ...s.haproxy.servers[0]!, status: 'DRAIN' };
    const web1 = treeModel(s)[1]?.children[0];
    assert.equal(web1?.description, 'running · HAProxy DRAIN · ⚡ delay');
    assert.match(web1?.contextValue ?? '', /hap-drain/);
    assert.match(web1?.tooltip ?? '', /active faults: delay web1 200ms/);
  });

  it('is empty for an absent lab; the status bar tells state and metrics', () => {
    assert.deepEqual(treeModel(undefined), []);
    assert.deepEqual(treeModel(labSnapshot(0, { state: 'absent', nodes: [] })), []);
    assert.equal(statusBarText(labSnapshot(1)).text, '$(warning) bench: partial 10/11');
    assert.equal(
      statusBarText(labSnapshot(0, { metrics: { availability: 0.995, errorRate: 0.005, apdex: 0.9, p95Ms: 250 } })).text,
      '$(pass) bench: running 11/11 · $(pulse) 99.50% · p95 250 ms',
    );
    assert.equal(
      statusBarText(
        labSnapshot(0, { metrics: { running: true, availability: 0.995, errorRate: 0.005, apdex: 0.9, p95Ms: 250.4, users: 30, requests: 200, failures: 1 } }),
      ).text,
      '$(pass) bench: running 11/11 · $(pulse) 99.50% · p95 250 ms',
    );
    // the frozen figures of a finished run stay in the dashboard, not in the status bar
    assert.equal(
      statusBarText(labSnapshot(0, { metrics: { running: false, availability: 0.9, errorRate: 0.1, apdex: 0.5, p95Ms: 900 } })).text,
      '$(pass) bench: running 11/11',
    );
  });
});
