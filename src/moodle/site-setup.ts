/**
 * How a lab's Moodle site comes to be: restored from the site cache when an entry for its source
 * is there (seconds), else Moodle's installer plus the test course (a minute or two), after which
 * the installed site is saved into the cache for the next lab. `freshInstall` forces the
 * installer. A restore that fails part-way is wiped (database emptied, moodledata cleared) before
 * the installer runs: a lab never keeps a half-restored site.
 */
import type { ContainerClient, ExecResult } from '../docker/types';
import { applySiteSecrets, cachesInRedis, installMoodle, InstallParams, makeTestContent, MoodleLabState, TEST_COURSE } from './install';
import { BrokenEntry, SiteCache, siteCacheKey, SiteEntry } from './site-cache';
import { errText } from '../core/errors';
import { Clock, notYet, ready, waitFor } from '../core/wait';

export interface SiteSetupReporter {
  step(message: string): void;
  detail(message: string): void;
}

export interface SiteSetup {
  containers: ContainerClient;
  cache: SiteCache;
  reporter: SiteSetupReporter;
  now: () => number;
  lab: string;
  /** A running Galera node (the import and the dump run there, on its local socket). */
  db: { id: string; name: string };
  /**
   * The other running Galera nodes: Moodle reads from them (the reader port), so a restore waits
   * until each has applied the import. None given: nothing to wait for.
   */
  dbPeers?: { id: string; name: string }[];
  /** For that wait (default: the real clock). */
  clock?: Clock;
  /** The web node Moodle's CLI runs on (its moodledata is the shared Gluster mount). */
  web: { id: string; name: string };
  dbRootPassword: string;
  dbName: string;
  dataroot: string;
  wwwroot: string;
  params: InstallParams;
  /** The lab's Moodle state: updated as steps finish, `save` persists it. */
  moodle: MoodleLabState;
  save(): Promise<void>;
  freshInstall?: boolean;
}

/** Files in a container's /tmp while they travel between the cache and the cluster. */
const DUMP_TMP = '/tmp/moodle-lab-site.sql.gz';
const DATA_TMP = '/tmp/moodle-lab-moodledata.tar.gz';
/** What a snapshot of moodledata leaves out: rebuilt by Moodle, per-run, or per-lab (MUC holds the Redis password). */
export const MOODLEDATA_EXCLUDES = [
  './cache',
  './localcache',
  './sessions',
  './temp',
  './lock',
  './trashdir',
  './muc',
  './climaintenance.html',
  './.lab-storage-probe.*',
];

const secs = (ms: number) => ms / 1000;
const tail = (r: ExecResult, lines = 8) => `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-lines).join('\n');

async function run(
  s: SiteSetup,
  where: { id: string },
  argv: string[],
  what: string,
  opts: { env?: string[]; user?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const r = await s.containers.exec(where.id, argv, { timeoutMs: 600_000, ...opts });
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}): ${tail(r)}`);
  return r;
}

async function tableCount(s: SiteSetup): Promise<number> {
  const r = await run(
    s,
    s.db,
    ['mariadb', '-uroot', '-N', '-B', '-e', `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='${s.dbName}'`],
    'counting the Moodle tables',
    {
      env: [`MYSQL_PWD=${s.dbRootPassword}`],
      timeoutMs: 30_000,
    },
  );
  return Number(r.stdout.trim());
}

