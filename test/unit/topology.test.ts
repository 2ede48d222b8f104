import { strict as assert } from 'node:assert';
import { BUILTIN_LABS, buildTopology, LabDefinition, nodesOf, roleOptions, sameRoles, TopologyError } from '../../src/engine/topology';
import { roleModule, roleModules } from '../../src/roles';
import type { RoleModule } from '../../src/roles/types';

describe('topology', () => {
  it('ha preset: the 11 nodes with the fixed names, roles and start order', () => {
    const t = buildTopology('ha');
    assert.deepEqual(
      t.nodes.map((n) => `${n.name}:${n.role}`),
      [
        'haproxy:lb',
        'web1:web',
        'web2:web',
        'web3:web',
        'galera1:db',
        'galera2:db',
        'galera3:db',
        'gluster1:storage',
        'gluster2:storage',
        'gluster3:storage',
        'redis:cache',
      ],
    );
    // Web nodes start only after everything they depend on.
    assert.equal(t.stages.length, 2);
    assert.deepEqual(t.stages[1], ['web']);
    assert.deepEqual([...t.stages[0]!].sort(), ['cache', 'db', 'lb', 'storage']);
    assert.equal(t.entry.name, 'haproxy');
  });

  it('single preset: one web node publishing the Moodle port, one DB, no Gluster, no Redis', () => {
    const t = buildTopology('single');
    assert.deepEqual(
      t.nodes.map((n) => n.name),
      ['web1', 'galera1'],
    );
    assert.equal(t.entry.name, 'web1');
    assert.deepEqual(
      t.entry.ports.map((p) => p.name),
      ['moodle'],
    );
    assert.deepEqual(t.stages, [['db'], ['web']]);
  });

  it('--web N varies the web tier only', () => {
    const t = buildTopology('ha', 5);
    assert.deepEqual(
      nodesOf(t, 'web').map((n) => n.name),
      ['web1', 'web2', 'web3', 'web4', 'web5'],
    );
    assert.equal(nodesOf(t, 'db').length, 3);
  });

  it('refuses impossible sizes and unknown presets with a clear message', () => {
    assert.throws(() => buildTopology('ha', 0), /--web must be a whole number from 1 to 9/);
    assert.throws(() => buildTopology('ha', 2.5), /--web must be/);
    assert.throws(() => buildTopology('single', 2), /exactly one web node/);
    assert.throws(() => buildTopology('huge' as never), /unknown topology "huge"/);
  });

  it('a definition builds the same topology as the built-in it spells out; the topology carries its name and options', () => {
    const def: LabDefinition = {
      name: 'mine',
      description: 'd',
      roles: { lb: { count: 1 }, web: { count: 2 }, db: { count: 3 }, storage: { count: 3 }, cache: { count: 1 } },
    };
    const t = buildTopology(def);
    assert.deepEqual(
      t.nodes.map((n) => n.name),
      buildTopology('ha', 2).nodes.map((n) => n.name),
    );
    assert.equal(t.name, 'mine');
    assert.equal(t.preset, 'mine');
    assert.deepEqual(roleOptions(t, 'db'), { count: 3 });
    assert.deepEqual(roleOptions(t, 'edge'), { count: 0 });
    assert.equal(t.entry.name, 'haproxy');
    assert.deepEqual(buildTopology('ha').roles, BUILTIN_LABS.ha.roles);
    assert.ok(sameRoles(buildTopology('ha').definition, BUILTIN_LABS.ha));
    assert.ok(!sameRoles(buildTopology('ha', 4).definition, BUILTIN_LABS.ha));
  });

  it('refuses a definition the role modules cannot build, naming the role and the option', () => {
    const base = BUILTIN_LABS.ha.roles;
    const bad = (roles: LabDefinition['roles']) => () => buildTopology({ name: 'x', description: '', roles: { ...base, ...roles } });
    const is = (re: RegExp, role: string, option?: string) => (err: unknown) =>
      err instanceof TopologyError && re.test(err.message) && err.role === role && err.option === option;
    assert.throws(bad({ nginx: { count: 1 } } as never), is(/unknown role "nginx": roles are lb, web, db, storage, cache/, 'nginx'));
    assert.throws(bad({ web: { count: 10 } }), is(/from 1 to 9/, 'web', 'count'));
    assert.throws(bad({ db: { count: 2 } }), is(/count 2 is even.*loses quorum when half of it \(either node\) dies.*arbitrator: true/, 'db', 'count'));
    assert.throws(bad({ storage: { count: 2 } }), is(/storage: count must be 3/, 'storage', 'count'));
    assert.throws(bad({ web: { count: 0 } }), is(/from 1 to 9/, 'web', 'count'));
    assert.throws(() => buildTopology({ name: 'x', description: '', roles: { web: { count: 1 } } }), /a lab needs the db role/);
    // An option a role module does not implement (yet) is one clear error, before anything is made.
    for (const [role, opts] of [
      ['web', { count: 3, keepalived: true }],
      ['storage', { count: 3, mode: 'sentinel' }],
    ] as const) {
      const implemented = roleModule(role).options ?? [];
      const option = Object.keys(opts).find((k) => k !== 'count')!;
      assert.ok(!implemented.includes(option as never));
      assert.throws(bad({ [role]: opts }), is(new RegExp(`${role}: option "${option}" is not available`), role, option));
    }
  });

  it('companions: a role module adds the nodes its options imply, named by their own role', () => {
    // A registry of its own: db's option implies one cache node (a role every version has).
    const db: RoleModule = {
      ...roleModule('db'),
      options: ['arbitrator'],
      checkOptions: undefined,
      companions: (o) => (o.arbitrator ? [{ role: 'cache', count: 1 }] : []),
    };
    const modules = roleModules().map((m) => (m.role === 'db' ? db : m));
    const t = buildTopology(
      { name: 'c', description: '', roles: { lb: { count: 1 }, web: { count: 2 }, db: { count: 2, arbitrator: true } } },
      undefined,
      modules,
    );
    assert.deepEqual(
      t.nodes.map((n) => `${n.name}:${n.role}`),
      ['haproxy:lb', 'web1:web', 'web2:web', 'galera1:db', 'galera2:db', 'redis:cache'],
    );
    assert.deepEqual(roleOptions(t, 'cache'), { count: 1 });
    assert.deepEqual(
      buildTopology({ name: 'c', description: '', roles: { web: { count: 1 }, db: { count: 1 } } }, undefined, modules).nodes.map((n) => n.name),
      ['web1', 'galera1'],
      'no option, no companion',
    );
    // A companion whose role this version lacks: one clear error.
    const toEdge: RoleModule = { ...db, companions: () => [{ role: 'edge', count: 1 }] };
    const without = roleModules()
      .filter((m) => m.role !== 'edge')
      .map((m) => (m.role === 'db' ? toEdge : m));
    assert.throws(
      () => buildTopology({ name: 'c', description: '', roles: { web: { count: 1 }, db: { count: 1, arbitrator: true } } }, undefined, without),
      /db: its options need an edge node, and the edge role is not available yet/,
    );
  });
});

