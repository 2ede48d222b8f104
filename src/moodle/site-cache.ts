/**
 * The site cache: one installed Moodle site per source, kept on the user's machine so that a
 * later lab with the same source restores it instead of running Moodle's installer.
 *
 *   <home>/cache/sites/<fingerprint>-<recipe>/
 *     manifest.json        what the entry is (release, source, sizes and sha256 of both files)
 *     moodle.sql.gz        mariadb-dump of the Moodle database (installed site + test course)
 *     moodledata.tar.gz    moodledata without caches, sessions, temp files, locks and MUC config
 *
 * `<recipe>` hashes how the lab installs a site (options, test course size, dump layout): a lab
 * that installs differently never restores an entry made the old way. An entry is written into a
 * hidden folder first and renamed into place with its manifest already in it, so a reader sees a
 * whole entry or none; reading checks every file's size and sha256 against the manifest.
 * Secrets: the dump holds password hashes of the lab that made it; a restore replaces them with
 * the new lab's (site-secrets.php). DB credentials and the Redis password are not in the entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEST_COURSE, TEST_COURSE_SIZE, TEST_FILE_SIZE_LIMIT, TEST_USERS } from './install';

export const SITE_CACHE_FORMAT = 1;
export const DUMP_FILE = 'moodle.sql.gz';
export const DATA_FILE = 'moodledata.tar.gz';
export const MANIFEST_FILE = 'manifest.json';

/** Everything that changes what an installed site holds, besides the Moodle source itself. */
const RECIPE = JSON.stringify({
  format: SITE_CACHE_FORMAT,
  lang: 'en',
  prefix: 'mdl_',
  collation: 'utf8mb4_unicode_ci',
  course: TEST_COURSE,
  size: TEST_COURSE_SIZE,
  fileSizeLimit: TEST_FILE_SIZE_LIMIT,
  users: TEST_USERS,
});

export function siteCacheKey(fingerprint: string): string {
  if (!/^[0-9a-f]{16}$/.test(fingerprint)) throw new Error(`not a source fingerprint: "${fingerprint}"`);
  return `${fingerprint}-${createHash('sha256').update(RECIPE).digest('hex').slice(0, 8)}`;
}

/** Where the site cache lives under the lab home (MOODLE_LAB_HOME moves it); no lab's `destroy` touches it. */
export function siteCacheDir(home: string): string {
  return path.join(home, 'cache', 'sites');
}

export interface CachedFile {
  bytes: number;
  sha256: string;
}

export interface SiteManifest {
  format: number;
  key: string;
  fingerprint: string;
  release: string;
  /** The source as the user gave it when the entry was made. */
  origin: string;
  layout: 'public' | 'legacy';
  createdAt: string;
  lastUsedAt?: string;
  /** Tables in the dump: a restore checks the database holds as many. */
  tables: number;
  course: string;
  /** The lab and wwwroot the site was installed with; a restore applies the new lab's own. */
  madeBy: { lab: string; wwwroot: string };
  /** What the installer and the test course cost when the entry was made (what a restore saves). */
  installSeconds?: number;
  contentSeconds?: number;
  files: Record<typeof DUMP_FILE | typeof DATA_FILE, CachedFile>;
}

export interface SiteEntry {
  dir: string;
  manifest: SiteManifest;
}

/** A present entry that cannot be used, and why (one phrase). */
export interface BrokenEntry {
  dir: string;
  key: string;
  problem: string;
}

export interface ListedEntry {
  key: string;
  dir: string;
  bytes: number;
  manifest?: SiteManifest;
  problem?: string;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(full) : fs.lstatSync(full).size;
  }
  return total;
}

export class SiteCache {
  constructor(readonly dir: string) {}

  entryDir(key: string): string {
    return path.join(this.dir, key);
  }