/** The one install or restore of a lab; then the application cache and the test course, each once. */
export async function setUpSite(s: SiteSetup): Promise<void> {
  const m = s.moodle;
  if (!m.installed) {
    const tables = await tableCount(s);
    if (tables > 0) {
      throw new Error(
        `the database "${s.dbName}" already holds ${tables} tables but the lab has no finished install (an interrupted install?): destroy the lab and bring it up again`,
      );
    }
    if (!s.freshInstall && (await tryRestore(s))) return;
    s.reporter.step(`moodle: installing ${m.release} on ${s.web.name} (a minute or two)`);
    const t0 = s.now();
    await installMoodle(s.containers, s.web.id, s.params);
    m.installSeconds = secs(s.now() - t0);
    m.installed = true;
    m.installedFrom = 'installer';
    await s.save();
    s.reporter.step(`moodle: installed in ${m.installSeconds.toFixed(0)} s`);
  } else if (s.freshInstall) {
    s.reporter.step('moodle: already installed in this lab, --fresh-install changes nothing (destroy the lab to install again)');
  }
  if (!m.cache) {
    s.reporter.step(`moodle: ${await cachesInRedis(s.containers, s.web.id)}`);
    m.cache = 'configured';
    await s.save();
  }
  if (!m.course) {
    // The test content is made once too (a failed attempt is retried by the next `up`).
    s.reporter.step(`moodle: creating the test course "${TEST_COURSE}" (size S: 100 enrolled users, pages, forum, files)`);
    const t0 = s.now();
    await makeTestContent(s.containers, s.web.id, m.layout === 'public');
    m.contentSeconds = secs(s.now() - t0);
    m.course = TEST_COURSE;
    await s.save();
    s.reporter.step(`moodle: test course ready in ${m.contentSeconds.toFixed(0)} s`);
  }
  if (m.installedFrom === 'installer' && m.snapshotSeconds === undefined) {
    const t0 = s.now();
    try {
      const entry = await saveSite(s);
      m.snapshotSeconds = secs(s.now() - t0);
      m.cacheEntry = entry.manifest.key;
      await s.save();
      const mb = (entry.manifest.files['moodle.sql.gz'].bytes + entry.manifest.files['moodledata.tar.gz'].bytes) / 1_048_576;
      s.reporter.step(
        `moodle: site saved in the site cache in ${m.snapshotSeconds.toFixed(0)} s (${mb.toFixed(1)} MB, ${entry.dir}): the next lab with this source restores it`,
      );
    } catch (err) {
      // The lab itself is fine; only the next lab pays the installer again.
      s.reporter.step(`moodle: could not save the site in the site cache (${errText(err)}); the next lab will install again`);
    }
  }
}

/** Restores the cached site when there is a usable entry; false (the installer must run) otherwise. */
async function tryRestore(s: SiteSetup): Promise<boolean> {
  const key = siteCacheKey(s.moodle.fingerprint);
  const found: SiteEntry | BrokenEntry | undefined = s.cache.read(key);
  if (!found) {
    s.reporter.step('moodle: no cached site for this source yet: running the installer (the site is saved for the next lab)');
    return false;
  }
  if (!('manifest' in found)) {
    s.reporter.step(`moodle: the cached site ${found.dir} is unusable (${found.problem}): running the installer instead (a good copy replaces it)`);
    return false;
  }
  s.reporter.step(`moodle: restoring ${found.manifest.release} from the site cache (${key}, made ${found.manifest.createdAt}) instead of installing`);
  const t0 = s.now();
  let steps: RestoreSteps;
  try {
    steps = await restoreSite(s, found);
  } catch (err) {
    const why = errText(err);
    s.reporter.step(`moodle: restoring from the site cache failed (${why.split('\n')[0]}): clearing what was restored, then running the installer`);
    s.reporter.detail(why);
    await wipeSite(s);
    return false;
  }
  const m = s.moodle;
  m.installed = true;
  m.installedFrom = 'cache';
  m.cache = 'configured';
  m.course = found.manifest.course;
  m.cacheEntry = key;
  m.restoreSeconds = secs(s.now() - t0);
  m.restoreSteps = steps;
  await s.save();
  s.cache.touch(found, new Date(s.now()));
  s.reporter.step(
    `moodle: restored from the site cache in ${m.restoreSeconds.toFixed(0)} s (the installer and test course took ${((found.manifest.installSeconds ?? 0) + (found.manifest.contentSeconds ?? 0)).toFixed(0)} s when it was made)`,
  );
  return true;
}

/** Seconds per restore step (recorded in the lab's state, `extra.moodle.restoreSteps`). */
export interface RestoreSteps {
  /** The dump imported on the DB node (runs alongside `moodledata`). */
  database: number;
  /** moodledata unpacked through the web node's Gluster mount (alongside `database`). */
  moodledata: number;
  /** Moodle's application cache pointed at this lab's Redis. */
  caches: number;
  /** This lab's passwords and site name applied. */
  secrets: number;
}

