/**
 * The dependency lint on a small tree of its own: a folder cycle and an upward import fail,
 * one-way imports pass. Runs ESLint with the repository's rule and config.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '..', '..');

function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-layers-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

async function lint(dir: string): Promise<string[]> {
  const { noFolderCycle } = (await import(path.join(ROOT, 'scripts', 'lint-folder-cycles.mjs'))) as { noFolderCycle: unknown };
  const tseslint = (await import('typescript-eslint')).default;
  const eslint = new ESLint({
    cwd: dir,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { lab: { rules: { 'no-folder-cycle': noFolderCycle } } } as never,
        rules: { 'lab/no-folder-cycle': 'error' },
      },
    ],
  });
  const results = await eslint.lintFiles(['src/**/*.ts']);
  return results.flatMap((r) => r.messages.map((m) => `${path.relative(dir, r.filePath)}: ${m.message}`)).sort();
}

describe('lint: folders under src/ import one way', function () {
  this.timeout(30_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('passes one-way imports, within a folder and across folders', async () => {
    const dir = tree({
      'src/top/a.ts': "import { b } from '../low/b';\nimport { a2 } from './a2';\nexport const a = b + a2;\n",
      'src/top/a2.ts': 'export const a2 = 1;\n',
      'src/low/b.ts': 'export const b = 1;\n',
    });
    dirs.push(dir);
    assert.deepEqual(await lint(dir), []);
  });

  it('fails on a cycle between two folders, and on one through a third, naming the route', async () => {
    const dir = tree({
      'src/a/x.ts': "import type { Y } from '../b/y';\nexport type X = Y;\n",
      'src/b/y.ts': "import { z } from '../c/z';\nexport type Y = typeof z;\n",
      'src/c/z.ts': "import type { X } from '../a/x';\nexport const z = 1 as unknown as X;\n",
    });
    dirs.push(dir);
    const found = await lint(dir);
    assert.equal(found.length, 3, found.join('\n'));
    assert.ok(
      found.includes('src/a/x.ts: src/a imports src/b, which imports it back: src/a → src/b → src/c → src/a. Move the shared code down a layer.'),
      found.join('\n'),
    );
  });

  it("the repository's config: an upward import (moodle → engine) is a layer breach and closes a cycle; a downward one passes", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const lintAs = async (filePath: string, code: string) =>
      (await eslint.lintText(code, { filePath: path.join(ROOT, filePath) }))[0]!.messages.map((m) => `${m.ruleId}: ${m.message}`);
    const up = await lintAs('src/moodle/zz-upward.ts', "import { PRESET_NAMES } from '../engine/topology';\nexport const z = PRESET_NAMES;\n");
    assert.ok(
      up.some((m) => m.startsWith('boundaries/dependencies: src/moodle may not import src/engine (layers top to bottom: ')),
      up.join('\n'),
    );
    assert.ok(
      up.some((m) => m.startsWith('lab/no-folder-cycle: src/moodle imports src/engine, which imports it back')),
      up.join('\n'),
    );
    assert.deepEqual(await lintAs('src/engine/zz-downward.ts', "import type { MoodleSource } from '../moodle/types';\nexport type Z = MoodleSource;\n"), []);
  });
});
