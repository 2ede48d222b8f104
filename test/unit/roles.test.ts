import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILTIN_LABS, buildTopology, MAX_WEB_NODES, PRESET_NAMES, ROLES, TopologyError } from '../../src/engine/topology';
import { WaitTimeoutError } from '../../src/core/wait';
import type { Role, RoleDisplay } from '../../src/protocol/status';
import { roleDisplays, roleModule, roleModules, roleOfNode } from '../../src/roles';
import { forAll, forCheck, waitUntil, withTimeout } from '../../src/roles/wait-strategies';
import { treeModel } from '../../src/vscode/tree-model';
import { panelViews } from '../../webview/panels';
import { nodeViews, toMermaid } from '../../webview/topology';
import { fakeClock } from '../support/clock';
import { labSnapshot } from '../support/lab-snapshot';

/** Every member of the Role union (a Record<Role, …>: tsc fails here when the union gains one). */
const EVERY_ROLE: Record<Role, true> = { lb: true, web: true, db: true, storage: true, cache: true, edge: true, arbitrator: true };
/** Members of the union whose module is still being written (issue 12): empty once each has landed. */
const NO_MODULE_YET: readonly Role[] = [];

describe('roles as modules: the registry', () => {
  it('has exactly one module per role of the Role union, each naming its own role', () => {
    assert.deepEqual(
      roleModules()
        .map((m) => m.role)
        .sort(),
      (Object.keys(EVERY_ROLE) as Role[]).filter((r) => !NO_MODULE_YET.includes(r)).sort(),
    );
    for (const m of roleModules()) {
      assert.equal(m.spec.role, m.role);
      assert.equal(m.display.role, m.role);
      assert.equal(roleModule(m.role), m);
      assert.equal(ROLES[m.role], m.spec, `ROLES.${m.role} is its module's spec`);
      assert.ok(fs.existsSync(path.join(__dirname, '..', '..', 'lab', m.spec.image, 'Dockerfile')), `lab/${m.spec.image}/Dockerfile`);
    }
    assert.deepEqual(
      Object.keys(ROLES).sort(),
      roleModules()
        .map((m) => m.role)
        .sort(),
    );
    const orders = roleModules().map((m) => m.display.order);
    assert.deepEqual(
      orders,
      [...orders].sort((a, b) => a - b),
      'in display order',
    );
    assert.equal(new Set(orders).size, orders.length, 'no two roles share an order');
    assert.deepEqual(
      roleDisplays(),
      roleModules().map((m) => m.display),
    );
  });

  it('every preset node (at any web-tier size) has a role module, and a node name maps back to its role', () => {
    for (const preset of PRESET_NAMES) {
      for (const web of preset === 'ha' ? [1, 3, MAX_WEB_NODES] : preset === 'single' ? [1] : [3]) {
        let t;
        try {
          t = buildTopology(preset, web);
        } catch (err) {
          // ha-full waits for role options other changes implement: until then one clear refusal.
          assert.ok(preset === 'ha-full' && err instanceof TopologyError && /is not available yet/.test(err.message), String(err));
          continue;
        }
        for (const n of t.nodes) {
          const m = roleModule(n.role);
          assert.deepEqual(n.spec, m.specFor?.(t.roles[n.role]!) ?? m.spec, `${preset}: ${n.name}`);
          assert.equal(roleOfNode(n.name)?.role, n.role, `${preset}: ${n.name} named like its role`);
        }
        for (const role of Object.keys(BUILTIN_LABS[preset].roles))
          assert.ok(
            roleModules().some((m) => m.role === role),
            `${preset} counts ${role}`,
          );
      }
    }
    assert.equal(roleOfNode('haproxy')?.role, 'lb');
    assert.equal(roleOfNode('web'), undefined, 'web nodes are always numbered');
    assert.equal(roleOfNode('nginx1'), undefined);
  });
});

