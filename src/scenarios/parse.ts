/**
 * Scenario files: YAML text → `Scenario` (./types.ts), checked completely before anything runs.
 *
 * Every problem becomes one `ScenarioError` ("file:line:col: reason") pointing at the offending
 * YAML node: syntax errors, unknown keys (with the closest valid one suggested), wrong types,
 * and the semantic checks a runner would otherwise trip over half-way through a lab run —
 * node names that the topology in force at that step does not have, fault parameters out of
 * range, `load: stop` with no load running, `compare`/`assert run:` naming a run never started,
 * metric asserts before any load. The first problem wins: one clear message.
 *
 * The syntax is documented step by step in ./schema.ts (the JSON Schema VS Code validates with).
 * The document (name, description, topology, the list of steps) is read here; each step is read
 * by its module in ./steps/ (the registry, ./steps/index.ts), on the shared YAML reader
 * (./yaml-reader.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import { MAX_WEB_NODES, PresetName, PRESET_NAMES } from '../engine/topology';
import { LAB_FILE_SUFFIX, parseLabFile } from './lab-file';
import { formatBytes, MAX_SCENARIO_BYTES, readScenarioFile, ScenarioFileError } from './files';
import { STEPS, stepByKey } from './steps';
import { StepParser } from './steps/parse-context';
import { Scenario, ScenarioError, SourcePos, Step } from './types';
import { clip, closest, Entry, parseYaml, prune, quote, YamlNode } from './yaml-reader';

export { MAX_NESTING } from './yaml-reader';

export { ASSERT_KEYS } from './steps/assert';
export { FAULT_KEYS } from './steps/fault';
export { LOAD_KEYS } from './steps/load';
export { UP_KEYS } from './steps/up';
export { MAX_TEXT_CHARS } from './yaml-reader';
export { decodeUtf8, invalidUtf8At, MAX_SCENARIO_BYTES, ScenarioFileError } from './files';

// ---------------------------------------------------------------- the vocabulary (schema.ts and the step modules mirror it; a unit test keeps them equal)

export const TOP_KEYS = ['name', 'description', 'lab', 'topology', 'steps'] as const;
export const TOPOLOGY_KEYS = ['preset', 'web'] as const;
/** Every step's key, in the registry's order. */
export const STEP_KINDS: readonly string[] = STEPS.map((s) => s.key);
/** Steps that may be written as a bare word (`- up`). */
export const BARE_STEPS: readonly string[] = STEPS.filter((s) => s.bare).map((s) => s.key);

const NAME_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

// Limits: a scenario is a page of steps, not a data set. Checked before anything big is built.
export const MAX_STEPS = 500;
export const MAX_NAME_CHARS = 200;

// ---------------------------------------------------------------- public API

/** Parses and checks a scenario. Throws `ScenarioError` (file:line:col: reason) on the first problem. */
export function parseScenario(text: string, file: string): Scenario {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_SCENARIO_BYTES)
    throw new ScenarioError(file, 1, 1, `the scenario is ${formatBytes(bytes)}; a scenario may be at most ${formatBytes(MAX_SCENARIO_BYTES)}`);
  const { doc, at } = parseYaml(text, file, 'a scenario is a list of steps', (code) =>
    code === 'BLOCK_AS_IMPLICIT_KEY' ? ' (text containing ": " must be quoted, e.g. say: "Heal: both nodes return")' : '',
  );
  return new Parser(file, doc, at).scenario();
}

/**
 * `ref` is a path to a .yaml/.yml file, or the name of a built-in (`<builtinDir>/<name>.yaml`).
 * A file that cannot be a scenario (missing, not a regular file, over 1 MB, not UTF-8) or an
 * unknown built-in is a `ScenarioFileError`; a bad scenario a `ScenarioError`.
 */
