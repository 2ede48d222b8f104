/**
 * `npm run lab` rebuilds the CLI bundle on every call: several at once (two terminals, the
 * extension beside a terminal) must never load a half-written dist/cli.js. Before the atomic
 * write, about one process in a dozen died with "TypeError: main is not a function".
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function lab(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts', 'lab.mjs'), ...args], { cwd: ROOT }, (err, _stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

describe('npm run lab: the CLI bundle', function () {
  this.timeout(120_000);

  it('four at once, six times over: every one runs (the bundle is renamed into place, never read half-written)', async () => {
    for (let round = 0; round < 6; round++) {
      const runs = await Promise.all([1, 2, 3, 4].map(() => lab(['help'])));
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
    }
    assert.deepEqual(
      fs.readdirSync(path.join(ROOT, 'dist')).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary file left behind',
    );
  });
});
