/**
 * Fuzzing the CLI's argument handling: random command lines from the CLI's own words and random
 * text. The engine is a tripwire (every call is counted and fails), so the property can say what
 * "nothing touched" means: a usage or input error (exit 2) comes before any engine call, and
 * every other outcome comes after one. Never a TypeError or RangeError, never a hang.
 * `dashboard` is left out: once its arguments are valid it serves until Ctrl-C.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { CliIo, exitCodeFor, runCli } from '../../src/cli';
import type { DockerClient } from '../../src/docker/types';
import { StateStore } from '../../src/engine/state';
import { LOAD_OPTIONS } from '../../src/load/command';
import { SITE_CACHE_OPTIONS } from '../../src/moodle/cache-command';
import { FAULT_KINDS } from '../../src/protocol/faults';
import { SCENARIO_OPTIONS } from '../../src/scenarios/command';
import { fuzzSuite } from '../support/fuzz';

const ROOT = path.resolve(__dirname, '../..');

class EngineTouched extends Error {}

/** A DockerClient whose every method counts the call and fails. */
function tripwire(): { docker: DockerClient; calls: string[] } {
  const calls: string[] = [];
  const fn =
    (name: string) =>
    (..._args: unknown[]) => {
      calls.push(name);
      return Promise.reject(new EngineTouched(`engine touched: ${name}`));
    };
  const group = (g: string) => new Proxy({}, { get: (_t, p) => (typeof p === 'string' && p !== 'then' ? fn(`${g}.${p}`) : undefined) });
  const docker = {
    ping: fn('ping'),
    events: fn('events'),
    containers: group('containers'),
    images: group('images'),
    networks: group('networks'),
    volumes: group('volumes'),
  } as unknown as DockerClient;
  return { docker, calls };
}

const COMMANDS = ['up', 'status', 'down', 'destroy', 'maintenance', 'fault', 'heal', 'recover', 'load', 'scenario', 'cache', 'help', '--help', 'frobnicate'];
const OPTIONS = [
  '--lab',
  '--json',
  '--verbose',
  '-v',
  '--no-moodle',
  '--moodle-source',
  '--topology',
  '--web',
  '--base-image',
  '--haproxy',
  '--port',
  '--node',
  '--from',
  '--for',
  '--ms',
  '--jitter',
  '--percent',
  ...[...Object.keys(LOAD_OPTIONS), ...Object.keys(SCENARIO_OPTIONS), ...Object.keys(SITE_CACHE_OPTIONS)].map((k) => `--${k}`),
  '--colour',
  '-x',
  '--',
  '--lab=Bad',
  '--web=3',
];
const WORDS = [
  ...FAULT_KINDS,
  'explode',
  'web1',
  'web2',
  'web9',
  'galera1,galera2',
  'galera3',
  'on',
  'off',
  'run',
  'list',
  'prune',
  'ha',
  'single',
  'mesh',
  'tuned',
  'defaults',
  'moodle',
  'probe',
  'auto',
  '0',
  '1',
  '3',
  '7',
  '-1',
  '2.5',
  '1e-3',
  '0.001',
  '0.01',
  '33.333',
  '100',
  '65536',
  'NaN',
  'Infinity',
  '',
  ' ',
  '30s',
  '500ms-1s',
  '2s-1s',
  '1441m',
  '2147484s',
  `${'9'.repeat(400)}s`,
  '30d',
  'kill web2@20s',
  'loss web1 0.001@5s',
  'delay web1 200@1441m',
  'moodle-lab',
  'Bad Name',
  'a'.repeat(40),
  'nope.yaml',
  'dir/nope.yaml',
  'paper-failovr',
  'test/fixtures/scenarios/broken.yaml',
];
const token = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...OPTIONS) },
  { weight: 5, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const argv = fc
  .tuple(
    fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...COMMANDS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }),
    fc.array(token, { maxLength: 8 }),
  )
  .map(([c, rest]) => [c, ...rest]);

fuzzSuite('CLI arguments', __filename, {
  'exit 2 exactly when nothing was touched; never a TypeError or RangeError': async (ctx) => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-cli-'));
    const quiet: CliIo = { out: () => undefined, err: () => undefined, env: {} };
    const seen = { returned: 0, input: 0, engine: 0 };
    try {
      await fc.assert(
        fc.asyncProperty(argv, async (args) => {
          if (args[0] === 'dashboard') return;
          ctx.note(args);
          const { docker, calls } = tripwire();
          let code: number | undefined;
          let error: unknown;
          try {
            code = await runCli(args, quiet, { docker, store: new StateStore(home), labRoot: path.join(ROOT, 'lab') });
          } catch (err) {
            error = err;
          }
          if (error === undefined) {
            assert.ok(Number.isInteger(code) && code! >= 0 && code! <= 3, `returned ${code}`);
            seen.returned++;
            return;
          }
          assert.ok(error instanceof Error, `threw a non-Error: ${String(error)}`);
          assert.ok(!(error instanceof RangeError) && !(error instanceof ReferenceError) && !(error instanceof SyntaxError), error.stack);
          const exit = exitCodeFor(error);
          seen[exit === 2 ? 'input' : 'engine']++;
          if (exit === 2) assert.deepEqual(calls, [], `an input error after touching the engine: ${error.message}`);
          else {
            assert.ok(!(error instanceof TypeError), error.stack);
            assert.ok(calls.length > 0, `exit 3 without touching the engine: ${error.stack}`);
          }
          assert.ok(error.message.length > 0);
        }),
        ctx.params(600),
      );
      // The generator reaches every outcome (else the property above proves little).
      assert.ok(seen.returned > 0 && seen.input > 0 && seen.engine > 0, JSON.stringify(seen));
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  },
});
