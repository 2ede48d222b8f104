import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliIo, formatStatus, runCli, UsageError } from '../../src/cli';
import { syntheticStatus } from '../support/lab-snapshot';
import { StateStore } from '../../src/engine/state';
import { FakeDocker } from '../support/fake-docker';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: {} };
  return { x, out, err };
}

describe('CLI', () => {
  const deps = () => ({
    docker: new FakeDocker(),
    store: new StateStore(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'))),
    labRoot: path.resolve(__dirname, '../../lab'),
  });

  it('status --json of a lab that does not exist: state absent, contract fields present', async () => {
    const { x, out } = io();
    assert.equal(await runCli(['status', '--json'], x, deps()), 0);
    const s = JSON.parse(out.join(''));
    assert.equal(s.lab, 'moodle-lab');
    assert.equal(s.state, 'absent');
    for (const key of ['nodes', 'haproxy', 'galera', 'gluster', 'redis', 'moodle', 'endpoints']) assert.ok(key in s, key);
  });

  it('bad input is a usage error, before Docker is touched', async () => {
    const d = deps();
    await assert.rejects(
      runCli(['up', '--no-moodle', '--topology', 'mesh'], io().x, d),
      (e: unknown) => e instanceof UsageError && /--topology must be one of ha, single/.test(e.message),
    );
    await assert.rejects(runCli(['up', '--no-moodle', '--haproxy', 'fast'], io().x, d), /--haproxy must be one of tuned, defaults/);
    await assert.rejects(runCli(['up', '--no-moodle', '--lab', 'Bad Name'], io().x, d), /invalid lab name/);
    await assert.rejects(runCli(['frobnicate'], io().x, d), /unknown command "frobnicate"/);
    await assert.rejects(runCli(['status', '--colour'], io().x, d), /Unknown option '--colour'/);
    assert.equal(d.docker.calls.length, 0);
  });

  it('destroy keeps the shared images it built; destroy --images removes them, naming any another container still runs', async () => {
    const d = deps();
    const mine = { 'io.moodle-lab.lab': 'moodle-lab' };
    d.docker.addImage('moodle-lab/web:00000000000000aa', mine);
    d.docker.addImage('moodle-lab/redis:00000000000000bb', mine);
    await d.docker.containers.create({
      name: 'other-redis',
      image: 'moodle-lab/redis:00000000000000bb',
      hostname: 'redis',
      labels: { 'io.moodle-lab.lab': 'other-lab' },
      env: {},
      network: 'bridge',
      aliases: [],
      ports: [],
      volumes: [],
      capAdd: [],
      devices: [],
      stopTimeoutS: 1,
    });
    const first = io();
    assert.equal(await runCli(['destroy'], first.x, d), 0);
    assert.match(first.out.join(''), /removed 0 containers, 0 volumes, 0 networks, 0 images\n$/);
    assert.equal(d.docker.imageMap.size, 2);
    const second = io();
    assert.equal(await runCli(['destroy', '--images'], second.x, d), 0);
    assert.match(second.out.join(''), /, 1 images\nkept moodle-lab\/redis:00000000000000bb: still used by another lab or container\n$/);
    assert.deepEqual([...d.docker.imageMap.keys()], ['moodle-lab/redis:00000000000000bb']);
  });

  it("Docker not running: status fails with the engine's message", async () => {
    const d = deps();
    d.docker.running = false;
    await assert.rejects(runCli(['status'], io().x, d), /Docker is not running/);
  });
});

describe('CLI: status for people', () => {
  it("a load balancer pair: the VIP, who holds it and each node's keepalived state; none holding it says so", () => {
    const base = syntheticStatus(0);
    assert.doesNotMatch(formatStatus(base), /vip:/);
    const lb = {
      vip: '172.29.0.10',
      master: 'haproxy2',
      holder: 'haproxy2',
      nodes: [
        { name: 'haproxy1', vrrp: 'FAULT' as const, holdsVip: false, keepalived: false, detail: 'container exited' },
        { name: 'haproxy2', vrrp: 'MASTER' as const, holdsVip: true, keepalived: true },
      ],
    };
    assert.match(formatStatus({ ...base, lb }), /^ {2}vip: 172\.29\.0\.10 on haproxy2; haproxy1 FAULT \(container exited\), haproxy2 MASTER$/m);
    assert.match(formatStatus({ ...base, lb: { ...lb, holder: undefined, master: undefined } }), /vip: 172\.29\.0\.10 HELD BY NONE/);
  });

  it("a Sentinel group: each Redis node's HAProxy state says whether it is the master or a replica (a replica is DOWN there by design)", () => {
    const base = syntheticStatus(0);
    const nodes = [
      { name: 'redis1', role: 'cache' as const, container: 'running' as const, healthy: true },
      { name: 'redis2', role: 'cache' as const, container: 'running' as const, healthy: true },
    ];
    const servers = [
      { backend: 'redis', server: 'redis1', status: 'UP' },
      { backend: 'redis', server: 'redis2', status: 'DOWN' },
    ];
    const s = {
      ...base,
      nodes,
      haproxy: { ...base.haproxy, servers },
      redis: { up: true, mode: 'sentinel' as const, master: 'redis1', replicas: [{ name: 'redis2', linkUp: true, lagBytes: 0 }] },
    };
    const text = formatStatus(s);
    assert.match(text, /redis1 .* redis:UP \(master\)$/m);
    assert.match(text, /redis2 .* redis:DOWN \(replica\)$/m);
    assert.doesNotMatch(formatStatus({ ...s, redis: { up: true } }), /\((master|replica)\)/);
  });

  it('lists the faults in force, what reverts by itself and when; none, no section', () => {
    const base = syntheticStatus(0);
    assert.doesNotMatch(formatStatus(base), /faults in force/);
    const text = formatStatus({
      ...base,
      faults: [
        { id: 'a', kind: 'kill', node: 'web2', nodes: ['web2'], since: '2026-11-30T10:00:00Z', detail: 'kill web2' },
        {
          id: 'b',
          kind: 'loss',
          node: 'web3',
          nodes: ['web3'],
          since: '2026-11-30T10:00:05Z',
          until: '2026-11-30T10:01:05Z',
          detail: 'loss web3 10%',
          lossPct: 10,
        },
      ],
    });
    const lines = text.split('\n');
    const i = lines.findIndex((l) => /faults in force \(`heal` undoes them\):/.test(l));
    assert.ok(i > 0, text);
    assert.match(lines[i + 1]!, /^ {4}kill web2 +since \d\d:\d\d:\d\d$/);
    assert.match(lines[i + 2]!, /^ {4}loss web3 10% +since \d\d:\d\d:\d\d, reverts by itself at \d\d:\d\d:\d\d$/);
  });
});
