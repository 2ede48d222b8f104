import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliIo, runCli } from '../../src/cli';
import { LabEngine } from '../../src/engine/lab';
import { LockTimeoutError } from '../../src/engine/lock';
import { LabState, newSecrets, StateStore } from '../../src/engine/state';
import { StateShapeError } from '../../src/engine/state-check';
import { BUILTIN_LABS, buildTopology, resolveDefinition } from '../../src/engine/topology';
import type { ActiveFault } from '../../src/protocol/faults';
import { FakeDocker, healthyClusterHandlers } from '../support/fake-docker';
import { fakeEngineDeps } from '../support/engine';

const tmpHome = () => fs.mkdtempSync(path.join(os.tmpdir(), 'lab-state-'));

function sampleState(lab = 'x'): LabState {
  return {
    lab,
    createdAt: '2026-01-01T00:00:00.000Z',
    preset: 'ha',
    webCount: 3,
    definition: resolveDefinition('ha'),
    baseImage: 'debian:trixie-slim',
    secrets: newSecrets(),
    ports: { moodle: 8080, stats: 8404 },
    extra: { haproxyProfile: 'tuned' },
  };
}

function fault(id: string, node = 'web1'): ActiveFault {
  return { id, kind: 'pause', nodes: [node], detail: `pause ${node}`, appliedAt: '2026-01-01T00:00:00.000Z' };
}