/**
 * Database through the DB node's client (Galera replicates it to every node) while moodledata
 * unpacks through the web node's Gluster mount — the two are independent, so they run at the
 * same time; then this lab's own settings: the application cache in this lab's Redis (a new MUC
 * config, with its password) and this lab's passwords and site name. Returns each step's seconds.
 */
export async function restoreSite(s: SiteSetup, entry: SiteEntry): Promise<RestoreSteps> {
  const timed = async (what: () => Promise<void>): Promise<number> => {
    const t0 = s.now();
    await what();
    return secs(s.now() - t0);
  };
  const t0 = s.now();
  const database = timed(async () => {
    await s.containers.putFile(s.db.id, DUMP_TMP, s.cache.dump(entry), 0o600);
    try {
      await run(s, s.db, ['bash', '-o', 'pipefail', '-c', `gunzip -c ${DUMP_TMP} | mariadb -uroot ${s.dbName}`], 'importing the cached database', {
        env: [`MYSQL_PWD=${s.dbRootPassword}`],
      });
    } finally {
      await s.containers.exec(s.db.id, ['rm', '-f', DUMP_TMP], { timeoutMs: 30_000 });
    }
    const tables = await tableCount(s);
    if (tables !== entry.manifest.tables) throw new Error(`the database holds ${tables} tables after the import, the cached site has ${entry.manifest.tables}`);
    s.reporter.step(`moodle: database imported on ${s.db.name} (${tables} tables) in ${secs(s.now() - t0).toFixed(1)} s`);
    await peersApplied(s);
  });
  const moodledata = timed(async () => {
    await s.containers.putFile(s.web.id, DATA_TMP, s.cache.data(entry), 0o644);
    try {
      await run(s, s.web, ['tar', '-xzf', DATA_TMP, '-C', s.dataroot, '--no-same-owner', '--no-same-permissions'], 'unpacking the cached moodledata', {
        user: 'www-data',
      });
    } finally {
      await s.containers.exec(s.web.id, ['rm', '-f', DATA_TMP], { timeoutMs: 30_000 });
    }
    s.reporter.step(`moodle: moodledata unpacked through ${s.web.name} in ${secs(s.now() - t0).toFixed(1)} s (alongside the database import)`);
  });
  // Both finish (or fail) before anything else happens: a failed restore is wiped, never raced.
  const [db, data] = await Promise.allSettled([database, moodledata]);
  if (db.status === 'rejected') throw db.reason;
  if (data.status === 'rejected') throw data.reason;
  let said = '';
  const caches = await timed(async () => void (said = await cachesInRedis(s.containers, s.web.id)));
  s.reporter.step(`moodle: ${said} (${caches.toFixed(1)} s)`);
  const secrets = await timed(async () => void (said = await applySiteSecrets(s.containers, s.web.id, s.params)));
  s.reporter.step(`moodle: ${said} (${secrets.toFixed(1)} s)`);
  return { database: db.value, moodledata: data.value, caches, secrets };
}

/**
 * Galera applies writesets on the other nodes after the commit on galera1: right after a bulk
 * import they can be far behind, and Moodle's reads through the reader port would find tables
 * missing ("Error reading from database"). Waits until each peer's last committed seqno (the
 * cluster's global order) reaches galera1's.
 */
async function peersApplied(s: SiteSetup): Promise<void> {
  const peers = s.dbPeers ?? [];
  if (!peers.length) return;
  const seqno = async (node: { id: string }): Promise<number> => {
    const r = await run(s, node, ['mariadb', '-uroot', '-N', '-B', '-e', "SHOW GLOBAL STATUS LIKE 'wsrep_last_committed'"], 'reading wsrep_last_committed', {
      env: [`MYSQL_PWD=${s.dbRootPassword}`],
      timeoutMs: 30_000,
    });
    const n = Number(r.stdout.trim().split(/\s+/)[1]);
    if (!Number.isFinite(n)) throw new Error(`wsrep_last_committed: unexpected answer "${r.stdout.trim()}"`);
    return n;
  };
  const t0 = s.now();
  const target = await seqno(s.db);
  await waitFor(
    async () => {
      const behind: string[] = [];
      for (const p of peers) {
        const n = await seqno(p);
        if (n < target) behind.push(`${p.name} at ${n}`);
      }
      return behind.length ? notYet(`${behind.join(', ')} (${s.db.name} at ${target})`) : ready(true);
    },
    { what: `every Galera node applying the imported database`, timeoutMs: 600_000, intervalMs: 1000, ...(s.clock ? { clock: s.clock } : {}) },
  );
  s.reporter.step(`moodle: ${peers.map((p) => p.name).join(', ')} applied the import (seqno ${target}) ${secs(s.now() - t0).toFixed(1)} s after it`);
}

