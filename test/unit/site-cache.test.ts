/**
 * The site cache (install once per Moodle source, restore after) against the fake Docker engine:
 * which execs run, in which order, with which secrets where; and the cache's own files.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { ContainerSpec, ExecResult } from '../../src/docker/types';

type ExecHandler = (c: FakeContainer, argv: string[]) => ExecResult | undefined;
import { installMoodle, MoodleLabState } from '../../src/moodle/install';
import { DATA_FILE, DUMP_FILE, MANIFEST_FILE, SiteCache, siteCacheKey, SiteEntry } from '../../src/moodle/site-cache';
import { setUpSite, SiteSetup } from '../../src/moodle/site-setup';
import { cacheCommand, parseAge } from '../../src/moodle/cache-command';
import { runCli, UsageError } from '../../src/cli';
import { StateStore } from '../../src/engine/state';
import { LabEngine } from '../../src/engine/lab';
import type { MoodleSource } from '../../src/moodle/types';
import { FakeContainer, FakeDocker, healthyClusterHandlers } from '../support/fake-docker';
import { fakeEngineDeps } from '../support/engine';
import { fakeClock } from '../support/clock';

const FINGERPRINT = '0123456789abcdef';
const KEY = siteCacheKey(FINGERPRINT);
const TABLES = 512;

interface Secrets {
  dbRoot: string;
  admin: string;
}

/** Exec replies of Moodle's CLI, the DB node's client and tar; `db.tables` stands for the Moodle database. */
function moodleHandlers(db: { tables: number }, fail: Set<string>): ExecHandler {
  return (c, argv) => {
    const cmd = argv.join(' ');
    for (const f of fail) if (cmd.includes(f)) return { stdout: '', stderr: `simulated failure of ${f}`, exitCode: 1 };
    if (argv[0] === 'rm') {
      c.files.delete(argv[2]!);
      return { stdout: '', stderr: '', exitCode: 0 };
    }
    if (c.spec.hostname.startsWith('galera')) {
      if (cmd.includes('information_schema.tables')) return { stdout: `${db.tables}\n`, stderr: '', exitCode: 0 };
      if (cmd.includes('mariadb-dump')) {
        c.files.set('/tmp/moodle-lab-site.sql.gz', zlib.gzipSync('CREATE TABLE mdl_user (id BIGINT PRIMARY KEY);'));
        return { stdout: '', stderr: '', exitCode: 0 };
      }
      if (cmd.includes('gunzip -c /tmp/moodle-lab-site.sql.gz | mariadb')) {
        if (!c.files.has('/tmp/moodle-lab-site.sql.gz')) return { stdout: '', stderr: 'no dump', exitCode: 1 };
        db.tables = TABLES;
        return { stdout: '', stderr: '', exitCode: 0 };
      }
      if (cmd.includes('DROP DATABASE')) {
        db.tables = 0;
        return { stdout: '', stderr: '', exitCode: 0 };
      }
    }
    if (c.spec.hostname === 'web1') {
      if (cmd.includes('install-database.php')) {
        db.tables = TABLES;
        return { stdout: 'Installation completed successfully.', stderr: '', exitCode: 0 };
      }
      if (argv[0] === 'tar' && argv[1] === '-czf') {
        c.files.set(argv[2]!, zlib.gzipSync('moodledata'));
        return { stdout: '', stderr: '', exitCode: 0 };
      }
      if (argv[0] === 'tar' && argv[1] === '-xzf')
        return c.files.has(argv[2]!) ? { stdout: '', stderr: '', exitCode: 0 } : { stdout: '', stderr: 'no archive', exitCode: 2 };
      if (cmd.includes('muc-redis.php')) return { stdout: 'application cache: Redis at redis:6379 (prefix muc_)', stderr: '', exitCode: 0 };
      if (cmd.includes('maketestcourse.php')) return { stdout: '', stderr: '', exitCode: 0 };
      if (cmd.includes('site-secrets.php'))
        return { stdout: "site secrets applied: admin password, 100 generated users' password; caches purged", stderr: '', exitCode: 0 };
      if (argv[0] === 'find') return { stdout: '', stderr: '', exitCode: 0 };
    }
    return undefined;
  };
}