export function loadScenario(ref: string, builtinDir: string): Scenario {
  const looksLikeFile = /\.ya?ml$/i.test(ref) || ref.includes('/') || ref.includes(path.sep);
  if (looksLikeFile || fs.statSync(ref, { throwIfNoEntry: false })?.isFile()) {
    return { ...parseScenario(readScenarioFile(ref), ref), source: path.resolve(ref) };
  }
  const names = builtinNames(builtinDir);
  if (!names.includes(ref)) {
    const hint = closest(ref, names);
    throw new ScenarioFileError(
      `unknown scenario "${clip(ref)}": not a .yaml file${hint ? `; did you mean "${hint}"?` : ''} (built-ins: ${names.join(', ') || 'none found'})`,
    );
  }
  const file = path.join(builtinDir, `${ref}.yaml`);
  return { ...parseScenario(readScenarioFile(file), file), source: `builtin:${ref}` };
}

/** The built-in scenarios (every `<builtinDir>/*.yaml`), by name, with their descriptions. */
export function listBuiltins(builtinDir: string): { name: string; description: string }[] {
  return builtinNames(builtinDir).map((name) => {
    const file = path.join(builtinDir, `${name}.yaml`);
    const s = parseScenario(readScenarioFile(file), file);
    return { name, description: s.description ?? '' };
  });
}