/** Undoes a partial restore: an empty Moodle database and an empty moodledata, as before it. */
export async function wipeSite(s: SiteSetup): Promise<void> {
  try {
    const db = s.dbName;
    await run(
      s,
      s.db,
      ['mariadb', '-uroot', '-e', `DROP DATABASE IF EXISTS \`${db}\`; CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`],
      'emptying the Moodle database',
      {
        env: [`MYSQL_PWD=${s.dbRootPassword}`],
        timeoutMs: 300_000,
      },
    );
    await run(s, s.web, ['find', s.dataroot, '-mindepth', '1', '-delete'], 'emptying moodledata', { user: 'www-data' });
  } catch (err) {
    throw new Error(
      `a restore from the site cache failed and clearing it failed too (${errText(err)}): destroy the lab and bring it up again (\`up --fresh-install\` skips the cache)`,
    );
  }
}

/** Saves the freshly installed site (database dump, moodledata archive) as this source's cache entry. */
export async function saveSite(s: SiteSetup): Promise<SiteEntry> {
  const m = s.moodle;
  const key = siteCacheKey(m.fingerprint);
  const tables = await tableCount(s);
  let dump: Buffer | undefined;
  try {
    await run(
      s,
      s.db,
      [
        'bash',
        '-o',
        'pipefail',
        '-c',
        `mariadb-dump -uroot --single-transaction --skip-lock-tables --skip-add-locks --hex-blob --default-character-set=utf8mb4 ${s.dbName} | gzip > ${DUMP_TMP}`,
      ],
      'dumping the Moodle database',
      { env: [`MYSQL_PWD=${s.dbRootPassword}`] },
    );
    dump = await s.containers.getFile(s.db.id, DUMP_TMP);
  } finally {
    await s.containers.exec(s.db.id, ['rm', '-f', DUMP_TMP], { timeoutMs: 30_000 });
  }
  if (!dump?.length) throw new Error('the database dump came back empty');
  let data: Buffer | undefined;
  try {
    // GNU tar exits 1 when a file changed while it was read (e.g. the storage probe's files in the
    // top folder, left out anyway): the archive is whole. 2 is a real failure.
    const argv = [
      'tar',
      '-czf',
      DATA_TMP,
      '--warning=no-file-changed',
      '--warning=no-file-removed',
      '-C',
      s.dataroot,
      ...MOODLEDATA_EXCLUDES.map((x) => `--exclude=${x}`),
      '.',
    ];
    const r = await s.containers.exec(s.web.id, argv, { user: 'www-data', timeoutMs: 600_000 });
    if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`archiving moodledata failed (exit ${r.exitCode}): ${tail(r)}`);
    data = await s.containers.getFile(s.web.id, DATA_TMP);
  } finally {
    await s.containers.exec(s.web.id, ['rm', '-f', DATA_TMP], { timeoutMs: 30_000 });
  }
  if (!data?.length) throw new Error('the moodledata archive came back empty');
  return s.cache.save(
    {
      key,
      fingerprint: m.fingerprint,
      release: m.release,
      origin: m.origin,
      layout: m.layout,
      createdAt: new Date(s.now()).toISOString(),
      tables,
      course: m.course ?? TEST_COURSE,
      madeBy: { lab: s.lab, wwwroot: s.wwwroot },
      installSeconds: m.installSeconds,
      contentSeconds: m.contentSeconds,
    },
    dump,
    data,
  );
}
