/**
 * The load-balancer pair on a real lab (`ha` with `lb: { count: 2, keepalived: true }`, no
 * Moodle: the lab's own probes): keepalived holds the VIP on one HAProxy, the edge publishes
 * Moodle's port, and killing the MASTER moves the VIP to the other node. What is asserted is
 * what the cluster says: keepalived's own state (its notify script's record), the kernel's
 * addresses in each namespace (`ip -j addr`), Docker's own events, answers through the edge.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import * as path from 'node:path';
import { freshLabOrSkip, getJson, LabUnderTest, ROOT } from '../support/integration';
import { LabEngine } from '../../src/engine/lab';
import { StateStore } from '../../src/engine/state';
import { PAIR } from '../support/lb-pair';
import { labLabels, LABEL_NODE } from '../../src/docker/labels';
import { readVrrp } from '../../src/roles/lb';
import { HaproxyRuntime, tcpRuntime } from '../../src/roles/haproxy-runtime';
import { notYet, ready, waitFor } from '../../src/core/wait';
import type { LabStatus } from '../../src/protocol/status';

const LAB = process.env.LAB_TEST_LB_NAME ?? 'mlt-lbpair';

/** One GET on a fresh connection (no keep-alive: each request finds the VIP anew), bounded by 3 s. */
function getFresh(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}