/** The state file of lab `x` in `home`, written raw (as a hand edit or another version would). */
function writeRaw(home: string, value: unknown, lab = 'x'): string {
  fs.mkdirSync(path.join(home, lab), { recursive: true });
  const file = path.join(home, lab, 'state.json');
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

async function upLab(home: string, lab = 'unit-state') {
  const docker = new FakeDocker();
  docker.addImage('debian:trixie-slim');
  docker.execHandlers = healthyClusterHandlers();
  const steps: string[] = [];
  const engine = new LabEngine(fakeEngineDeps(docker, new StateStore(home), steps), lab);
  await engine.up();
  return { docker, engine, steps };
}

describe('lab state: shape check on load', () => {
  const cases: [string, (s: Record<string, unknown>) => unknown, RegExp][] = [
    ['a port that is a string', (s) => ((s.ports as Record<string, unknown>).moodle = '8080'), /"ports\.moodle" must be a port number/],
    ['a port out of range', (s) => ((s.ports as Record<string, unknown>).stats = 70000), /"ports\.stats" must be a port number/],
    ['ports missing', (s) => delete s.ports, /"ports" must be an object/],
    ['secrets null', (s) => (s.secrets = null), /"secrets" must be an object/],
    ['a secret that is a number', (s) => ((s.secrets as Record<string, unknown>).dbPassword = 42), /"secrets\.dbPassword" must be a non-empty string/],
    ['webCount a string', (s) => (s.webCount = '3'), /"webCount" must be a whole number/],
    [
      'an old-shape state (no definition) with an unknown preset',
      (s) => {
        delete s.definition;
        s.preset = 'mesh';
      },
      /"preset" must be one of ha, single/,
    ],
    ['a definition without roles', (s) => delete (s.definition as Record<string, unknown>).roles, /"definition\.roles" must be an object/],
    [
      'a role count that is not a whole number',
      (s) => ((s.definition as { roles: Record<string, unknown> }).roles.web = { count: 1.5 }),
      /"definition\.roles\.web\.count" must be a whole number/,
    ],
    [
      'an option no role has',
      (s) => ((s.definition as { roles: Record<string, unknown> }).roles.db = { count: 3, turbo: true }),
      /"definition\.roles\.db\.turbo" must be absent \(no such option\)/,
    ],
    [
      'a cache mode that is not one',
      (s) => ((s.definition as { roles: Record<string, unknown> }).roles.cache = { count: 1, mode: 'mesh' }),
      /"definition\.roles\.cache\.mode" must be one of single, sentinel, cluster/,
    ],
    ["another lab's state", (s) => (s.lab = 'y'), /"lab" must be "x"/],
    ['extra a list', (s) => (s.extra = []), /"extra" must be an object/],
    ['faults not a list', (s) => ((s.extra as Record<string, unknown>).faults = { pause: 'web1' }), /"extra\.faults" must be a list of faults/],
    [
      'a fault of an unknown kind',
      (s) => ((s.extra as Record<string, unknown>).faults = [fault('a'), { ...fault('b'), kind: 'explode' }]),
      /"extra\.faults\[1\]\.kind" must be one of stop, start/,
    ],
    [
      'a fault without nodes',
      (s) => ((s.extra as Record<string, unknown>).faults = [{ ...fault('a'), nodes: [] }]),
      /"extra\.faults\[0\]\.nodes" must be a non-empty list of node names/,
    ],
    [
      'a fault with a bad date',
      (s) => ((s.extra as Record<string, unknown>).faults = [{ ...fault('a'), appliedAt: 'yesterday' }]),
      /"extra\.faults\[0\]\.appliedAt" must be an ISO date/,
    ],
    [
      'moodle.installed a string',
      (s) => ((s.extra as Record<string, unknown>).moodle = { installed: 'yes', image: 'i', release: 'r', origin: 'o', fingerprint: 'f', layout: 'public' }),
      /"extra\.moodle\.installed" must be true or false/,
    ],
    [
      'an unknown HAProxy profile',
      (s) => ((s.extra as Record<string, unknown>).haproxyProfile = 'fast'),
      /"extra\.haproxyProfile" must be one of tuned, defaults/,
    ],
    [
      'a lab network subnet that is not one',
      (s) => ((s.extra as Record<string, unknown>).network = { subnet: '172.29.0/24', ipRange: '172.29.0.128/25', gateway: '172.29.0.1', addresses: {} }),
      /"extra\.network\.subnet" must be an IPv4 subnet/,
    ],
    [
      'a fixed address that is not one',
      (s) =>
        ((s.extra as Record<string, unknown>).network = {
          subnet: '172.29.0.0/24',
          ipRange: '172.29.0.128/25',
          gateway: '172.29.0.1',
          addresses: { vip: '172.29.0.300' },
        }),
      /"extra\.network\.addresses\.vip" must be an IPv4 address/,
    ],
    ['an identity that is not hex', (s) => ((s.extra as Record<string, unknown>).identity = { id: 'not hex!' }), /"extra\.identity" must be \{"id": "<hex>"/],
    ['the whole file a list', () => [], /"the file" must be an object/],
  ];
  for (const [what, mutate, expected] of cases) {
    it(`${what}: one sentence naming the file and the field`, () => {
      const home = tmpHome();
      const s = JSON.parse(JSON.stringify(sampleState())) as Record<string, unknown>;
      const replaced = mutate(s);
      const file = writeRaw(home, Array.isArray(replaced) && replaced.length === 0 && what.startsWith('the whole') ? [] : s);
      assert.throws(
        () => new StateStore(home).load('x'),
        (err: unknown) => {
          assert.ok(err instanceof StateShapeError, String(err));
          assert.match(err.message, expected);
          assert.ok(err.message.includes(file.replace(os.homedir(), '~')), err.message);
          assert.equal(err.message.split('\n').length, 1);
          return true;
        },
      );
    });
  }

  it('a state written by an older version (no extra, fewer secrets) still loads', () => {
    const home = tmpHome();
    const old = sampleState() as Partial<LabState>;
    delete old.extra;
    delete (old.secrets as Partial<LabState['secrets']>).moodleUsersPassword;
    writeRaw(home, old);
    const s = new StateStore(home).load('x')!;
    assert.deepEqual(s.extra, {});
    assert.equal(s.ports.moodle, 8080);
  });

  it('a state of the old shape (preset + webCount, no definition) loads converted: its preset with its web count', () => {
    const home = tmpHome();
    const old = { ...sampleState(), webCount: 5 } as Partial<LabState>;
    delete old.definition;
    writeRaw(home, old);
    const s = new StateStore(home).load('x')!;
    assert.equal(s.definition.name, 'ha');
    assert.deepEqual(s.definition.roles, { ...BUILTIN_LABS.ha.roles, web: { count: 5 } });
    assert.deepEqual(
      buildTopology(s.definition).nodes.map((n) => n.name),
      buildTopology('ha', 5).nodes.map((n) => n.name),
    );
  });

  it('a wrong-shaped state reaches the CLI as that sentence, not a TypeError', async () => {
    const home = tmpHome();
    writeRaw(home, { ...sampleState('moodle-lab'), ports: { moodle: 'eighty' } }, 'moodle-lab');
    const io: CliIo = { out: () => undefined, err: () => undefined, env: {} };
    await assert.rejects(
      runCli(['status'], io, { docker: new FakeDocker(), store: new StateStore(home), labRoot: path.resolve(__dirname, '../../lab') }),
      (err: unknown) => err instanceof StateShapeError && /"ports\.moodle" must be a port number/.test(err.message),
    );
  });
});

describe('lab state: one lock per lab around every change', () => {
  it('update reads afresh under the lock: concurrent changes in one process all land', async () => {
    const home = tmpHome();
    const store = new StateStore(home);
    await store.create(sampleState());
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.update('x', (s) => void (s.extra.faults = [...(s.extra.faults ?? []), fault(`f${i}`)]))));
    assert.equal(store.load('x')!.extra.faults!.length, 40);
    assert.deepEqual(fs.readdirSync(path.join(home, 'x')).sort(), ['state.json'], 'no lock or temporary file left');
  });

  it('four processes changing one lab at once lose nothing (and never fail on a shared temporary file)', async () => {
    const home = tmpHome();
    await new StateStore(home).create(sampleState());
    const script = `
      const { StateStore } = require(${JSON.stringify(path.resolve(__dirname, '../../src/engine/state.ts'))});
      const store = new StateStore(${JSON.stringify(home)});
      (async () => {
        for (let i = 0; i < 25; i++) {
          await store.update('x', (s) => { s.extra.faults = [...(s.extra.faults || []), { id: process.pid + '-' + i, kind: 'pause', nodes: ['web1'], detail: 'pause web1', appliedAt: new Date().toISOString() }]; });
        }
      })().catch((e) => { console.error(e.message); process.exit(1); });`;
    const run = () =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (c) => (err += c));
        child.on('close', (code) => resolve({ code, err }));
      });
    const results = await Promise.all([run(), run(), run(), run()]);
    for (const r of results) assert.equal(r.code, 0, r.err);
    const faults = new StateStore(home).load('x')!.extra.faults!;
    assert.equal(faults.length, 100);
    assert.equal(new Set(faults.map((f) => f.id)).size, 100);
    assert.deepEqual(fs.readdirSync(path.join(home, 'x')), ['state.json']);
  }).timeout(60_000);

  it('a lock left by a process that is gone is taken over, and the reporter is told', async () => {
    const home = tmpHome();
    const store = new StateStore(home);
    await store.create(sampleState());
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.writeFileSync(
      store.lockFile('x'),
      JSON.stringify({ pid: gone, host: os.hostname(), since: '2026-01-01T00:00:00.000Z', what: 'record fault pause web1 (lab x)' }),
    );
    const notes: string[] = [];
    await store.update('x', (s) => void (s.extra.faults = [fault('a')]), { note: (m) => notes.push(m) });
    assert.equal(store.load('x')!.extra.faults!.length, 1);
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, new RegExp(`taking over the lab's state lock left by record fault pause web1 \\(lab x\\) \\(pid ${gone}, .*that process is gone`));
    assert.ok(!fs.existsSync(store.lockFile('x')));
  });

  it('an unreadable lock file (a crash while taking it) is taken over once it is old', async () => {
    const home = tmpHome();
    const store = new StateStore(home);
    await store.create(sampleState());
    fs.writeFileSync(store.lockFile('x'), '');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(store.lockFile('x'), old, old);
    const notes: string[] = [];
    await store.update('x', () => undefined, { note: (m) => notes.push(m) });
    assert.match(notes.join('\n'), /taking over an unreadable lock file/);
  });

  it('a fresh unreadable lock file (its holder is writing its name) is waited for, never taken over', async () => {
    const home = tmpHome();
    const store = new StateStore(home, { timeoutMs: 300 });
    await store.create(sampleState());
    fs.writeFileSync(store.lockFile('x'), '');
    await assert.rejects(
      store.update('x', () => undefined),
      (err: unknown) => err instanceof LockTimeoutError && /locked by an unknown process/.test(err.message),
    );
    assert.ok(fs.existsSync(store.lockFile('x')));
  });

  it('a live holder: bounded wait, then one clear error naming it', async () => {
    const home = tmpHome();
    const store = new StateStore(home, { timeoutMs: 300 });
    await store.create(sampleState());
    fs.writeFileSync(store.lockFile('x'), JSON.stringify({ pid: process.pid, host: os.hostname(), since: '2026-01-01T00:00:00.000Z', what: 'heal (lab x)' }));
    const t0 = Date.now();
    await assert.rejects(
      store.update('x', () => undefined),
      (err: unknown) => {
        assert.ok(err instanceof LockTimeoutError);
        assert.match(err.message, new RegExp(`locked by heal \\(lab x\\) \\(pid ${process.pid} on .*since 2026-01-01T00:00:00.000Z\\).*delete .*state\\.lock`));
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 3000);
    assert.ok(fs.existsSync(store.lockFile('x')), 'a live lock is never removed');
  });

  it('a change that throws writes nothing and releases the lock', async () => {
    const home = tmpHome();
    const store = new StateStore(home);
    await store.create(sampleState());
    await assert.rejects(
      store.update('x', () => {
        throw new Error('no');
      }),
      /no/,
    );
    assert.equal(store.load('x')!.extra.faults, undefined);
    await store.update('x', (s) => void (s.extra.faults = []));
  });

  it('a lab without state: update says so, and creates nothing', async () => {
    const home = tmpHome();
    await assert.rejects(
      new StateStore(home).update('x', () => undefined),
      /lab "x" does not exist: run `up` first/,
    );
    assert.deepEqual(fs.readdirSync(home), []);
  });

  it('"reports" and "cache" are folders of the lab home, not labs', () => {
    assert.throws(() => new StateStore(tmpHome()).load('reports'), /"reports" cannot be a lab name/);
  });
});

