import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliIo, exitCodeFor, runCli } from '../../src/cli';
import { StateStore } from '../../src/engine/state';
import { BUILTIN_LABS, buildTopology, PRESET_NAMES, TopologyError } from '../../src/engine/topology';
import { roleModule, roleModules } from '../../src/roles';
import { builtinLabNames, loadLabFile, parseLabFile } from '../../src/scenarios/lab-file';
import { LAB_SCHEMA } from '../../src/scenarios/lab-schema';
import { loadScenario, ScenarioFileError } from '../../src/scenarios/parse';
import { ScenarioError } from '../../src/scenarios/types';
import { FakeDocker } from '../support/fake-docker';

const ROOT = path.resolve(__dirname, '../..');
const LAB_ROOT = path.join(ROOT, 'lab');
const BUILTINS = path.join(LAB_ROOT, 'scenarios');
const GIB = 1024 * 1024 * 1024;

const HA = `name: mine
description: mine
roles:
  lb: { count: 1 }
  web: { count: 3 }
  db: { count: 3 }
  storage: { count: 3 }
  cache: { count: 1 }
`;

/** The error a lab file text gets, as `line:col: reason` (the file name is `f.lab.yaml`). */
function problem(text: string, dockerMemBytes?: number): string {
  try {
    parseLabFile(text, 'f.lab.yaml', { dockerMemBytes });
  } catch (err) {
    assert.ok(err instanceof ScenarioError, String(err));
    assert.ok(err.message.startsWith('f.lab.yaml:'), err.message);
    return err.message.slice('f.lab.yaml:'.length);
  }
  return 'no problem';
}