describe(`load balancer pair on a real lab (lab "${LAB}")`, function () {
  this.timeout(1_800_000);
  const lab = new LabUnderTest(LAB);
  let status: LabStatus;
  const containerId = async (node: string) => (await lab.docker.containers.list(labLabels(LAB))).find((c) => c.labels[LABEL_NODE] === node)!.id;
  const stableStatus = () =>
    waitFor(
      async () => {
        const s = await lab.status();
        const lb = s.lb;
        const words = lb?.nodes.map((n) => `${n.name} ${n.vrrp}${n.holdsVip ? ' (VIP)' : ''}${n.detail ? ` ${n.detail}` : ''}`).join(', ');
        const ok =
          lb &&
          lb.holder &&
          lb.master === lb.holder &&
          !lb.splitBrain &&
          lb.nodes
            .map((n) => n.vrrp)
            .sort()
            .join() === 'BACKUP,MASTER' &&
          s.nodes.every((n) => n.healthy);
        return ok
          ? ready(s)
          : notYet(
              `${words ?? 'no lb section'}; unhealthy: ${s.nodes
                .filter((n) => !n.healthy)
                .map((n) => n.name)
                .join(', ')}`,
            );
      },
      { what: 'one MASTER holding the VIP, one BACKUP, every node healthy', timeoutMs: 90_000, intervalMs: 500 },
    );

  before(async function () {
    await freshLabOrSkip(this, lab);
    // The definition goes straight to the engine (a lab file says the same to `up --topology`).
    const engine = new LabEngine({ docker: lab.docker, store: new StateStore(lab.home), labRoot: path.join(ROOT, 'lab') }, LAB);
    await engine.up({ definition: PAIR });
    status = await stableStatus();
  });

  after(async () => {
    await lab.destroyLeavingNothing();
  });

  it('every node healthy; status names the VIP, its holder and the MASTER; Moodle port answers through the edge; DB writes go through the VIP', async () => {
    const lb = status.lb!;
    assert.match(lb.vip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(lb.master, lb.holder);
    assert.deepEqual(lb.nodes.map((n) => n.name).sort(), ['haproxy1', 'haproxy2']);
    assert.equal(status.haproxy.node, lb.holder, 'HAProxy servers read from the VIP holder');
    assert.equal(status.nodes.find((n) => n.name === 'edge')?.healthy, true);
    const base = status.endpoints.moodle!.replace('localhost', '127.0.0.1');
    assert.equal(await getFresh(`${base}/lab/health.php`), 200);
    const w = await getJson(`${base}/lab/probe/db.php?write=lbpair-${Date.now()}`);
    assert.equal(w.status, 200, JSON.stringify(w.json));
    assert.equal(w.json.via, 'writer');
  });

  it('maintenance --node drains on both HAProxy nodes', async () => {
    const runtimes = ['runtime', 'haproxy2-runtime'].map((p) => new HaproxyRuntime(tcpRuntime(new StateStore(lab.home).load(LAB)!.ports[p]!)));
    const web2 = async () => Promise.all(runtimes.map(async (r) => (await r.servers()).find((s) => s.backend === 'web' && s.server === 'web2')?.status));
    await lab.cliOk(['maintenance', 'on', '--node', 'web2']);
    assert.deepEqual(await web2(), ['DRAIN', 'DRAIN']);
    await lab.cliOk(['maintenance', 'off', '--node', 'web2']);
    assert.deepEqual(await web2(), ['UP', 'UP']);
  });

  it('kill the MASTER: the other HAProxy holds the VIP within 2 s (keepalived and the kernel say so), the Moodle port still answers through the edge', async () => {
    const master = status.lb!.master!;
    const other = status.lb!.nodes.find((n) => n.name !== master)!.name;
    const vip = status.lb!.vip;
    const base = status.endpoints.moodle!.replace('localhost', '127.0.0.1');
    const masterId = await containerId(master);
    const otherId = await containerId(other);
    // Docker's own word for when the MASTER died.
    let diedAt = 0;
    const unsubscribe = await lab.docker.events(labLabels(LAB), (e) => {
      if (e.type === 'container' && e.id === masterId && e.action === 'die' && !diedAt) diedAt = e.timeMs;
    });
    // Requests through the edge all along, each on a fresh connection.
    const results: { at: number; code: number }[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const at = Date.now();
        results.push({ at, code: await getFresh(`${base}/lab/health.php`) });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await lab.cliOk(['fault', 'kill', master]);
      const took = await waitFor(
        async () => {
          const r = await readVrrp(lab.docker.containers, otherId, vip);
          return r.holdsVip && r.state === 'MASTER' && r.since && diedAt
            ? ready(r)
            : notYet(`${other}: ${r.state ?? 'no state'}, VIP ${r.holdsVip ? 'held' : 'not held'}`);
        },
        { what: `${other} holding the VIP`, timeoutMs: 15_000, intervalMs: 100 },
      );
      const moveMs = took.since! - diedAt;
      console.log(`    VIP ${vip}: ${master} died → ${other} MASTER with the VIP after ${moveMs} ms (keepalived's record vs Docker's die event)`);
      assert.ok(moveMs >= 0 && moveMs <= 2000, `VIP moved after ${moveMs} ms`);
      // The Moodle port answers through the edge on the new holder.
      await waitFor(
        async () => {
          const recent = results.filter((r) => r.at > took.since!);
          return recent.length >= 10 && recent.slice(-10).every((r) => r.code === 200) ? ready(undefined) : notYet(`${recent.length} requests since the move`);
        },
        { what: 'ten answers in a row through the edge after the move', timeoutMs: 30_000, intervalMs: 200 },
      );
    } finally {
      probing = false;
      await prober;
      unsubscribe();
    }
    const failed = results.filter((r) => r.code !== 200);
    console.log(
      `    through the edge: ${results.length} requests, ${failed.length} failed (${failed.map((f) => `${f.code || 'no answer'} at +${f.at - diedAt} ms`).join(', ')})`,
    );
    const after = await lab.status();
    assert.equal(after.lb!.holder, other);
    assert.equal(after.lb!.master, other);
    const dead = after.lb!.nodes.find((n) => n.name === master)!;
    assert.deepEqual([dead.vrrp, dead.holdsVip, dead.detail], ['FAULT', false, 'container exited']);
  });

  it('heal: both HAProxy nodes back, one MASTER holding the VIP (the one that took over keeps it: nopreempt)', async () => {
    const holder = (await lab.status()).lb!.holder;
    await lab.cliOk(['heal']);
    const s = await stableStatus();
    assert.equal(s.lb!.holder, holder);
    assert.equal(s.nodes.filter((n) => n.role === 'lb' && n.container === 'running').length, 2);
  });
});
