import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { CliIo, exitCodeFor, runCli, UsageError } from '../../src/cli';
import { renderHaproxyConfig } from '../../src/roles/haproxy';
import { newSecrets, StateStore } from '../../src/engine/state';
import { BUILTIN_LABS, buildTopology, PresetName, Role, roleSpec } from '../../src/engine/topology';
import { exportCommand } from '../../src/export/command';
import { ComposeInput, IMAGE_HEALTHCHECKS, renderCompose, SECRET_VARS, VOLUME_READY_MARKER } from '../../src/export/compose';
import { FakeDocker } from '../support/fake-docker';

const LAB_ROOT = path.resolve(__dirname, '../../lab');
const PORTS = { moodle: 18080, stats: 18404, runtime: 19999 };

function input(preset: PresetName, over: Partial<ComposeInput> = {}): ComposeInput {
  const topology = buildTopology(preset);
  return {
    lab: 'exp',
    topology,
    images: new Map(topology.nodes.map((n) => [n.role, `exp/${roleSpec(n.role).image}:0123456789abcdef`])),
    ports: preset === 'ha' ? PORTS : { moodle: PORTS.moodle },
    secrets: newSecrets(),
    haproxyProfile: 'tuned',
    ...over,
  };
}

interface Service {
  image: string;
  hostname: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  cap_add?: string[];
  devices?: string[];
  volumes?: string[];
  ports?: string[];
  networks?: string[];
  tmpfs?: string[];
  labels?: unknown;
  restart?: string;
  command?: string[];
}
interface ComposeDoc {
  services: Record<string, Service>;
  networks: Record<string, unknown>;
  volumes?: Record<string, unknown>;
}

/** Compose's own reading of a value: `$$` is a literal `$`. */
const unescape = (s: string) => s.replace(/\$\$/g, '$');

/** Each Dockerfile's HEALTHCHECK command (the exec form, one JSON array). */
function dockerfileHealthcheck(role: Role): string[] {
  const text = fs.readFileSync(path.join(LAB_ROOT, roleSpec(role).image, 'Dockerfile'), 'utf8');
  const m = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(text);
  assert.ok(m, `no HEALTHCHECK in lab/${roleSpec(role).image}/Dockerfile`);
  return JSON.parse(m[1]!) as string[];
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: {} };
  return { x, out, err };
}

const compose = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' });
const haveCompose = compose.status === 0;

