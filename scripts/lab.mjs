// `npm run lab -- <command>`: works right after `npm ci` — bundles the CLI on demand (esbuild,
// well under a second), then runs it in this process.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
try {
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--quiet', '--only', 'cli'], { stdio: ['ignore', 'ignore', 'inherit'] });
} catch {
  process.stderr.write('error: building the CLI failed (see above)\n');
  process.exit(1);
}
const require = createRequire(import.meta.url);
const { main } = require(path.join(root, 'dist', 'cli.js'));
process.exit(await main(process.argv.slice(2)));