function builtinNames(builtinDir: string): string[] {
  let files: string[];
  try {
    files = fs.readdirSync(builtinDir);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

// ---------------------------------------------------------------- the document

/** Reads the document; each step is read by its module (./steps/). */
class Parser extends StepParser {
  scenario(): Scenario {
    this.resolveAliases();
    const root = this.resolve(this.doc.contents);
    if (this.isEmpty(root)) throw new ScenarioError(this.file, 1, 1, 'the file is empty: a scenario needs at least `name:` and `steps:`');
    const map = this.mapping(root, 'a scenario', root!);
    let name: string | undefined;
    let description: string | undefined;
    let topology: Scenario['topology'] = { preset: 'ha' };
    let stepsEntry: Entry | undefined;
    let topologyAt: YamlNode | undefined;
    let labAt: YamlNode | undefined;
    for (const e of this.entries(map, 'the scenario', TOP_KEYS)) {
      if (e.key === 'name') {
        name = this.string(e, 'name', MAX_NAME_CHARS);
        if (!NAME_RE.test(name)) this.fail(e.at, `name must be kebab-case (lower-case letters, digits and dashes, e.g. paper-failover), not "${clip(name)}"`);
      } else if (e.key === 'description') description = this.string(e, 'description');
      else if (e.key === 'topology') {
        if (labAt) this.fail(e.keyNode, 'give `topology:` or `lab:`, not both');
        topology = this.topologyEntry(e.value, e.at);
        topologyAt = e.at;
      } else if (e.key === 'lab') {
        if (topologyAt) this.fail(e.keyNode, 'give `topology:` or `lab:`, not both');
        topology = this.labEntry(e);
        labAt = e.at;
        topologyAt = e.at;
      } else stepsEntry = e;
    }
    if (name === undefined) this.fail(map, 'the scenario needs a `name:` (kebab-case, e.g. paper-failover)');
    if (!stepsEntry) this.fail(map, 'the scenario needs `steps:` (a list: up, load, fault, heal, assert, …)');
    const seq = stepsEntry.value;
    if (!seq || !isSeq(seq)) this.fail(stepsEntry.at, `steps must be a list (lines starting with "- "), not ${this.show(seq)}`);
    if (!seq.items.length) this.fail(stepsEntry.at, 'steps is empty: a scenario needs at least one step');
    if (seq.items.length > MAX_STEPS)
      this.fail(
        (seq.items[MAX_STEPS] as YamlNode | undefined) ?? stepsEntry.at,
        `a scenario has at most ${MAX_STEPS} steps, and this one has ${seq.items.length}`,
      );

    this.enter(topology, topologyAt ?? map);
    const steps = seq.items.map((item) => this.step(this.resolve(item), stepsEntry.at));
    for (const check of this.deferred) check();
    return prune({ name, description, topology, steps, source: this.file });
  }

  step(node: YamlNode | null, fallback: YamlNode): Step {
    const pos = this.pos(node ?? fallback);
    if (node && isScalar(node)) {
      if (node.value === null) this.fail(node, `empty step: write e.g. ${example('wait')}`);
      const word = typeof node.value === 'string' ? node.value.trim() : '';
      if ((BARE_STEPS as readonly string[]).includes(word)) return this.stepOf(word, null, node, pos);
      const head = word.split(/[\s:]+/)[0] ?? '';
      if ((STEP_KINDS as readonly string[]).includes(head)) this.fail(node, `write this step as \`${head}: <value>\`, e.g. ${example(head)}`);
      const hint = closest(head, STEP_KINDS);
      this.fail(node, `unknown step ${this.show(node)}${hint ? `: did you mean "${hint}"?` : ''} (steps: ${quote(STEP_KINDS)})`);
    }
    if (!node || !isMap(node))
      this.fail(node ?? fallback, `a step must be \`kind: value\` (e.g. ${example('wait')}) or one of ${quote(BARE_STEPS)}, not ${this.show(node)}`);
    if (node.items.length === 0) this.fail(node, 'empty step');
    // Check the first key alone: a second one is most often a mis-indented option of the first.
    const [e] = this.entries(node, 'a step', STEP_KINDS, 1);
    if (node.items.length > 1) {
      const b = this.resolve(node.items[1]!.key);
      const bKey = b && isScalar(b) ? clip(String(b.value), 40) : '?';
      this.fail(
        b ?? node,
        `a step has exactly one kind, and this one has "${e!.key}" and "${bKey}"${(STEP_KINDS as readonly string[]).includes(bKey) ? ' (start a new step with "- ")' : ` (indent "${bKey}" further than "${e!.key}", or write \`${e!.key}: { ${bKey}: … }\`)`}`,
      );
    }
    return this.stepOf(e!.key, e!, e!.at, pos);
  }

  /** `lab: <file|builtin>`: a lab file (relative to the scenario's folder) or a built-in lab's name. */
  labEntry(e: Entry): Scenario['topology'] {
    const ref = this.string(e, 'lab', 4096);
    if ((PRESET_NAMES as readonly string[]).includes(ref)) return { preset: ref };
    if (!ref.endsWith(LAB_FILE_SUFFIX))
      this.fail(e.at, `lab must be a built-in lab (${quote(PRESET_NAMES)}) or a lab file (a path ending in ${LAB_FILE_SUFFIX}), not "${clip(ref)}"`);
    const file = path.isAbsolute(ref) ? ref : path.join(path.dirname(this.file), ref);
    let definition;
    try {
      definition = parseLabFile(readScenarioFile(file, 'lab file'), file);
    } catch (err) {
      if (err instanceof ScenarioFileError) this.fail(e.at, err.message);
      if (err instanceof ScenarioError) this.fail(e.at, `lab file ${err.message}`);
      throw err;
    }
    return { preset: definition.name, definition };
  }

  topologyEntry(node: YamlNode | null, fallback: YamlNode): { preset: PresetName; web?: number } {
    if (node && isScalar(node) && typeof node.value === 'string') return { preset: this.preset(node) };
    const map = this.mapping(node, 'topology', fallback);
    let preset: PresetName = 'ha';
    let web: number | undefined;
    let webAt: YamlNode | undefined;
    for (const e of this.entries(map, 'topology', TOPOLOGY_KEYS)) {
      if (e.key === 'preset') preset = this.preset(e.value ?? e.at);
      else {
        web = this.int(e, 'topology web', 1, MAX_WEB_NODES);
        webAt = e.at;
      }
    }
    this.checkWeb(preset, web, webAt);
    return prune({ preset, web });
  }

  private stepOf(kind: string, e: Entry | null, at: YamlNode, pos: SourcePos): Step {
    const def = stepByKey(kind)!;
    const empty = !e || this.isEmpty(e.value);
    if (def.needsValue && empty) this.fail(at, `${kind} needs a value, e.g. ${def.describe.example}`);
    return def.parse(this, { e, empty, at, pos });
  }
}

/** A step's example for messages (`wait: 20s`). */
function example(kind: string): string {
  return stepByKey(kind)?.describe.example ?? stepByKey('wait')!.describe.example;
}