/** A fake cluster: one Galera node with a table counter, one web node; every exec is recorded with its env. */
function cluster() {
  const docker = new FakeDocker();
  const execs: { node: string; argv: string[]; env: string[]; user?: string }[] = [];
  const fail = new Set<string>();
  const add = (name: string) => {
    const spec = { hostname: name, labels: { 'io.moodle-lab.node': name } } as unknown as ContainerSpec;
    const c: FakeContainer = { id: `id-${name}`, name, image: 'img', state: 'running', labels: spec.labels, ports: {}, spec, files: new Map() };
    docker.containerMap.set(c.id, c);
    return c;
  };
  const galera = add('galera1');
  const web = add('web1');
  const origExec = docker.containers.exec;
  docker.containers.exec = async (id, argv, opts) => {
    const c = docker.containerMap.get(id)!;
    execs.push({ node: c.name, argv, env: opts?.env ?? [], user: opts?.user });
    return origExec(id, argv, opts);
  };
  const db = { tables: 0 };
  docker.execHandlers = [moodleHandlers(db, fail)];
  return { docker, galera, web, execs, fail, setTables: (n: number) => (db.tables = n) };
}

function newMoodle(): MoodleLabState {
  return { installed: false, image: 'lab/moodle:x', release: '5.1+ (Build: 20251017)', origin: '/src/moodle', fingerprint: FINGERPRINT, layout: 'public' };
}

function setup(
  c: ReturnType<typeof cluster>,
  cache: SiteCache,
  secrets: Secrets,
  opts: { lab?: string; freshInstall?: boolean; moodle?: MoodleLabState } = {},
) {
  const steps: string[] = [];
  const saved: MoodleLabState[] = [];
  let t = 1_700_000_000_000;
  const moodle = opts.moodle ?? newMoodle();
  const s: SiteSetup = {
    containers: c.docker.containers,
    cache,
    reporter: { step: (m) => steps.push(m), detail: () => undefined },
    now: () => (t += 1000),
    lab: opts.lab ?? 'lab-a',
    db: { id: c.galera.id, name: 'galera1' },
    web: { id: c.web.id, name: 'web1' },
    dbRootPassword: secrets.dbRoot,
    dbName: 'moodle',
    dataroot: '/var/moodledata',
    wwwroot: 'http://localhost:8080',
    params: { adminPassword: secrets.admin, siteName: `Moodle HA Lab (${opts.lab ?? 'lab-a'})` },
    moodle,
    save: async () => void saved.push({ ...moodle }),
    freshInstall: opts.freshInstall,
  };
  return { s, steps, saved, moodle };
}

const tmpCache = () => new SiteCache(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'site-cache-')), 'cache', 'sites'));
const secretsA: Secrets = { dbRoot: 'rootA-s3cret', admin: 'adminA-s3cret' };
const secretsB: Secrets = { dbRoot: 'rootB-s3cret', admin: 'adminB-s3cret' };

/** Fills the cache as a first lab would: install, course, snapshot. */
async function firstLab(cache: SiteCache) {
  const c = cluster();
  const run = setup(c, cache, secretsA);
  await setUpSite(run.s);
  return { c, ...run };
}

const noSecretInArgv = (execs: { argv: string[] }[], secrets: string[]) => {
  for (const e of execs)
    for (const secret of secrets) assert.ok(!e.argv.some((a) => a.includes(secret)), `a secret is on the command line: ${e.argv.join(' ')}`);
};

