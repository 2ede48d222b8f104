/**
 * Where the lab's Moodle code comes from: `--moodle-source <dir|archive|url>`, or nothing for the
 * pinned release below, downloaded once and cached. Every path ends in a validated tree with its
 * layout, version and content fingerprint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extractOnce, sha256File } from './archive';
import { downloadArchive } from './download';
import { treeFingerprint } from './fingerprint';
import { phpSupport, phpSupported } from './php-support';
import { readMoodleTree } from './tree';
import { MoodleSourceError, type MoodleSource } from './types';

export { MoodleSourceError, type MoodleSource } from './types';
export { phpSupport } from './php-support';
export { checkPluginDependencies } from './plugins';

export interface ResolveOptions {
  /** e.g. ~/.moodle-lab/cache: downloads/, extracted/ and fingerprints/ live here. */
  cacheDir: string;
  /** PHP of the web image, e.g. '8.4'. */
  phpVersion: string;
  fetchImpl?: typeof fetch;
  /** Human progress lines: download %, extraction, hashing. */
  progress?: (message: string) => void;
  signal?: AbortSignal;
}

/**
 * The pinned current stable release. download.moodle.org serves every release of a branch at
 * download.php/direct/stable<branch>/moodle-<version>.tgz (following redirects to a mirror) and
 * publishes its checksum next to it (<url>.sha256). No checksum is hard-coded here: it could
 * not be verified from this workplace (no internet), so the published one is fetched and checked
 * at download time. Move the pin by changing the version and both URLs together.
 */
export const DEFAULT_MOODLE: { version: string; url: string; sha256Url?: string; sha256?: string } = {
  version: '5.1.6',
  url: 'https://download.moodle.org/download.php/direct/stable501/moodle-5.1.6.tgz',
  sha256Url: 'https://download.moodle.org/download.php/direct/stable501/moodle-5.1.6.tgz.sha256',
};

const isUrl = (spec: string) => /^https?:\/\//i.test(spec);

export async function resolveMoodleSource(spec: string | undefined, opts: ResolveOptions): Promise<MoodleSource> {
  const progress = opts.progress ?? (() => undefined);
  const cacheDir = path.resolve(opts.cacheDir);
  const origin = spec ?? `default ${DEFAULT_MOODLE.version}`;
  let dir: string;
  if (spec === undefined || isUrl(spec)) {
    const url = spec ?? DEFAULT_MOODLE.url;
    const pinned = spec === undefined ? { sha256: DEFAULT_MOODLE.sha256, sha256Url: DEFAULT_MOODLE.sha256Url } : {};
    const file = await downloadArchive(url, { cacheDir, fetchImpl: opts.fetchImpl ?? fetch, progress, signal: opts.signal, ...pinned });
    dir = await fromArchive(file, cacheDir, progress);
  } else {
    const local = path.resolve(spec);
    const st = fs.statSync(local, { throwIfNoEntry: false });
    if (!st) throw new MoodleSourceError(`${local} does not exist: give a Moodle folder, a .tgz/.zip archive or an http(s) URL with --moodle-source`);
    dir = st.isDirectory() ? local : await fromArchive(local, cacheDir, progress);
  }
  opts.signal?.throwIfAborted();

  const tree = readMoodleTree(dir);
  if (!phpSupported(tree.branch, opts.phpVersion)) {
    const range = phpSupport(tree.branch)!;
    throw new MoodleSourceError(`Moodle ${tree.release} supports PHP ${range.min}–${range.max}; the lab's web image has PHP ${opts.phpVersion}`);
  }
  const fingerprint = await treeFingerprint(tree.root, cacheDir, progress);
  return { ...tree, fingerprint, origin };
}

async function fromArchive(file: string, cacheDir: string, progress: (m: string) => void): Promise<string> {
  progress(`checking ${path.basename(file)}`);
  const sha = await sha256File(file);
  return extractOnce(file, sha, cacheDir, progress);
}
