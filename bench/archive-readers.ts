/**
 * Why the lab keeps its own tar and zip readers for Moodle archives: each against a library on
 * the same real Moodle archive, extracting to a fresh folder (the page cache warm for all).
 *
 *   MOODLE_BENCH_SOURCE=/path/to/moodle node --import tsx bench/archive-readers.ts [--runs 3]
 *
 * Makes `moodle.tgz` and `moodle.zip` of that tree once (GNU tar and the `yazl` package), then
 * times: the lab's TarExtractor vs `tar-stream` (+ fs writes) vs `tar` (node-tar) on the .tgz, and
 * the lab's zip reader vs `yauzl` on the .zip. Prints min/median/max seconds and files extracted.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import * as nodeTar from 'tar';
import * as tarStream from 'tar-stream';
import * as yauzl from 'yauzl';
import * as yazl from 'yazl';
import { contextFiles } from '../src/engine/images';
import { extractArchive } from '../src/moodle/archive';
import { safeEntryName } from '../src/moodle/untar';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 3) || 3;
const source = process.env.MOODLE_BENCH_SOURCE;
if (!source || !fs.existsSync(source)) {
  console.error('set MOODLE_BENCH_SOURCE to a Moodle source folder (the bench archives it once)');
  process.exit(2);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'archive-bench-'));
const tgz = path.join(work, 'moodle.tgz');
const zip = path.join(work, 'moodle.zip');

async function makeArchives(): Promise<void> {
  execFileSync('tar', ['-czf', tgz, '-C', path.dirname(source!), path.basename(source!)]);
  const z = new yazl.ZipFile();
  for (const f of contextFiles(source!)) z.addFile(path.join(source!, f), `moodle/${f}`);
  z.end();
  await pipeline(z.outputStream, fs.createWriteStream(zip));
}

async function tarStreamExtract(file: string, dest: string): Promise<number> {
  const ex = tarStream.extract();
  let files = 0;
  ex.on('entry', (h, stream, next) => {
    const name = safeEntryName(h.name);
    const target = path.join(dest, name);
    if (h.type === 'directory') {
      fs.mkdirSync(target, { recursive: true });
      stream.resume();
      stream.on('end', next);
    } else if (h.type === 'file') {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      files++;
      pipeline(stream, fs.createWriteStream(target)).then(() => next(), next);
    } else {
      stream.resume();
      stream.on('end', next);
    }
  });
  await pipeline(fs.createReadStream(file), zlib.createGunzip(), ex);
  return files;
}

async function nodeTarExtract(file: string, dest: string): Promise<number> {
  let files = 0;
  await nodeTar.x({ file, cwd: dest, onReadEntry: (e) => void (e.type === 'File' && files++) });
  return files;
}

function yauzlExtract(file: string, dest: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let files = 0;
    yauzl.open(file, { lazyEntries: true }, (err, z) => {
      if (err || !z) return reject(err);
      z.on('error', reject);
      z.on('end', () => resolve(files));
      z.on('entry', (e: yauzl.Entry) => {
        const target = path.join(dest, safeEntryName(e.fileName));
        if (e.fileName.endsWith('/')) {
          fs.mkdirSync(target, { recursive: true });
          z.readEntry();
          return;
        }
        fs.mkdirSync(path.dirname(target), { recursive: true });
        z.openReadStream(e, (e2, rs) => {
          if (e2 || !rs) return reject(e2);
          files++;
          pipeline(rs, fs.createWriteStream(target)).then(() => z.readEntry(), reject);
        });
      });
      z.readEntry();
    });
  });
}

async function time(name: string, run: (dest: string) => Promise<number>): Promise<void> {
  const secs: number[] = [];
  let files = 0;
  for (let i = 0; i < runs; i++) {
    const dest = fs.mkdtempSync(path.join(work, 'x-'));
    const t0 = process.hrtime.bigint();
    files = await run(dest);
    secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    fs.rmSync(dest, { recursive: true, force: true });
  }
  secs.sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(2);
  console.log(`${name.padEnd(34)} ${f(secs[0]!)} / ${f(secs[Math.floor(secs.length / 2)]!)} / ${f(secs[secs.length - 1]!)} s   ${files} files`);
}

async function main(): Promise<void> {
  console.log(`archiving ${source} once (tgz with GNU tar, zip with yazl)…`);
  await makeArchives();
  console.log(
    `moodle.tgz ${(fs.statSync(tgz).size / 2 ** 20).toFixed(0)} MiB, moodle.zip ${(fs.statSync(zip).size / 2 ** 20).toFixed(0)} MiB; ${runs} runs each, min / median / max:`,
  );
  await time('tgz: lab TarExtractor', (d) => extractArchive(tgz, d, 'tgz'));
  await time('tgz: tar-stream + fs writes', (d) => tarStreamExtract(tgz, d));
  await time('tgz: tar (node-tar)', (d) => nodeTarExtract(tgz, d));
  await time('zip: lab reader', (d) => extractArchive(zip, d, 'zip'));
  await time('zip: yauzl', (d) => yauzlExtract(zip, d));
  fs.rmSync(work, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  fs.rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