function composeConfig(yaml: string, envFile?: string): { status: number | null; stdout: string; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-export-'));
  try {
    fs.writeFileSync(path.join(dir, 'compose.yaml'), yaml);
    const args = ['-p', 'exportcheck', '-f', path.join(dir, 'compose.yaml')];
    if (envFile !== undefined) {
      fs.writeFileSync(path.join(dir, 'lab.env'), envFile);
      args.push('--env-file', path.join(dir, 'lab.env'));
    }
    // An empty environment: nothing of the caller's shell may fill a variable the file needs.
    const r = spawnSync('docker-compose', [...args, 'config'], { encoding: 'utf8', cwd: dir, env: { PATH: process.env.PATH ?? '' } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('compose export (renderCompose)', () => {
  it('ha: every node a service, on one network, with its volumes, capabilities, devices and 127.0.0.1 ports', () => {
    const { yaml } = renderCompose(input('ha'));
    const doc = parse(yaml) as ComposeDoc;
    assert.deepEqual(Object.keys(doc.services).sort(), [
      'galera1',
      'galera2',
      'galera3',
      'gluster1',
      'gluster2',
      'gluster3',
      'haproxy',
      'redis',
      'web1',
      'web2',
      'web3',
    ]);
    assert.deepEqual(Object.keys(doc.networks), ['lab']);
    for (const [name, s] of Object.entries(doc.services)) {
      assert.equal(s.hostname, name);
      assert.deepEqual(s.networks, ['lab']);
      assert.match(s.image, /^exp\/[a-z]+:0123456789abcdef$/);
      assert.deepEqual(s.tmpfs, ['/run:rw,nosuid,nodev,noexec,mode=0755,size=64m']);
      for (const p of s.ports ?? []) assert.match(p, /^127\.0\.0\.1:\d*:\d+$/, `${name} publishes ${p}`);
    }
    assert.deepEqual(doc.services.haproxy!.ports, ['127.0.0.1:18080:80', '127.0.0.1:18404:8404', '127.0.0.1:19999:9999']);
    for (const w of ['web1', 'web2', 'web3']) {
      assert.deepEqual(doc.services[w]!.cap_add, ['SYS_ADMIN']);
      assert.deepEqual(doc.services[w]!.devices, ['/dev/fuse:/dev/fuse:rwm']);
      assert.deepEqual(doc.services[w]!.ports, ['127.0.0.1::80']);
    }
    for (const g of ['gluster1', 'gluster2', 'gluster3']) {
      assert.deepEqual(doc.services[g]!.cap_add, ['SYS_ADMIN']);
      assert.deepEqual(doc.services[g]!.volumes, [`${g}-glusterd:/var/lib/glusterd`, `${g}-bricks:/bricks`]);
    }
    assert.deepEqual(doc.services.galera2!.volumes, ['galera2-data:/var/lib/mysql']);
    assert.equal(doc.services.redis!.cap_add, undefined);
    assert.deepEqual(Object.keys(doc.volumes ?? {}).sort(), [
      'galera1-data',
      'galera2-data',
      'galera3-data',
      'gluster1-bricks',
      'gluster1-glusterd',
      'gluster2-bricks',
      'gluster2-glusterd',
      'gluster3-bricks',
      'gluster3-glusterd',
    ]);
  });

  it("none of the lab's io.moodle-lab labels: the lab's destroy never touches a Compose deployment", () => {
    const { yaml } = renderCompose(input('ha'));
    assert.doesNotMatch(yaml, /io\.moodle-lab/);
    for (const s of Object.values((parse(yaml) as ComposeDoc).services)) assert.equal(s.labels, undefined);
  });

  it('start order: galera joiners one at a time, web nodes after everything they use is healthy', () => {
    const doc = parse(renderCompose(input('ha')).yaml) as ComposeDoc;
    const s = doc.services;
    assert.equal(s.galera1!.depends_on, undefined);
    assert.deepEqual(s.galera2!.depends_on, { galera1: { condition: 'service_healthy' } });
    assert.deepEqual(s.galera3!.depends_on, { galera2: { condition: 'service_healthy' } });
    for (const w of ['web1', 'web2', 'web3']) {
      assert.deepEqual(Object.keys(s[w]!.depends_on!).sort(), ['galera1', 'galera2', 'galera3', 'gluster1', 'gluster2', 'gluster3', 'haproxy', 'redis']);
      assert.ok(Object.values(s[w]!.depends_on!).every((d) => d.condition === 'service_healthy'));
    }
  });

  it("health checks: each image's own HEALTHCHECK command ($ escaped for Compose); gluster1 also waits for its volume", () => {
    const doc = parse(renderCompose(input('ha')).yaml) as ComposeDoc;
    for (const [name, s] of Object.entries(doc.services)) {
      const role = buildTopology('ha').nodes.find((n) => n.name === name)!.role;
      assert.deepEqual(IMAGE_HEALTHCHECKS[role], dockerfileHealthcheck(role), `lab/${roleSpec(role).image}/Dockerfile`);
      if (name === 'gluster1') {
        assert.equal(s.healthcheck!.test[0], 'CMD-SHELL');
        assert.match(s.healthcheck!.test[1]!, new RegExp(`^test -f ${VOLUME_READY_MARKER} && timeout 3 gluster --mode=script peer status`));
      } else {
        assert.deepEqual(s.healthcheck!.test.map(unescape), ['CMD', ...dockerfileHealthcheck(role)]);
      }
    }
    assert.ok(
      doc.services.redis!.healthcheck!.test.some((a) => a.includes('"$$REDIS_PASSWORD"')),
      'a literal $ is doubled',
    );
  });

  it('what the engine does imperatively comes in through the environment: HAProxy config, Galera bootstrap, Gluster volume setup', () => {
    const i = input('ha', { haproxyProfile: 'defaults' });
    const s = (parse(renderCompose(i).yaml) as ComposeDoc).services;
    assert.equal(unescape(s.haproxy!.environment!.HAPROXY_CFG!).trimEnd(), renderHaproxyConfig(i.topology, 'defaults').trimEnd());
    assert.equal(s.galera1!.environment!.GALERA_BOOTSTRAP_AUTO, '1');
    assert.equal(s.galera2!.environment!.GALERA_BOOTSTRAP_AUTO, undefined);
    assert.equal(s.galera1!.environment!.GALERA_CLUSTER_ADDRESS, 'gcomm://galera1,galera2,galera3');
    assert.equal(s.gluster1!.environment!.LAB_VOLUME_SETUP, 'moodledata gluster1 gluster2 gluster3');
    assert.equal(s.gluster2!.environment, undefined);
    assert.equal(s.web2!.environment!.GLUSTER_SERVERS, 'gluster1,gluster2,gluster3');
    assert.equal(s.web2!.environment!.DB_HOST, 'haproxy');
    assert.equal(s.web2!.environment!.MOODLE_WWWROOT, 'http://localhost:18080');
    assert.equal(s.web2!.environment!.DB_PASSWORD, i.secrets.dbPassword);
    assert.equal(s['moodle-install'], undefined, 'no Moodle, no install service');
  });

  it('single: one web node publishing the Moodle port, one DB, no HAProxy, Gluster or Redis', () => {
    const doc = parse(renderCompose(input('single')).yaml) as ComposeDoc;
    assert.deepEqual(Object.keys(doc.services).sort(), ['galera1', 'web1']);
    assert.deepEqual(doc.services.web1!.ports, ['127.0.0.1:18080:80']);
    assert.deepEqual(doc.services.web1!.depends_on, { galera1: { condition: 'service_healthy' } });
    assert.equal(doc.services.web1!.environment!.GLUSTER_SERVERS, '');
  });

  it('--secrets-file: no secret value in the Compose file, every one in the env file, referred to as a required variable', () => {
    const i = input('ha', { secretsAsVariables: true, moodle: { layout: 'public' } });
    const { yaml, envFile } = renderCompose(i);
    for (const v of Object.values(i.secrets)) assert.ok(!yaml.includes(v), 'a secret value is in the Compose file');
    const lines = envFile!.trim().split('\n');
    assert.deepEqual(
      lines.sort(),
      Object.entries(SECRET_VARS)
        .map(([k, name]) => `${name}=${i.secrets[k as keyof typeof i.secrets]}`)
        .sort(),
    );
    const s = (parse(yaml) as ComposeDoc).services;
    assert.match(s.web1!.environment!.DB_PASSWORD!, /^\$\{LAB_DB_PASSWORD:\?/);
    assert.match(s.galera1!.environment!.MARIADB_ROOT_PASSWORD!, /^\$\{LAB_DB_ROOT_PASSWORD:\?/);
    assert.match(s['moodle-install']!.environment!.MOODLE_LAB_ADMIN_PASSWORD!, /^\$\{LAB_MOODLE_ADMIN_PASSWORD:\?/);
  });

  it('with Moodle: a one-shot install service (restart "no", quoted for YAML 1.1) that installs only into an empty database', () => {
    const { yaml } = renderCompose(input('ha', { moodle: { layout: 'public' } }));
    const s = (parse(yaml) as ComposeDoc).services['moodle-install']!;
    assert.match(yaml, /restart: "no"/);
    assert.equal(s.restart, 'no');
    assert.equal(s.ports, undefined);
    assert.deepEqual(s.healthcheck, { disable: true });
    assert.deepEqual(s.command!.slice(0, 2), ['bash', '-c']);
    const script = unescape(s.command![2]!);
    // What the database holds decides: only `empty` runs the installer; a half-made install is refused.
    assert.match(script, /SHOW TABLES LIKE 'mdl\\\\_config'"\)->num_rows === 0\) \{ echo "empty"/);
    assert.match(script, /name = 'rolesactive'/);
    assert.match(script, /complete\) echo "moodle-install: nothing to do"; exit 0 ;;/);
    assert.match(script, /partial\) .*docker-compose down -v.*exit 1 ;;/);
    assert.match(
      script,
      /empty\) runuser -u www-data -- env MOODLE_LAB_ADMIN_PASSWORD="\$MOODLE_LAB_ADMIN_PASSWORD" php \/usr\/local\/share\/moodle-lab\/install-database\.php --agree-license/,
    );
    assert.match(script, /public\/admin\/tool\/generator\/cli\/maketestcourse\.php --shortname=halab/);
    assert.ok(Object.values(s.depends_on!).every((d) => d.condition === 'service_healthy'));
    // The script is bash: it parses.
    const check = spawnSync('bash', ['-n', '-c', script], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  });

  describe("accepted by Debian's docker-compose (config)", function () {
    this.timeout(60_000);
    before(function () {
      if (!haveCompose) {
        console.log('      (docker-compose is not installed: `apt-get install -y docker-compose` runs these; .ci/run installs it)');
        this.skip();
      }
    });
    const cases: [string, () => ComposeInput][] = [
      ['ha', () => input('ha')],
      ['single', () => input('single')],
      ['ha with Moodle', () => input('ha', { moodle: { layout: 'legacy' } })],
      ['ha, secrets in an env file', () => input('ha', { secretsAsVariables: true, moodle: { layout: 'public' } })],
    ];
    for (const [name, make] of cases) {
      it(name, () => {
        const i = make();
        const { yaml, envFile } = renderCompose(i);
        const r = composeConfig(yaml, envFile);
        assert.equal(r.status, 0, r.stderr);
        // Compose's own reading: literal values as the engine gives them, ports on 127.0.0.1 only.
        const normal = parse(r.stdout) as { services: Record<string, { environment?: Record<string, string>; ports?: (string | { host_ip?: string })[] }> };
        // docker-compose 1.29 prints `127.0.0.1:8080:80/tcp`, Compose v2 `host_ip: 127.0.0.1`.
        for (const s of Object.values(normal.services))
          for (const p of s.ports ?? []) assert.equal(typeof p === 'string' ? p.split(':')[0] : p.host_ip, '127.0.0.1');
        if (i.topology.preset === 'ha') {
          assert.equal(normal.services.haproxy!.environment!.HAPROXY_CFG!.trimEnd(), renderHaproxyConfig(i.topology, 'tuned').trimEnd());
          assert.equal(normal.services.web1!.environment!.REDIS_PASSWORD, i.secrets.redisPassword);
        }
      });
    }
    it('without the env file, a secret variable is missing: config fails naming it', () => {
      const { yaml } = renderCompose(input('ha', { secretsAsVariables: true }));
      const r = composeConfig(yaml);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /LAB_DB_PASSWORD|LAB_DB_ROOT_PASSWORD|LAB_REDIS_PASSWORD/);
    });
  });
});

describe('compose export (CLI)', () => {
  const deps = () => {
    const docker = new FakeDocker();
    docker.imageMap.set('debian:trixie-slim', { id: 'sha256:base', tags: ['debian:trixie-slim'], labels: {} });
    return { docker, store: new StateStore(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-export-'))), labRoot: LAB_ROOT };
  };

  it('bad input is a usage error before Docker is touched', async () => {
    const d = deps();
    await assert.rejects(runCli(['export', '--lab', 'exp'], io().x, d), (e: unknown) => e instanceof UsageError && /needs --format/.test(e.message));
    await assert.rejects(runCli(['export', '--format', 'k8s', '--lab', 'exp'], io().x, d), /--format must be one of compose/);
    await assert.rejects(runCli(['export', '--format', 'compose', 'extra'], io().x, d), /export takes no arguments/);
    await assert.rejects(
      runCli(['export', '--format', 'compose', '-o', '/no/such/dir/c.yaml'], io().x, d),
      /folder of "\/no\/such\/dir\/c.yaml" does not exist/,
    );
    await assert.rejects(
      runCli(['export', '--format', 'compose', '--moodle-source', '/tmp', '--no-moodle'], io().x, d),
      /--moodle-source and --no-moodle exclude each other/,
    );
    assert.equal(d.docker.calls.length, 0);
  });

  it('a keepalived load balancer pair is refused (exit 2): fixed addresses and NET_ADMIN need `up`', async () => {
    const d = deps();
    fs.mkdirSync(d.store.dir('pair'), { recursive: true });
    fs.writeFileSync(
      d.store.file('pair'),
      JSON.stringify({
        lab: 'pair',
        createdAt: new Date().toISOString(),
        preset: 'ha-pair',
        webCount: 3,
        definition: { name: 'ha-pair', description: '', roles: { ...BUILTIN_LABS.ha.roles, lb: { count: 2, keepalived: true } } },
        baseImage: 'debian:trixie-slim',
        secrets: newSecrets(),
        ports: { moodle: 8181, stats: 8405, runtime: 9998, 'haproxy2-stats': 8406, 'haproxy2-runtime': 9997 },
        extra: {},
      }),
    );
    const err = await runCli(['export', '--format', 'compose', '--lab', 'pair', '--build'], io().x, d).catch((e: unknown) => e);
    assert.ok(err instanceof UsageError, String(err));
    assert.match(err.message, /does not support a topology with fixed addresses .*lb: a keepalived pair's virtual IP.*`up` instead/);
    assert.equal(exitCodeFor(err), 2);
    assert.equal(d.docker.calls.length, 0);
  });

  it('missing images: one error naming them and --build, nothing written', async () => {
    const d = deps();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-export-out-'));
    const out = path.join(dir, 'compose.yaml');
    await assert.rejects(
      runCli(['export', '--format', 'compose', '--lab', 'exp', '-o', out], io().x, d),
      /images that do not exist here: moodle-lab\/haproxy:[0-9a-f]{16}, .*export --build/,
    );
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.deepEqual([...d.docker.imageMap.keys()], ['debian:trixie-slim'], 'nothing built');
  });

  it("--build builds the missing images (shared by content, labelled with the lab's name); -o and --secrets-file write owner-only files", async () => {
    const d = deps();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-export-out-'));
    const out = path.join(dir, 'compose.yaml');
    const env = path.join(dir, 'lab.env');
    const { x, out: stdout } = io();
    assert.equal(
      await runCli(
        ['export', '--format', 'compose', '--lab', 'exp', '--topology', 'single', '--port', '18123', '--build', '-o', out, '--secrets-file', env],
        x,
        d,
      ),
      0,
    );
    assert.deepEqual(
      d.docker.calls
        .filter((c) => c.startsWith('build'))
        .map((c) => c.replace(/:[0-9a-f]+$/, ''))
        .sort(),
      ['build moodle-lab/galera', 'build moodle-lab/web'],
    );
    for (const i of d.docker.imageMap.values()) if (i.tags[0]!.startsWith('moodle-lab/')) assert.equal(i.labels['io.moodle-lab.lab'], 'exp');
    assert.equal(stdout.join(''), '');
    for (const f of [out, env]) assert.equal(fs.statSync(f).mode & 0o777, 0o600);
    const doc = parse(fs.readFileSync(out, 'utf8')) as ComposeDoc;
    assert.deepEqual(doc.services.web1!.ports, ['127.0.0.1:18123:80']);
    assert.match(fs.readFileSync(env, 'utf8'), /^LAB_DB_ROOT_PASSWORD=\S+$/m);
    // Built again? No: the tags exist now, and stdout gets the file.
    const again = io();
    d.docker.calls = [];
    assert.equal(await runCli(['export', '--format', 'compose', '--lab', 'exp', '--topology', 'single'], again.x, d), 0);
    assert.deepEqual(d.docker.calls, []);
    assert.match(again.out.join(''), /^services:$/m);
  });

  it('--port 0: Docker picks every host port (127.0.0.1 still)', async () => {
    const d = deps();
    const { x, out } = io();
    assert.equal(await runCli(['export', '--format', 'compose', '--lab', 'exp', '--port', '0', '--build'], x, d), 0);
    const doc = parse(out.join('')) as ComposeDoc;
    assert.deepEqual(doc.services.haproxy!.ports, ['127.0.0.1::80', '127.0.0.1::8404', '127.0.0.1::9999']);
    await assert.rejects(runCli(['export', '--format', 'compose', '--lab', 'exp', '--port', '65536'], io().x, d), /--port must be a TCP port number/);
  });

  it("a new lab's host ports are chosen after the images are built (the shortest window for another program to take one)", async () => {
    const d = deps();
    const probe = async (port: number) => {
      d.docker.calls.push(`probe ${port}`);
      return port !== 8080; // taken: the next free one is used
    };
    const { x, out } = io();
    assert.equal(await exportCommand([], { format: 'compose', build: true }, { ...d, lab: 'exp', portProbe: probe }, x, (m) => new UsageError(m)), 0);
    const lastBuild = d.docker.calls.map((c) => c.startsWith('build')).lastIndexOf(true);
    const firstProbe = d.docker.calls.findIndex((c) => c.startsWith('probe'));
    assert.ok(lastBuild >= 0 && firstProbe > lastBuild, d.docker.calls.join(', '));
    assert.deepEqual((parse(out.join('')) as ComposeDoc).services.haproxy!.ports, ['127.0.0.1:8081:80', '127.0.0.1:8404:8404', '127.0.0.1:9999:9999']);
  });

  it('an existing lab is exported as it is: its secrets and ports; options that would change it are refused', async () => {
    const d = deps();
    const secrets = newSecrets();
    fs.mkdirSync(d.store.dir('exp'), { recursive: true });
    fs.writeFileSync(
      d.store.file('exp'),
      JSON.stringify({
        lab: 'exp',
        createdAt: new Date().toISOString(),
        preset: 'ha',
        webCount: 2,
        baseImage: 'debian:trixie-slim',
        secrets,
        ports: { moodle: 8181, stats: 8405, runtime: 9998 },
        extra: { haproxyProfile: 'defaults' },
      }),
    );
    await assert.rejects(
      runCli(['export', '--format', 'compose', '--lab', 'exp', '--topology', 'single'], io().x, d),
      /lab "exp" exists: .*--topology cannot change it/,
    );
    const { x, out } = io();
    assert.equal(await runCli(['export', '--format', 'compose', '--lab', 'exp', '--build'], x, d), 0);
    const doc = parse(out.join('')) as ComposeDoc;
    assert.deepEqual(
      Object.keys(doc.services).filter((n) => n.startsWith('web')),
      ['web1', 'web2'],
    );
    assert.deepEqual(doc.services.haproxy!.ports, ['127.0.0.1:8181:80', '127.0.0.1:8405:8404', '127.0.0.1:9998:9999']);
    assert.equal(doc.services.galera1!.environment!.MARIADB_ROOT_PASSWORD, secrets.dbRootPassword);
    assert.match(doc.services.haproxy!.environment!.HAPROXY_CFG!, /profile: defaults/);
  });
});
