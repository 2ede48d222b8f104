/**
 * The fault catalog drives every surface: a kind of the catalog without a CLI, `--fault`,
 * protocol, scenario or UI path, or package.json contributions that disagree with the catalog,
 * fail here. Each check holds the REAL surfaces against a catalog (the real one, or a changed
 * copy: the negative cases prove the checks can fail).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli';
import {
  defineFault,
  FAULT_CATALOG,
  faultCliOptions,
  faultContributions,
  FaultEntry,
  faultFromFields,
  FaultFieldValues,
  faultParams,
  FaultRequest,
  faultRequestProblem,
  faultSchemaParts,
  isFaultCommand,
  MAX_DELAY_MS,
  paramOk,
} from '../../src/protocol/fault-catalog';
import { parseFaultSpec } from '../../src/load/faults';
import { parseScenario } from '../../src/scenarios/parse';
import { SCENARIO_SCHEMA } from '../../src/scenarios/schema';
import { FaultIntent, validateIncoming } from '../../src/protocol/messages';
import type { LabSnapshot } from '../../src/protocol/snapshot';
import { nodeActions } from '../../webview/topology';
import { roleDisplays } from '../../src/roles';

const PACKAGE_JSON = path.join(__dirname, '..', '..', 'package.json');
const readPackage = () =>
  JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8')) as { contributes: { commands: { command: string }[]; menus: Record<string, { command: string }[]> } };

async function usageText(): Promise<string> {
  let out = '';
  await runCli(['help'], { out: (t) => (out += t), err: () => undefined, env: {} });
  return out;
}

/** A request of the kind that the catalog's own rules accept. */
function example(e: FaultEntry): FaultRequest {
  const req = { kind: e.kind, nodes: ['web1'], ...(e.targets === 'groups' ? { from: ['web2'] } : {}) } as FaultRequest;
  for (const p of e.params.filter((x) => x.required)) req[p.field] = p.uiDefault;
  return req;
}

/** A one-node snapshot with the node in this container state (what the dashboard's menu reads). */
const withState = (state: string): LabSnapshot =>
  ({
    nodes: [{ name: 'galera1', role: 'db', container: state, healthy: true }],
    haproxy: { up: true, servers: [] },
    roles: roleDisplays(),
  }) as unknown as LabSnapshot;

/** A fault step of this kind in a scenario file, as text ("delay web1 200") and as a mapping. */
function scenarioFaultSteps(e: FaultEntry): [string, string][] {
  const groups = e.targets === 'groups';
  const required = e.params.filter((x) => x.required);
  const positional = required.find((x) => x.positional);
  const options = required
    .filter((x) => x !== positional)
    .map((x) => ` ${x.option} ${x.uiDefault}`)
    .join('');
  const text = `"${e.kind} web1${positional ? ` ${positional.uiDefault}` : ''}${groups ? ' from web2' : ''}${options}"`;
  const mapping = `{ kind: ${e.kind}, ${groups ? 'nodes: web1, from: web2' : 'node: web1'}${required.map((x) => `, ${x.option}: ${x.uiDefault}`).join('')} }`;
  return [
    ['text', text],
    ['mapping', mapping],
  ];
}

/** The fault step's two forms in the scenario JSON Schema (what media/scenario.schema.json holds). */
function scenarioFaultSchema(): { text: { pattern: string }; mapping: { properties: Record<string, unknown> & { kind: { enum: string[] } } } } {
  const steps = SCENARIO_SCHEMA.definitions.step.anyOf as { required?: string[]; properties?: Record<string, { anyOf: unknown[] }> }[];
  const [text, mapping] = steps.find((x) => x.required?.[0] === 'fault')!.properties!.fault!.anyOf as [never, never];
  return { text, mapping };
}