describe('lab files', () => {
  it('the built-in lab files are BUILTIN_LABS, one file per built-in', () => {
    const names = builtinLabNames(LAB_ROOT);
    for (const name of PRESET_NAMES) assert.ok(names.includes(name), name);
    // The other files there (a scenario's lab) are lab files like any other: they build.
    for (const name of names.filter((n) => !(PRESET_NAMES as readonly string[]).includes(n))) buildTopology(loadLabFile(name, LAB_ROOT));
    for (const name of PRESET_NAMES) {
      const { source, ...def } = loadLabFile(name, LAB_ROOT, { shapeOnly: true });
      assert.equal(source, `builtin:${name}`);
      assert.deepEqual(def, BUILTIN_LABS[name], name);
    }
  });

  it('a lab file spelling out ha builds exactly the ha topology', () => {
    const def = parseLabFile(HA, 'f.lab.yaml');
    assert.deepEqual(
      buildTopology(def).nodes.map((n) => `${n.name}:${n.role}:${n.ports.map((p) => p.name).join('+')}`),
      buildTopology('ha').nodes.map((n) => `${n.name}:${n.role}:${n.ports.map((p) => p.name).join('+')}`),
    );
    assert.deepEqual(parseLabFile('name: s\nroles: { web: { count: 1 }, db: { count: 1 } }\nhaproxy: defaults\n', 'f.lab.yaml'), {
      name: 's',
      description: '',
      roles: { web: { count: 1 }, db: { count: 1 } },
      haproxy: 'defaults',
    });
  });

  it('errors: file:line:col and one clear reason', () => {
    const cases: [string, string, RegExp][] = [
      ['unknown role', HA.replace('cache:', 'nginx:'), /^8:3: unknown key "nginx" in roles \(valid: lb, web, db, storage, cache/],
      [
        'unknown option',
        HA.replace('db: { count: 3 }', 'db: { count: 3, turbo: true }'),
        /^6:19: unknown key "turbo" in roles\.db \(valid: count, keepalived, arbitrator, arbiter, mode\)/,
      ],
      ['a typo of an option', HA.replace('db: { count: 3 }', 'db: { count: 3, arbitator: true }'), /did you mean "arbitrator"\?/],
      ['count not a number', HA.replace('web: { count: 3 }', 'web: { count: three }'), /^5:17: web count must be a whole number from 0 to 99 \(got "three"\)/],
      ['too many web nodes', HA.replace('web: { count: 3 }', 'web: { count: 12 }'), /^5:17: the web count must be a whole number from 1 to 9/],
      ['no count', HA.replace('web: { count: 3 }', 'web: {}'), /^5:8: roles\.web needs a count/],
      [
        'an even Galera without an arbitrator',
        HA.replace('db: { count: 3 }', 'db: { count: 2 }'),
        /^6:16: db: count 2 is even.*loses quorum when half of it \(either node\) dies — add `arbitrator: true`.* or use 3 nodes/,
      ],
      ['a Gluster of 2', HA.replace('storage: { count: 3 }', 'storage: { count: 2 }'), /^7:21: storage: count must be 3/],
      ['no web node', HA.replace('  web: { count: 3 }\n', ''), /a lab needs the web role/],
      [
        'more web nodes than the entry can take',
        'name: s\nroles:\n  web: { count: 2 }\n  db: { count: 1 }\n',
        /^3:3: web: the s topology has exactly one web node: more need a load balancer/,
      ],
      [
        'a bad mode',
        HA.replace('cache: { count: 1 }', 'cache: { count: 1, mode: mesh }'),
        /^8:28: cache mode must be one of single, sentinel, cluster, not "mesh"/,
      ],
      ['keepalived not a boolean', HA.replace('lb: { count: 1 }', 'lb: { count: 1, keepalived: maybe }'), /^4:31: lb keepalived must be true or false/],
      ['no name', 'roles: { web: { count: 1 } }\n', /^1:1: the lab file needs a `name:`/],
      ['no roles', 'name: x\n', /^1:1: the lab file needs `roles:`/],
      ['a name that is not kebab-case', HA.replace('name: mine', 'name: My Lab'), /^1:7: name must be kebab-case/],
      ['a bad HAProxy profile', `${HA}haproxy: fast\n`, /^9:10: haproxy must be one of tuned, defaults/],
      ['YAML syntax', 'name: x\nroles: {\n', /^\d+:\d+: YAML syntax error/],
      ['empty', '', /^1:1: the file is empty/],
      ['a list', '- a\n', /^1:1: a lab file must be a mapping/],
      ['nesting', `name: x\nroles: ${'['.repeat(100)}\n`, /nesting deeper than 64 levels/],
    ];
    for (const [what, text, re] of cases) assert.match(problem(text), re, what);
  });

  it('an option its role module does not implement is refused as not available, at the option', () => {
    // Every option of the vocabulary on every role: either the module implements it, or one clear refusal.
    for (const m of roleModules().filter((x) => !x.companionOnly)) {
      for (const [option, value] of [
        ['keepalived', 'true'],
        ['arbitrator', 'true'],
        ['arbiter', 'true'],
        ['mode', 'sentinel'],
      ] as const) {
        if ((m.options ?? []).includes(option)) continue;
        const text = HA.replace(new RegExp(`  ${m.role}: \\{ count: (\\d) \\}`), `  ${m.role}: { count: $1, ${option}: ${value} }`);
        assert.match(problem(text), new RegExp(`^\\d+:\\d+: ${m.role}: option "${option}" is not available yet`), `${m.role}.${option}`);
      }
    }
  });

  it('keepalived needs exactly two HAProxy nodes (the lb module says so)', () => {
    const check = roleModule('lb').checkOptions!;
    assert.match(check({ count: 1, keepalived: true }, BUILTIN_LABS.ha) ?? '', /count must be 2 with keepalived/);
    assert.equal(check({ count: 1 }, BUILTIN_LABS.ha), undefined);
  });

  it('ha-full: builds, or is refused with one "not available yet" until its roles implement its options', () => {
    try {
      buildTopology('ha-full');
    } catch (err) {
      assert.ok(err instanceof TopologyError && /is not available yet/.test(err.message), String(err));
      assert.throws(
        () => loadLabFile('ha-full', LAB_ROOT),
        (e: unknown) => e instanceof ScenarioError && /ha-full\.lab\.yaml:\d+:\d+: \w+: option "\w+" is not available yet/.test(e.message),
      );
    }
  });

  it('too many nodes for the memory Docker has: refused at roles, with the figures', () => {
    assert.equal(problem(HA, 8 * GIB), 'no problem');
    assert.match(problem(HA, 1 * GIB), /^3:1: too many nodes for the memory Docker has: 11 nodes take about \d+ MiB idle.*Docker has 1024 MiB/);
  });

  it('files: size, UTF-8 and missing files are one error naming the file; built-ins by name; a typo gets a hint', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labfile-'));
    const big = path.join(dir, 'big.lab.yaml');
    fs.writeFileSync(big, `name: x\n#${'x'.repeat(1024 * 1024)}\n`);
    assert.throws(
      () => loadLabFile(big, LAB_ROOT),
      (e: unknown) => e instanceof ScenarioFileError && /a lab file may be at most 1 MB/.test(e.message),
    );
    const latin = path.join(dir, 'latin.lab.yaml');
    fs.writeFileSync(latin, Buffer.from('name: caf\xe9\n', 'latin1'));
    assert.throws(() => loadLabFile(latin, LAB_ROOT), /latin\.lab\.yaml: not valid UTF-8 at byte 9/);
    assert.throws(() => loadLabFile(path.join(dir, 'none.lab.yaml'), LAB_ROOT), /lab file ".*none\.lab\.yaml" not found/);
    assert.throws(() => loadLabFile('ha-ful', LAB_ROOT), /unknown topology "ha-ful".*did you mean "ha-full"\?/);
  });

  it('the JSON Schema is generated from the role modules and the vocabulary, and media/lab.schema.json is it', () => {
    const file = fs.readFileSync(path.join(ROOT, 'media/lab.schema.json'), 'utf8');
    assert.equal(file, `${JSON.stringify(LAB_SCHEMA, null, 2)}\n`, 'regenerate: node --import tsx scripts/write-scenario-schema.mjs');
    assert.deepEqual(Object.keys(LAB_SCHEMA.properties), ['name', 'description', 'haproxy', 'roles']);
    const roles = LAB_SCHEMA.properties.roles.properties as Record<string, { properties: Record<string, { maximum?: number }> }>;
    assert.deepEqual(
      Object.keys(roles),
      roleModules()
        .filter((m) => !m.companionOnly)
        .map((m) => m.role),
    );
    for (const m of roleModules().filter((x) => !x.companionOnly)) {
      assert.deepEqual(Object.keys(roles[m.role]!.properties), ['count', ...(m.options ?? [])], m.role);
      assert.equal(roles[m.role]!.properties.count!.maximum, m.maxCount ?? 1, m.role);
    }
  });

  it('a scenario names a lab file (relative to its folder) or a built-in lab with `lab:`', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labfile-'));
    fs.mkdirSync(path.join(dir, 'labs'));
    fs.writeFileSync(path.join(dir, 'labs', 'two-web.lab.yaml'), HA.replace('name: mine', 'name: two-web').replace('web: { count: 3 }', 'web: { count: 2 }'));
    const file = path.join(dir, 's.scenario.yaml');
    fs.writeFileSync(file, 'name: s\nlab: labs/two-web.lab.yaml\nsteps:\n  - up\n  - fault: kill web2\n');
    const s = loadScenario(file, BUILTINS);
    assert.equal(s.topology.preset, 'two-web');
    assert.equal(s.topology.definition?.roles.web?.count, 2);
    fs.writeFileSync(file, 'name: s\nlab: labs/two-web.lab.yaml\nsteps:\n  - up\n  - fault: kill web3\n');
    assert.throws(() => loadScenario(file, BUILTINS), /s\.scenario\.yaml:5:\d+: unknown node "web3"/);
    fs.writeFileSync(file, 'name: s\nlab: single\nsteps:\n  - up\n');
    assert.equal(loadScenario(file, BUILTINS).topology.preset, 'single');
    fs.writeFileSync(file, 'name: s\nlab: labs/none.lab.yaml\nsteps:\n  - up\n');
    assert.throws(() => loadScenario(file, BUILTINS), /s\.scenario\.yaml:2:6: lab file ".*none\.lab\.yaml" not found/);
    fs.writeFileSync(path.join(dir, 'labs', 'bad.lab.yaml'), 'name: bad\nroles: { web: { count: 1 }, db: { count: 2 } }\n');
    fs.writeFileSync(file, 'name: s\nlab: labs/bad.lab.yaml\nsteps:\n  - up\n');
    assert.throws(() => loadScenario(file, BUILTINS), /s\.scenario\.yaml:2:6: lab file .*bad\.lab\.yaml:2:\d+: db: count 2 is even/);
    fs.writeFileSync(file, 'name: s\nlab: single\ntopology: ha\nsteps:\n  - up\n');
    assert.throws(() => loadScenario(file, BUILTINS), /s\.scenario\.yaml:3:1: give `topology:` or `lab:`, not both/);
  });

  it('CLI: up --topology with a broken lab file is file:line:col, exit 2, and Docker is never asked', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labfile-'));
    const file = path.join(dir, 'broken.lab.yaml');
    fs.writeFileSync(file, 'name: broken\nroles:\n  web: { count: 1 }\n  db: { count: 2 }\n');
    const docker = new FakeDocker();
    let asked = 0;
    docker.ping = async () => {
      asked++;
    };
    const err: string[] = [];
    const x: CliIo = { out: () => undefined, err: (t) => err.push(t), env: {} };
    const deps = { docker, store: new StateStore(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'))), labRoot: LAB_ROOT };
    await assert.rejects(
      runCli(['up', '--no-moodle', '--lab', 'core-broken', '--topology', file], x, deps),
      (e: unknown) => e instanceof ScenarioError && e.message.startsWith(`${file}:4:16: db: count 2 is even`) && exitCodeFor(e) === 2,
    );
    assert.equal(asked, 0, 'Docker was not asked anything');
    assert.equal(docker.containerMap.size, 0);
    await assert.rejects(
      runCli(['up', '--no-moodle', '--topology', 'mesh'], x, deps),
      /--topology must be one of ha, single, ha-full, galera-2plus1 or a lab file/,
    );
  });
});
