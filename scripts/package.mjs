// `npm run package`: the production bundles (minified, no source maps), then the .vsix with the
// Marketplace README and changelog; prints what the package holds (`vsce ls`) and its size.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vsce = path.join(root, 'node_modules', '.bin', 'vsce');
const run = (cmd, args, quiet = false) => execFileSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8' });
const common = ['--no-dependencies', '--allow-missing-repository', '--readme-path', 'media/marketplace/README.md', '--changelog-path', 'CHANGELOG.md'];

run(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--quiet', '--production']);
const listing = run(vsce, ['ls', '--no-dependencies'], true);
const out = path.join(root, 'moodle-ha-lab.vsix');
run(vsce, ['package', ...common, '--skip-license', '--no-rewrite-relative-links', '-o', out], true);
const files = listing.trim().split('\n');
console.log(`files in the package (vsce ls, ${files.length}):\n${files.map((f) => `  ${f}`).join('\n')}`);
console.log(`moodle-ha-lab.vsix: ${(statSync(out).size / 1024 / 1024).toFixed(2)} MiB`);
