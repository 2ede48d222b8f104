/**
 * `export --format compose` brought up by Debian's docker-compose on the real engine: no part of
 * the lab's engine runs the cluster. HAProxy answers the lab's probes through its published
 * port (a real write to Galera, a real file on Gluster), then `down -v` leaves nothing of the
 * Compose project behind (by Compose's own project label).
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { createDockerClient } from '../../src/docker/dockerode-client';
import { notYet, ready, waitFor } from '../../src/core/wait';
import { dockerAvailable, getJson, LabUnderTest } from '../support/integration';

const PROJECT_LABEL = 'com.docker.compose.project';

function compose(args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker-compose', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => {
      out += c;
      if (process.env.LAB_TEST_VERBOSE) process.stderr.write(c);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

describe('compose export on a real engine (docker-compose up, probes through HAProxy, down -v)', function () {
  this.timeout(1_800_000);
  const suffix = randomUUID().slice(0, 6);
  // The lab name only names (and labels) the images the export builds; no lab is ever `up`.
  const lab = new LabUnderTest(`cmpexp${suffix}`);
  const project = `cmpit${suffix}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-it-'));
  const file = path.join(dir, 'compose.yaml');
  const envFile = path.join(dir, 'lab.env');
  const docker = createDockerClient();
  const files = () => ['-p', project, '-f', file, '--env-file', envFile];
  let exported = false;
  let port = 0;

  before(async function () {
    const ok = await dockerAvailable();
    if (ok !== true) {
      console.log(`    skipped: no Docker engine answers (${ok}).`);
      this.skip();
    }
    if (spawnSync('docker-compose', ['version', '--short']).status !== 0) {
      console.log('    skipped: docker-compose is not installed (`apt-get install -y docker-compose`; .ci/run installs it).');
      this.skip();
    }
  });

  after(async function () {
    if (fs.existsSync(file)) {
      const down = await compose([...files(), 'down', '-v', '--remove-orphans', '-t', '30'], 600_000);
      if (down.code !== 0) console.log(down.out.slice(-2000));
    }
    // The images the export built carry the lab's name; shared by content, they stay unless --images.
    await lab.cli(['destroy', '--images']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exports a --no-moodle ha lab (building its images) that docker-compose config accepts', async () => {
    const r = await lab.cliOk([
      'export',
      '--format',
      'compose',
      '--topology',
      'ha',
      '--no-moodle',
      '--build',
      '--port',
      '0',
      '-o',
      file,
      '--secrets-file',
      envFile,
    ]);
    assert.match(r.stderr, /wrote .*compose\.yaml and .*lab\.env \(secrets\)/);
    const config = await compose([...files(), 'config', '-q'], 120_000);
    assert.equal(config.code, 0, config.out);
    // --port 0: Docker picks the host ports at `up` (other labs on this engine take theirs meanwhile).
    const doc = parse(fs.readFileSync(file, 'utf8')) as { services: Record<string, { ports?: string[] }> };
    assert.deepEqual(doc.services.haproxy!.ports, ['127.0.0.1::80', '127.0.0.1::8404', '127.0.0.1::9999']);
    exported = true;
  });

  it('docker-compose up -d brings it up: HAProxy answers /lab/health.php with 200 through its published port', async () => {
    assert.ok(exported, 'the export above failed');
    const up = await compose([...files(), 'up', '-d'], 1_200_000);
    if (up.code !== 0) {
      const logs = await compose([...files(), 'logs', '--no-color', '--tail', '15'], 120_000);
      assert.fail(`docker-compose up exited ${up.code}:\n${up.out.slice(-3000)}\n--- logs ---\n${logs.out.slice(-6000)}`);
    }
    const published = await compose([...files(), 'port', 'haproxy', '80'], 120_000);
    const m = /^127\.0\.0\.1:(\d+)$/m.exec(published.out);
    assert.ok(m, `docker-compose port haproxy 80: ${published.out}`);
    port = Number(m[1]);
    const served = await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/lab/health.php`, { signal: AbortSignal.timeout(15_000) });
        await res.arrayBuffer();
        return res.status === 200 ? ready(res.headers.get('x-served-by')) : notYet(`HTTP ${res.status}`);
      },
      { what: 'HAProxy /lab/health.php', timeoutMs: 300_000, intervalMs: 500 },
    );
    assert.match(served ?? '', /^web[123]$/);
  });

  it('a row written through HAProxy lands in Galera and is read back through the reader listener; a file on Gluster is read back', async () => {
    assert.ok(port > 0, 'the export above failed');
    const marker = `compose-${suffix}`;
    const w = await waitFor(
      async () => {
        const r = await getJson(`http://127.0.0.1:${port}/lab/probe/db.php?write=${marker}`);
        return r.status === 200 ? ready(r) : notYet(`HTTP ${r.status}: ${JSON.stringify(r.json).slice(0, 200)}`);
      },
      { what: 'DB write through HAProxy', timeoutMs: 120_000, intervalMs: 1000 },
    );
    const id = Number(w.json.id);
    assert.ok(id > 0, JSON.stringify(w.json));
    const r = await getJson(`http://127.0.0.1:${port}/lab/probe/db.php?read=${id}&via=reader`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal((r.json.row as { value?: string } | undefined)?.value, marker);

    const f = await getJson(`http://127.0.0.1:${port}/lab/probe/file.php?write=${marker}&value=${marker}-content`);
    assert.equal(f.status, 200, JSON.stringify(f.json));
    const back = await getJson(`http://127.0.0.1:${port}/lab/probe/file.php?read=${marker}`);
    assert.equal(back.json.value, `${marker}-content`);
  });

  it('docker-compose down -v leaves no container, volume or network of the project', async () => {
    assert.ok(port > 0, 'the export above failed');
    const before = await docker.containers.list({ [PROJECT_LABEL]: project });
    assert.equal(before.length, 11, before.map((c) => c.name).join(', '));
    const down = await compose([...files(), 'down', '-v', '-t', '30'], 600_000);
    assert.equal(down.code, 0, down.out);
    const label = { [PROJECT_LABEL]: project };
    assert.deepEqual(
      {
        containers: (await docker.containers.list(label)).length,
        volumes: (await docker.volumes.list(label)).length,
        networks: (await docker.networks.list(label)).length,
      },
      { containers: 0, volumes: 0, networks: 0 },
    );
  });
});

/**
 * The Moodle variant: `export --moodle-source SRC --build` (the Moodle image made from the web
 * image), `up -d`, the one-shot moodle-install service installs into the empty database and exits
 * 0, Moodle answers its login page through HAProxy; `down -v` leaves nothing.
 *   MOODLE_LAB_TEST_SOURCE=/path/to/moodle npx mocha --timeout 1800000 test/integration/compose.test.ts
 */