/** Every gap between the real surfaces and `catalog`: one sentence each. */
async function gaps(catalog: readonly FaultEntry[]): Promise<string[]> {
  const out: string[] = [];
  const usage = await usageText();
  const faultLines = usage
    .split('\n')
    .filter((l) => /^\s+fault /.test(l))
    .join('\n');
  const cliOptions = faultCliOptions();
  const pkg = readPackage();
  const commands = pkg.contributes.commands.map((c) => c.command);
  const menus = pkg.contributes.menus['view/item/context']!.map((m) => m.command);
  const schema = faultSchemaParts({ ms: 'MS', percent: 'PCT' });
  for (const e of catalog) {
    const k = e.kind;
    const req = example(e);
    // CLI: usage and options
    if (!new RegExp(`\\bfault\\b[^\\n]*[ |]${k}[ |]`).test(faultLines)) out.push(`${k}: not in the CLI usage`);
    for (const p of e.params) {
      if (!cliOptions[p.option]) out.push(`${k}: no CLI option --${p.option}`);
      if (!usage.includes(`--${p.option}`)) out.push(`${k}: --${p.option} not in the CLI usage`);
    }
    if (e.targets === 'groups' && !usage.includes('--from')) out.push(`${k}: --from not in the CLI usage`);
    // load --fault (one-node kinds)
    if (e.targets === 'node') {
      try {
        parseFaultSpec(`${k} web1@1s`);
      } catch (err) {
        out.push(`${k}: --fault refuses it: ${(err as Error).message}`);
      }
    }
    // protocol (what a page may send) and the one request check
    const wire = validateIncoming(FaultIntent.create('1', { request: req }));
    if (!wire.ok) out.push(`${k}: the protocol refuses ${JSON.stringify(req)}: ${wire.error}`);
    const problem = faultRequestProblem(req);
    if (problem) out.push(`${k}: faultRequestProblem refuses ${JSON.stringify(req)}: ${problem}`);
    // scenario: fields and schema
    const fields: FaultFieldValues = { nodes: req.nodes, from: req.from };
    for (const p of e.params.filter((x) => x.required)) fields[p.option] = p.uiDefault;
    const built = faultFromFields(k, fields);
    if (!built.ok) out.push(`${k}: faultFromFields refuses it: ${built.problem}`);
    if (!schema.kinds.includes(k)) out.push(`${k}: not in the scenario schema's kinds`);
    for (const p of e.params) if (!schema.properties[p.option]) out.push(`${k}: the scenario schema has no "${p.option}"`);
    // scenario files: the real parser takes the kind in both forms, and media/scenario.schema.json lists it
    for (const [form, step] of scenarioFaultSteps(e)) {
      try {
        const parsed = parseScenario(`name: t\nsteps:\n  - up\n  - fault: ${step}\n`, 'catalog.yaml').steps[1]!;
        if (parsed.kind !== 'fault' || parsed.fault.kind !== k) out.push(`${k}: the scenario parser reads ${step} as ${parsed.text}`);
        else if (built.ok) assert.deepEqual(parsed.fault, built.request, `${k}: the scenario parser's ${form} form`);
      } catch (err) {
        out.push(`${k}: the scenario parser refuses the ${form} form ${step}: ${(err as Error).message}`);
      }
    }
    const faultSchema = scenarioFaultSchema();
    if (!new RegExp(faultSchema.text.pattern).test(`${k} web1`)) out.push(`${k}: the scenario JSON Schema's text form refuses "${k} web1"`);
    if (!faultSchema.mapping.properties.kind.enum.includes(k)) out.push(`${k}: not a kind in the scenario JSON Schema`);
    for (const p of e.params) if (!faultSchema.mapping.properties[p.option]) out.push(`${k}: the scenario JSON Schema has no "${p.option}"`);
    // UI: VS Code command + menu, dashboard action (a kind without a menu must take groups: menus act on one node)
    if (!e.menu) {
      if (e.targets !== 'groups') out.push(`${k}: no menu (VS Code, dashboard)`);
      continue;
    }
    if (!commands.includes(`moodleLab.node.${k}`)) out.push(`${k}: no VS Code command moodleLab.node.${k} in package.json`);
    if (!menus.includes(`moodleLab.node.${k}`)) out.push(`${k}: not in the node tree's context menu`);
    if (!e.states.some((s) => nodeActions(withState(s), 'galera1').includes(k))) out.push(`${k}: the dashboard's node menu never offers it`);
    for (const p of e.params.filter((x) => x.required && !x.ask)) out.push(`${k}: VS Code cannot ask for ${p.option}`);
  }
  // package.json: exactly the contributions the catalog gives
  const derived = faultContributions(catalog);
  const own = (list: { command: string }[]) => list.filter((x) => isFaultCommand(x.command, catalog));
  try {
    assert.deepEqual(own(pkg.contributes.commands), derived.commands);
    assert.deepEqual(own(pkg.contributes.menus['view/item/context']!), derived.menus);
  } catch (err) {
    out.push(
      `package.json's fault contributions differ from the catalog (regenerate: node --import tsx scripts/write-fault-contributions.mjs): ${(err as Error).message.slice(0, 400)}`,
    );
  }
  return out;
}