describe('destroy: broken state and exported reports', () => {
  it('destroy works with a state file that is not JSON or has the wrong shape (it goes by Docker labels)', async () => {
    for (const broken of ['{"lab": ', JSON.stringify({ lab: 'unit-state', ports: 'none' })]) {
      const home = tmpHome();
      const { docker, engine } = await upLab(home);
      fs.writeFileSync(path.join(home, 'unit-state', 'state.json'), broken);
      assert.throws(() => engine.state());
      const removed = await engine.destroy();
      assert.equal(removed.containers, 11);
      assert.deepEqual(await engine.leftovers(), { containers: 0, networks: 0, volumes: 0, images: 0 });
      assert.equal((await docker.containers.list({ 'io.moodle-lab.lab': 'unit-state' })).length, 0);
      assert.ok(!fs.existsSync(path.join(home, 'unit-state')));
    }
  });

  it('reports survive destroy (those of older versions, in the lab folder, are moved out first); the CLI says where', async () => {
    const home = tmpHome();
    const { docker } = await upLab(home, 'moodle-lab');
    const store = new StateStore(home);
    assert.equal(store.reportsDir('moodle-lab'), path.join(home, 'reports', 'moodle-lab'));
    fs.mkdirSync(store.reportsDir('moodle-lab'), { recursive: true });
    fs.writeFileSync(path.join(store.reportsDir('moodle-lab'), 'paper-failover-1.html'), '<html>new</html>');
    fs.mkdirSync(path.join(home, 'moodle-lab', 'reports'));
    fs.writeFileSync(path.join(home, 'moodle-lab', 'reports', 'old-run.html'), '<html>old</html>');
    const out: string[] = [];
    const code = await runCli(
      ['destroy'],
      { out: (t) => out.push(t), err: () => undefined, env: {} },
      { docker, store, labRoot: path.resolve(__dirname, '../../lab') },
    );
    assert.equal(code, 0);
    assert.ok(!fs.existsSync(path.join(home, 'moodle-lab')), 'the lab folder is gone');
    assert.deepEqual(fs.readdirSync(store.reportsDir('moodle-lab')).sort(), ['old-run.html', 'paper-failover-1.html']);
    assert.equal(fs.readFileSync(path.join(store.reportsDir('moodle-lab'), 'old-run.html'), 'utf8'), '<html>old</html>');
    assert.match(out.join(''), new RegExp(`reports kept in ${store.reportsDir('moodle-lab').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});
