/**
 * Restarts are clean starts, on a real `ha` lab without Moodle:
 * - every node's /run is a fresh tmpfs: a file left there is gone after a stop/start;
 * - a stale brick pidfile left in a stopped Gluster container (its PID names a live process
 *   after the restart) does not keep the brick down: `heal` → 3/3 online, nothing pending;
 * - a brick glusterd believes running but is not (its process gone, its pidfile naming PID 1)
 *   is found and started again by `heal`;
 * - `fault stop gluster2` / `heal` a few times in a row (bench/gluster-stop-heal.ts runs twenty);
 * - every container killed at once, as an engine restart leaves them: `up` brings the lab back;
 * - the engine gone (a dead DOCKER_HOST, or the engine's socket closing mid-command): one
 *   error line, exit code 3, and the next command works.
 * Waits poll observable state with deadlines; nothing sleeps as a readiness guess.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliRun, freshLabOrSkip, LabUnderTest, ROOT } from '../support/integration';
import { tarOneFile } from '../../src/docker/tar';
import { brickPidfile, readBrickPid } from '../../src/roles/gluster';
import { GLUSTER_VOLUME, MOODLEDATA } from '../../src/engine/env';
import { LABEL_LAB } from '../../src/docker/labels';
import { notYet, ready, waitFor } from '../../src/core/wait';
import type { LabStatus } from '../../src/protocol/status';

const LAB = process.env.LAB_TEST_RESTARTS_NAME ?? 'it-restarts';
const LOOPS = Number(process.env.LAB_TEST_RESTARTS_LOOPS ?? 3);
const BRICK = `/bricks/${GLUSTER_VOLUME}`;

/** The CLI with extra environment (e.g. DOCKER_HOST). */
function cliWithEnv(lab: LabUnderTest, args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'lab.mjs'), ...args, '--lab', lab.lab], {
      cwd: ROOT,
      env: { ...process.env, MOODLE_LAB_HOME: lab.home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const ENGINE_SOCKET = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock';

/**
 * Extracts a tar into a (stopped) container, parents created as needed: the Engine API's
 * PUT /containers/{id}/archive (the lab's client writes single files into existing folders only).
 */
function putArchive(id: string, dir: string, tar: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: ENGINE_SOCKET,
        method: 'PUT',
        path: `/containers/${id}/archive?path=${encodeURIComponent(dir)}`,
        headers: { 'Content-Type': 'application/x-tar', 'Content-Length': tar.length },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT archive: HTTP ${res.statusCode} ${body}`))));
      },
    );
    req.on('error', reject);
    req.end(tar);
  });
}

/**
 * A unix socket that forwards to the engine's and can be cut: at the n-th HTTP request (`cutAt(n)`,
 * counted from request lines: the client keeps connections alive) the socket closes, that request
 * and every later one are refused (their connection dropped, nothing forwarded) — the engine gone
 * mid-command, for this client only: the engine itself and every other lab keep running.
 * Requests the engine is already carrying out finish and answer: cutting them mid-way would be a
 * client hanging up on a running engine, which Docker answers by cancelling the operation
 * half-done (a container start cancelled that way left a network endpoint that no container
 * owns, and the next `destroy` could not remove the network until the engine restarted) — not
 * what a stopped engine does.
 */
class EngineProxy {
  private server?: net.Server;
  private readonly open = new Set<net.Socket>();
  private limit = Infinity;
  requests = 0;
  cut = false;

  constructor(
    readonly socketPath: string,
    private readonly engineSocket = ENGINE_SOCKET,
  ) {}

  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  async start(): Promise<void> {
    fs.rmSync(this.socketPath, { force: true });
    this.cut = false;
    this.limit = Infinity;
    this.requests = 0;
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.engineSocket);
      this.open.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.open.delete(client);
        this.open.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.on('data', (chunk: Buffer) => {
        if (this.cut) return drop();
        this.requests += (chunk.toString('latin1').match(/^(GET|POST|PUT|DELETE|HEAD) \//gm) ?? []).length;
        if (this.requests >= this.limit) return this.refuseFromNow(drop);
        upstream.write(chunk);
      });
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.socketPath, resolve));
  }

  cutAt(n: number): void {
    this.requests = 0;
    this.limit = n;
  }

  /** The cut: no new connection, this request and every later one dropped unforwarded. */
  private refuseFromNow(drop: () => void): void {
    this.cut = true;
    this.server?.close();
    fs.rmSync(this.socketPath, { force: true });
    drop();
  }

  stop(): void {
    this.cut = true;
    this.server?.close();
    for (const s of this.open) s.destroy();
    this.open.clear();
    fs.rmSync(this.socketPath, { force: true });
  }
}

describe(`restarts are clean starts (lab "${LAB}")`, function () {
  this.timeout(1_800_000);
  const lab = new LabUnderTest(LAB);

  async function bricksOnline(s: LabStatus): Promise<string[]> {
    return s.gluster.bricks.filter((b) => b.online).map((b) => b.name);
  }

  /** After heal: every brick online and nothing pending, read from `status --json`. */
  async function assertStorageHealed(what: string): Promise<void> {
    const s = await lab.status();
    assert.deepEqual(await bricksOnline(s), ['gluster1', 'gluster2', 'gluster3'], `${what}: ${JSON.stringify(s.gluster)}`);
    assert.equal(s.gluster.healPending, 0, `${what}: ${JSON.stringify(s.gluster)}`);
    // The brick's pidfile now names its real glusterfsd.
    const p = await readBrickPid(lab.docker.containers, await lab.containerId('gluster2'), GLUSTER_VOLUME, 'gluster2', BRICK);
    assert.equal(p.glusterfsd, true, `${what}: gluster2's pidfile: ${JSON.stringify(p)}`);
  }

  /** A file written through web1's Gluster mount (entries to heal while a brick is down). */
  async function writeThroughWeb(name: string): Promise<void> {
    const r = await lab.docker.containers.exec(await lab.containerId('web1'), [
      'dd',
      'if=/dev/urandom',
      `of=${MOODLEDATA}/${name}`,
      'bs=4k',
      'count=4',
      'conv=fsync',
      'status=none',
    ]);
    assert.equal(r.exitCode, 0, `write ${name} through web1: ${r.stderr}`);
  }

  async function gluster2BrickOffline(): Promise<void> {
    const id = await lab.containerId('gluster1');
    await waitFor(
      async () => {
        const r = await lab.docker.containers.exec(id, ['lab-volume-status', GLUSTER_VOLUME]);
        const line = JSON.parse(r.stdout.trim().split('\n').pop()!) as { bricks: { host: string; online: boolean }[] };
        return line.bricks.find((b) => b.host === 'gluster2')?.online === false ? ready(undefined) : notYet('gluster2 brick still online');
      },
      { what: 'gluster2 brick offline', timeoutMs: 30_000, intervalMs: 500 },
    );
  }

  before(async function () {
    if (process.env.LAB_TEST_REUSE) {
      // A lab brought up beforehand (MOODLE_LAB_HOME + LAB_TEST_RESTARTS_NAME), e.g. on a loaded machine.
      Object.assign(lab, { home: process.env.MOODLE_LAB_HOME });
      assert.deepEqual(
        (await lab.status()).nodes.filter((n) => !n.healthy).map((n) => n.name),
        [],
        'the reused lab is not healthy',
      );
      return;
    }
    await freshLabOrSkip(this, lab);
    await lab.cliOk(['up', '--no-moodle']);
  });

  after(async function () {
    await lab.destroyLeavingNothing();
  });

  it('every node runs with a tmpfs /run: a file left there is gone after stop + heal', async () => {
    const nodes = ['haproxy', 'web1', 'galera2', 'gluster3', 'redis'];
    for (const node of nodes) {
      const id = await lab.containerId(node);
      const fsType = await lab.docker.containers.exec(id, ['stat', '-f', '-c', '%T', '/run'], { user: 'root' });
      assert.equal(fsType.stdout.trim(), 'tmpfs', `${node}: /run is ${fsType.stdout.trim() || fsType.stderr}`);
      const link = await lab.docker.containers.exec(id, ['readlink', '/var/run'], { user: 'root' });
      assert.equal(link.stdout.trim(), '/run', `${node}: /var/run`);
      const w = await lab.docker.containers.exec(id, ['touch', '/run/lab-left-behind.pid'], { user: 'root' });
      assert.equal(w.exitCode, 0, `${node}: ${w.stderr}`);
    }
    for (const node of nodes) await lab.cliOk(['fault', 'stop', node]);
    await lab.cliOk(['heal']);
    for (const node of nodes) {
      const r = await lab.docker.containers.exec(await lab.containerId(node), ['test', '-e', '/run/lab-left-behind.pid'], { user: 'root' });
      assert.equal(r.exitCode, 1, `${node}: /run/lab-left-behind.pid survived the restart`);
    }
    const s = await lab.status();
    assert.deepEqual(
      s.nodes.filter((n) => !n.healthy).map((n) => `${n.name}: ${n.detail}`),
      [],
    );
    await assertStorageHealed('after the restart of every role');
  });

  it('a stale brick pidfile in the stopped container (PID 1 lives after the start) does not keep the brick down', async () => {
    await lab.cliOk(['fault', 'stop', 'gluster2']);
    await writeThroughWeb('stale-pidfile-while-down');
    // Into the stopped container's writable layer, where an older run's pidfile would be.
    const id = await lab.containerId('gluster2');
    const rel = brickPidfile(GLUSTER_VOLUME, 'gluster2', BRICK).replace(/^\/run\//, '');
    await putArchive(id, '/run', await tarOneFile(rel, Buffer.from('1\n')));
    const r = await lab.cli(['heal']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    await assertStorageHealed('stale pidfile in the stopped container');
  });

  it('a brick whose process is gone and whose pidfile names PID 1: heal finds it and starts it again', async () => {
    const id = await lab.containerId('gluster2');
    const before = await readBrickPid(lab.docker.containers, id, GLUSTER_VOLUME, 'gluster2', BRICK);
    assert.equal(before.glusterfsd, true, JSON.stringify(before));
    const k = await lab.docker.containers.exec(id, ['kill', '-9', String(before.pid)], { user: 'root' });
    assert.equal(k.exitCode, 0, k.stderr);
    // What a PID reused by another process looks like to glusterd: the file names a live process.
    const w = await lab.docker.containers.exec(id, ['sh', '-c', 'echo 1 > "$1"', 'sh', before.pidfile], { user: 'root' });
    assert.equal(w.exitCode, 0, w.stderr);
    await gluster2BrickOffline();
    await writeThroughWeb('brick-process-gone');
    const r = await lab.cli(['heal']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.match(r.stderr, /pidfile names PID 1, which is not its glusterfsd/);
    await assertStorageHealed('brick process gone, pidfile naming PID 1');
  });

  it(`fault stop gluster2 / heal, ${LOOPS} times in a row: 3/3 bricks online and nothing pending every time`, async () => {
    for (let i = 1; i <= LOOPS; i++) {
      await lab.cliOk(['fault', 'stop', 'gluster2']);
      await writeThroughWeb(`loop-${i}`);
      const r = await lab.cli(['heal']);
      assert.equal(r.code, 0, `iteration ${i}: ${r.stderr.slice(-3000)}`);
      await assertStorageHealed(`iteration ${i}`);
    }
  });

  it('every container killed at once (what an engine restart leaves behind): up brings the lab back, Galera recovered, bricks healed', async () => {
    await writeThroughWeb('before-all-killed');
    const all = await lab.docker.containers.list({ [LABEL_LAB]: LAB });
    await Promise.all(all.filter((c) => c.state === 'running').map((c) => lab.docker.containers.kill(c.id, 'SIGKILL')));
    const r = await lab.cli(['up']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const s = await lab.status();
    assert.deepEqual(
      s.nodes.filter((n) => !n.healthy).map((n) => `${n.name}: ${n.detail}`),
      [],
    );
    assert.equal(s.galera.clusterSize, 3, JSON.stringify(s.galera));
    await assertStorageHealed('after every container was killed');
    const read = await lab.docker.containers.exec(await lab.containerId('web2'), ['test', '-s', `${MOODLEDATA}/before-all-killed`]);
    assert.equal(read.exitCode, 0, 'the file written before the kill is there');
  });

  it("a port taken while the lab was down (another lab, any program): up moves HAProxy's stats port and serves there; Moodle's port taken: one error, nothing changed", async () => {
    const hold = (port: number) =>
      new Promise<net.Server>((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
      });
    const before = await lab.status();
    const statsPort = Number(new URL(before.endpoints.haproxyStats!).port);
    const moodlePort = Number(new URL(before.endpoints.moodle!).port);

    await lab.cliOk(['down']);
    let holder = await hold(statsPort);
    try {
      const up = await lab.cliOk(['up']);
      const m = new RegExp(`port ${statsPort} \\(stats\\) is taken since the lab was made: haproxy moves it to (\\d+)`).exec(up.stderr);
      assert.ok(m, up.stderr.slice(-2000));
      const s = await lab.status();
      assert.equal(Number(new URL(s.endpoints.haproxyStats!).port), Number(m[1]));
      assert.equal((await fetch(s.endpoints.haproxyStats!)).status, 200, 'HAProxy answers on the new stats port');
      assert.deepEqual(
        s.nodes.filter((n) => !n.healthy).map((n) => n.name),
        [],
      );
    } finally {
      holder.close();
    }

    await lab.cliOk(['down']);
    holder = await hold(moodlePort);
    try {
      const r = await lab.cli(['up']);
      assert.equal(r.code, 3, r.stderr.slice(-2000));
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      assert.equal(errors.length, 1, r.stderr);
      assert.match(errors[0]!, new RegExp(`port ${moodlePort} on 127\\.0\\.0\\.1 \\(moodle, haproxy\\) is taken .* so it cannot move`));
      assert.ok(
        (await lab.docker.containers.list({ [LABEL_LAB]: LAB })).every((c) => c.state !== 'running'),
        'nothing started',
      );
    } finally {
      holder.close();
    }
    await lab.cliOk(['up']);
    assert.equal(Number(new URL((await lab.status()).endpoints.moodle!).port), moodlePort);
  });

  it('a dead DOCKER_HOST: one error line, exit code 3, nothing touched; the next command works', async () => {
    const dead = path.join(os.tmpdir(), `no-docker-${process.pid}.sock`);
    fs.rmSync(dead, { force: true });
    const r = await cliWithEnv(lab, ['heal'], { DOCKER_HOST: `unix://${dead}` });
    assert.equal(r.code, 3, r.stderr);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('> '));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^error: .*${dead.replace(/[.]/g, '\\.')}`));
    assert.ok((await lab.status()).nodes.every((n) => n.healthy));
  });

  it('the engine gone mid-command (its socket closes while heal runs): one line naming it, exit 3; the next command works', async () => {
    const proxy = new EngineProxy(path.join(os.tmpdir(), `lab-engine-proxy-${process.pid}.sock`));
    await proxy.start();
    try {
      const ok = await cliWithEnv(lab, ['status', '--json'], { DOCKER_HOST: proxy.dockerHost });
      assert.equal(ok.code, 0, ok.stderr);
      const total = proxy.requests;
      assert.ok(total > 6, `status sent ${total} requests`);
      await lab.cliOk(['fault', 'stop', 'gluster2']);
      proxy.cutAt(6);
      const r = await cliWithEnv(lab, ['heal'], { DOCKER_HOST: proxy.dockerHost });
      assert.equal(proxy.cut, true, 'the proxy was cut during heal');
      assert.equal(r.code, 3, r.stderr);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      assert.deepEqual(
        errors,
        [
          `error: the Docker engine does not answer at ${proxy.dockerHost}: start Docker (or point DOCKER_HOST at a running engine), then run the command again`,
        ],
        r.stderr,
      );
      // The engine is back: the next command works and finishes the job.
      await proxy.start();
      const again = await cliWithEnv(lab, ['heal'], { DOCKER_HOST: proxy.dockerHost });
      assert.equal(again.code, 0, again.stderr.slice(-3000));
      await assertStorageHealed('heal after the engine came back');
    } finally {
      proxy.stop();
    }
  });
});