describe('roles as modules: wait strategies', () => {
  it('forAll is ready only when every part is, and names the first part that is not', async () => {
    let dbUp = false;
    const s = forAll('both', [
      forCheck('a', 1000, async () => ({ ok: true, value: undefined })),
      forCheck('b', 5000, async () => (dbUp ? { ok: true, value: undefined } : { ok: false, problem: 'b not yet' })),
    ]);
    assert.equal(s.timeoutMs, 5000, 'the longest part');
    assert.deepEqual(await s.check(), { ok: false, problem: 'b not yet' });
    dbUp = true;
    assert.deepEqual(await s.check(), { ok: true, value: undefined });
  });

  it("each role's readiness: the strategy name and timeout `up` waited with before roles were modules", () => {
    const target = {
      docker: {} as never,
      state: { secrets: { redisPassword: 'x', dbRootPassword: 'y' } } as never,
      node: 'n1',
      containerId: 'c1',
      http: async () => ({ status: 200, body: '' }),
    };
    const got = Object.fromEntries(
      roleModules().map((m) => {
        const s = m.readiness(target);
        assert.equal(s.name, m.spec.readiness);
        return [m.role, [s.name, s.timeoutMs]];
      }),
    );
    assert.deepEqual(got, {
      lb: ['http-stats', 30_000],
      web: ['http-health', 150_000],
      db: ['galera-synced', 240_000],
      storage: ['glusterd', 60_000],
      cache: ['redis-ping', 30_000],
      edge: ['edge-forward', 30_000],
      // New with issue 12: garbd counted as a cluster member by a data node.
      arbitrator: ['galera-member', 60_000],
    });
  });

  it('waitUntil: ready once the check passes; on timeout the error names the target and the last problem seen', async () => {
    const clock = fakeClock();
    let calls = 0;
    await waitUntil(
      forCheck('x', 10_000, async () => (++calls < 3 ? { ok: false, problem: `try ${calls}` } : { ok: true, value: undefined })),
      { what: 'n1 (x)', clock },
    );
    assert.equal(calls, 3);
    let n = 0;
    const failing = withTimeout(
      forCheck('x', 1, async () => {
        n += 1;
        if (n % 2) throw new Error(`thrown ${n}`);
        return { ok: false, problem: `said ${n}` };
      }),
      3000,
    );
    await assert.rejects(waitUntil(failing, { what: 'n1 (x)', clock: fakeClock(), intervalMs: 500 }), (err: unknown) => {
      assert.ok(err instanceof WaitTimeoutError);
      assert.match(err.message, /^n1 \(x\): not ready after 3 s \(last: (thrown|said) \d+\)$/);
      assert.equal(err.lastProblem, `${n % 2 ? 'thrown' : 'said'} ${n}`);
      return true;
    });
  });
});

describe('roles as modules: the UIs draw a role they have never heard of', () => {
  // A role only a test knows: its display travels in the snapshot like the real ones'.
  const keepalived: RoleDisplay = {
    role: 'vip' as Role,
    order: 0.5,
    label: 'Virtual IP (keepalived)',
    icon: 'broadcast',
    reportTitle: 'keepalived (vip)',
    status: 'haproxy',
    diagram: { title: 'VIP', group: false, from: 'lb' },
  };
  const snapshot = () => {
    const s = labSnapshot(0);
    s.roles = [...s.roles, keepalived];
    s.nodes = [...s.nodes, { name: 'vip1', role: 'vip' as Role, container: 'running', healthy: false, detail: 'no VRRP peer' }];
    return s;
  };

  it('tree: a tier after the load balancer, with its node', () => {
    const tree = treeModel(snapshot());
    assert.deepEqual(
      tree.map((t) => t.id),
      ['lb', 'vip', 'web', 'db', 'storage', 'cache'],
    );
    const tier = tree[1]!;
    assert.equal(tier.label, 'Virtual IP (keepalived)');
    assert.equal(tier.icon.id, 'broadcast');
    assert.equal(tier.description, '0/1 healthy');
    assert.deepEqual(
      tier.children.map((c) => c.node),
      ['vip1'],
    );
    assert.match(tier.children[0]!.contextValue, /\brole-vip\b/);
    assert.match(tier.children[0]!.tooltip, /unhealthy \(no VRRP peer\)/);
  });

  it('diagram: its node, labelled by its display, linked from its role, with a state from its status source', () => {
    const s = snapshot();
    const text = toMermaid(s);
    assert.match(text, /\n {2}vip1\["VIP<br\/>up"\]\n/, 'its label, status line from HAProxy being up');
    assert.match(text, /\n {2}haproxy --> vip1\n/);
    assert.match(text, /class [^\n]*\bvip1\b[^\n]* labnode/);
    const view = nodeViews(s).find((v) => v.node === 'vip1');
    assert.equal(view?.state, 'degraded', 'unhealthy node of a running container');
    s.haproxy.up = false;
    assert.equal(nodeViews(s).find((v) => v.node === 'vip1')?.status, 'no answer');
  });

  it('panels: a table of its nodes (it has no status section of its own), after the section panels before it', () => {
    const panels = panelViews(snapshot());
    assert.deepEqual(
      panels.map((p) => p.key),
      ['haproxy', 'role-vip', 'galera', 'gluster', 'redis'],
    );
    const vip = panels[1]!;
    assert.equal(vip.title, 'Virtual IP (keepalived)');
    assert.deepEqual(vip.rows, [['vip1', 'running', 'unhealthy (no VRRP peer)']]);
    assert.deepEqual(vip.classes, ['st-down']);
    assert.deepEqual(
      panelViews(labSnapshot(0)).map((p) => p.key),
      ['haproxy', 'galera', 'gluster', 'redis'],
      'the real roles: the four section panels, as before',
    );
  });
});
