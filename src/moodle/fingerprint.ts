/**
 * A content fingerprint of a Moodle tree: sha256 over every file's relative path and the sha256 of
 * its content, in sorted path order (symbolic links count by their target text). `.git` folders
 * and a root node_modules/ (developer tooling, never served) are left out.
 *
 * Hashing a full tree reads ~400 MB, so the result is cached in cacheDir/fingerprints/, keyed by
 * the root path and a listing signature (path, size, mtime, ctime, inode of every file): an
 * unchanged tree costs one walk with lstat and no reads.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Entry {
  rel: string;
  full: string;
  link: boolean;
}

export function listTree(root: string): { entries: Entry[]; signature: string } {
  const entries: Entry[] = [];
  const sig = createHash('sha256');
  const walk = (dir: string, rel: string) => {
    const names = fs.readdirSync(dir).sort();
    for (const name of names) {
      if (name === '.git' || (rel === '' && name === 'node_modules')) continue;
      const full = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(full);
      if (st.isDirectory()) walk(full, r);
      else if (st.isFile() || st.isSymbolicLink()) {
        entries.push({ rel: r, full, link: st.isSymbolicLink() });
        sig.update(`${r}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}\n`);
      }
    }
  };
  walk(root, '');
  // Sorting by each folder's names is not the same as sorting full paths ('a/b' vs 'a-b'): sort once more.
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { entries, signature: sig.digest('hex') };
}

async function hashEntries(entries: Entry[], progress: (m: string) => void): Promise<string> {
  const digests: string[] = new Array(entries.length);
  let next = 0;
  let done = 0;
  let shown = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      const e = entries[i]!;
      const content = e.link ? Buffer.from(await fs.promises.readlink(e.full)) : await fs.promises.readFile(e.full);
      digests[i] = createHash('sha256').update(content).digest('hex');
      done++;
      const tenth = Math.floor((done / entries.length) * 10);
      if (tenth > shown && tenth < 10) {
        shown = tenth;
        progress(`hashing the Moodle source: ${tenth * 10}%`);
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const h = createHash('sha256');
  entries.forEach((e, i) => h.update(`${e.rel}\0${e.link ? 'l' : 'f'}\0${digests[i]}\n`));
  return h.digest('hex').slice(0, 16);
}

interface CacheRecord {
  root: string;
  signature: string;
  fingerprint: string;
}

export async function treeFingerprint(root: string, cacheDir: string, progress: (m: string) => void = () => undefined): Promise<string> {
  const { entries, signature } = listTree(root);
  const file = path.join(cacheDir, 'fingerprints', `${createHash('sha256').update(root).digest('hex').slice(0, 16)}.json`);
  try {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheRecord;
    if (cached.root === root && cached.signature === signature && /^[0-9a-f]{16}$/.test(cached.fingerprint)) return cached.fingerprint;
  } catch {
    // No record, or an unreadable one: hash again.
  }
  progress(`hashing the Moodle source (${entries.length} files)`);
  const fingerprint = await hashEntries(entries, progress);
  const record: CacheRecord = { root, signature, fingerprint };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(record));
  fs.renameSync(tmp, file);
  return fingerprint;
}
