import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LabEngine } from '../../src/engine/lab';
import { StateStore } from '../../src/engine/state';
import { collectStatus, impairmentStatus } from '../../src/engine/status';
import {
  defineFault,
  delayerLines,
  FAULT_CATALOG,
  impairmentClasses,
  impairMethods,
  netemBatch,
  nfqueueRules,
  type FaultRequest,
} from '../../src/protocol/fault-catalog';
import { FaultInjector, lossRules, partitionRules } from '../../src/faults/injector';
import { LabController } from '../../src/controller/lab-controller';
import { waitFor, ready, notYet } from '../../src/core/wait';
import type { ActiveFault } from '../../src/protocol/faults';
import { fakeClock } from '../support/clock';
import { syntheticStatus } from '../support/lab-snapshot';
import { diffImpairments } from '../../src/state/diff';
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

const delayers = (docker: FakeDocker) => [...docker.containerMap.values()].filter((c) => c.labels['io.moodle-lab.tool'] === 'delayer');
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

  it('pause tries the freeze again when runc could not freeze the node (its own FUSE daemon frozen first); other errors are not retried', async () => {
    const { docker, faults } = await upLab();
    const freeze = docker.containers.pause;
    let refusals = 2;
    docker.containers.pause = async (id) => {
      if (refusals-- > 0) throw new Error('(HTTP code 500) server error - Cannot pause container 890e: OCI runtime pause failed: unable to freeze: unknown');
      return freeze(id);
    };
    await faults.apply({ kind: 'pause', nodes: ['web1'] });
    assert.equal(refusals, -1, 'three attempts: two refused, the third froze it');
    assert.ok(docker.calls.includes('pause web1'));
    await faults.heal('web1');
    let calls = 0;
    docker.containers.pause = async () => {
      calls++;
      throw new Error('(HTTP code 409) container is not running');
    };
    await assert.rejects(faults.apply({ kind: 'pause', nodes: ['web2'] }), /not running/);
    assert.equal(calls, 1);
    docker.containers.pause = async () => {
      calls++;
      throw new Error('OCI runtime pause failed: unable to freeze: unknown');
    };
    calls = 0;
    await assert.rejects(faults.apply({ kind: 'pause', nodes: ['web2'] }), /unable to freeze/);
    assert.equal(calls, 5, 'gives up after five refusals and says why');
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

  it("a kernel with netem: delay is one `lab-impair netem` sidecar run (NET_ADMIN only, the node's namespace), method netem, no delayer; heal clears it", async () => {
    const { docker, faults } = await upLab();
    const seen: { cmd: string[]; tc?: string }[] = [];
    docker.onWait = (c) => {
      seen.push({ cmd: c.spec.cmd ?? [], tc: c.files.get('/tc')?.toString() });
      assert.deepEqual(c.spec.capAdd, ['NET_ADMIN']);
      assert.match(c.spec.network, /^container:c\d+$/);
      assert.match(c.labels['io.moodle-lab.id'] ?? '', /\S/, 'the sidecar carries the lab id too');
      return 0;
    };
    await faults.apply({ kind: 'delay', nodes: ['web3'], delayMs: 300, jitterMs: 50 });
    assert.deepEqual(
      seen.map((x) => x.cmd),
      [['lab-impair', 'netem', '/tc']],
    );
    assert.equal(seen[0]!.tc, 'qdisc replace dev eth0 root netem delay 300ms 50ms\n');
    assert.equal(faults.active()[0]!.method, 'netem');
    assert.equal(delayers(docker).length, 0);
    await faults.heal('web3');
    assert.deepEqual(seen.pop()!.cmd, ['lab-impair', 'clear']);
    assert.equal(sidecars(docker).length, 0, 'sidecars are removed');
  });

  it("a kernel without netem: tc's refusal, then the NFQUEUE delayer in a long-lived sidecar (method nfqueue); the kernel is learnt once; heal removes the delayer", async () => {
    const { docker, faults } = await upLab();
    const runs: string[] = [];
    docker.onWait = (c) => {
      runs.push((c.spec.cmd ?? []).slice(0, 2).join(' '));
      return c.spec.cmd?.[1] === 'netem' ? 1 : 0;
    };
    const logs = docker.containers.logs;
    docker.containers.logs = async (id) => {
      const c = docker.containerMap.get(id)!;
      if (c.labels['io.moodle-lab.tool'] === 'delayer') return 'ready queue=4200 delay=300ms\nready rules\n';
      if (c.spec.cmd?.[1] === 'netem') return 'RTNETLINK answers: Specified qdisc kind is unknown.';
      return logs(id, 10);
    };
    await faults.apply({ kind: 'delay', nodes: ['web3'], delayMs: 300 });
    assert.deepEqual(runs, ['lab-impair netem']);
    const [d] = delayers(docker);
    assert.ok(d, 'a delayer sidecar runs');
    assert.equal(d.state, 'running');
    assert.deepEqual(d.spec.cmd, ['lab-impair', 'run']);
    assert.deepEqual(d.spec.capAdd, ['NET_ADMIN']);
    assert.equal(d.labels['io.moodle-lab.impairs'], 'web3');
    assert.match(d.files.get('/rules')!.toString(), /-A MLAB-IMPAIR -j NFQUEUE --queue-num 4200 --queue-bypass/);
    assert.equal(d.files.get('/impair')!.toString(), '4200 300 0 0 0\n');
    assert.equal(faults.active()[0]!.method, 'nfqueue');
    // The next impairment goes straight to the delayer (this process learnt the kernel has no netem): one daemon, both values.
    await faults.apply({ kind: 'loss', nodes: ['web3'], lossPct: 30 });
    assert.deepEqual(runs, ['lab-impair netem']);
    assert.equal(delayers(docker).length, 1);
    assert.equal(delayers(docker)[0]!.files.get('/impair')!.toString(), '4200 300 0 30 0\n');
    assert.deepEqual(
      faults.active().map((f) => f.method),
      ['nfqueue', 'nfqueue'],
    );
    await faults.heal('web3');
    assert.equal(delayers(docker).length, 0, 'heal removes the delayer');
    assert.equal(runs.at(-1), 'lab-impair clear');
    assert.equal(sidecars(docker).length, 0);
  });

  it('a delayer that exits before it is ready: one error with its last words, nothing recorded, no container left', async () => {
    const { docker, faults } = await upLab();
    docker.onWait = (c) => (c.spec.cmd?.[1] === 'netem' ? 1 : 0);
    docker.containers.logs = async (id) => {
      const c = docker.containerMap.get(id)!;
      if (c.labels['io.moodle-lab.tool'] === 'delayer') {
        c.state = 'exited';
        return 'lab-delayer: nfq_create_queue: Operation not permitted';
      }
      return 'Specified qdisc kind is unknown';
    };
    await assert.rejects(
      faults.apply({ kind: 'rate', nodes: ['web2'], rateKbit: 512, to: ['web1'] }),
      /delayer in web2's network namespace exited: lab-delayer: nfq_create_queue/,
    );
    assert.deepEqual(faults.active(), []);
    assert.equal(delayers(docker).length, 0);
  });

  it('--to: each peer gets the faults aimed at it plus those on all traffic; peers alike share a queue; the rest comes last', () => {
    const f = (kind: string, params: ActiveFault['params'], to?: string[]) => ({ kind, nodes: ['galera3'], params, ...(to ? { to } : {}) });
    const classes = impairmentClasses([f('delay', { delayMs: 100 }, ['galera1', 'galera2']), f('loss', { lossPct: 5 })]);
    assert.deepEqual(classes, [
      { peers: ['galera1', 'galera2'], imp: { delayMs: 100, jitterMs: 0, lossPct: 5, rateKbit: 0 } },
      { imp: { delayMs: 0, jitterMs: 0, lossPct: 5, rateKbit: 0 } },
    ]);
    const ip = (p: string) => ({ galera1: '10.0.0.1', galera2: '10.0.0.2' })[p]!;
    const rules = nfqueueRules(classes, ip);
    assert.ok(rules.indexOf('-d 10.0.0.1/32 -j NFQUEUE --queue-num 4200') < rules.indexOf('-A MLAB-IMPAIR -j NFQUEUE --queue-num 4201'));
    assert.match(rules, /-I OUTPUT 1 -o eth0 -j MLAB-IMPAIR/);
    assert.equal(delayerLines(classes), '4200 100 0 5 0\n4201 0 0 5 0\n');
    const tc = netemBatch(classes, ip);
    assert.match(tc, /^qdisc replace dev eth0 root handle 1: prio bands 2 priomap( 1){16}$/m);
    assert.match(tc, /^qdisc add dev eth0 parent 1:1 handle 10: netem delay 100ms loss 5%$/m);
    assert.match(tc, /^filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10\.0\.0\.2\/32 flowid 1:1$/m);
    assert.match(tc, /^qdisc add dev eth0 parent 1:2 handle 11: netem loss 5%$/m);
    assert.deepEqual(impairmentClasses([f('delay', { delayMs: 100 }, ['galera1'])]), [
      { peers: ['galera1'], imp: { delayMs: 100, jitterMs: 0, lossPct: 0, rateKbit: 0 } },
    ]);
    assert.deepEqual(impairmentClasses([]), []);
    // Method order: netem unless the kernel lacks it; tbf for a rate alone on all traffic; the delayer last.
    assert.deepEqual(impairMethods(classes, undefined), ['netem', 'nfqueue']);
    assert.deepEqual(impairMethods(classes, false), ['nfqueue']);
    assert.deepEqual(impairMethods(impairmentClasses([f('rate', { rateKbit: 256 })]), false), ['tbf', 'nfqueue']);
  });

  it('--to is for link kinds, not the node itself; --every needs a shorter --for', async () => {
    const { faults } = await upLab();
    await assert.rejects(faults.apply({ kind: 'stop', nodes: ['web3'], to: ['web1'] }), /--to applies to the link faults \(delay, loss, rate\), not to stop/);
    await assert.rejects(faults.apply({ kind: 'delay', nodes: ['web3'], delayMs: 5, to: ['web3'] }), /not web3 itself/);
    await assert.rejects(faults.apply({ kind: 'delay', nodes: ['web3'], delayMs: 5, to: ['db9'] }), /unknown node "db9"/);
    await assert.rejects(faults.apply({ kind: 'stop', nodes: ['web3'], everyMs: 10_000 }), /--every needs --for shorter than it/);
    await assert.rejects(faults.apply({ kind: 'stop', nodes: ['web3'], everyMs: 10_000, forMs: 10_000 }), /--every needs --for shorter/);
    await assert.rejects(faults.apply({ kind: 'start', nodes: ['web3'], everyMs: 10_000, forMs: 1000 }), /applies to faults that break something/);
    assert.deepEqual(faults.active(), []);
  });

  it('a repeating fault records its schedule only (no action); heal forgets it', async () => {
    const { docker, faults } = await upLab();
    const s = await faults.apply({ kind: 'stop', nodes: ['web2'], everyMs: 10_000, forMs: 3000 });
    assert.equal(s!.detail, 'stop web2 every 10s for 3s');
    assert.equal(s!.expiresAt, undefined);
    assert.ok(!docker.calls.includes('stop web2'));
    const cycle = await faults.apply({ kind: 'stop', nodes: ['web2'], forMs: 3000 }, { cycleOf: s!.id });
    assert.ok(docker.calls.includes('stop web2'));
    assert.equal(cycle!.cycleOf, s!.id);
    assert.equal(faults.active().length, 2);
    await faults.heal();
    assert.deepEqual(faults.active(), []);
  });

  it('a failing sidecar surfaces its exit code and leaves no container behind', async () => {
    const { docker, faults } = await upLab();
    docker.onWait = () => 2;
    await assert.rejects(faults.apply({ kind: 'loss', nodes: ['web1'], lossPct: 10 }), /tc netem in web1's network namespace failed \(exit 2\)/);
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

  it('loss rules (kept for their users) and partition rules without faults only flush', () => {
    assert.match(lossRules(10), /-A MLAB-LOSS -m statistic --mode random --probability 0\.1000 -j DROP/);
    assert.doesNotMatch(lossRules(undefined), /DROP|-I OUTPUT/);
    assert.doesNotMatch(partitionRules([]), /-I INPUT/);
    assert.equal(
      nfqueueRules([], () => ''),
      '*filter\n:MLAB-IMPAIR - [0:0]\n-F MLAB-IMPAIR\nCOMMIT\n',
    );
  });
});

describe('impairments in the status: read from Docker, not from what was asked', () => {
  it("--to: the peers' addresses the rules were written for are recorded; a peer back with another address is reported not in force (and the timeline says so)", async () => {
    const { docker, engine, faults } = await upLab();
    const node = (n: string) => [...docker.containerMap.values()].find((c) => c.labels['io.moodle-lab.node'] === n)!;
    const network = Object.keys(node('galera1').ips!)[0]!;
    const f = (await faults.apply({ kind: 'delay', nodes: ['web3'], delayMs: 100, to: ['galera1', 'web1'] }))!;
    const recorded = faults.active().find((x) => x.id === f.id)!;
    assert.deepEqual(recorded.peerIps, { galera1: node('galera1').ips![network], web1: node('web1').ips![network] });
    const rows = async () => impairmentStatus(docker, faults.active(), await docker.containers.list(engine.labels()));
    const before = await rows();
    assert.equal(before[0]!.inForce, true, JSON.stringify(before));
    // galera1 stopped: no change (its rules still aim at its address if it comes back with it).
    node('galera1').state = 'exited';
    assert.equal((await rows())[0]!.inForce, true);
    // Back with another address (Docker gave it a new one): the rules aim at the old one.
    node('galera1').state = 'running';
    const was = node('galera1').ips![network]!;
    node('galera1').ips = { [network]: '10.9.0.250' };
    const after = await rows();
    assert.equal(after[0]!.inForce, false);
    assert.equal(
      after[0]!.problem,
      `galera1's address changed (${was} → 10.9.0.250) after the delay was set: its rules aim at the old address, so the link to galera1 is not impaired (set it again, or \`heal\`)`,
    );
    const st = (impairments: typeof after) => ({ ...syntheticStatus(0), impairments });
    assert.deepEqual(
      diffImpairments(st(before), st(after)).map((e) => e.text),
      [`web3 delay 100ms to galera1,web1 no longer in force: ${after[0]!.problem}`],
    );
    assert.equal(after[0]!.stale, true);
    // Set again from the record, for the address Docker gives galera1 now.
    const written: string[] = [];
    docker.onWait = (c) => (written.push([...c.files.values()].map(String).join('\n')), 0);
    assert.deepEqual(await faults.reimpair(), ['web3']);
    assert.ok(
      written.some((w) => w.includes('10.9.0.250/32')),
      written.join('\n---\n'),
    );
    assert.ok(!written.some((w) => w.includes(`${was}/32`)));
    assert.equal(faults.active().find((x) => x.id === f.id)!.peerIps!.galera1, '10.9.0.250');
    const again = await rows();
    assert.equal(again[0]!.inForce, true, JSON.stringify(again));
    assert.deepEqual(await faults.reimpair(), [], 'nothing stale: nothing done');
  });

  it('in force while the node runs in the namespace the rules were set in and its delayer runs; else not, and why', async () => {
    const { docker, engine } = await upLab();
    const at = '2026-11-30T10:00:00.000Z';
    const fault: ActiveFault = {
      id: 'f1',
      kind: 'delay',
      nodes: ['web3'],
      detail: 'delay web3 300ms',
      appliedAt: at,
      params: { delayMs: 300 },
      method: 'nfqueue',
      methodAt: at,
    };
    const web3 = [...docker.containerMap.values()].find((c) => c.labels['io.moodle-lab.node'] === 'web3')!;
    web3.startedAt = '2026-11-30T09:59:00.000Z';
    const delayerId = await docker.containers.create({
      ...web3.spec,
      name: 'unit-faults-delayer-web3',
      labels: { ...engine.labels(), 'io.moodle-lab.tool': 'delayer', 'io.moodle-lab.impairs': 'web3' },
    });
    await docker.containers.start(delayerId);
    const rows = async (f: ActiveFault = fault) => impairmentStatus(docker, [f], await docker.containers.list(engine.labels()));
    assert.deepEqual(await rows(), [{ node: 'web3', kind: 'delay', method: 'nfqueue', faultId: 'f1', delayMs: 300, inForce: true }]);
    // The delayer exited: its queue is bypassed (fail-open), the delay is gone.
    docker.containerMap.get(delayerId)!.state = 'exited';
    assert.match((await rows())[0]!.problem ?? '', /delayer of web3 is not running: its traffic passes unimpaired \(fail-open\)/);
    docker.containerMap.get(delayerId)!.state = 'running';
    // web3 restarted after the delay was set: a new network namespace, without the rules.
    web3.startedAt = '2026-11-30T10:05:00.000Z';
    const [r] = await rows();
    assert.equal(r!.inForce, false);
    assert.match(r!.problem ?? '', /web3 restarted after the delay was set/);
    // netem: no delayer needed; still gone after a restart.
    assert.equal((await rows({ ...fault, method: 'netem' }))[0]!.inForce, false);
    web3.startedAt = '2026-11-30T09:59:00.000Z';
    assert.equal((await rows({ ...fault, method: 'netem' }))[0]!.inForce, true);
    // Recorded but not applied yet.
    assert.equal((await rows({ ...fault, method: undefined, methodAt: undefined }))[0]!.method, 'pending');
  });
});

describe('a repeating fault (fake engine, real timers)', () => {
  it('the process that set it drives the cycles (pause … unpause each time); heal from another process ends it', async function () {
    this.timeout(20_000);
    const { docker, home } = await upLab();
    const controller = new LabController({ docker, store: new StateStore(home), labRoot: path.resolve(__dirname, '../../lab') }, 'unit-faults');
    const schedule = await controller.fault({ kind: 'pause', nodes: ['web2'], everyMs: 2000, forMs: 300 });
    assert.equal(schedule?.detail, 'pause web2 every 2s for 0.3s');
    const count = (c: string) => docker.calls.filter((x) => x === c).length;
    // Two cycles: each pauses web2 and unpauses it 0.3 s later.
    await waitFor(async () => (count('unpause web2') >= 2 ? ready(true) : notYet(`${count('unpause web2')} unpauses`)), {
      what: 'two cycles',
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    // Another process (its own injector on the same state folder) heals: the schedule is forgotten and the loop stops.
    const other = new FaultInjector({
      docker,
      engine: new LabEngine(fakeEngineDeps(docker, new StateStore(home)), 'unit-faults'),
      reporter: { step: () => undefined, detail: () => undefined },
    });
    await other.heal();
    await controller.settled();
    const pauses = count('pause web2');
    assert.ok(pauses >= 2 && pauses <= 3, `${pauses} pauses`);
    assert.equal(count('unpause web2'), pauses, 'every cycle was reverted');
    assert.deepEqual(controller.activeFaults(), []);
    assert.equal(docker.containerMap.get([...docker.containerMap.values()].find((c) => c.labels['io.moodle-lab.node'] === 'web2')!.id)!.state, 'running');
  });
});

describe('a repeating fault vs heal, down and destroy from another process (fake engine, real timers)', () => {
  /** The process driving the repetition and another one (CLI, dashboard, VS Code) on the same state folder. */
  async function twoProcesses() {
    const { docker, home } = await upLab();
    const steps: string[] = [];
    const controller = (name: string) =>
      new LabController(
        {
          docker,
          store: new StateStore(home),
          labRoot: path.resolve(__dirname, '../../lab'),
          reporter: { step: (m) => void steps.push(`${name}: ${m}`), detail: () => undefined },
          engine: { ...upProbes(), clock: fakeClock(), portProbe: async () => true },
        },
        'unit-faults',
      );
    const node = (n: string) => [...docker.containerMap.values()].find((c) => c.labels['io.moodle-lab.node'] === n);
    const count = (c: string) => docker.calls.filter((x) => x === c).length;
    /** Ends the test when the driver does not stop by itself. */
    const stops = (p: Promise<void>) =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the repetition went on')), 5000))]);
    return { docker, driver: controller('driver'), other: controller('other'), steps, node, count, stops };
  }
  const errors = (steps: string[]) => steps.filter((m) => /could not|failed|error/i.test(m));

  it('heal lands while a cycle is being applied (its stop comes last): the node is started again, no cycle after', async function () {
    this.timeout(20_000);
    const { docker, driver, other, steps, node, count, stops } = await twoProcesses();
    const stop = docker.containers.stop;
    let healed = false;
    docker.containers.stop = async (id, t) => {
      if (!healed) {
        healed = true;
        // Another process heals now (its `up` would find web2 still running: nothing to start).
        await other.faults.heal();
      }
      return stop(id, t);
    };
    await driver.fault({ kind: 'stop', nodes: ['web2'], everyMs: 2000, forMs: 300 });
    await stops(driver.settled());
    assert.equal(count('stop web2'), 1, 'no cycle after the heal');
    assert.equal(node('web2')!.state, 'running', 'the stop that landed after the heal is undone');
    assert.deepEqual(driver.activeFaults(), []);
    assert.deepEqual(errors(steps), []);
  });

  it('a cycle is never recorded once its schedule is gone (no rule re-applied after heal)', async () => {
    const { docker, faults } = await upLab();
    const s = await faults.apply({ kind: 'delay', nodes: ['web3'], delayMs: 100, everyMs: 10_000, forMs: 3000 });
    await faults.heal();
    docker.calls = [];
    assert.equal(await faults.apply({ kind: 'delay', nodes: ['web3'], delayMs: 100, forMs: 3000 }, { cycleOf: s!.id }), undefined);
    assert.deepEqual(
      docker.calls.filter((c) => !c.startsWith('exec')),
      [],
    );
    assert.deepEqual(faults.active(), []);
  });

  it('a cycle started while another process heals is either reverted by that heal or never applied', async () => {
    const { docker, engine, faults, home } = await upLab();
    const s = await faults.apply({ kind: 'pause', nodes: ['web2'], everyMs: 10_000, forMs: 3000 });
    const other = new FaultInjector({
      docker,
      engine: new LabEngine(fakeEngineDeps(docker, new StateStore(home)), engine.lab),
      reporter: { step: () => undefined, detail: () => undefined },
    });
    // The driver starts a cycle while the heal is under way (at its first look at a container).
    const inspect = docker.containers.inspect;
    let cycle: Promise<unknown> | undefined;
    docker.containers.inspect = async (id) => {
      if (!cycle) {
        cycle = faults.apply({ kind: 'pause', nodes: ['web2'], forMs: 3000 }, { cycleOf: s!.id });
        await cycle;
      }
      return inspect(id);
    };
    await other.heal();
    docker.containers.inspect = inspect;
    assert.deepEqual(other.active(), []);
    const web2 = [...docker.containerMap.values()].find((c) => c.labels['io.moodle-lab.node'] === 'web2')!;
    assert.equal(web2.state, 'running', 'no pause left behind');
  });

  it('down from another process ends the repetition: the cycle in force is ended, nothing starts again after down', async function () {
    this.timeout(20_000);
    const { docker, driver, other, steps, node, count, stops } = await twoProcesses();
    await driver.fault({ kind: 'stop', nodes: ['web2'], everyMs: 2000, forMs: 400 });
    await waitFor(async () => (count('stop web2') >= 1 ? ready(true) : notYet('no cycle yet')), { what: 'a cycle', timeoutMs: 5000, intervalMs: 20 });
    docker.calls = [];
    await other.down();
    await stops(driver.settled());
    assert.deepEqual(
      docker.calls.filter((c) => c.startsWith('start') || c.startsWith('create')),
      [],
      'nothing started after down',
    );
    assert.ok(['web1', 'web2', 'web3', 'galera1'].every((n) => node(n)!.state === 'exited'));
    assert.deepEqual(driver.activeFaults(), []);
    assert.deepEqual(errors(steps), []);
    assert.ok(
      steps.some((m) => /stopped after 1 cycle \(the lab was stopped\)/.test(m)),
      steps.join('\n'),
    );
  });

  it('destroy from another process while a cycle is in force: no container re-created, no error, the loop ends', async function () {
    this.timeout(20_000);
    const { docker, driver, other, steps, count, stops } = await twoProcesses();
    await driver.fault({ kind: 'stop', nodes: ['web2'], everyMs: 2000, forMs: 300 });
    await waitFor(async () => (count('stop web2') >= 1 ? ready(true) : notYet('no cycle yet')), { what: 'a cycle', timeoutMs: 5000, intervalMs: 20 });
    // The destroy is slow after removing the containers (the state goes last): the cycle runs out meanwhile.
    const listNetworks = docker.networks.list;
    docker.networks.list = async (labels) => {
      await new Promise((r) => setTimeout(r, 800));
      return listNetworks(labels);
    };
    docker.calls = [];
    await other.destroy();
    await stops(driver.settled());
    assert.deepEqual(
      docker.calls.filter((c) => c.startsWith('create') || c.startsWith('start')),
      [],
      'no container re-created',
    );
    assert.equal(docker.containerMap.size, 0);
    assert.deepEqual(errors(steps), []);
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