describe('site cache: install once per Moodle source, restore after', () => {
  it('cache miss → the installer runs, then the test course, then the site is saved (dump via galera1, moodledata via web1)', async () => {
    const cache = tmpCache();
    const { c, moodle, steps } = await firstLab(cache);
    const order = c.execs.map((e) => `${e.node} ${e.argv.join(' ')}`);
    const at = (re: RegExp) => order.findIndex((x) => re.test(x));
    assert.ok(at(/install-database\.php/) >= 0, 'the installer ran');
    assert.ok(at(/install-database\.php/) < at(/muc-redis\.php/) && at(/muc-redis\.php/) < at(/maketestcourse\.php/));
    assert.ok(at(/maketestcourse\.php/) < at(/^galera1 .*mariadb-dump/), 'the snapshot holds the test course');
    assert.ok(at(/^galera1 .*mariadb-dump .*--single-transaction/) < at(/^web1 tar -czf/));
    const tar = c.execs.find((e) => e.argv[0] === 'tar')!;
    for (const x of ['./cache', './localcache', './sessions', './temp', './lock', './muc'])
      assert.ok(tar.argv.includes(`--exclude=${x}`), `moodledata archive leaves out ${x}`);
    assert.equal(moodle.installedFrom, 'installer');
    assert.equal(moodle.cacheEntry, KEY);
    assert.ok(moodle.snapshotSeconds !== undefined);
    const entry = cache.read(KEY) as SiteEntry;
    assert.ok('manifest' in entry, 'a usable entry');
    assert.equal(entry.manifest.tables, TABLES);
    assert.equal(entry.manifest.release, '5.1+ (Build: 20251017)');
    assert.deepEqual(entry.manifest.madeBy, { lab: 'lab-a', wwwroot: 'http://localhost:8080' });
    assert.equal(zlib.gunzipSync(cache.dump(entry)).toString(), 'CREATE TABLE mdl_user (id BIGINT PRIMARY KEY);');
    // The temporary files are gone from the containers.
    assert.equal(c.galera.files.size, 0);
    assert.equal(c.web.files.size, 0);
    assert.ok(steps.some((m) => /no cached site for this source yet/.test(m)));
    assert.ok(steps.some((m) => /saved in the site cache/.test(m)));
    noSecretInArgv(c.execs, Object.values(secretsA));
  });

  it('cache hit: Moodle runs nothing until every other Galera node has applied the import (its reads go to them)', async () => {
    const cache = tmpCache();
    await firstLab(cache);
    const c = cluster();
    const spec = { hostname: 'galera2', labels: { 'io.moodle-lab.node': 'galera2' } } as unknown as ContainerSpec;
    c.docker.containerMap.set('id-galera2', {
      id: 'id-galera2',
      name: 'galera2',
      image: 'img',
      state: 'running',
      labels: spec.labels,
      ports: {},
      spec,
      files: new Map(),
    });
    let asked = 0;
    c.docker.execHandlers.unshift((node, argv) => {
      if (!argv.join(' ').includes('wsrep_last_committed')) return undefined;
      const seqno = node.name === 'galera1' ? 900 : ++asked < 3 ? 400 : 900;
      return { stdout: `wsrep_last_committed\t${seqno}\n`, stderr: '', exitCode: 0 };
    });
    const { s, steps } = setup(c, cache, secretsB, { lab: 'lab-b' });
    s.dbPeers = [{ id: 'id-galera2', name: 'galera2' }];
    s.clock = fakeClock();
    await setUpSite(s);
    const order = c.execs.map((e) => `${e.node} ${e.argv.join(' ')}`);
    const lastPeerAsk = order.map((x, i) => (/^galera2 .*wsrep_last_committed/.test(x) ? i : -1)).reduce((a, b) => Math.max(a, b));
    assert.equal(asked, 3, "asked until galera2 reached galera1's seqno");
    assert.ok(lastPeerAsk < order.findIndex((x) => /muc-redis\.php/.test(x)), order.join('\n'));
    assert.ok(
      steps.some((m) => /^moodle: galera2 applied the import \(seqno 900\)/.test(m)),
      steps.join('\n'),
    );
  });

  it("cache hit → no installer: DB import on galera1 alongside moodledata through web1, then MUC, then the new lab's secrets", async () => {
    const cache = tmpCache();
    await firstLab(cache);
    const c = cluster();
    const { s, moodle, steps, saved } = setup(c, cache, secretsB, { lab: 'lab-b' });
    await setUpSite(s);
    const order = c.execs.map((e) => `${e.node} ${e.argv.join(' ')}`);
    assert.ok(!order.some((x) => /install-database\.php|maketestcourse\.php/.test(x)), `no installer, no course generator:\n${order.join('\n')}`);
    assert.ok(!order.some((x) => /mariadb-dump/.test(x)), 'a restored site is not saved again');
    const at = (re: RegExp) => {
      const i = order.findIndex((x) => re.test(x));
      assert.ok(i >= 0, `missing ${re}`);
      return i;
    };
    const after = (re: RegExp, from: number) => {
      const i = order.findIndex((x, k) => k > from && re.test(x));
      assert.ok(i > from, `missing ${re} after line ${from}:\n${order.join('\n')}`);
      return i;
    };
    const importAt = at(/^galera1 bash .*gunzip -c .* \| mariadb -uroot moodle/);
    const dbDone = after(/^galera1 .*information_schema/, after(/^galera1 rm -f/, importAt));
    const untarAt = at(/^web1 tar -xzf .* -C \/var\/moodledata/);
    const dataDone = after(/^web1 rm -f/, untarAt);
    // moodledata unpacks while the database imports (the two are independent): it starts before the import's clean-up.
    assert.ok(untarAt < at(/^galera1 rm -f/), `moodledata alongside the import:\n${order.join('\n')}`);
    const muc = at(/^web1 .*muc-redis\.php/);
    assert.ok(Math.max(dbDone, dataDone) < muc && muc < at(/^web1 .*site-secrets\.php/), `restore order:\n${order.join('\n')}`);
    // The dump went onto the DB node and the archive onto the web node before use.
    assert.ok(c.docker.calls.indexOf('put galera1 /tmp/moodle-lab-site.sql.gz') < c.docker.calls.findIndex((x) => x.includes('gunzip')));
    assert.ok(c.docker.calls.indexOf('put web1 /tmp/moodle-lab-moodledata.tar.gz') < c.docker.calls.findIndex((x) => x.includes('tar -xzf')));
    // This lab's secrets: the DB root password for the import, the admin password for site-secrets, both in the env only.
    const imp = c.execs.find((e) => e.argv.join(' ').includes('gunzip'))!;
    assert.deepEqual(imp.env, ['MYSQL_PWD=rootB-s3cret']);
    const sec = c.execs.find((e) => e.argv.join(' ').includes('site-secrets.php'))!;
    assert.ok(sec.env.includes('MOODLE_LAB_ADMIN_PASSWORD=adminB-s3cret'));
    assert.ok(sec.env.includes('MOODLE_LAB_SITE_NAME=Moodle HA Lab (lab-b)'));
    assert.equal(sec.user, 'www-data');
    noSecretInArgv(c.execs, [...Object.values(secretsA), ...Object.values(secretsB)]);
    assert.equal(moodle.installed, true);
    assert.equal(moodle.installedFrom, 'cache');
    assert.equal(moodle.course, 'halab');
    assert.equal(moodle.cache, 'configured');
    assert.equal(moodle.installSeconds, undefined);
    assert.ok(moodle.restoreSeconds !== undefined && moodle.restoreSeconds > 0);
    assert.deepEqual(Object.keys(moodle.restoreSteps ?? {}).sort(), ['caches', 'database', 'moodledata', 'secrets']);
    for (const v of Object.values(moodle.restoreSteps!)) assert.equal(typeof v, 'number');
    assert.equal(saved.at(-1)?.installedFrom, 'cache', 'the state says where the site came from');
    assert.ok(
      steps.some((m) => /restored from the site cache in \d+ s/.test(m)),
      steps.join('\n'),
    );
    assert.ok((cache.read(KEY) as SiteEntry).manifest.lastUsedAt, 'the use is recorded');
    assert.equal(c.galera.files.size + c.web.files.size, 0, 'no temporary file left in the containers');
  });

  it('--fresh-install bypasses a usable entry: the installer runs and the entry is replaced', async () => {
    const cache = tmpCache();
    await firstLab(cache);
    const c = cluster();
    const { s, moodle } = setup(c, cache, secretsB, { lab: 'lab-b', freshInstall: true });
    await setUpSite(s);
    assert.ok(c.execs.some((e) => e.argv.join(' ').includes('install-database.php')));
    assert.ok(!c.execs.some((e) => e.argv.join(' ').includes('gunzip')), 'nothing restored');
    assert.equal(moodle.installedFrom, 'installer');
    const after = cache.read(KEY) as SiteEntry;
    assert.equal(after.manifest.madeBy.lab, 'lab-b', 'the new install replaced the entry');
  });

  for (const [what, damage] of [
    ['the dump is missing', (dir: string) => fs.rmSync(path.join(dir, DUMP_FILE))],
    ['the moodledata archive is truncated', (dir: string) => fs.truncateSync(path.join(dir, DATA_FILE), 3)],
    ['the manifest is not JSON', (dir: string) => fs.writeFileSync(path.join(dir, MANIFEST_FILE), '{"format": 1, ')],
    ['the manifest is missing', (dir: string) => fs.rmSync(path.join(dir, MANIFEST_FILE))],
    [
      'a file was altered (same size)',
      (dir: string) => {
        const f = path.join(dir, DUMP_FILE);
        const b = fs.readFileSync(f);
        b.writeUInt8(b.readUInt8(b.length - 1) ^ 0xff, b.length - 1);
        fs.writeFileSync(f, b);
      },
    ],
  ] as const) {
    it(`an unusable entry (${what}) → nothing is restored, the installer runs with a message, a good entry replaces it`, async () => {
      const cache = tmpCache();
      await firstLab(cache);
      damage(cache.entryDir(KEY));
      const c = cluster();
      const { s, moodle, steps } = setup(c, cache, secretsB, { lab: 'lab-b' });
      await setUpSite(s);
      assert.ok(!c.execs.some((e) => /gunzip|tar -xzf|site-secrets/.test(e.argv.join(' '))), 'nothing restored');
      assert.ok(c.execs.some((e) => e.argv.join(' ').includes('install-database.php')));
      assert.equal(moodle.installedFrom, 'installer');
      assert.ok(
        steps.some((m) => /is unusable \(.+\): running the installer/.test(m)),
        steps.join('\n'),
      );
      assert.ok('manifest' in cache.read(KEY)!, 'the new snapshot replaced the broken entry');
    });
  }

  it('a restore that fails part-way is wiped (empty DB, empty moodledata) before the installer runs: never a half-restored site', async () => {
    const cache = tmpCache();
    await firstLab(cache);
    const c = cluster();
    c.fail.add('tar -xzf'); // the DB is imported, then moodledata fails
    const { s, moodle, steps } = setup(c, cache, secretsB, { lab: 'lab-b' });
    await setUpSite(s);
    const order = c.execs.map((e) => `${e.node} ${e.argv.join(' ')}`);
    const i = (re: RegExp) => order.findIndex((x) => re.test(x));
    assert.ok(i(/gunzip/) < i(/DROP DATABASE IF EXISTS `moodle`; CREATE DATABASE `moodle`/), 'the imported DB is dropped');
    assert.ok(i(/DROP DATABASE/) < i(/^web1 find \/var\/moodledata -mindepth 1 -delete/));
    assert.ok(i(/^web1 find/) < i(/install-database\.php/), 'then the installer');
    assert.ok(!order.some((x) => /site-secrets/.test(x)), 'the failed restore went no further');
    assert.ok(
      steps.some((m) => /restoring from the site cache failed .*clearing what was restored, then running the installer/.test(m)),
      steps.join('\n'),
    );
    assert.equal(moodle.installedFrom, 'installer');
    assert.equal(moodle.restoreSeconds, undefined);
  });

  it('a failed restore whose cleanup fails too → one clear error, the lab is not marked installed', async () => {
    const cache = tmpCache();
    await firstLab(cache);
    const c = cluster();
    c.fail.add('site-secrets.php');
    c.fail.add('DROP DATABASE');
    const { s, moodle } = setup(c, cache, secretsB, { lab: 'lab-b' });
    await assert.rejects(setUpSite(s), /clearing it failed too .*destroy the lab/);
    assert.equal(moodle.installed, false);
    assert.ok(!c.execs.some((e) => e.argv.join(' ').includes('install-database.php')));
  });

  it('a database that already holds tables (interrupted install or restore) is refused, as before', async () => {
    const cache = tmpCache();
    const c = cluster();
    c.setTables(12);
    const { s } = setup(c, cache, secretsA);
    await assert.rejects(setUpSite(s), /already holds 12 tables but the lab has no finished install/);
    assert.equal(c.execs.length, 1);
  });

  it('tar exiting 1 (a file changed while read) still saves the site; exit 2 does not', async () => {
    for (const [code, saved] of [
      [1, true],
      [2, false],
    ] as const) {
      const cache = tmpCache();
      const c = cluster();
      c.docker.execHandlers.unshift((ct, argv) => {
        if (argv[0] !== 'tar' || argv[1] !== '-czf') return undefined;
        ct.files.set(argv[2]!, zlib.gzipSync('moodledata'));
        return { stdout: '', stderr: 'tar: .: file changed as we read it', exitCode: code };
      });
      const { s } = setup(c, cache, secretsA);
      await setUpSite(s);
      assert.equal(cache.read(KEY) !== undefined, saved, `tar exit ${code}`);
    }
  });

  it('a snapshot that fails leaves the lab working and says so (the next lab installs again)', async () => {
    const cache = tmpCache();
    const c = cluster();
    c.fail.add('mariadb-dump');
    const { s, moodle, steps } = setup(c, cache, secretsA);
    await setUpSite(s);
    assert.equal(moodle.installed, true);
    assert.equal(moodle.course, 'halab');
    assert.equal(moodle.cacheEntry, undefined);
    assert.ok(steps.some((m) => /could not save the site in the site cache/.test(m)));
    assert.equal(cache.read(KEY), undefined);
    assert.equal(c.galera.files.size, 0);
  });
});

