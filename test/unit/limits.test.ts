import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliIo, exitCodeFor, main, runCli, UsageError } from '../../src/cli';
import { StateStore } from '../../src/engine/state';
import { lossRules, validateRequest } from '../../src/faults/injector';
import { parseDuration, parseFaultSpec } from '../../src/load/faults';
import { FaultRequestError, faultRequestProblem, isLossPct, MAX_DURATION_MS } from '../../src/protocol/faults';
import { decodeUtf8, invalidUtf8At, loadScenario, MAX_SCENARIO_BYTES, ScenarioFileError } from '../../src/scenarios/parse';
import { ScenarioError } from '../../src/scenarios/types';
import { FakeDocker } from '../support/fake-docker';

const ROOT = path.resolve(__dirname, '../..');
const BUILTINS = path.join(ROOT, 'lab/scenarios');

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: {} };
  return { x, out, err };
}
const deps = () => ({ docker: new FakeDocker(), store: new StateStore(fs.mkdtempSync(path.join(os.tmpdir(), 'limits-'))), labRoot: path.join(ROOT, 'lab') });

describe('limits', () => {
  describe('durations: at most 24 h wherever a user or a page gives one', () => {
    it('24 h is far below the 2^31-1 ms where setTimeout fires after 1 ms instead', () => {
      assert.equal(MAX_DURATION_MS, 86_400_000);
      assert.ok(MAX_DURATION_MS < 2 ** 31 - 1);
    });

    it('parseDuration: 1440m yes, 1441m, 2147484s and 400 digits (Infinity) no, with one clear error', () => {
      assert.equal(parseDuration('1440m'), MAX_DURATION_MS);
      assert.equal(parseDuration('86400'), MAX_DURATION_MS);
      assert.throws(() => parseDuration('1441m', '--for'), /^Error: invalid --for "1441m": at most 24 h \(1440m\)$/);
      assert.throws(() => parseDuration('2147484s', '--duration'), /invalid --duration "2147484s": at most 24 h/);
      assert.throws(
        () => parseDuration(`${'9'.repeat(400)}s`, 'wait'),
        (e: Error) => /at most 24 h/.test(e.message) && e.message.length < 120,
      );
    });

    it('CLI: `fault stop web2 --for 2147484s` is a usage error, before Docker is touched', async () => {
      const d = deps();
      await assert.rejects(
        runCli(['fault', 'stop', 'web2', '--for', '2147484s'], io().x, d),
        (e: unknown) => e instanceof UsageError && /at most 24 h/.test(e.message),
      );
      assert.deepEqual(d.docker.calls, []);
    });

    it('CLI: load --duration, --ramp-up, --heal-at and --fault times above 24 h are usage errors', async () => {
      for (const args of [
        ['--duration', '25h'],
        ['--duration', '1441m'],
        ['--ramp-up', '90000s'],
        ['--fault', 'kill web2@90000s'],
        ['--think', '1s-99999999999999s'],
      ]) {
        const d = deps();
        await assert.rejects(runCli(['load', ...args], io().x, d), UsageError, args.join(' '));
        assert.deepEqual(d.docker.calls, []);
      }
    });

    it('a fault request (dashboard, VS Code) with forMs above 24 h is refused', () => {
      assert.match(faultRequestProblem({ kind: 'stop', nodes: ['web2'], forMs: 2 ** 31 }) ?? '', /at most 24 h/);
      assert.throws(() => validateRequest({ kind: 'stop', nodes: ['web2'], forMs: Infinity }, ['web2']), FaultRequestError);
      assert.equal(faultRequestProblem({ kind: 'stop', nodes: ['web2'], forMs: MAX_DURATION_MS }), undefined);
    });
  });

  describe('packet loss: what is recorded is what iptables applies', () => {
    it('every accepted percentage (0.01 to 100 in steps of 0.01) becomes exactly that probability', () => {
      for (let k = 1; k <= 10_000; k++) {
        const pct = k / 100;
        assert.ok(isLossPct(pct), `${pct} accepted`);
        const p = /--probability (\S+) -j DROP/.exec(lossRules(pct))?.[1];
        assert.ok(p, `${pct}: a rule`);
        assert.equal(Math.round(Number(p) * 10_000), k, `${pct}% → --probability ${p}`);
      }
    });

    it('0.001 %, 0.005 %, 33.333 % and 0 are refused (they would be applied as 0.0000, 0.0001 or 0.3333)', () => {
      for (const pct of [0.001, 0.005, 33.333, 0, -1, 100.01, NaN, Infinity]) {
        assert.equal(isLossPct(pct), false, String(pct));
        assert.match(
          faultRequestProblem({ kind: 'loss', nodes: ['web1'], lossPct: pct }) ?? '',
          /--percent between 0 and 100: from 0\.01 to 100, at most two decimals/,
        );
      }
    });

    it('CLI: `fault loss web1 --percent 0.001` is a usage error before Docker is touched; so is --fault "loss web1 0.001@5s"', async () => {
      const d = deps();
      await assert.rejects(
        runCli(['fault', 'loss', 'web1', '--percent', '0.001'], io().x, d),
        (e: unknown) => e instanceof UsageError && /from 0\.01 to 100/.test(e.message),
      );
      await assert.rejects(
        runCli(['load', '--fault', 'loss web1 0.001@5s'], io().x, d),
        (e: unknown) => e instanceof UsageError && /from 0\.01 to 100/.test(e.message),
      );
      assert.deepEqual(d.docker.calls, []);
      assert.throws(() => parseFaultSpec('loss web1 0.001@5s'), /from 0\.01 to 100/);
    });
  });

  describe('scenario files: size, encoding and kind checked before parsing', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'limits-scenario-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('a file over 1 MB is refused by its size, without being read (a sparse 100 MB file: instant)', () => {
      const file = path.join(dir, 'big.yaml');
      fs.writeFileSync(file, 'name: t\nsteps:\n  - up\n');
      fs.truncateSync(file, 100 * 1024 * 1024);
      assert.throws(
        () => loadScenario(file, BUILTINS),
        (e: unknown) => e instanceof ScenarioFileError && e.message === `${file}: the file is 100 MB; a scenario may be at most 1 MB`,
      );
    });

    it('exactly 1 MB is read; one byte more is not', () => {
      const file = path.join(dir, 'edge.yaml');
      const head = 'name: t\nsteps:\n  - up\n#';
      fs.writeFileSync(file, head + 'x'.repeat(MAX_SCENARIO_BYTES - head.length));
      assert.equal(loadScenario(file, BUILTINS).steps.length, 1);
      fs.appendFileSync(file, 'x');
      assert.throws(() => loadScenario(file, BUILTINS), /the file is 1\.0 MB; a scenario may be at most 1 MB/);
    });

    it('a file that is not valid UTF-8 is refused naming the byte, not read with U+FFFD in it', () => {
      const file = path.join(dir, 'latin1.yaml');
      const head = Buffer.from('name: t\nsteps:\n  - say: caf');
      fs.writeFileSync(file, Buffer.concat([head, Buffer.from([0xe9, 0x0a])]));
      assert.throws(
        () => loadScenario(file, BUILTINS),
        (e: unknown) => e instanceof ScenarioFileError && e.message === `${file}: not valid UTF-8 at byte ${head.length}`,
      );
    });

    it('strict UTF-8: overlongs, surrogates, code points above U+10FFFF and truncated sequences are refused where they start', () => {
      const bad: [number[], number][] = [
        [[0x41, 0xc0, 0xaf], 1], // overlong '/'
        [[0x41, 0x42, 0xed, 0xa0, 0x80], 2], // a UTF-16 surrogate
        [[0xf4, 0x90, 0x80, 0x80], 0], // above U+10FFFF
        [[0x41, 0xe2, 0x82], 1], // truncated €
        [[0x80], 0], // a lone continuation byte
        [[0xff], 0],
      ];
      for (const [bytes, at] of bad) {
        assert.equal(invalidUtf8At(Uint8Array.from(bytes)), at, bytes.join(','));
        assert.throws(() => decodeUtf8(Uint8Array.from(bytes), 'f.yaml'), new RegExp(`^Error: f\\.yaml: not valid UTF-8 at byte ${at}$`));
      }
      assert.equal(decodeUtf8(Buffer.from('\ufeffname: café € 𝄞'), 'f.yaml'), 'name: café € 𝄞');
      assert.equal(invalidUtf8At(Buffer.from('café € 𝄞')), -1);
    });

    it('a FIFO or a device is refused, not read (reading would block or never end)', function () {
      if (process.platform === 'win32' || !fs.existsSync('/dev/zero')) this.skip();
      assert.throws(
        () => loadScenario('/dev/zero', BUILTINS),
        (e: unknown) => e instanceof ScenarioFileError && e.message === '/dev/zero: not a regular file',
      );
    });

    it('missing files and unknown built-ins are ScenarioFileErrors (input errors), not ScenarioErrors', () => {
      assert.throws(
        () => loadScenario(path.join(dir, 'nope.yaml'), BUILTINS),
        (e: unknown) => e instanceof ScenarioFileError && !(e instanceof ScenarioError) && /not found/.test(e.message),
      );
      assert.throws(() => loadScenario('paper-failovr', BUILTINS), ScenarioFileError);
    });
  });

  describe('exit codes: 2 for usage and input errors (nothing touched), 3 for the lab or the engine', () => {
    const run = async (argv: string[], setup?: (d: ReturnType<typeof deps>) => void) => {
      const d = deps();
      setup?.(d);
      const o = io();
      const code = await main(argv, o.x, d);
      return { code, calls: d.docker.calls, err: o.err.join('') };
    };

    it('an invalid lab name exits 2, like every other usage error, before Docker is touched', async () => {
      for (const argv of [
        ['status', '--lab', 'Bad Name'],
        ['status', '--colour'],
        ['status', '--lab'],
        ['frobnicate'],
        ['status', 'now'],
        ['destroy', 'everything'],
        ['up', '--web', 'abc'],
        ['up', '--web', '0'],
        ['up', '--web', '2.5'],
        ['fault', 'explode', 'web1'],
        ['fault', 'delay', 'web1', '--ms', ''],
        ['fault', 'loss', 'web1', '--percent', '1e-3'],
        ['fault', 'stop', 'web2', '--for', '0'],
        ['load', '--users', 'many'],
        ['scenario', 'run', 'nope.yaml'],
        ['scenario', 'run', 'paper-failovr'],
        ['scenario', 'run', 'test/fixtures/scenarios/broken.yaml'],
      ]) {
        const r = await run(argv);
        assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
        assert.deepEqual(r.calls, [], argv.join(' '));
        assert.match(r.err, /^error: \S/, argv.join(' '));
      }
    });

    it('the engine failing exits 3', async () => {
      const r = await run(['status'], (d) => {
        d.docker.running = false;
      });
      assert.equal(r.code, 3, r.err);
      assert.match(r.err, /Docker/);
    });

    it('exitCodeFor: input errors 2, anything else 3', () => {
      assert.equal(exitCodeFor(new UsageError('x')), 2);
      assert.equal(exitCodeFor(new ScenarioError('f', 1, 1, 'x')), 2);
      assert.equal(exitCodeFor(new ScenarioFileError('x')), 2);
      assert.equal(exitCodeFor(new FaultRequestError('x')), 2);
      assert.equal(exitCodeFor(new Error('container failed')), 3);
      assert.equal(exitCodeFor(new TypeError('x')), 3);
      assert.equal(exitCodeFor('a string'), 3);
    });
  });
});