const fake = defineFault({
  kind: 'freeze',
  effect: 'break',
  targets: 'node',
  params: [],
  states: ['running'],
  menu: { title: 'Freeze Node', icon: '$(snowflake)', group: 'container' },
  apply: async () => undefined,
});

describe('fault catalog: one declaration drives every surface', () => {
  it('every kind has a CLI, --fault, protocol, scenario and UI path, and package.json agrees', async () => {
    assert.deepEqual(await gaps(FAULT_CATALOG), []);
  });

  it('a kind added to the catalog alone (no surface has it) is caught on every surface', async () => {
    const found = await gaps([...FAULT_CATALOG, fake]);
    for (const what of [
      'CLI usage',
      '--fault refuses',
      'protocol refuses',
      'faultRequestProblem refuses',
      'faultFromFields',
      'scenario schema',
      'scenario parser refuses the text form',
      'scenario parser refuses the mapping form',
      "scenario JSON Schema's text form",
      'a kind in the scenario JSON Schema',
      'VS Code command',
      'context menu',
      "dashboard's node menu",
      "package.json's fault contributions",
    ]) {
      assert.ok(
        found.some((g) => (g.startsWith('freeze:') ? g.includes(what) : what.startsWith('package') && g.startsWith(what))),
        `no gap about ${what}: ${found.join('\n')}`,
      );
    }
  });

  it('a kind that loses its menu in the catalog: no UI path, and package.json has one entry too many', async () => {
    const original = fs.readFileSync(PACKAGE_JSON, 'utf8');
    const noDelayMenu = FAULT_CATALOG.map((e) => (e.kind === 'delay' ? { ...e, menu: undefined } : e));
    const found = await gaps(noDelayMenu);
    assert.ok(
      found.some((g) => g.startsWith('delay: no menu')),
      found.join('\n'),
    );
    assert.ok(
      found.some((g) => g.startsWith("package.json's fault contributions differ")),
      found.join('\n'),
    );
    assert.equal(fs.readFileSync(PACKAGE_JSON, 'utf8'), original, 'the check only reads package.json');
  });

  it('a menu whose states or group changed in the catalog disagrees with package.json', () => {
    const moved = FAULT_CATALOG.map((e) => (e.kind === 'pause' ? { ...e, menu: { ...e.menu!, group: 'network' as const } } : e));
    const pkg = readPackage();
    const own = pkg.contributes.menus['view/item/context']!.filter((x) => isFaultCommand(x.command));
    assert.notDeepEqual(own, faultContributions(moved).menus);
    assert.deepEqual(own, faultContributions().menus);
  });
});