describe('the admin password is never on a command line (issue 15)', () => {
  it('installMoodle passes it in the exec environment; argv has no --adminpass', async () => {
    const c = cluster();
    await installMoodle(c.docker.containers, c.web.id, { adminPassword: 'Sup3r-s3cret_pw', siteName: 'x' });
    const e = c.execs.find((x) => x.argv.join(' ').includes('install-database.php'))!;
    assert.ok(!e.argv.some((a) => a.includes('Sup3r-s3cret_pw')), e.argv.join(' '));
    assert.ok(!e.argv.some((a) => a.startsWith('--adminpass')));
    assert.deepEqual(e.env, ['MOODLE_LAB_ADMIN_PASSWORD=Sup3r-s3cret_pw']);
    assert.equal(e.user, 'www-data');
  });

  it('the PHP wrapper refuses --adminpass on its command line and takes the password from the environment only', () => {
    const php = fs.readFileSync(path.resolve(__dirname, '..', '..', 'lab', 'moodle', 'install-database.php'), 'utf8');
    assert.match(php, /getenv\('MOODLE_LAB_ADMIN_PASSWORD'\)/);
    assert.match(php, /str_starts_with\(\$arg, '--adminpass'\)/);
    assert.match(php, /\$_SERVER\['argv'\]\[\] = '--adminpass=' \. \$password/);
    const docker = fs.readFileSync(path.resolve(__dirname, '..', '..', 'lab', 'moodle', 'Dockerfile'), 'utf8');
    assert.match(docker, /COPY .*install-database\.php.*site-secrets\.php \/usr\/local\/share\/moodle-lab\//);
  });
});

describe('site cache files and the `cache` command', () => {
  const manifest = (key: string, createdAt: string) => ({
    key,
    fingerprint: key.slice(0, 16),
    release: '5.1',
    origin: '/src',
    layout: 'public' as const,
    createdAt,
    tables: 3,
    course: 'halab',
    madeBy: { lab: 'a', wwwroot: 'http://localhost:1' },
  });

  it('the key changes with the source and is refused for a non-fingerprint', () => {
    assert.match(KEY, /^0123456789abcdef-[0-9a-f]{8}$/);
    assert.notEqual(siteCacheKey('fedcba9876543210').slice(0, 16), KEY.slice(0, 16));
    assert.throws(() => siteCacheKey('../../etc'), /not a source fingerprint/);
  });

  it('save is all-or-nothing: a failed write leaves no entry and no partial folder', () => {
    const cache = tmpCache();
    const key = siteCacheKey('aaaaaaaaaaaaaaaa');
    assert.throws(() => cache.save(manifest(key, 'x'), Buffer.from('d'), undefined as unknown as Buffer));
    assert.equal(cache.read(key), undefined);
    assert.deepEqual(fs.readdirSync(cache.dir), []);
  });

  it('list shows usable and unusable entries; prune removes unusable ones alone, old ones with --older-than, all with --all', () => {
    const cache = tmpCache();
    const k1 = siteCacheKey('1111111111111111');
    const k2 = siteCacheKey('2222222222222222');
    const k3 = siteCacheKey('3333333333333333');
    cache.save(manifest(k1, '2026-01-01T00:00:00.000Z'), Buffer.from('dump1'), Buffer.from('data1'));
    const e2 = cache.save(manifest(k2, '2026-11-01T00:00:00.000Z'), Buffer.from('dump2'), Buffer.from('data2'));
    cache.save(manifest(k3, '2026-11-02T00:00:00.000Z'), Buffer.from('dump3'), Buffer.from('data3'));
    fs.rmSync(path.join(cache.entryDir(k3), DATA_FILE));
    const listed = cache.list();
    assert.deepEqual(
      listed.map((e) => e.key),
      [k2, k1, k3],
    );
    assert.equal(listed[2]!.problem, `${DATA_FILE} is missing`);

    const now = new Date('2026-11-30T00:00:00.000Z');
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t) };
    const usage = (m: string) => new Error(`usage: ${m}`);
    assert.equal(cacheCommand(['prune'], {}, cache, io, usage, now), 0);
    assert.deepEqual(
      cache.list().map((e) => e.key),
      [k2, k1],
      'prune alone: the unusable entry goes',
    );
    cache.touch(e2, new Date('2026-11-29T00:00:00.000Z'));
    cacheCommand(['prune'], { 'older-than': '30d' }, cache, io, usage, now);
    assert.deepEqual(
      cache.list().map((e) => e.key),
      [k2],
      'made in January and never used: gone',
    );
    cacheCommand(['list'], {}, cache, io, usage, now);
    assert.match(out.at(-1)!, new RegExp(`${k2}  Moodle 5\\.1  from /src  0\\.0 MB  made 2026-11-01T00:00:00\\.000Z, last used 2026-11-29`));
    cacheCommand(['prune'], { all: true }, cache, io, usage, now);
    assert.deepEqual(cache.list(), []);
    assert.throws(() => cacheCommand(['prune'], { all: true, 'older-than': '1d' }, cache, io, usage, now), /not both/);
    assert.throws(() => cacheCommand(['frobnicate'], {}, cache, io, usage, now), /usage: cache list/);
  });

  it('parseAge reads d/h/m/s and rejects the rest', () => {
    assert.equal(parseAge('30d'), 30 * 86_400_000);
    assert.equal(parseAge('12h'), 12 * 3_600_000);
    assert.throws(() => parseAge('30'), /expected e\.g\. 30d/);
    assert.throws(() => parseAge('-1d'), /invalid --older-than/);
  });

  it("CLI: `cache list --json` needs no Docker and reads MOODLE_LAB_HOME's cache; a bad --older-than exits 2 and removes nothing", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-cli-'));
    const cache = new SiteCache(path.join(home, 'cache', 'sites'));
    cache.save(manifest(KEY, '2026-11-01T00:00:00.000Z'), Buffer.from('d'), Buffer.from('m'));
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: () => undefined, env: {} };
    const docker = new FakeDocker();
    docker.running = false;
    assert.equal(await runCli(['cache', 'list', '--json'], io, { docker, store: new StateStore(home) }), 0);
    const listed = JSON.parse(out.join('')) as { entries: { key: string; usable: boolean; release: string }[] };
    assert.deepEqual(
      listed.entries.map((e) => [e.key, e.usable, e.release]),
      [[KEY, true, '5.1']],
    );
    await assert.rejects(
      runCli(['cache', 'prune', '--older-than', 'soon'], io, { docker, store: new StateStore(home) }),
      (err: unknown) => err instanceof UsageError && /invalid --older-than "soon"/.test(err.message),
    );
    assert.equal(cache.list().length, 1);
  });
});

