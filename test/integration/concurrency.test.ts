/**
 * Acceptance (real Docker, `--no-moodle` lab): two CLI processes and the browser dashboard fault
 * three nodes of one lab at the same moment (kill, loss, stop: `pause` needs the cgroup freezer,
 * which fails on an overloaded host with "unable to freeze"). `status --json` must list every fault, whoever
 * applied it, and `heal` must undo every one: checked on the cluster itself (container states,
 * the loss chain in web2's network namespace, HAProxy's own view of web1).
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import WebSocket from 'ws';
import { LabController } from '../../src/controller/lab-controller';
import { controllerActions } from '../../src/host/controller-actions';
import { DashboardServer, startDashboardServer } from '../../src/dashboard/server';
import { inNodeNetns, NETEM_IMAGE } from '../../src/faults/injector';
import { StateStore } from '../../src/engine/state';
import { FaultIntent, Ready, ReplyParams, WireMessage } from '../../src/protocol/messages';
import { SnapshotStore } from '../../src/state/snapshot-store';
import { freshLabOrSkip, LabUnderTest, ROOT } from '../support/integration';

describe('concurrency: CLI processes and the dashboard fault one lab at once (real Docker)', function () {
  this.timeout(1_800_000);
  const lab = new LabUnderTest('h2-conc');
  let controller: LabController;
  let snapshots: SnapshotStore;
  let server: DashboardServer | undefined;

  before(async function () {
    await freshLabOrSkip(this, lab);
    await okOrResumed(['up', '--no-moodle']);
    controller = new LabController({ docker: lab.docker, store: new StateStore(lab.home), labRoot: path.join(ROOT, 'lab') }, lab.lab);
    snapshots = new SnapshotStore({ lab: lab.lab, docker: lab.docker, collect: () => controller.status(), activeFaults: () => controller.activeFaults() });
    server = await startDashboardServer({ lab: lab.lab, store: snapshots, actions: controllerActions(controller), root: ROOT });
    // The loss sidecar's image, built once beforehand: the three faults below then start together.
    await controller.engine.toolImage(NETEM_IMAGE);
  });

  after(async () => {
    await server?.close();
    snapshots?.dispose();
    await lab.cli(['destroy']);
    assert.deepEqual(await lab.leftovers(), { containers: 0, networks: 0, volumes: 0, images: 0 });
  });

  /**
   * Runs a command that resumes where it stopped (`up`, `heal`); on a host this loaded (other labs
   * starting beside this one) a readiness wait may time out once: then it runs once more, saying so.
   */
  async function okOrResumed(args: string[]) {
    const first = await lab.cli(args);
    if (first.code === 0) return first;
    console.log(
      `      ${args[0]} exited ${first.code} (${
        first.stderr
          .trim()
          .split('\n')
          .find((l) => l.startsWith('error:')) ?? '?'
      }): running it again, it resumes`,
    );
    return lab.cliOk(args);
  }

  /**
   * How the node's outgoing packets are impaired, read in its network namespace (a sidecar with
   * NET_ADMIN): the MLAB-IMPAIR chain (NFQUEUE rules of the userspace delayer) and the root qdisc
   * (netem where the kernel has it).
   */
  async function impairment(node: string): Promise<string> {
    const { code, out } = await inNodeNetns(
      { docker: lab.docker, engine: controller.engine },
      await lab.containerId(node),
      node,
      ['sh', '-c', 'iptables -S MLAB-IMPAIR 2>/dev/null; tc qdisc show dev eth0'],
      { output: true, tool: 'probe' },
    );
    assert.equal(code, 0, `the impairment of ${node}: ${out}`);
    return out;
  }

  async function state(node: string): Promise<string> {
    return (await lab.docker.containers.inspect(await lab.containerId(node))).state;
  }

  it('kill web1 (CLI), loss web2 (another CLI) and stop gluster2 (dashboard) at once: all three listed; heal undoes all three', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server!.port}/ws?token=${server!.token}`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const reply = new Promise<ReplyParams>((resolve) =>
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as WireMessage;
        if (m.method === 'reply' && m.id === 'd1') resolve(m.params as ReplyParams);
      }),
    );
    ws.send(JSON.stringify(Ready.create({})));

    const t0 = Date.now();
    ws.send(JSON.stringify(FaultIntent.create('d1', { request: { kind: 'stop', nodes: ['gluster2'] } })));
    const [kill, loss, dash] = await Promise.all([lab.cli(['fault', 'kill', 'web1']), lab.cli(['fault', 'loss', 'web2', '--percent', '10']), reply]);
    ws.close();
    console.log(`      three faults from three processes applied in ${Date.now() - t0} ms`);
    assert.equal(kill.code, 0, kill.stderr);
    assert.equal(loss.code, 0, loss.stderr);
    assert.equal(dash.ok, true, dash.error);

    // The cluster has all three …
    assert.equal(await state('web1'), 'exited');
    assert.equal(await state('gluster2'), 'exited');
    assert.match(await impairment('web2'), /-j NFQUEUE|netem .*loss 10%/);
    // … and status --json (another process) lists all three.
    const s = await lab.status();
    assert.deepEqual(s.faults?.map((f) => `${f.kind} ${f.node}`).sort(), ['kill web1', 'loss web2', 'stop gluster2']);
    for (const f of s.faults ?? [])
      assert.ok(!Number.isNaN(Date.parse(f.since)) && Date.parse(f.since) >= t0 - 1000, `since of ${f.kind} ${f.node}: ${f.since}`);
    assert.equal(s.faults?.find((f) => f.kind === 'loss')?.lossPct, 10);
    const imp = s.impairments?.find((i) => i.node === 'web2');
    assert.ok(imp?.inForce && imp.kind === 'loss' && imp.lossPct === 10, `status lists the loss on web2 in force: ${JSON.stringify(s.impairments)}`);

    const healed = await okOrResumed(['heal', '--json']);
    const after = JSON.parse(healed.stdout.slice(healed.stdout.indexOf('{'))) as typeof s;
    assert.deepEqual(after.faults, []);
    assert.equal(await state('web1'), 'running');
    assert.equal(await state('gluster2'), 'running');
    assert.doesNotMatch(await impairment('web2'), /NFQUEUE|netem/);
    assert.deepEqual(after.impairments ?? [], []);
    assert.equal(after.haproxy.servers.find((x) => x.backend === 'web' && x.server === 'web1')?.status, 'UP');
    assert.deepEqual(
      after.gluster.bricks.map((b) => b.online),
      [true, true, true],
    );
    assert.deepEqual(controller.activeFaults(), []);
  });
});
