// Bundles the CLI and (when present) the extension and the webview with esbuild.
//   node scripts/build.mjs [--quiet] [--only cli] [--production]
// Default: source maps beside the bundles, for local debugging. --production (the .vsix): every
// bundle minified, no source maps (and stale .map files removed from dist/).
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quiet = args.includes('--quiet');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const production = args.includes('--production');

// ssh2's native helpers are optional (it falls back to JS when they are absent).
const node = {
  external: ['cpu-features', '*.node'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: quiet ? 'error' : 'info',
  absWorkingDir: root,
};
const targets = {
  cli: { ...node, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js' },
  extension: { ...node, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: [...node.external, 'vscode'] },
  webview: {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: !production,
    minify: true,
    logLevel: quiet ? 'error' : 'info',
    absWorkingDir: root,
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview/main.js',
  },
};

const names = only ? [only] : Object.keys(targets);
if (production) {
  for (const dir of ['dist', 'dist/webview']) {
    const abs = path.join(root, dir);
    if (existsSync(abs)) for (const f of readdirSync(abs)) if (f.endsWith('.map')) rmSync(path.join(abs, f));
  }
}
/**
 * Each output is written to a temporary file and renamed into place: two `npm run lab` at once
 * (two terminals, the extension and a terminal) each rebuild the CLI, and one of them must never
 * load a half-written dist/cli.js ("main is not a function").
 */
async function build(options) {
  const result = await esbuild.build({ ...options, write: false });
  for (const file of result.outputFiles) {
    mkdirSync(path.dirname(file.path), { recursive: true });
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
}

await Promise.all(names.filter((n) => existsSync(path.join(root, targets[n].entryPoints[0]))).map((n) => build(targets[n])));