describe('fault catalog: one bound per parameter, the same everywhere', () => {
  const delayReq = (delayMs: unknown) => ({ kind: 'delay', nodes: ['web1'], delayMs }) as FaultRequest;
  it('delay ms: whole ms from 1 to 60000 in the protocol, the request check, scenarios and --fault', () => {
    for (const ok of [1, 200, MAX_DELAY_MS]) {
      assert.equal(faultRequestProblem(delayReq(ok)), undefined);
      assert.ok(validateIncoming(FaultIntent.create('1', { request: delayReq(ok) })).ok);
      assert.ok(faultFromFields('delay', { nodes: ['web1'], ms: ok }).ok);
      assert.equal(parseFaultSpec(`delay web1 ${ok}@1s`).req.delayMs, ok);
    }
    for (const bad of [0, 0.5, 1.5, -1, MAX_DELAY_MS + 1, NaN]) {
      assert.match(faultRequestProblem(delayReq(bad)) ?? '', /delay needs --ms between 1 and 60000/);
      assert.equal(validateIncoming(FaultIntent.create('1', { request: delayReq(bad) })).ok, false, `protocol accepted ${bad}`);
      const f = faultFromFields('delay', { nodes: ['web1'], ms: bad });
      assert.ok(!f.ok && f.field === 'ms' && /delay must be between 1 and 60000 ms/.test(f.problem), JSON.stringify(f));
      assert.throws(() => parseFaultSpec(`delay web1 ${bad}@1s`), /invalid --fault/);
    }
  });

  it('loss percent: 0.01 to 100 in steps of 0.01; the protocol and the request check agree', () => {
    const p = faultParams().find((x) => x.field === 'lossPct')!;
    for (const [v, ok] of [
      [0.01, true],
      [12.34, true],
      [100, true],
      [12.345, false],
      [0, false],
      [100.01, false],
    ] as const) {
      assert.equal(paramOk(p, v), ok, String(v));
      assert.equal(faultRequestProblem({ kind: 'loss', nodes: ['web1'], lossPct: v }) === undefined, ok, String(v));
      assert.equal(validateIncoming(FaultIntent.create('1', { request: { kind: 'loss', nodes: ['web1'], lossPct: v } })).ok, ok, String(v));
    }
  });

  it("faultFromFields: names the field that is wrong, in the scenario parser's words", () => {
    const bad = (kind: string, fields: FaultFieldValues) => {
      const r = faultFromFields(kind, fields, ['web1', 'web2', 'galera1', 'galera2']);
      assert.equal(r.ok, false, JSON.stringify(r));
      return r.ok ? { field: '', problem: '' } : { field: r.field, problem: r.problem };
    };
    assert.deepEqual(bad('stopp', { nodes: ['web1'] }).field, 'kind');
    assert.deepEqual(bad('delay', { nodes: ['web1'] }), {
      field: 'kind',
      problem: 'fault delay needs the added latency in ms, e.g. "delay web3 300" or { kind: delay, node: web3, ms: 300 }',
    });
    assert.deepEqual(bad('stop', { nodes: ['web1'], ms: 3 }), { field: 'ms', problem: 'ms belongs to delay, not to stop' });
    assert.deepEqual(bad('start', { nodes: ['web1'], for: 1000 }), { field: 'for', problem: '`for` applies to faults that break something; start repairs' });
    assert.deepEqual(bad('stop', { nodes: ['web1', 'web2'] }).field, 'nodes');
    assert.deepEqual(bad('partition', { nodes: ['galera1'], from: ['galera1'] }), {
      field: 'from',
      problem: 'a node cannot be on both sides of a partition: galera1',
    });
    assert.match(bad('stop', { nodes: ['web9'] }).problem, /^fault stop web9: unknown node "web9"/);
    const ok = faultFromFields('delay', { nodes: ['web1'], ms: 300, jitter: 20, for: 10_000 });
    assert.deepEqual(ok, { ok: true, request: { kind: 'delay', nodes: ['web1'], delayMs: 300, jitterMs: 20, forMs: 10_000 } });
  });
});