  /**
   * The entry for a key: undefined when there is none, `{problem}` when one is there but unusable
   * (missing or altered file, unreadable manifest), else the manifest. With `verify` (the default)
   * both files are hashed: a restore never starts from a damaged entry.
   */
  read(key: string, verify = true): SiteEntry | BrokenEntry | undefined {
    const dir = this.entryDir(key);
    if (!fs.existsSync(dir)) return undefined;
    const broken = (problem: string): BrokenEntry => ({ dir, key, problem });
    let manifest: SiteManifest;
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as SiteManifest;
    } catch (err) {
      return broken((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no manifest.json' : 'manifest.json is not valid JSON');
    }
    if (typeof manifest !== 'object' || manifest === null) return broken('manifest.json is not an object');
    if (manifest.format !== SITE_CACHE_FORMAT) return broken(`manifest format ${String(manifest.format)}, expected ${SITE_CACHE_FORMAT}`);
    if (manifest.key !== key) return broken(`manifest names entry "${String(manifest.key)}"`);
    if (typeof manifest.release !== 'string' || typeof manifest.tables !== 'number' || typeof manifest.files !== 'object' || manifest.files === null)
      return broken('manifest.json lacks fields');
    for (const name of [DUMP_FILE, DATA_FILE] as const) {
      const want = manifest.files[name];
      if (!want || typeof want.bytes !== 'number' || typeof want.sha256 !== 'string') return broken(`manifest.json does not describe ${name}`);
      const file = path.join(dir, name);
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (!st) return broken(`${name} is missing`);
      if (st.size !== want.bytes) return broken(`${name} has ${st.size} bytes, the manifest says ${want.bytes}`);
      if (verify && sha256(fs.readFileSync(file)) !== want.sha256) return broken(`${name} does not match its sha256`);
    }
    return { dir, manifest };
  }

  dump(entry: SiteEntry): Buffer {
    return fs.readFileSync(path.join(entry.dir, DUMP_FILE));
  }

  data(entry: SiteEntry): Buffer {
    return fs.readFileSync(path.join(entry.dir, DATA_FILE));
  }

  /** Writes a whole entry (replacing an older one of the same key) and returns it. */
  save(manifest: Omit<SiteManifest, 'files' | 'format'>, dump: Buffer, data: Buffer): SiteEntry {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(this.dir, `.partial-${manifest.key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(tmp, { mode: 0o700 });
    try {
      fs.writeFileSync(path.join(tmp, DUMP_FILE), dump, { mode: 0o600 });
      fs.writeFileSync(path.join(tmp, DATA_FILE), data, { mode: 0o600 });
      const full: SiteManifest = {
        format: SITE_CACHE_FORMAT,
        ...manifest,
        files: { [DUMP_FILE]: { bytes: dump.length, sha256: sha256(dump) }, [DATA_FILE]: { bytes: data.length, sha256: sha256(data) } },
      };
      fs.writeFileSync(path.join(tmp, MANIFEST_FILE), JSON.stringify(full, null, 2) + '\n', { mode: 0o600 });
      const target = this.entryDir(manifest.key);
      if (fs.existsSync(target)) {
        const old = path.join(this.dir, `.old-${manifest.key}-${process.pid}-${randomBytes(4).toString('hex')}`);
        fs.renameSync(target, old);
        fs.rmSync(old, { recursive: true, force: true });
      }
      fs.renameSync(tmp, target);
      return { dir: target, manifest: full };
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** Records a use (what `cache prune --older-than` goes by). */
  touch(entry: SiteEntry, at: Date): void {
    const manifest = { ...entry.manifest, lastUsedAt: at.toISOString() };
    const file = path.join(entry.dir, MANIFEST_FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  /** Every entry, usable or not (sizes from the file system, no hashing), newest first. */
  list(): ListedEntry[] {
    if (!fs.existsSync(this.dir)) return [];
    const out: ListedEntry[] = [];
    for (const e of fs.readdirSync(this.dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const r = this.read(e.name, false);
      const dir = this.entryDir(e.name);
      const bytes = dirBytes(dir);
      out.push(r && 'manifest' in r ? { key: e.name, dir, bytes, manifest: r.manifest } : { key: e.name, dir, bytes, problem: r?.problem ?? 'gone' });
    }
    const when = (x: ListedEntry) => x.manifest?.createdAt ?? '';
    return out.sort((a, b) => when(b).localeCompare(when(a)));
  }

  /**
   * Removes entries: every one (`all`), those not used (or made) for longer than `olderThanMs`,
   * and always the unusable ones and the leftovers of interrupted writes. Returns what went.
   */
  prune(opts: { all?: boolean; olderThanMs?: number; now: Date }): ListedEntry[] {
    if (!fs.existsSync(this.dir)) return [];
    for (const e of fs.readdirSync(this.dir)) {
      // Interrupted writes of another process may still be running: only those older than an hour go.
      if (!/^\.(partial|old)-/.test(e)) continue;
      const full = path.join(this.dir, e);
      if (opts.now.getTime() - fs.statSync(full).mtimeMs > 3_600_000) fs.rmSync(full, { recursive: true, force: true });
    }
    const removed: ListedEntry[] = [];
    for (const entry of this.list()) {
      const used = entry.manifest ? Date.parse(entry.manifest.lastUsedAt ?? entry.manifest.createdAt) : NaN;
      const old = opts.olderThanMs !== undefined && (!Number.isFinite(used) || opts.now.getTime() - used > opts.olderThanMs);
      if (opts.all || old || entry.problem) {
        fs.rmSync(entry.dir, { recursive: true, force: true });
        removed.push(entry);
      }
    }
    return removed;
  }
}
