/**
 * Release archives (.tgz/.tar.gz/.tar/.zip) and their one-time extraction into the cache,
 * keyed by the archive's sha256. An extraction goes to a temporary folder that is renamed into
 * place only once complete, so a half-extracted tree is never picked up again.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { TarExtractor } from './untar';
import { extractZipBuffer } from './unzip';
import { MoodleSourceError } from './types';
import { errText } from '../core/errors';

export type ArchiveKind = 'tgz' | 'tar' | 'zip';

/** What the file is by its first bytes, whatever its name says; undefined when not an archive. */
export function archiveKind(file: string): ArchiveKind | undefined {
  const head = Buffer.alloc(262);
  const fd = fs.openSync(file, 'r');
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tgz';
  if (n >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (n >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return undefined;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(fs.createReadStream(file), h);
  return h.digest('hex');
}

export async function extractArchive(file: string, dest: string, kind: ArchiveKind): Promise<number> {
  fs.mkdirSync(dest, { recursive: true });
  if (kind === 'zip') return extractZipBuffer(await fs.promises.readFile(file), dest);
  const extractor = new TarExtractor(dest);
  const input = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const stream = kind === 'tgz' ? input.pipe(zlib.createGunzip({ chunkSize: 1 << 20 })) : input;
  input.on('error', (err) => stream.destroy(err));
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) extractor.write(chunk);
  } finally {
    input.destroy();
  }
  extractor.end();
  return extractor.files;
}

/**
 * The folder under cacheDir/extracted/ holding the archive's content, extracting it the first
 * time only. `sha256` is the archive's own hash (the cache key).
 */
export async function extractOnce(file: string, sha256: string, cacheDir: string, progress: (m: string) => void): Promise<string> {
  const kind = archiveKind(file);
  if (!kind) throw new MoodleSourceError(`${file} is not a .tgz, .tar.gz, .tar or .zip archive`);
  const base = path.join(cacheDir, 'extracted');
  const final = path.join(base, sha256.slice(0, 16));
  if (fs.existsSync(final)) return final;
  fs.mkdirSync(base, { recursive: true });
  removeStaleTemps(base);
  const tmp = path.join(base, `.tmp-${sha256.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  progress(`extracting ${path.basename(file)} into ${final}`);
  try {
    const count = await extractArchive(file, tmp, kind);
    fs.renameSync(tmp, final);
    progress(`extracted ${count} files`);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Another process finished the same extraction first: use theirs.
    if (fs.existsSync(final) && isRenameClash(err)) return final;
    if (err instanceof MoodleSourceError) throw err;
    throw new MoodleSourceError(`cannot extract ${file}: ${errText(err)}`);
  }
  return final;
}

function isRenameClash(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM';
}

/** Temporary folders of interrupted extractions, left for more than a day. */
function removeStaleTemps(base: string): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of fs.readdirSync(base)) {
    if (!name.startsWith('.tmp-')) continue;
    const full = path.join(base, name);
    if ((fs.statSync(full, { throwIfNoEntry: false })?.mtimeMs ?? Infinity) < dayAgo) fs.rmSync(full, { recursive: true, force: true });
  }
}