describe('compose export with Moodle on a real engine (moodle-install one-shot, login page through HAProxy)', function () {
  this.timeout(2_400_000);
  const source = process.env.MOODLE_LAB_TEST_SOURCE;
  const suffix = randomUUID().slice(0, 6);
  const lab = new LabUnderTest(`cmpmdl${suffix}`);
  const project = `cmpmdl${suffix}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-it-'));
  const file = path.join(dir, 'compose.yaml');
  const envFile = path.join(dir, 'lab.env');
  const docker = createDockerClient();
  const files = () => ['-p', project, '-f', file, '--env-file', envFile];
  let port = 0;

  before(async function () {
    const ok = await dockerAvailable();
    if (ok !== true || !source || spawnSync('docker-compose', ['version', '--short']).status !== 0) {
      console.log(
        `    skipped: ${ok !== true ? `no Docker engine answers (${ok})` : !source ? 'set MOODLE_LAB_TEST_SOURCE to a Moodle 5.x source folder or archive' : 'docker-compose is not installed'}.`,
      );
      this.skip();
    }
  });

  after(async function () {
    if (fs.existsSync(file)) await compose([...files(), 'down', '-v', '--remove-orphans', '-t', '30'], 600_000);
    if (source) await lab.cli(['destroy']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exports an ha lab with Moodle (its images built, the Moodle one from the source)', async () => {
    const r = await lab.cliOk(['export', '--format', 'compose', '--moodle-source', source!, '--build', '-o', file, '--secrets-file', envFile]);
    assert.match(r.stderr, /wrote /);
    const doc = parse(fs.readFileSync(file, 'utf8')) as { services: Record<string, { ports?: string[]; image?: string }> };
    assert.match(doc.services['moodle-install']!.image!, /\/moodle:/);
    port = Number(/^127\.0\.0\.1:(\d+):80$/.exec(doc.services.haproxy!.ports![0]!)![1]);
  });

  it('up -d: moodle-install installs into the empty database and exits 0; the login page answers through HAProxy', async () => {
    assert.ok(port > 0, 'the export above failed');
    const up = await compose([...files(), 'up', '-d'], 1_800_000);
    assert.equal(up.code, 0, up.out.slice(-3000));
    const [installer] = await docker.containers.list({ [PROJECT_LABEL]: project, 'com.docker.compose.service': 'moodle-install' });
    assert.ok(installer, 'no moodle-install container');
    const code = await docker.containers.wait(installer.id);
    assert.equal(code, 0, await docker.containers.logs(installer.id, 40));
    const page = await waitFor(
      async () => {
        const res = await fetch(`http://localhost:${port}/login/index.php`, { signal: AbortSignal.timeout(30_000) });
        const text = await res.text();
        return res.status === 200 && /name="username"/.test(text) ? ready(text) : notYet(`HTTP ${res.status}`);
      },
      { what: 'Moodle login page through HAProxy', timeoutMs: 300_000, intervalMs: 1000 },
    );
    assert.match(page, /<title>[^<]*moodlelab<\/title>/);
  });

  it('down -v leaves no container, volume or network of the project', async () => {
    assert.ok(port > 0, 'the export above failed');
    const down = await compose([...files(), 'down', '-v', '-t', '30'], 600_000);
    assert.equal(down.code, 0, down.out);
    const label = { [PROJECT_LABEL]: project };
    const left = {
      containers: (await docker.containers.list(label)).length,
      volumes: (await docker.volumes.list(label)).length,
      networks: (await docker.networks.list(label)).length,
    };
    assert.deepEqual(left, { containers: 0, volumes: 0, networks: 0 });
  });
});