describe('LabEngine.up with a Moodle source and the site cache (fake engine)', () => {
  function moodleSource(): MoodleSource {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-moodle-'));
    fs.mkdirSync(path.join(root, 'public'));
    fs.writeFileSync(path.join(root, 'version.php'), '<?php $release = "5.1";');
    return {
      root,
      layout: 'public',
      docroot: path.join(root, 'public'),
      release: '5.1+ (Build: 20251017)',
      version: 2025100600,
      branch: '501',
      fingerprint: FINGERPRINT,
      origin: root,
    };
  }

  /** One machine (a fresh fake engine: what `destroy` leaves) sharing the lab home (and so the site cache). */
  function machine(home: string, lab: string) {
    const docker = new FakeDocker();
    docker.addImage('debian:trixie-slim');
    const db = { tables: 0 };
    const argvs: string[][] = [];
    docker.execHandlers = [
      (_c, argv) => {
        argvs.push(argv);
        return undefined;
      },
      moodleHandlers(db, new Set()),
      ...healthyClusterHandlers(),
    ];
    const steps: string[] = [];
    const engine = new LabEngine(fakeEngineDeps(docker, new StateStore(home), steps), lab);
    return { docker, engine, steps, argvs };
  }

  it('the first lab installs and saves the site; a second lab with the same source restores it; the state says which', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-home-'));
    const source = moodleSource();
    const a = machine(home, 'lab-a');
    await a.engine.up({ moodle: source });
    const sa = a.engine.state()!;
    const ma = sa.extra.moodle as MoodleLabState;
    assert.equal(ma.installedFrom, 'installer');
    assert.equal(ma.cacheEntry, KEY);
    assert.ok(fs.existsSync(path.join(home, 'cache', 'sites', KEY, MANIFEST_FILE)));
    await a.engine.destroy();
    assert.ok(fs.existsSync(path.join(home, 'cache', 'sites', KEY, MANIFEST_FILE)), '`destroy` keeps the site cache');

    const b = machine(home, 'lab-b');
    await b.engine.up({ moodle: source });
    const sb = b.engine.state()!;
    const mb = sb.extra.moodle as MoodleLabState;
    assert.equal(mb.installedFrom, 'cache');
    assert.equal(mb.installed, true);
    assert.equal(mb.course, 'halab');
    assert.ok(!b.argvs.some((x) => x.join(' ').includes('install-database.php')), 'no installer in the second lab');
    assert.ok(
      b.steps.some((m) => /restored from the site cache in \d+ s/.test(m)),
      b.steps.join('\n'),
    );
    // Neither lab's secrets ever reached a command line.
    const secrets = [...Object.values(sa.secrets), ...Object.values(sb.secrets)];
    for (const argv of [...a.argvs, ...b.argvs]) for (const x of secrets) assert.ok(!argv.some((y) => y.includes(x)), argv.join(' '));

    // --fresh-install on a third lab: the installer again.
    const c = machine(home, 'lab-c');
    await c.engine.up({ moodle: source, freshInstall: true });
    assert.equal((c.engine.state()!.extra.moodle as MoodleLabState).installedFrom, 'installer');
  });
});
