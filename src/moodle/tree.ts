/**
 * Finding the Moodle tree in a folder and reading what it is from version.php.
 * Moodle 5.1+ keeps its web root in public/ (public/version.php) while config-dist.php,
 * config.php and admin/cli stay at the root; 4.x and older have everything at the root.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { phpScalar, stripPhpComments } from './php-source';
import { MoodleSourceError, type MoodleSource } from './types';

export type MoodleTree = Omit<MoodleSource, 'fingerprint' | 'origin'>;

export interface CoreVersion {
  version: number;
  release: string;
  branch: string;
}

/** $version, $release and $branch of a core version.php; undefined when it has no $release. */
export function parseCoreVersion(text: string): CoreVersion | undefined {
  const code = stripPhpComments(text);
  const release = phpScalar(code, 'release');
  const version = Number(phpScalar(code, 'version'));
  if (release === undefined || !Number.isFinite(version)) return undefined;
  // Before $branch existed (Moodle < 2.6), derive it from the release: '4.1.2 (Build…)' → '401'.
  const branch = phpScalar(code, 'branch') ?? branchFromRelease(release);
  return { version, release, branch };
}

function branchFromRelease(release: string): string {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? `${m[1]}${m[2]!.padStart(Number(m[1]) >= 4 ? 2 : 1, '0')}` : '';
}

const isFile = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
const isDir = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

function readVersionAt(file: string): CoreVersion | undefined {
  return isFile(file) ? parseCoreVersion(fs.readFileSync(file, 'utf8')) : undefined;
}

/**
 * The folder itself when it is a Moodle root; else its moodle/ subfolder, or its only
 * subfolder (release archives hold one moodle/ folder, GitHub archives one moodle-<ref>/).
 */
export function locateMoodleRoot(dir: string): string {
  const looksLikeRoot = (d: string) => isFile(path.join(d, 'public', 'version.php')) || isFile(path.join(d, 'version.php'));
  if (looksLikeRoot(dir)) return dir;
  if (isDir(path.join(dir, 'moodle'))) return path.join(dir, 'moodle');
  const entries = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  if (entries.length === 1 && entries[0]!.isDirectory()) return path.join(dir, entries[0]!.name);
  return dir;
}

/** Layout, docroot and version of the Moodle tree in `dir`; throws MoodleSourceError when it is not one the lab can use. */
export function readMoodleTree(dir: string): MoodleTree {
  const root = path.resolve(locateMoodleRoot(path.resolve(dir)));
  let layout: MoodleTree['layout'] = 'public';
  let core = readVersionAt(path.join(root, 'public', 'version.php'));
  if (!core) {
    layout = 'legacy';
    core = readVersionAt(path.join(root, 'version.php'));
  }
  if (!core) {
    throw new MoodleSourceError(
      `${root} is not a Moodle source tree: no version.php with $release (expected public/version.php for Moodle 5.1+ or version.php for 4.x)`,
    );
  }
  if (layout === 'legacy' && Number(core.branch) >= 501 && path.basename(root) === 'public') {
    throw new MoodleSourceError(
      `${root} is the public/ web root of Moodle ${core.release}: give the folder above it (the one holding config-dist.php and admin/)`,
    );
  }
  if (!isFile(path.join(root, 'admin', 'cli', 'install_database.php'))) {
    throw new MoodleSourceError(`${root} is not a complete Moodle source tree: admin/cli/install_database.php is missing`);
  }
  if (fs.existsSync(path.join(root, 'config.php'))) {
    throw new MoodleSourceError(
      `${path.join(root, 'config.php')} exists: remove it (or give a clean copy of the source), because the lab writes its own config.php`,
    );
  }
  return { root, layout, docroot: layout === 'public' ? path.join(root, 'public') : root, ...core };
}
