import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LabEngine } from '../../src/engine/lab';
import { StateStore } from '../../src/engine/state';
import { collectStatus } from '../../src/engine/status';
import { defineFault, FAULT_CATALOG, type FaultRequest } from '../../src/protocol/fault-catalog';
import { FaultInjector, lossRules, netemArgs, partitionRules } from '../../src/faults/injector';
import type { ActiveFault } from '../../src/protocol/faults';
import { fakeClock } from '../support/clock';
import { FakeDocker, healthyClusterHandlers } from '../support/fake-docker';
import { fakeEngineDeps, upProbes } from '../support/engine';

async function upLab() {
  const docker = new FakeDocker();
  docker.addImage('debian:trixie-slim');
  docker.execHandlers = healthyClusterHandlers();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-'));
  const engine = new LabEngine(fakeEngineDeps(docker, new StateStore(home)), 'unit-faults');
  await engine.up();
  docker.calls = [];
  const faults = new FaultInjector({ docker, engine, reporter: { step: () => undefined, detail: () => undefined } });
  return { docker, engine, faults, home };
}

const sidecars = (docker: FakeDocker) => [...docker.containerMap.values()].filter((c) => c.labels['io.moodle-lab.tool'] === 'netem');

describe('faults (fake engine)', () => {
  it('bad input is refused before anything changes', async () => {
    const { docker, faults } = await upLab();
    await assert.rejects(faults.apply({ kind: 'kill', nodes: ['web9'] }), /unknown node "web9": this lab has haproxy, web1, web2, web3, galera1/);
    await assert.rejects(faults.apply({ kind: 'partition', nodes: ['galera1'], from: ['other-lab-db'] }), /unknown node "other-lab-db"/);
    await assert.rejects(faults.apply({ kind: 'partition', nodes: ['galera1'], from: ['galera1', 'galera2'] }), /both sides/);
    await assert.rejects(faults.apply({ kind: 'partition', nodes: ['galera1'] }), /needs --from/);
    await assert.rejects(faults.apply({ kind: 'delay', nodes: ['web3'] }), /delay needs --ms/);
    await assert.rejects(faults.apply({ kind: 'loss', nodes: ['web3'], lossPct: 120 }), /--percent between 0 and 100/);
    await assert.rejects(faults.apply({ kind: 'explode' as never, nodes: ['web3'] }), /unknown fault "explode"/);
    await assert.rejects(faults.apply({ kind: 'start', nodes: ['web3'], forMs: 1000 }), /--for applies to faults that break something/);
    assert.deepEqual(
      docker.calls.filter((c) => !c.startsWith('exec')),
      [],
    );
    assert.deepEqual(faults.active(), []);
  });

  it('the injector dispatches to the catalog entry: a repair added as one entry is checked, applied and ends what it repairs', async () => {
    // (a kind that breaks is recorded in state.json, whose check knows the registered kinds only: this one is a repair)
    const { docker, engine } = await upLab();
    const done: string[] = [];
    const thaw = defineFault({
      kind: 'thaw',
      effect: 'repair',
      ends: ['pause'],
      targets: 'node',
      params: [],
      states: ['paused'],
      describe: (f) => `${f.nodes.join(',')} gently`,
      apply: async (ctx) => void done.push(`apply ${ctx.node} ${ctx.container.state}`),
    });
    const faults = new FaultInjector({
      docker,
      engine,
      reporter: { step: (m) => void done.push(m), detail: () => undefined },
      catalog: [...FAULT_CATALOG, thaw],
    });
    const req = { kind: 'thaw', nodes: ['web1'] } as unknown as FaultRequest;
    await assert.rejects(faults.apply({ ...req, nodes: ['web9'] }), /unknown node "web9"/);
    await assert.rejects(faults.apply({ ...req, forMs: 1000 }), /--for applies to faults that break something/);
    await faults.apply({ kind: 'pause', nodes: ['web1'] });
    assert.equal(await faults.apply(req), undefined);
    assert.deepEqual(done, ['fault: pause web1', 'fault: thaw web1 gently', 'apply web1 paused']);
    assert.deepEqual(faults.active(), [], 'thaw ended the pause');
    // the real catalog does not know it
    const plain = new FaultInjector({ docker, engine, reporter: { step: () => undefined, detail: () => undefined } });
    await assert.rejects(plain.apply(req), /unknown fault "thaw"/);
  });

  it('kill is recorded and remembered in the state; heal forgets it', async () => {
    const { docker, faults, engine } = await upLab();
    const f = await faults.apply({ kind: 'kill', nodes: ['web2'] });
    assert.ok(docker.calls.includes('kill web2'));
    assert.equal(f?.detail, 'kill web2');
    // A new injector (a restarted CLI) sees it.
    const again = new FaultInjector({ docker, engine, reporter: { step: () => undefined, detail: () => undefined } });
    assert.deepEqual(
      again.active().map((x) => x.detail),
      ['kill web2'],
    );
    assert.deepEqual(
      (await again.heal()).map((x) => x.detail),
      ['kill web2'],
    );
    assert.deepEqual(again.active(), []);
  });

  it('pause then heal of that node unpauses it; other faults stay', async () => {
    const { docker, faults } = await upLab();
    await faults.apply({ kind: 'pause', nodes: ['web1'] });
    await faults.apply({ kind: 'stop', nodes: ['gluster2'] });
    await faults.heal('web1');
    assert.ok(docker.calls.includes('unpause web1'));
    assert.deepEqual(
      faults.active().map((f) => f.detail),
      ['stop gluster2'],
    );
  });

  it("delay runs tc netem in a sidecar sharing the node's namespace with NET_ADMIN only, and is removed on heal", async () => {
    const { docker, faults } = await upLab();
    const seen: string[][] = [];
    docker.onWait = (c) => {
      seen.push(c.spec.cmd ?? []);
      assert.deepEqual(c.spec.capAdd, ['NET_ADMIN']);
      assert.match(c.spec.network, /^container:c\d+$/);
      assert.match(c.labels['io.moodle-lab.id'] ?? '', /\S/, 'the sidecar carries the lab id too');
      return 0;
    };
    await faults.apply({ kind: 'delay', nodes: ['web3'], delayMs: 300 });
    assert.deepEqual(seen.pop(), ['tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', 'netem', 'delay', '300ms']);
    await faults.heal('web3');
    assert.deepEqual(seen.pop(), ['tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
    assert.equal(sidecars(docker).length, 0, 'sidecars are removed');
  });

  it('a failing sidecar surfaces its exit code and leaves no container behind', async () => {
    const { docker, faults } = await upLab();
    docker.onWait = () => 2;
    await assert.rejects(faults.apply({ kind: 'loss', nodes: ['web1'], lossPct: 10 }), /iptables-restore in web1's network namespace failed \(exit 2\)/);
    assert.equal(sidecars(docker).length, 0);
    assert.deepEqual(faults.active(), []);
  });

  it('partition: the first side drops traffic from and to every node of the other side', async () => {
    const { docker, faults } = await upLab();
    const rules: string[] = [];
    docker.onWait = (c) => {
      const r = c.files.get('/rules');
      if (r) rules.push(`${c.spec.network} ${r.toString()}`);
      return 0;
    };
    const ip = async (node: string) => (await docker.containers.list({ 'io.moodle-lab.node': node }))[0]!.ips!['unit-faults-net'];
    await faults.apply({ kind: 'partition', nodes: ['galera1'], from: ['galera2', 'galera3'] });
    assert.equal(rules.length, 1);
    for (const peer of ['galera2', 'galera3']) {
      assert.ok(rules[0]!.includes(`-A MLAB-PARTITION -s ${await ip(peer)} -j DROP`));
      assert.ok(rules[0]!.includes(`-A MLAB-PARTITION -d ${await ip(peer)} -j DROP`));
    }
    await faults.heal();
    assert.doesNotMatch(rules[1]!, /DROP/);
    assert.match(rules[1]!, /-F MLAB-PARTITION/);
  });

  it('delay is a netem qdisc, loss an iptables statistic rule on egress; rules without faults only flush', () => {
    const f = (kind: 'delay' | 'loss', params: ActiveFault['params']): ActiveFault => ({ id: kind, kind, nodes: ['web1'], detail: '', appliedAt: '', params });
    assert.deepEqual(netemArgs([f('delay', { delayMs: 300, jitterMs: 50 })]), [
      'tc',
      'qdisc',
      'replace',
      'dev',
      'eth0',
      'root',
      'netem',
      'delay',
      '300ms',
      '50ms',
    ]);
    assert.equal(netemArgs([]), undefined);
    assert.match(lossRules(10), /-A MLAB-LOSS -m statistic --mode random --probability 0\.1000 -j DROP/);
    assert.match(lossRules(10), /-I OUTPUT 1 -j MLAB-LOSS/);
    assert.doesNotMatch(lossRules(undefined), /DROP|-I OUTPUT/);
    assert.doesNotMatch(partitionRules([]), /-I INPUT/);
  });

  it('a kernel without netem: delay fails with one sentence saying so, nothing recorded', async () => {
    const { docker, faults } = await upLab();
    docker.onWait = () => 2;
    docker.containers.logs = async () => 'Error: Specified qdisc kind is unknown.';
    await assert.rejects(faults.apply({ kind: 'delay', nodes: ['web3'], delayMs: 300 }), /kernel has no netem \(CONFIG_NET_SCH_NETEM\)/);
    assert.deepEqual(faults.active(), []);
  });
});

describe('faults from several windows at once (fake engine, one state folder)', () => {
  /** A second engine and injector on the same state folder: another process (CLI, dashboard, VS Code). */
  function otherWindow(docker: FakeDocker, engine: LabEngine, home: string) {
    const store = new StateStore(home);
    const other = new LabEngine({ docker, store, labRoot: path.resolve(__dirname, '../../lab'), clock: fakeClock() }, engine.lab);
    return new FaultInjector({ docker, engine: other, reporter: { step: () => undefined, detail: () => undefined } });
  }
  const slow =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ms: number) =>
    async (...a: A) => {
      await new Promise((r) => setTimeout(r, ms));
      return fn(...a);
    };

  it('a loss from the dashboard and a pause from the CLI at the same moment: both recorded, heal undoes both', async () => {
    const { docker, engine, faults: dashboard, home } = await upLab();
    const cli = otherWindow(docker, engine, home);
    docker.containers.pause = slow(docker.containers.pause, 30);
    docker.containers.wait = slow(docker.containers.wait, 30);
    await Promise.all([dashboard.apply({ kind: 'loss', nodes: ['web3'], lossPct: 10 }), cli.apply({ kind: 'pause', nodes: ['web1'] })]);
    assert.deepEqual(
      dashboard
        .active()
        .map((f) => f.detail)
        .sort(),
      ['loss web3 10%', 'pause web1'],
    );
    const rules: string[] = [];
    docker.onWait = (c) => (rules.push(c.files.get('/rules')?.toString() ?? ''), 0);
    assert.deepEqual((await cli.heal()).map((f) => f.detail).sort(), ['loss web3 10%', 'pause web1']);
    assert.ok(docker.calls.includes('unpause web1'));
    assert.equal(rules.length, 1);
    assert.doesNotMatch(rules[0]!, /DROP/, 'the loss rule is flushed');
    assert.deepEqual(dashboard.active(), []);
  });

  it("a fault is recorded before its Docker action, and forgotten again when the action fails; the other window's fault stays", async () => {
    const { docker, engine, faults, home } = await upLab();
    const other = otherWindow(docker, engine, home);
    let seenDuringStop: string[] = [];
    docker.containers.stop = async () => {
      seenDuringStop = other.active().map((f) => f.detail);
      await other.apply({ kind: 'pause', nodes: ['web1'] });
      throw new Error('engine said no');
    };
    await assert.rejects(faults.apply({ kind: 'stop', nodes: ['gluster2'] }), /engine said no/);
    assert.deepEqual(seenDuringStop, ['stop gluster2'], 'status from another process sees the fault while it is applied');
    assert.deepEqual(
      faults.active().map((f) => f.detail),
      ['pause web1'],
    );
  });

  it('status lists every fault in force, whoever applied it: kind, node, since', async () => {
    const { docker, engine, faults, home } = await upLab();
    const other = otherWindow(docker, engine, home);
    await faults.apply({ kind: 'pause', nodes: ['web1'] });
    await other.apply({ kind: 'loss', nodes: ['web2'], lossPct: 10, forMs: 60_000 });
    await other.apply({ kind: 'partition', nodes: ['galera1'], from: ['galera2', 'galera3'] });
    const status = await collectStatus({ docker, ...upProbes() }, engine.lab, engine.state());
    assert.deepEqual(
      status.faults?.map(({ kind, node, nodes, from, lossPct }) => ({ kind, node, nodes, from, lossPct })),
      [
        { kind: 'pause', node: 'web1', nodes: ['web1'], from: undefined, lossPct: undefined },
        { kind: 'loss', node: 'web2', nodes: ['web2'], from: undefined, lossPct: 10 },
        { kind: 'partition', node: 'galera1', nodes: ['galera1'], from: ['galera2', 'galera3'], lossPct: undefined },
      ],
    );
    for (const f of status.faults!) assert.ok(!Number.isNaN(Date.parse(f.since)), f.since);
    assert.ok(status.faults![1]!.until, 'a fault with --for says until when');
    await faults.heal();
    assert.deepEqual((await collectStatus({ docker, http: async () => ({ status: 200, body: 'ok' }) }, engine.lab, engine.state())).faults, []);
  });

  it('heal forgets only what it reverted: a fault recorded meanwhile by another window stays', async () => {
    const { docker, engine, faults, home } = await upLab();
    const other = otherWindow(docker, engine, home);
    await faults.apply({ kind: 'pause', nodes: ['web1'] });
    const unpause = docker.containers.unpause;
    docker.containers.unpause = async (id) => {
      await other.apply({ kind: 'kill', nodes: ['web2'] });
      return unpause(id);
    };
    assert.deepEqual(
      (await faults.heal()).map((f) => f.detail),
      ['pause web1'],
    );
    assert.deepEqual(
      faults.active().map((f) => f.detail),
      ['kill web2'],
    );
  });
});