describe('topology: arbitrators', () => {
  it('db arbitrator: one garbd node (role arbitrator) started after the data nodes; storage arbiter is an option of the same 3 bricks', () => {
    const t = buildTopology({
      name: 'g',
      description: '',
      roles: { lb: { count: 1 }, web: { count: 2 }, db: { count: 2, arbitrator: true }, storage: { count: 3, arbiter: true }, cache: { count: 1 } },
    });
    assert.deepEqual(
      t.nodes.map((n) => `${n.name}:${n.role}`),
      [
        'haproxy:lb',
        'web1:web',
        'web2:web',
        'galera1:db',
        'galera2:db',
        'gluster1:storage',
        'gluster2:storage',
        'gluster3:storage',
        'redis:cache',
        'garbd:arbitrator',
      ],
    );
    const stageOf = (r: string) => t.stages.findIndex((s) => s.includes(r as never));
    assert.ok(stageOf('arbitrator') > stageOf('db'), JSON.stringify(t.stages));
    assert.deepEqual(roleOptions(t, 'arbitrator'), { count: 1 });
    assert.equal(roleOptions(t, 'storage').arbiter, true);
    assert.equal(
      roleModule('arbitrator').env!(t.nodes.at(-1)!, t, { lab: 'l', secrets: {} as never, ports: {}, extra: {} }).GALERA_CLUSTER_ADDRESS,
      'gcomm://galera1,galera2',
    );
    // Listed by itself, it is refused: it comes with db's option.
    assert.throws(
      () => buildTopology({ name: 'g', description: '', roles: { web: { count: 1 }, db: { count: 1 }, arbitrator: { count: 1 } } }),
      /role "arbitrator" is not listed itself: it comes with `db: \{ count: 2, arbitrator: true \}`/,
    );
  });
});
