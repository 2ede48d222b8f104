import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LabEngine } from '../../src/engine/lab';
import { StateStore } from '../../src/engine/state';
import { collectStatus } from '../../src/engine/status';
import { buildTopology, LabDefinition, TopologyError } from '../../src/engine/topology';
import { nodeEnv } from '../../src/engine/env';
import { edgeConfig, renderEdgeConfig } from '../../src/roles/edge';
import { HAPROXY_CONFIG_PATH } from '../../src/roles/haproxy';
import { KEEPALIVED_CONFIG_PATH } from '../../src/roles/keepalived';
import { lbAddress, lbStatus, vipEvents } from '../../src/roles/lb';
import type { LbStatus } from '../../src/protocol/status';
import { FakeDocker, healthyClusterHandlers } from '../support/fake-docker';
import { fakeEngineDeps } from '../support/engine';
import { PAIR } from '../support/lb-pair';
import { labSnapshot } from '../support/lab-snapshot';
import { nodeViews, toMermaid } from '../../webview/topology';
import { panelViews } from '../../webview/panels';
import { treeModel } from '../../src/vscode/tree-model';

const vrrpJson = (state: string, ...ips: string[]) =>
  JSON.stringify({
    keepalived: true,
    state,
    since: 1_800_000_000_000,
    addrs: [{ ifname: 'eth0', addr_info: ips.map((local) => ({ family: 'inet', local })) }],
  });

function setup() {
  const docker = new FakeDocker();
  docker.addImage('debian:trixie-slim');
  docker.execHandlers = [
    // keepalived: haproxy1 is MASTER and holds the VIP, haproxy2 BACKUP.
    (c, argv) => {
      if (argv[0] !== 'lab-vrrp-status') return undefined;
      const self = /unicast_src_ip (\S+)/.exec(c.files.get(KEEPALIVED_CONFIG_PATH)?.toString('utf8') ?? '')?.[1] ?? '';
      const vip = /virtual_ipaddress \{\n\s+(\S+)\//.exec(c.files.get(KEEPALIVED_CONFIG_PATH)?.toString('utf8') ?? '')?.[1] ?? '';
      const master = c.spec.hostname === 'haproxy1';
      return { stdout: vrrpJson(master ? 'MASTER' : 'BACKUP', self, ...(master ? [vip] : [])), stderr: '', exitCode: 0 };
    },
    (_c, argv) => (argv[0] === 'lab-haproxy-alive' ? { stdout: '', stderr: '', exitCode: 0 } : undefined),
    // Galera nodes answer like a Primary component (a second `up` finds them running).
    (_c, argv) =>
      argv[0] === 'mariadb' && argv.join(' ').includes('Variable_name IN')
        ? { stdout: 'wsrep_local_state_comment\tSynced\nwsrep_cluster_status\tPrimary\nwsrep_ready\tON\nwsrep_cluster_size\t3\n', stderr: '', exitCode: 0 }
        : undefined,
    ...healthyClusterHandlers(),
  ];
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-unit-'));
  const engine = new LabEngine(fakeEngineDeps(docker, new StateStore(home)), 'lb-unit');
  return { docker, engine };
}

describe('load balancer pair (keepalived): topology', () => {
  it('two numbered HAProxy nodes, an edge that is the entry, NET_ADMIN only on the pair', () => {
    const t = buildTopology(PAIR);
    assert.deepEqual(
      t.nodes.filter((n) => n.role === 'lb' || n.role === 'edge').map((n) => n.name),
      ['edge', 'haproxy1', 'haproxy2'],
    );
    assert.equal(t.entry.name, 'edge');
    const edge = t.nodes.find((n) => n.name === 'edge')!;
    assert.deepEqual(
      edge.ports.map((p) => p.name),
      ['moodle'],
    );
    // Each HAProxy keeps its own stats and runtime host ports; neither publishes Moodle's.
    const [h1, h2] = t.nodes.filter((n) => n.role === 'lb');
    assert.deepEqual(
      h1!.ports.map((p) => p.name),
      ['stats', 'runtime'],
    );
    assert.deepEqual(
      h2!.ports.map((p) => p.name),
      ['haproxy2-stats', 'haproxy2-runtime'],
    );
    for (const n of t.nodes) assert.deepEqual(n.spec.capAdd.includes('NET_ADMIN'), n.role === 'lb', n.name);
    // The edge starts in the first stage: it holds Moodle's port from the start.
    assert.ok(t.stages[0]!.includes('edge'));
  });

  it('the built-in ha is unchanged: one HAProxy publishing Moodle, stats and runtime, no capability, no edge', () => {
    const t = buildTopology('ha');
    const lb = t.nodes.filter((n) => n.role === 'lb');
    assert.deepEqual(
      lb.map((n) => [n.name, n.ports.map((p) => `${p.name}:${p.container}:${p.defaultHostPort}`), n.spec.capAdd]),
      [['haproxy', ['moodle:80:8080', 'stats:8404:8404', 'runtime:9999:9999'], []]],
    );
    assert.ok(!t.nodes.some((n) => n.role === 'edge'));
    assert.equal(t.entry.name, 'haproxy');
  });

  it('counts that cannot work are one clear error naming lb', () => {
    const bad = (lb: LabDefinition['roles']['lb']) => () => buildTopology({ ...PAIR, roles: { ...PAIR.roles, lb } });
    assert.throws(
      bad({ count: 1, keepalived: true }),
      (e: unknown) => e instanceof TopologyError && /count must be 2 with keepalived/.test(e.message) && e.role === 'lb',
    );
    assert.throws(bad({ count: 2 }), (e: unknown) => e instanceof TopologyError && /count 2 needs keepalived: true/.test(e.message));
    assert.throws(bad({ count: 3, keepalived: true }), /from 0 to 2|count must be 2/);
    assert.throws(() => buildTopology({ ...PAIR, roles: { ...PAIR.roles, edge: { count: 1 } } }), /role "edge" is not listed itself/);
  });

  it('every consumer of the load balancer gets the VIP from one function (web nodes: DB_HOST)', () => {
    const t = buildTopology(PAIR);
    const state = { extra: { network: { subnet: '172.29.4.0/24', gateway: '172.29.4.1', ipRange: '172.29.4.128/25', addresses: { vip: '172.29.4.10' } } } };
    assert.equal(lbAddress(t, state), '172.29.4.10');
    assert.equal(lbAddress(buildTopology('ha'), { extra: {} }), 'haproxy');
    assert.equal(lbAddress(buildTopology('single'), { extra: {} }), undefined);
    assert.throws(() => lbAddress(t, { extra: {} }), /no virtual IP yet/);
    assert.match(edgeConfig(t, state as never), /server vip 172\.29\.4\.10:80/);
  });

  it('the edge forwards TCP to VIP:80 with short connect retries, and answers its own liveness on loopback only', () => {
    const cfg = renderEdgeConfig('172.29.4.10');
    assert.match(cfg, /^\s*mode tcp$/m);
    assert.match(cfg, /^\s*bind :80$/m);
    assert.match(cfg, /^\s*retries \d+$/m);
    assert.match(cfg, /^\s*bind 127\.0\.0\.1:8404$/m);
    assert.doesNotMatch(cfg, /mode http\n[\s\S]*frontend moodle/);
  });
});

describe('load balancer pair (keepalived): up and status on the fake engine', () => {
  it('a subnet of its own with fixed addresses outside Docker range; keepalived files only on the pair; web DB_HOST = VIP', async () => {
    const { docker, engine } = setup();
    docker.networkMap.set('other', {
      id: 'other',
      name: 'someone-else',
      labels: {},
      ipam: { subnet: '172.29.0.0/24', gateway: '172.29.0.1', ipRange: '172.29.0.0/24' },
    });
    await engine.up({ definition: PAIR });
    const state = engine.state()!;
    const plan = state.extra.network!;
    assert.equal(plan.subnet, '172.29.1.0/24');
    assert.deepEqual(plan.addresses, { vip: '172.29.1.10', haproxy1: '172.29.1.11', haproxy2: '172.29.1.12' });
    const net = [...docker.networkMap.values()].find((n) => n.name.startsWith('lb-unit'))!;
    assert.deepEqual(net.ipam, { subnet: plan.subnet, gateway: plan.gateway, ipRange: plan.ipRange });
    const byName = new Map([...docker.containerMap.values()].map((c) => [c.spec.hostname, c]));
    assert.equal(byName.get('haproxy1')!.spec.ipv4, '172.29.1.11');
    assert.equal(byName.get('haproxy2')!.spec.ipv4, '172.29.1.12');
    assert.equal(byName.get('web1')!.spec.ipv4, undefined);
    for (const [name, c] of byName) assert.equal(c.files.has(KEEPALIVED_CONFIG_PATH), name.startsWith('haproxy'), name);
    assert.match(byName.get('haproxy2')!.files.get(KEEPALIVED_CONFIG_PATH)!.toString(), /unicast_peer \{\n\s+172\.29\.1\.11\n/);
    assert.match(byName.get('edge')!.files.get(HAPROXY_CONFIG_PATH)!.toString(), /server vip 172\.29\.1\.10:80/);
    assert.equal(byName.get('web1')!.spec.env.DB_HOST, '172.29.1.10');
    assert.equal(
      nodeEnv(
        buildTopology(PAIR).nodes.find((n) => n.name === 'web2')!,
        buildTopology(PAIR),
        state,
      ).DB_HOST,
      '172.29.1.10',
    );
    // Each HAProxy has its own host ports; the edge publishes Moodle's.
    assert.ok(state.ports.stats && state.ports['haproxy2-stats'] && state.ports.stats !== state.ports['haproxy2-stats']);
    assert.deepEqual(
      byName.get('edge')!.spec.ports.map((p) => p.containerPort),
      [80],
    );
    // A second up reuses the plan and the containers (nothing stale).
    docker.calls = [];
    await engine.up();
    assert.deepEqual(engine.state()!.extra.network, plan);
    assert.ok(!docker.calls.some((c) => c.startsWith('create ') || c.startsWith('remove ')), docker.calls.join('\n'));
  });

  it('status names the VIP, its holder and the MASTER, read from each node; HAProxy servers from the holder', async () => {
    const { docker, engine } = setup();
    await engine.up({ definition: PAIR });
    const s = await collectStatus(fakeEngineDeps(docker, new StateStore(os.tmpdir())), 'lb-unit', engine.state());
    assert.deepEqual(
      { vip: s.lb?.vip, master: s.lb?.master, holder: s.lb?.holder, nodes: s.lb?.nodes.map((n) => [n.name, n.vrrp, n.holdsVip]) },
      {
        vip: engine.state()!.extra.network!.addresses.vip,
        master: 'haproxy1',
        holder: 'haproxy1',
        nodes: [
          ['haproxy1', 'MASTER', true],
          ['haproxy2', 'BACKUP', false],
        ],
      },
    );
    assert.equal(s.haproxy.node, 'haproxy1');
    assert.ok(s.haproxy.servers.length > 0);
    assert.ok(
      s.nodes.every((n) => n.healthy),
      JSON.stringify(s.nodes.filter((n) => !n.healthy)),
    );
    assert.equal(s.endpoints.moodle, `http://localhost:${engine.state()!.ports.moodle}`);
  });
});

describe('load balancer pair: status from readings, timeline events', () => {
  const reading = (node: string, state: 'MASTER' | 'BACKUP' | 'FAULT', holdsVip: boolean) => ({
    node,
    servers: [],
    vrrp: { keepalived: true, state, holdsVip },
  });

  it('a dead node is FAULT with why; two holders are a split brain', () => {
    const s = lbStatus('10.0.0.10', [reading('haproxy1', 'MASTER', true), { node: 'haproxy2', error: 'exited' }], (n) =>
      n === 'haproxy2' ? 'exited' : 'running',
    );
    assert.deepEqual(s.nodes[1], { name: 'haproxy2', vrrp: 'FAULT', holdsVip: false, keepalived: false, detail: 'container exited' });
    assert.equal(s.master, 'haproxy1');
    const split = lbStatus('10.0.0.10', [reading('haproxy1', 'MASTER', true), reading('haproxy2', 'MASTER', true)], () => 'running');
    assert.equal(split.splitBrain, true);
    const none = lbStatus('10.0.0.10', [reading('haproxy1', 'BACKUP', false), reading('haproxy2', 'BACKUP', false)], () => 'running');
    assert.equal(none.holder, undefined);
    assert.equal(none.master, undefined);
  });

  it('the VIP moving, lost and back are timeline events; keepalived state changes too', () => {
    const at = (holder: string | undefined, v1: 'MASTER' | 'BACKUP' | 'FAULT', v2: 'MASTER' | 'BACKUP' | 'FAULT'): LbStatus => ({
      vip: '10.0.0.10',
      ...(holder ? { holder, master: holder } : {}),
      nodes: [
        { name: 'haproxy1', vrrp: v1, holdsVip: holder === 'haproxy1', keepalived: true },
        { name: 'haproxy2', vrrp: v2, holdsVip: holder === 'haproxy2', keepalived: true },
      ],
    });
    const moved = vipEvents(at('haproxy1', 'MASTER', 'BACKUP'), at('haproxy2', 'FAULT', 'MASTER')).map((e) => e.text);
    assert.deepEqual(moved, ['VIP 10.0.0.10 moved: haproxy1 → haproxy2', 'keepalived haproxy1: MASTER → FAULT', 'keepalived haproxy2: BACKUP → MASTER']);
    assert.match(vipEvents(at('haproxy1', 'MASTER', 'BACKUP'), at(undefined, 'FAULT', 'BACKUP'))[0]!.text, /no HAProxy holds it/);
    assert.deepEqual(vipEvents(at('haproxy1', 'MASTER', 'BACKUP'), at('haproxy1', 'MASTER', 'BACKUP')), []);
    assert.deepEqual(vipEvents(undefined, at('haproxy1', 'MASTER', 'BACKUP')), []);
  });
});

describe('load balancer pair: the diagram, the tree and the panel draw it from the lb section', () => {
  const pairSnapshot = () => {
    const base = labSnapshot(0);
    const nodes = [
      { name: 'edge', role: 'edge' as const, container: 'running' as const, healthy: true },
      ...base.nodes
        .filter((n) => n.role !== 'lb')
        .concat({ name: 'haproxy1', role: 'lb', container: 'exited', healthy: false }, { name: 'haproxy2', role: 'lb', container: 'running', healthy: true }),
    ];
    const lb: LbStatus = {
      vip: '172.29.0.10',
      master: 'haproxy2',
      holder: 'haproxy2',
      nodes: [
        { name: 'haproxy1', vrrp: 'FAULT', holdsVip: false, keepalived: false, detail: 'container exited' },
        { name: 'haproxy2', vrrp: 'MASTER', holdsVip: true, keepalived: true },
      ],
    };
    return { ...base, nodes, lb, haproxy: { ...base.haproxy, node: 'haproxy2' } };
  };

  it('users → edge → both HAProxy nodes → the web tier; each HAProxy shows its VRRP state, the edge the VIP', () => {
    const s = pairSnapshot();
    const text = toMermaid(s);
    assert.match(text, /users --> edge\n/);
    assert.match(text, /edge --> haproxy1\n/);
    assert.match(text, /edge --> haproxy2\n/);
    for (const h of ['haproxy1', 'haproxy2']) assert.match(text, new RegExp(`${h} --> web1\\n`));
    const views = new Map(nodeViews(s).map((v) => [v.node, v]));
    assert.equal(views.get('haproxy2')!.status, 'MASTER · VIP');
    assert.equal(views.get('haproxy1')!.state, 'down');
    assert.equal(views.get('edge')!.status, '→ VIP 172.29.0.10 on haproxy2');
    // The tree: the node's VRRP state in its line; the panel: the VIP over HAProxy's servers.
    const tree = treeModel(s);
    const h2 = JSON.stringify(tree).includes('MASTER · VIP');
    assert.ok(h2, 'the tree shows haproxy2 MASTER · VIP');
    const panel = panelViews(s).find((p) => p.key === 'haproxy')!;
    assert.match(panel.note, /virtual IP 172\.29\.0\.10 on haproxy2 \(haproxy1 FAULT, haproxy2 MASTER\); servers as haproxy2 sees them/);
  });

  it('the ha lab draws as before: users → haproxy, no VIP words', () => {
    const s = labSnapshot(0);
    const text = toMermaid(s);
    assert.match(text, /users --> haproxy\n/);
    assert.doesNotMatch(text, /edge|VIP/);
  });
});
