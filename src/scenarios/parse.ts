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
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Document, isAlias, isMap, isScalar, isSeq, Lexer, LineCounter, parseDocument, visit } from 'yaml';
import type { Alias, Node as YamlNode, YAMLMap } from 'yaml';
import { buildTopology, MAX_WEB_NODES, PRESET_NAMES, PresetName, Topology } from '../engine/topology';
import { durationMs, parseDuration } from '../load/faults';
import { describeFault, FAULT_KINDS, FaultKind, FaultRequest, faultRequestProblem, isLossPct, MAX_DURATION_MS, MIN_LOSS_PCT } from '../protocol/faults';
import type { Role } from '../protocol/status';
import {
  AssertStep, Comparator, JourneyChoice, LoadStartStep, METRIC_KEYS, MetricKey, Scenario, ScenarioError, SourcePos, StatePredicates, Step, Threshold,
} from './types';

// ---------------------------------------------------------------- the vocabulary (schema.ts mirrors it; a unit test keeps them equal)

export const TOP_KEYS = ['name', 'description', 'topology', 'steps'] as const;
export const TOPOLOGY_KEYS = ['preset', 'web'] as const;
export const STEP_KINDS = ['up', 'down', 'load', 'wait', 'fault', 'heal', 'maintenance', 'say', 'assert', 'compare'] as const;
/** Steps that may be written as a bare word (`- up`). */
export const BARE_STEPS = ['up', 'down', 'heal'] as const;
export const UP_KEYS = ['preset', 'web', 'moodle'] as const;
export const LOAD_KEYS = ['users', 'journey', 'duration', 'name', 'throughput', 'think', 'rampUp'] as const;
export const JOURNEYS: readonly JourneyChoice[] = ['auto', 'moodle', 'probe'];
export const FAULT_KEYS = ['kind', 'node', 'nodes', 'from', 'ms', 'jitter', 'percent', 'for'] as const;
export const MAINTENANCE_KEYS = ['on', 'node'] as const;
export const STATE_KEYS = ['healthy', 'unhealthy', 'haproxy', 'galeraSize', 'galeraStatus', 'bricksOnline', 'healPending', 'redisUp', 'moodleMaintenance'] as const;
export const ASSERT_KEYS = [...METRIC_KEYS, ...STATE_KEYS, 'within', 'run'] as const;
export const HAPROXY_STATES = ['UP', 'DOWN', 'MAINT', 'DRAIN'] as const;
export const GALERA_STATES = ['Primary', 'non-Primary'] as const;
/** Metrics measured in ms: thresholds take ms (bare number), s or m. */
export const DURATION_METRICS: readonly MetricKey[] = ['p50', 'p95', 'p99', 'max', 'detection', 'blackout', 'recovery'];
/** Faults that repair rather than break: `for` makes no sense on them. */
const REPAIR_FAULTS: readonly FaultKind[] = ['start', 'unpause', 'connect'];

/** The load generator's defaults (src/load/run.ts DEFAULT_LOAD) for what a `load` step leaves out. */
export const DEFAULT_USERS = 30;
export const DEFAULT_DURATION_MS = 60_000;
const MAX_USERS = 1000;

const NAME_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

// Limits: a scenario is a page of steps, not a data set. Checked before anything big is built.
/** Scenario files larger than this are refused by their size, before they are read. */
export const MAX_SCENARIO_BYTES = 1024 * 1024;
export const MAX_STEPS = 500;
export const MAX_NAME_CHARS = 200;
/** description, say: and every other text value. */
export const MAX_TEXT_CHARS = 2000;
/** `*alias` uses per file (the yaml package's own default for alias expansion). */
export const MAX_ALIASES = 100;
/** Collections inside collections: a scenario needs about 4; the yaml package needs memory and stack for each. */
export const MAX_NESTING = 64;
const RUN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

// ---------------------------------------------------------------- public API

/** Parses and checks a scenario. Throws `ScenarioError` (file:line:col: reason) on the first problem. */
export function parseScenario(text: string, file: string): Scenario {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_SCENARIO_BYTES) throw new ScenarioError(file, 1, 1, `the scenario is ${formatBytes(bytes)}; a scenario may be at most ${formatBytes(MAX_SCENARIO_BYTES)}`);
  const deep = tooDeepAt(text);
  if (deep !== undefined) {
    const before = text.slice(0, deep).split('\n');
    throw new ScenarioError(file, before.length, before.at(-1)!.length + 1, `nesting deeper than ${MAX_NESTING} levels (lists and mappings inside one another): a scenario is a list of steps`);
  }
  const lineCounter = new LineCounter();
  // Duplicate keys are found by the parser (Parser.entries): the yaml package's check compares every key with every other one.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number): SourcePos => lineCounter.linePos(offset);
  const first = doc.errors[0];
  if (first) {
    const p = at(first.pos[0]);
    if (/call stack/i.test(first.message)) throw new ScenarioError(file, p.line, p.col, `nesting too deep: a scenario is a list of steps`);
    const hint = first.code === 'BLOCK_AS_IMPLICIT_KEY' ? ' (text containing ": " must be quoted, e.g. say: "Heal: both nodes return")' : '';
    throw new ScenarioError(file, p.line, p.col, `YAML syntax error: ${clip(first.message.split('\n')[0] ?? '', 200)}${hint}`);
  }
  return new Parser(file, doc, at).scenario();
}

/**
 * Offset where collections first nest deeper than MAX_NESTING, or undefined. Lexing is linear
 * and light; the yaml package's parser is not, on 1 MB of "[[[[" (about 1 GB and a stack overflow).
 * Counts open flow collections, block indicators (`- `, `? `, `: `) on one line, and the
 * indentation levels the line is in.
 */
function tooDeepAt(text: string): number | undefined {
  let offset = 0;
  let flow = 0;
  let block = 0;
  const indents: number[] = [];
  let indent = 0;
  let lineStart = true;
  let scalarNext = false;
  for (const token of new Lexer().lex(text)) {
    if (token === '\x02' || token === '\x18' || token === '\x1f') {
      scalarNext = token === '\x1f'; // markers, not source text; the next token is a scalar's source
      continue;
    }
    const newline = token === '\n' || token === '\r\n';
    if (lineStart && !scalarNext && /^ +$/.test(token)) indent = token.length;
    else if (lineStart && !newline && !token.startsWith('#')) {
      // The first token of a line with content: the indentation levels it is in.
      if (flow === 0) {
        while (indents.length && indents.at(-1)! >= indent) indents.pop();
        if (indent > 0) indents.push(indent);
      }
      lineStart = false;
    }
    if (!scalarNext) {
      if (token === '[' || token === '{') flow++;
      else if (token === ']' || token === '}') flow = Math.max(0, flow - 1);
      else if (flow === 0 && (token === '-' || token === '?' || token === ':')) block++;
      if (flow + block + indents.length > MAX_NESTING) return offset;
    }
    if (newline) {
      block = 0;
      indent = 0;
      lineStart = true;
    }
    scalarNext = false;
    offset += token.length;
  }
  return undefined;
}

/** A scenario file that cannot be used as a scenario at all: missing, too big, not UTF-8, not a file. */
export class ScenarioFileError extends Error {}

/**
 * The text of a scenario file: refused by its size before it is read (at most
 * MAX_SCENARIO_BYTES), and strictly UTF-8 (a stray Latin-1 byte is an error, not a silent U+FFFD).
 */
export function readScenarioFile(file: string): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScenarioFileError(code === 'ENOENT' ? `scenario file "${file}" not found` : `cannot read scenario file "${file}": ${(e as Error).message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new ScenarioFileError(`${file}: not a regular file`);
    if (st.size > MAX_SCENARIO_BYTES) throw new ScenarioFileError(`${file}: the file is ${formatBytes(st.size)}; a scenario may be at most ${formatBytes(MAX_SCENARIO_BYTES)}`);
    // Read at most one byte more than allowed: a file that grew since fstat is refused too.
    const buf = Buffer.alloc(MAX_SCENARIO_BYTES + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = fs.readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_SCENARIO_BYTES) throw new ScenarioFileError(`${file}: the file is larger than ${formatBytes(MAX_SCENARIO_BYTES)}, the most a scenario may be`);
    return decodeUtf8(buf.subarray(0, n), file);
  } finally {
    fs.closeSync(fd);
  }
}

/** Strict UTF-8 → text (a leading BOM is dropped). Throws `file: not valid UTF-8 at byte N` (N from 0). */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ScenarioFileError(`${file}: not valid UTF-8 at byte ${invalidUtf8At(bytes)}`);
  }
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (-1: none). */
export function invalidUtf8At(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    // The sequence length and the allowed range of its second byte (no overlongs, no surrogates, ≤ U+10FFFF).
    const [len, lo, hi] = c >= 0xc2 && c <= 0xdf ? [2, 0x80, 0xbf]
      : c === 0xe0 ? [3, 0xa0, 0xbf] : c === 0xed ? [3, 0x80, 0x9f] : c >= 0xe1 && c <= 0xef ? [3, 0x80, 0xbf]
        : c === 0xf0 ? [4, 0x90, 0xbf] : c === 0xf4 ? [4, 0x80, 0x8f] : c >= 0xf1 && c <= 0xf3 ? [4, 0x80, 0xbf] : [0, 0, 0];
    if (len === 0) return i;
    for (let k = 1; k < len; k++) {
      const x = b[i + k];
      if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i;
    }
    i += len;
  }
  return -1;
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) ? 1 : 0)} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} bytes`;
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
    throw new ScenarioFileError(`unknown scenario "${clip(ref)}": not a .yaml file${hint ? `; did you mean "${hint}"?` : ''} (built-ins: ${names.join(', ') || 'none found'})`);
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
  return files.filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
}

// ---------------------------------------------------------------- helpers

/** The closest candidate by edit distance, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 64) return undefined; // no typo of a short word, and the distance is quadratic
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best !== undefined && bestD < word.length && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Drops keys whose value is undefined, so results compare and print cleanly. */
function prune<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function fmtMs(ms: number): string {
  if (ms >= 600_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A value the user wrote, shortened for a message. */
function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function quote(list: readonly string[]): string {
  return list.join(', ');
}

/** One `key: value` of a mapping; `at` is where to point for the value (the key when the value is empty). */
interface Entry {
  key: string;
  keyNode: YamlNode;
  value: YamlNode | null;
  at: YamlNode;
}

interface Env {
  topo: Topology;
  /** Line of the `up` that set this topology (undefined: the scenario's `topology`). */
  upLine?: number;
  /** `moodle: false` on the last `up` (line), so a Moodle journey can be refused. */
  noMoodleLine?: number;
}

interface RunInfo {
  line: number;
  done: boolean;
}

class Parser {
  private env!: Env;
  private readonly runs = new Map<string, RunInfo>();
  private running: string | null = null;
  private loads = 0;
  /** Every `*alias` with the node it stands for (resolved once: the yaml package walks the whole document per alias). */
  private readonly aliases = new Map<Alias, YamlNode | null>();

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly at: (offset: number) => SourcePos,
  ) {}

  // ---- positions and errors

  private pos(node: YamlNode | null | undefined): SourcePos {
    const off = node?.range?.[0];
    return off === undefined ? { line: 1, col: 1 } : this.at(off);
  }

  private fail(node: YamlNode | null | undefined, reason: string): never {
    const p = this.pos(node);
    throw new ScenarioError(this.file, p.line, p.col, clip(reason, 1000));
  }

  private resolve(node: unknown): YamlNode | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.aliases.get(node) ?? null;
    return node as YamlNode;
  }

  /** Resolves every alias to the last node anchored with its name before it, as YAML says; at most MAX_ALIASES. */
  private resolveAliases(): void {
    const anchored = new Map<string, YamlNode>();
    visit(this.doc, {
      Node: (_key, node) => {
        if (isAlias(node)) {
          if (this.aliases.size === MAX_ALIASES) this.fail(node, `more than ${MAX_ALIASES} aliases (*name) in one scenario`);
          const target = anchored.get(node.source);
          if (!target) this.fail(node, `alias *${clip(node.source)} has no anchor &${clip(node.source)} before it`);
          this.aliases.set(node, target);
        } else if (node.anchor) anchored.set(node.anchor, node);
      },
    });
  }

  /** How a value reads in a message: `"thirty"`, `30`, `a list`, `a mapping`, `nothing`. */
  private show(node: YamlNode | null): string {
    if (node === null || (isScalar(node) && node.value === null)) return 'nothing';
    if (isMap(node)) return 'a mapping';
    if (isSeq(node)) return 'a list';
    if (isScalar(node)) return clip(typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.value));
    return 'something else';
  }

  private isEmpty(node: YamlNode | null): boolean {
    return node === null || (isScalar(node) && node.value === null);
  }

  private entries(map: YAMLMap, where: string, allowed: readonly string[], limit?: number): Entry[] {
    const out: Entry[] = [];
    const seen = new Set<string>();
    for (const pair of map.items.slice(0, limit)) {
      const keyNode = this.resolve(pair.key);
      if (!keyNode || !isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number' && typeof keyNode.value !== 'boolean')) {
        this.fail(keyNode ?? map, `${where}: keys must be plain words`);
      }
      const key = String(keyNode.value);
      if (!allowed.includes(key)) {
        const hint = closest(key, allowed);
        this.fail(keyNode, `unknown key "${clip(key)}" in ${where}${hint ? `: did you mean "${hint}"?` : ''} (valid: ${quote(allowed)})`);
      }
      if (seen.has(key)) this.fail(keyNode, `YAML syntax error: Map keys must be unique ("${key}" is given twice in ${where})`);
      seen.add(key);
      const value = this.resolve(pair.value);
      const at = value && !(isScalar(value) && value.value === null && !value.source) ? value : keyNode;
      out.push({ key, keyNode, value, at });
    }
    return out;
  }

  private mapping(node: YamlNode | null, where: string, fallback: YamlNode): YAMLMap {
    if (!node || !isMap(node)) this.fail(node && !this.isEmpty(node) ? node : fallback, `${where} must be a mapping (key: value), not ${this.show(node)}`);
    return node;
  }

  private string(e: Entry, where: string, max = MAX_TEXT_CHARS): string {
    const v = e.value;
    if (!v || !isScalar(v) || typeof v.value !== 'string' || v.value.trim() === '') this.fail(e.at, `${where} must be text, not ${this.show(v)}`);
    const text = v.value.trim();
    if (text.length > max) this.fail(e.at, `${where} is ${text.length} characters long; at most ${max}`);
    return text;
  }

  /** Text or a number (durations, thresholds and fault values may be written either way). */
  private scalarText(e: Entry, where: string, example: string): string {
    const v = e.value;
    if (!v || !isScalar(v) || (typeof v.value !== 'string' && typeof v.value !== 'number')) this.fail(e.at, `${where} must be a value like ${example}, not ${this.show(v)}`);
    return String(v.value).trim();
  }

  private bool(e: Entry, where: string): boolean {
    const v = e.value;
    if (v && isScalar(v)) {
      if (typeof v.value === 'boolean') return v.value;
      if (v.value === 'on' || v.value === 'yes') return true;
      if (v.value === 'off' || v.value === 'no') return false;
    }
    return this.fail(e.at, `${where} must be true or false, not ${this.show(v)}`);
  }

  private int(e: Entry, where: string, min: number, max: number): number {
    const v = e.value;
    const n = v && isScalar(v) ? (typeof v.value === 'number' ? v.value : typeof v.value === 'string' && /^\s*\d+\s*$/.test(v.value) ? Number(v.value) : NaN) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) this.fail(e.at, `${where} must be a whole number from ${min} to ${max} (got ${this.show(v)})`);
    return n;
  }

  private number(e: Entry, where: string, min: number, max: number, unit = ''): number {
    const v = e.value;
    let n = NaN;
    if (v && isScalar(v)) {
      if (typeof v.value === 'number') n = v.value;
      else if (typeof v.value === 'string') {
        const m = new RegExp(`^\\s*(\\d+(?:\\.\\d+)?|\\.\\d+)\\s*${unit ? `(?:${unit})?` : ''}\\s*$`).exec(v.value);
        if (m) n = Number(m[1]);
      }
    }
    if (!Number.isFinite(n) || n < min || n > max) this.fail(e.at, `${where} must be a number from ${min} to ${max}${unit ? ` (${unit} optional)` : ''}, got ${this.show(v)}`);
    return n;
  }

  /** A duration in ms, from `min` (default: above zero) to `max` (default and most: 24 h). */
  private duration(e: Entry, where: string, opts: { min?: number; max?: number } = {}): number {
    const text = this.scalarText(e, where, '20s, 500ms or 2m');
    const ms = durationMs(text);
    if (ms === undefined) this.fail(e.at, `${where}: "${clip(text)}" is not a duration; write e.g. 20s, 500ms or 2m (a bare number is seconds)`);
    const min = opts.min ?? 1;
    const max = Math.min(opts.max ?? MAX_DURATION_MS, MAX_DURATION_MS);
    if (ms < min) this.fail(e.at, `${where} must be ${min === 0 ? 'zero or more' : 'longer than zero'}, got "${clip(text)}"`);
    if (!(ms <= max)) this.fail(e.at, `${where} must be at most ${fmtMs(max)}, got "${clip(text)}"`);
    return ms;
  }

  /** A node name or a list of them (or "a,b" text). */
  private nodeList(e: Entry, where: string): { names: string[]; at: YamlNode[] } {
    const v = e.value;
    const names: string[] = [];
    const at: YamlNode[] = [];
    const push = (n: YamlNode | null) => {
      if (!n || !isScalar(n) || typeof n.value !== 'string' || !n.value.trim()) this.fail(n ?? e.at, `${where} must name nodes, e.g. web2 or [web1, web3], not ${this.show(n)}`);
      for (const part of n.value.split(',').map((s) => s.trim()).filter(Boolean)) {
        names.push(part);
        at.push(n);
      }
    };
    if (v && isSeq(v)) v.items.forEach((i) => push(this.resolve(i)));
    else push(v && !this.isEmpty(v) ? v : null);
    if (!names.length) this.fail(e.at, `${where} needs at least one node`);
    return { names, at };
  }

  // ---- topology

  private describeTopo(): string {
    const where = this.env.upLine !== undefined ? `after the \`up\` on line ${this.env.upLine}` : 'in this scenario\'s topology';
    return `${where} the lab (${this.env.topo.preset}) has ${quote(this.env.topo.nodes.map((n) => n.name))}`;
  }

  private checkNode(name: string, at: YamlNode, roles?: Role[], what?: string): void {
    const node = this.env.topo.nodes.find((n) => n.name === name);
    if (!node) {
      let hint = closest(name, this.env.topo.nodes.map((n) => n.name));
      // web9 → web1 is no help: only suggest for a misspelt role (gallera1 → galera1).
      if (hint && hint.replace(/\d+$/, '') === name.replace(/\d+$/, '')) hint = undefined;
      this.fail(at, `unknown node "${clip(name)}"${hint ? ` (did you mean "${hint}"?)` : ''}: ${this.describeTopo()}`);
    }
    if (roles && !roles.includes(node.role)) this.fail(at, `${what ?? 'this'} needs ${roles.length === 1 && roles[0] === 'web' ? 'a web node' : `a node of role ${roles.join(' or ')}`}, and ${name} is ${node.role}`);
  }

  private hasRole(role: Role): boolean {
    return this.env.topo.nodes.some((n) => n.role === role);
  }

  private topologyEntry(node: YamlNode | null, fallback: YamlNode): { preset: PresetName; web?: number } {
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

  private preset(node: YamlNode | null): PresetName {
    const v = node && isScalar(node) ? node.value : undefined;
    if (typeof v !== 'string' || !(PRESET_NAMES as readonly string[]).includes(v)) this.fail(node, `preset must be one of ${quote(PRESET_NAMES)}, not ${this.show(node)}`);
    return v as PresetName;
  }

  private checkWeb(preset: PresetName, web: number | undefined, at: YamlNode | undefined): void {
    if (preset === 'single' && web !== undefined && web !== 1) this.fail(at, 'the single preset has exactly one web node (use preset: ha for more)');
  }

  // ---- the document

  scenario(): Scenario {
    this.resolveAliases();
    const root = this.resolve(this.doc.contents);
    if (this.isEmpty(root)) throw new ScenarioError(this.file, 1, 1, 'the file is empty: a scenario needs at least `name:` and `steps:`');
    const map = this.mapping(root, 'a scenario', root!);
    let name: string | undefined;
    let description: string | undefined;
    let topology: Scenario['topology'] = { preset: 'ha' };
    let stepsEntry: Entry | undefined;
    for (const e of this.entries(map, 'the scenario', TOP_KEYS)) {
      if (e.key === 'name') {
        name = this.string(e, 'name', MAX_NAME_CHARS);
        if (!NAME_RE.test(name)) this.fail(e.at, `name must be kebab-case (lower-case letters, digits and dashes, e.g. paper-failover), not "${clip(name)}"`);
      } else if (e.key === 'description') description = this.string(e, 'description');
      else if (e.key === 'topology') topology = this.topologyEntry(e.value, e.at);
      else stepsEntry = e;
    }
    if (name === undefined) this.fail(map, 'the scenario needs a `name:` (kebab-case, e.g. paper-failover)');
    if (!stepsEntry) this.fail(map, 'the scenario needs `steps:` (a list: up, load, fault, heal, assert, …)');
    const seq = stepsEntry.value;
    if (!seq || !isSeq(seq)) this.fail(stepsEntry.at, `steps must be a list (lines starting with "- "), not ${this.show(seq)}`);
    if (!seq.items.length) this.fail(stepsEntry.at, 'steps is empty: a scenario needs at least one step');
    if (seq.items.length > MAX_STEPS) this.fail((seq.items[MAX_STEPS] as YamlNode | undefined) ?? stepsEntry.at, `a scenario has at most ${MAX_STEPS} steps, and this one has ${seq.items.length}`);

    this.env = { topo: buildTopology(topology.preset, topology.web) };
    const steps = seq.items.map((item) => this.step(this.resolve(item), stepsEntry.at, topology));
    return prune({ name, description, topology, steps, source: this.file });
  }

  private step(node: YamlNode | null, fallback: YamlNode, topology: Scenario['topology']): Step {
    const pos = this.pos(node ?? fallback);
    if (node && isScalar(node)) {
      if (node.value === null) this.fail(node, `empty step: write e.g. ${example('wait')}`);
      const word = typeof node.value === 'string' ? node.value.trim() : '';
      if ((BARE_STEPS as readonly string[]).includes(word)) return this.stepOf(word, null, node, pos, topology);
      const head = word.split(/[\s:]+/)[0] ?? '';
      if ((STEP_KINDS as readonly string[]).includes(head)) this.fail(node, `write this step as \`${head}: <value>\`, e.g. ${example(head)}`);
      const hint = closest(head, STEP_KINDS);
      this.fail(node, `unknown step ${this.show(node)}${hint ? `: did you mean "${hint}"?` : ''} (steps: ${quote(STEP_KINDS)})`);
    }
    if (!node || !isMap(node)) this.fail(node ?? fallback, `a step must be \`kind: value\` (e.g. ${example('wait')}) or one of ${quote(BARE_STEPS)}, not ${this.show(node)}`);
    if (node.items.length === 0) this.fail(node, 'empty step');
    // Check the first key alone: a second one is most often a mis-indented option of the first.
    const [e] = this.entries(node, 'a step', STEP_KINDS, 1);
    if (node.items.length > 1) {
      const b = this.resolve(node.items[1]!.key);
      const bKey = b && isScalar(b) ? clip(String(b.value), 40) : '?';
      this.fail(b ?? node, `a step has exactly one kind, and this one has "${e!.key}" and "${bKey}"${(STEP_KINDS as readonly string[]).includes(bKey) ? ' (start a new step with "- ")' : ` (indent "${bKey}" further than "${e!.key}", or write \`${e!.key}: { ${bKey}: … }\`)`}`);
    }
    return this.stepOf(e!.key, e!, e!.at, pos, topology);
  }

  private stepOf(kind: string, e: Entry | null, at: YamlNode, pos: SourcePos, topology: Scenario['topology']): Step {
    const empty = !e || this.isEmpty(e.value);
    const needsValue = () => this.fail(at, `${kind} needs a value, e.g. ${example(kind)}`);
    switch (kind) {
      case 'up':
        return this.up(e, empty, at, pos, topology);
      case 'down':
        if (!empty) this.fail(at, '`down` takes no value');
        this.noLoadRunning(at, 'down');
        return { pos, text: 'down', kind: 'down' };
      case 'load':
        if (empty) needsValue();
        return this.load(e!, pos);
      case 'wait': {
        if (empty) needsValue();
        const ms = this.duration(e!, 'wait');
        return { pos, text: `wait ${fmtMs(ms)}`, kind: 'wait', ms };
      }
      case 'fault': {
        if (empty) needsValue();
        const fault = this.fault(e!);
        return { pos, text: `fault ${describeFault(fault)}${fault.forMs ? ` for ${fmtMs(fault.forMs)}` : ''}`, kind: 'fault', fault };
      }
      case 'heal': {
        if (empty) return { pos, text: 'heal', kind: 'heal' };
        const node = this.string(e!, 'heal');
        this.checkNode(node, e!.at);
        return { pos, text: `heal ${node}`, kind: 'heal', node };
      }
      case 'maintenance':
        if (empty) needsValue();
        return this.maintenance(e!, pos);
      case 'say': {
        if (empty) needsValue();
        const message = this.string(e!, 'say').replace(/\s+$/, '');
        const one = message.replace(/\s+/g, ' ');
        return { pos, text: `say "${one.length > 60 ? `${one.slice(0, 57)}…` : one}"`, kind: 'say', message };
      }
      case 'assert':
        if (empty) needsValue();
        return this.assert(e!, pos);
      default: // compare
        if (empty) needsValue();
        return this.compare(e!, pos);
    }
  }

  private noLoadRunning(at: YamlNode, what: string): void {
    if (this.running !== null) {
      this.fail(at, `load run "${this.running}" (line ${this.runs.get(this.running)!.line}) is still running: add \`load: wait\` or \`load: stop\` before ${what}`);
    }
  }

  // ---- up

  private up(e: Entry | null, empty: boolean, at: YamlNode, pos: SourcePos, topology: Scenario['topology']): Step {
    let preset: PresetName | undefined;
    let web: number | undefined;
    let webAt: YamlNode | undefined;
    let moodle: boolean | undefined;
    if (!empty) {
      const v = e!.value!;
      if (isScalar(v) && typeof v.value === 'string') preset = this.preset(v);
      else {
        const map = this.mapping(v, 'up', at);
        for (const x of this.entries(map, 'up', UP_KEYS)) {
          if (x.key === 'preset') preset = this.preset(x.value ?? x.at);
          else if (x.key === 'web') {
            web = this.int(x, 'up web', 1, MAX_WEB_NODES);
            webAt = x.at;
          } else moodle = this.bool(x, 'up moodle');
        }
      }
    }
    this.noLoadRunning(at, '`up`');
    const p = preset ?? topology.preset;
    this.checkWeb(p, web, webAt);
    if (web === undefined && p === topology.preset) web = topology.web;
    this.env = { topo: buildTopology(p, web), upLine: pos.line, noMoodleLine: moodle === false ? pos.line : undefined };
    const text = `up ${p}${web !== undefined && p === 'ha' ? ` (${web} web)` : ''}${moodle === false ? ' without Moodle' : ''}`;
    return prune({ pos, text, kind: 'up' as const, preset: p, web, moodle });
  }

  // ---- load

  private load(e: Entry, pos: SourcePos): Step {
    const v = e.value!;
    if (isScalar(v) && typeof v.value === 'string' && ['stop', 'wait'].includes(v.value.trim())) {
      const kind = v.value.trim() === 'stop' ? 'load-stop' as const : 'load-wait' as const;
      if (this.running === null) {
        this.fail(e.at, `load: ${v.value.trim()} but no load is running here${this.loads ? ' (the last one already ended)' : ''}: start one first with \`load: { users: 30, duration: 60s }\``);
      }
      this.runs.get(this.running)!.done = true;
      this.running = null;
      return { pos, text: kind === 'load-stop' ? 'load stop' : 'load wait', kind };
    }
    const start = isScalar(v) && v.value === 'start';
    if (!start && !isMap(v)) this.fail(e.at, `load must be a mapping ({ users: 30, duration: 60s, … }), stop, wait or start, not ${this.show(v)}`);
    this.noLoadRunning(e.at, 'starting another');
    const step: LoadStartStep = { kind: 'load-start', users: DEFAULT_USERS, journey: 'auto', durationMs: DEFAULT_DURATION_MS };
    let nameAt: YamlNode = e.at;
    let rampAt: YamlNode | undefined;
    let journeyAt: YamlNode | undefined;
    if (isMap(v)) {
      for (const x of this.entries(v, 'load', LOAD_KEYS)) {
        switch (x.key) {
          case 'users':
            step.users = this.int(x, 'users', 1, MAX_USERS);
            break;
          case 'journey': {
            const j = x.value && isScalar(x.value) ? x.value.value : undefined;
            if (typeof j !== 'string' || !(JOURNEYS as readonly string[]).includes(j)) this.fail(x.at, `journey must be one of ${quote(JOURNEYS)}, not ${this.show(x.value)}`);
            step.journey = j as JourneyChoice;
            journeyAt = x.at;
            break;
          }
          case 'duration':
            step.durationMs = this.duration(x, 'duration', { max: 24 * 3_600_000 });
            break;
          case 'name':
            step.name = this.string(x, 'load name');
            nameAt = x.at;
            if (!RUN_NAME_RE.test(step.name)) this.fail(x.at, `load name must be a short word (letters, digits, - and _), not "${clip(step.name)}"`);
            break;
          case 'throughput':
            step.throughputPerMin = this.number(x, 'throughput (samples per minute, 0 = unpaced)', 0, 1_000_000, '/min');
            break;
          case 'think': {
            const text = this.scalarText(x, 'think', '500ms-1s');
            const [a, b, extra] = text.split('-').map((s) => s.trim());
            try {
              if (!a || extra !== undefined) throw new Error();
              const lo = parseDuration(a, 'think');
              const hi = b !== undefined ? parseDuration(b, 'think') : lo;
              if (hi < lo) this.fail(x.at, `think: the range must go up, e.g. 500ms-1s (got "${clip(text)}")`);
              step.thinkMs = [lo, hi];
            } catch (err) {
              if (err instanceof ScenarioError) throw err;
              this.fail(x.at, `think must be a time or a range of times (each at most 24 h), e.g. 500ms-1s or 2s, not "${clip(text)}"`);
            }
            break;
          }
          default: // rampUp
            step.rampUpMs = this.duration(x, 'rampUp', { min: 0 });
            rampAt = x.at;
        }
      }
    }
    if (step.rampUpMs !== undefined && step.rampUpMs >= step.durationMs) this.fail(rampAt, `rampUp (${fmtMs(step.rampUpMs)}) must be shorter than the duration (${fmtMs(step.durationMs)})`);
    if (step.journey === 'moodle' && this.env.noMoodleLine !== undefined) this.fail(journeyAt, `journey moodle needs Moodle, but the \`up\` on line ${this.env.noMoodleLine} has moodle: false (use journey probe)`);
    this.loads++;
    const explicit = step.name !== undefined;
    const name = step.name ?? `run${this.loads}`;
    if (this.runs.has(name)) this.fail(nameAt, `a load run named "${name}" already exists (line ${this.runs.get(name)!.line}): give this one another name`);
    step.name = name;
    this.runs.set(name, { line: pos.line, done: false });
    this.running = name;
    const text = `load ${step.users} users ${step.journey} ${fmtMs(step.durationMs)}${explicit ? ` (run ${name})` : ''}`;
    return prune({ pos, text, ...step });
  }

  // ---- fault

  private fault(e: Entry): FaultRequest {
    const v = e.value!;
    const req: Partial<FaultRequest> = {};
    // Where to point for each field: the one scalar in the text form, each value in the mapping form.
    const where: Record<string, YamlNode> = {};
    const msText = (text: string, field: string, node: YamlNode): number => {
      const t = text.trim();
      if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
      try {
        return parseDuration(t, field);
      } catch {
        return this.fail(node, `fault ${field} must be milliseconds (e.g. 300 or 300ms), not "${clip(text)}"`);
      }
    };
    const pctText = (text: string, node: YamlNode): number => {
      const m = /^(\d+(?:\.\d+)?|\.\d+)\s*%?$/.exec(text.trim());
      if (!m) this.fail(node, `fault loss percent must be a number from 0 to 100 (e.g. 30 or 30%), not "${clip(text)}"`);
      return Number(m[1]);
    };
    const kindOf = (word: string, node: YamlNode): FaultKind => {
      if (!(FAULT_KINDS as readonly string[]).includes(word)) {
        const hint = closest(word, FAULT_KINDS);
        this.fail(node, `unknown fault kind "${clip(word)}"${hint ? ` (did you mean "${hint}"?)` : ''}: use one of ${quote(FAULT_KINDS)}`);
      }
      return word as FaultKind;
    };
    const split = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
    const nodeAt: YamlNode[] = [];
    const fromAt: YamlNode[] = [];

    if (isScalar(v) && typeof v.value === 'string') {
      // "<kind> <nodes>[ <value>][ from <nodes>][ for <duration>][ jitter <ms>]" (-- before options is fine, as in the CLI)
      const tokens = v.value.trim().split(/\s+/);
      const [k, nodes] = tokens;
      req.kind = kindOf(k ?? '', v);
      if (!nodes || nodes.startsWith('-')) this.fail(v, `fault ${req.kind} needs a node, e.g. ${req.kind === 'partition' ? '"partition galera1 from galera2,galera3"' : `"${req.kind} web2"`}`);
      req.nodes = split(nodes);
      req.nodes.forEach(() => nodeAt.push(v));
      let i = 2;
      const next = tokens[i];
      if ((req.kind === 'delay' || req.kind === 'loss') && next !== undefined && /^[\d.]/.test(next)) {
        if (req.kind === 'delay') req.delayMs = msText(next, 'delay', v);
        else req.lossPct = pctText(next, v);
        i++;
      }
      while (i < tokens.length) {
        const opt = tokens[i]!.replace(/^--/, '');
        const arg = tokens[i + 1];
        const OPTS = ['from', 'for', 'jitter', 'ms', 'percent'];
        if (!OPTS.includes(opt)) {
          const hint = closest(opt, OPTS);
          this.fail(v, `fault: unexpected "${clip(tokens[i]!)}"${hint ? ` (did you mean "${hint}"?)` : ''}; write "<kind> <node> [value] [from <nodes>] [for <duration>] [jitter <ms>]", e.g. "delay web3 300 jitter 20"`);
        }
        if (arg === undefined) this.fail(v, `fault: "${clip(tokens[i]!)}" needs a value`);
        if (opt === 'from') {
          req.from = split(arg);
          req.from.forEach(() => fromAt.push(v));
        } else if (opt === 'for') req.forMs = this.forDuration(arg, v);
        else if (opt === 'jitter') req.jitterMs = msText(arg, 'jitter', v);
        else if (opt === 'ms') req.delayMs = msText(arg, 'delay', v);
        else req.lossPct = pctText(arg, v);
        i += 2;
      }
      for (const f of ['kind', 'nodes', 'from', 'ms', 'jitter', 'percent', 'for']) where[f] = v;
    } else if (isMap(v)) {
      let kindEntry: Entry | undefined;
      const es = this.entries(v, 'fault', FAULT_KEYS);
      for (const x of es) where[x.key] = x.at;
      for (const x of es) {
        switch (x.key) {
          case 'kind':
            kindEntry = x;
            req.kind = kindOf(this.string(x, 'fault kind'), x.at);
            break;
          case 'node':
          case 'nodes':
            if (req.nodes) this.fail(x.keyNode, 'fault: give `node` or `nodes`, not both');
            {
              const l = this.nodeList(x, `fault ${x.key}`);
              req.nodes = l.names;
              nodeAt.push(...l.at);
            }
            where.nodes = x.at;
            break;
          case 'from': {
            const l = this.nodeList(x, 'fault from');
            req.from = l.names;
            fromAt.push(...l.at);
            break;
          }
          case 'ms':
            req.delayMs = msText(this.scalarText(x, 'fault ms', '300'), 'delay', x.at);
            break;
          case 'jitter':
            req.jitterMs = msText(this.scalarText(x, 'fault jitter', '20'), 'jitter', x.at);
            break;
          case 'percent':
            req.lossPct = pctText(this.scalarText(x, 'fault percent', '30'), x.at);
            break;
          default: // for
            req.forMs = this.forDuration(this.scalarText(x, 'fault for', '10s'), x.at);
        }
      }
      if (!kindEntry) this.fail(v, `fault needs a \`kind\` (${quote(FAULT_KINDS)})`);
      if (!req.nodes) this.fail(v, `fault ${req.kind} needs \`node\` (or \`nodes\` for a partition)`);
    } else {
      this.fail(e.at, `fault must be text like "stop web2" or a mapping like { kind: delay, node: web3, ms: 300 }, not ${this.show(v)}`);
    }
    return this.checkFault(req as FaultRequest, where, nodeAt, fromAt);
  }

  private forDuration(text: string, node: YamlNode): number {
    const ms = durationMs(text);
    if (ms !== undefined && ms > MAX_DURATION_MS) this.fail(node, `fault for must be at most ${fmtMs(MAX_DURATION_MS)}, got "${clip(text)}"`);
    if (ms === undefined || ms <= 0) this.fail(node, `fault for must be a positive duration like 10s, not "${clip(text)}"`);
    return ms;
  }

  private checkFault(req: FaultRequest, where: Record<string, YamlNode>, nodeAt: YamlNode[], fromAt: YamlNode[]): FaultRequest {
    const k = req.kind;
    req.nodes.forEach((n, i) => this.checkNode(n, nodeAt[i] ?? where.nodes!));
    (req.from ?? []).forEach((n, i) => this.checkNode(n, fromAt[i] ?? where.from!));
    if (k === 'partition') {
      if (!req.from?.length) this.fail(where.nodes ?? where.kind, 'a partition needs the other side: `from` (e.g. "partition galera1 from galera2,galera3")');
      const both = req.nodes.filter((n) => req.from!.includes(n));
      if (both.length) this.fail(where.from, `a node cannot be on both sides of a partition: ${both.join(', ')}`);
      const dup = [...req.nodes, ...req.from].find((n, i, all) => all.indexOf(n) !== i);
      if (dup) this.fail(where.from ?? where.nodes, `${dup} is named twice in the partition`);
    } else {
      if (req.nodes.length > 1) this.fail(where.nodes, `fault ${k} takes one node (only partition takes groups): write one fault step per node`);
      if (req.from) this.fail(where.from, `\`from\` belongs to partition, not to ${k}`);
    }
    if (k === 'delay') {
      if (req.delayMs === undefined) this.fail(where.kind, 'fault delay needs the added latency in ms, e.g. "delay web3 300" or { kind: delay, node: web3, ms: 300 }');
      if (!(req.delayMs > 0 && req.delayMs <= 60_000)) this.fail(where.ms, `delay must be between 1 and 60000 ms, got ${req.delayMs}`);
      if (req.jitterMs !== undefined && !(req.jitterMs >= 0 && req.jitterMs <= 60_000)) this.fail(where.jitter, `jitter must be between 0 and 60000 ms, got ${req.jitterMs}`);
    } else {
      if (req.delayMs !== undefined) this.fail(where.ms, `ms belongs to delay, not to ${k}`);
      if (req.jitterMs !== undefined) this.fail(where.jitter, `jitter belongs to delay, not to ${k}`);
    }
    if (k === 'loss') {
      if (req.lossPct === undefined) this.fail(where.kind, 'fault loss needs a percentage, e.g. "loss web1 30" or { kind: loss, node: web1, percent: 30 }');
      if (!isLossPct(req.lossPct)) {
        this.fail(where.percent, `loss percent must be from ${MIN_LOSS_PCT} to 100 with at most two decimals (the finest step packet loss is applied in), got ${clip(String(req.lossPct))}`);
      }
    } else if (req.lossPct !== undefined) this.fail(where.percent, `percent belongs to loss, not to ${k}`);
    if (req.forMs !== undefined && REPAIR_FAULTS.includes(k)) this.fail(where.for, `\`for\` applies to faults that break something; ${k} repairs`);
    const fault = prune({ kind: k, nodes: req.nodes, from: req.from, delayMs: req.delayMs, jitterMs: req.jitterMs, lossPct: req.lossPct, forMs: req.forMs });
    // The injector's own check, so that what a scenario accepts is what a lab applies.
    const problem = faultRequestProblem(fault, this.env.topo.nodes.map((n) => n.name));
    if (problem) this.fail(where.kind, `fault ${describeFault(fault)}: ${problem}`);
    return fault;
  }

  // ---- maintenance

  private maintenance(e: Entry, pos: SourcePos): Step {
    const v = e.value!;
    let on: boolean | undefined;
    let node: string | undefined;
    let nodeAt: YamlNode | undefined;
    if (isMap(v)) {
      for (const x of this.entries(v, 'maintenance', MAINTENANCE_KEYS)) {
        if (x.key === 'on') on = this.bool(x, 'maintenance on');
        else {
          node = this.string(x, 'maintenance node');
          nodeAt = x.at;
        }
      }
      if (on === undefined) this.fail(v, 'maintenance needs `on: true` or `on: false`');
    } else {
      on = this.bool(e, 'maintenance (on or off)');
    }
    if (node !== undefined) {
      if (!this.hasRole('lb')) this.fail(nodeAt, `maintenance of one node drains it in HAProxy, and ${this.describeTopo()} (no HAProxy): use the ha preset`);
      this.checkNode(node, nodeAt!, ['web'], 'maintenance of one node (an HAProxy drain)');
    }
    return prune({ pos, text: `maintenance ${on ? 'on' : 'off'}${node ? ` ${node}` : ''}`, kind: 'maintenance' as const, on, node });
  }

  // ---- assert

  private assert(e: Entry, pos: SourcePos): Step {
    const map = this.mapping(e.value, 'assert', e.at);
    const step: AssertStep = { kind: 'assert', metrics: {} };
    const state: StatePredicates = {};
    const parts: string[] = [];
    let runAt: YamlNode | undefined;
    let withinAt: YamlNode | undefined;
    let firstMetricAt: YamlNode | undefined;
    for (const x of this.entries(map, 'assert', ASSERT_KEYS)) {
      const key = x.key;
      if ((METRIC_KEYS as readonly string[]).includes(key)) {
        const t = this.threshold(x, key, metricUnits(key as MetricKey));
        step.metrics[key as MetricKey] = t;
        parts.push(`${key} ${t.text}`);
        firstMetricAt ??= x.keyNode;
        continue;
      }
      switch (key) {
        case 'healthy':
        case 'unhealthy': {
          const l = this.nodeList(x, key);
          l.names.forEach((n, i) => this.checkNode(n, l.at[i]!));
          const other = key === 'healthy' ? state.unhealthy : state.healthy;
          const both = l.names.find((n) => other?.includes(n));
          if (both) this.fail(l.at[l.names.indexOf(both)], `${both} cannot be both healthy and unhealthy`);
          state[key] = [...new Set(l.names)];
          parts.push(`${key} ${l.names.join(',')}`);
          break;
        }
        case 'haproxy': {
          if (!this.hasRole('lb')) this.fail(x.keyNode, `haproxy: ${this.describeTopo()} (no HAProxy)`);
          const m = this.mapping(x.value, 'haproxy (node: status, e.g. { web2: DOWN })', x.at);
          const out: Record<string, string> = {};
          for (const s of this.entries(m, 'haproxy', this.env.topo.nodes.filter((n) => n.role === 'web' || n.role === 'db').map((n) => n.name))) {
            const st = s.value && isScalar(s.value) && typeof s.value.value === 'string' ? s.value.value.toUpperCase() : '';
            if (!(HAPROXY_STATES as readonly string[]).includes(st)) this.fail(s.at, `haproxy status of ${s.key} must be one of ${quote(HAPROXY_STATES)}, not ${this.show(s.value)}`);
            out[s.key] = st;
          }
          if (!Object.keys(out).length) this.fail(x.at, 'haproxy needs at least one node: status, e.g. { web2: DOWN }');
          state.haproxy = out;
          parts.push(`haproxy ${Object.entries(out).map(([n, s]) => `${n}=${s}`).join(',')}`);
          break;
        }
        case 'galeraSize':
        case 'galeraStatus':
          if (!this.hasRole('db')) this.fail(x.keyNode, `${key}: ${this.describeTopo()} (no Galera)`);
          if (key === 'galeraSize') {
            state.galeraSize = this.threshold(x, key, 'count');
            parts.push(`galeraSize ${state.galeraSize.text}`);
          } else {
            const s = x.value && isScalar(x.value) && typeof x.value.value === 'string' ? GALERA_STATES.find((g) => g.toLowerCase() === (x.value as { value: string }).value.trim().toLowerCase()) : undefined;
            if (!s) this.fail(x.at, `galeraStatus must be ${GALERA_STATES.join(' or ')}, not ${this.show(x.value)}`);
            state.galeraStatus = s;
            parts.push(`galeraStatus ${s}`);
          }
          break;
        case 'bricksOnline':
        case 'healPending':
          if (!this.hasRole('storage')) this.fail(x.keyNode, `${key}: ${this.describeTopo()} (no GlusterFS)`);
          state[key] = this.threshold(x, key, 'count');
          parts.push(`${key} ${state[key]!.text}`);
          break;
        case 'redisUp':
          if (!this.hasRole('cache')) this.fail(x.keyNode, `redisUp: ${this.describeTopo()} (no Redis)`);
          state.redisUp = this.bool(x, 'redisUp');
          parts.push(`redisUp ${state.redisUp}`);
          break;
        case 'moodleMaintenance':
          state.moodleMaintenance = this.bool(x, 'moodleMaintenance');
          parts.push(`moodleMaintenance ${state.moodleMaintenance}`);
          break;
        case 'within':
          step.withinMs = this.duration(x, 'within', { min: 0 });
          withinAt = x.keyNode;
          break;
        default: // run
          step.run = this.string(x, 'run');
          runAt = x.at;
      }
    }
    const hasMetrics = Object.keys(step.metrics).length > 0;
    const hasState = Object.keys(state).length > 0;
    if (!hasMetrics && !hasState) {
      this.fail(e.at, `assert needs at least one metric threshold (${quote(METRIC_KEYS)}) or state predicate (${quote(STATE_KEYS)})`);
    }
    if (step.withinMs !== undefined && !hasState) this.fail(withinAt, '`within` retries state predicates (healthy, galeraSize, …); metric thresholds are checked once');
    if (step.run !== undefined) {
      if (!hasMetrics) this.fail(runAt, '`run` picks the load run that metric thresholds read; this assert has none');
      if (!this.runs.has(step.run)) {
        const hint = closest(step.run, [...this.runs.keys()]);
        this.fail(runAt, `no load run named "${clip(step.run)}" before this step${hint ? ` (did you mean "${hint}"?)` : ''}${this.runs.size ? `: runs so far are ${quote([...this.runs.keys()])}` : ': start one with `load: { name: …, users: … }`'}`);
      }
    } else if (hasMetrics && this.runs.size === 0) {
      this.fail(firstMetricAt, 'metric thresholds read a load run, and no load was started before this assert: add a `load:` step first');
    }
    if (hasState) step.state = state;
    const within = step.withinMs !== undefined ? ` within ${fmtMs(step.withinMs)}` : '';
    const run = step.run !== undefined ? ` (run ${step.run})` : '';
    return prune({ pos, text: `assert ${parts.join(', ')}${within}${run}`, ...step });
  }

  /** `0`, `">= 0.85"`, `"<= 1500ms"`, `"< 1%"` → Threshold. */
  private threshold(e: Entry, key: string, units: 'ms' | 'fraction' | 'count' | 'number'): Threshold {
    const v = e.value;
    const ex = thresholdExample(key);
    if (v && isScalar(v) && typeof v.value === 'number') {
      return this.checkedThreshold(e, key, units, { op: '==', value: v.value, text: `== ${v.value}` });
    }
    if (!v || !isScalar(v) || typeof v.value !== 'string') this.fail(e.at, `${key} must be a threshold like ${ex}, not ${this.show(v)}`);
    const written = v.value.trim();
    const m = /^(<=|>=|==|!=|=|<|>)?\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z%]*)$/i.exec(written);
    if (!m) this.fail(e.at, `${key}: "${clip(written)}" is not a threshold; write e.g. ${ex} (operators <, <=, ==, >=, >, !=)`);
    const op = (m[1] === '=' || !m[1] ? '==' : m[1]) as Comparator;
    let value = Number(m[2]);
    const unit = m[3]!.toLowerCase();
    if (units === 'ms') {
      const mult: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000 };
      if (mult[unit] === undefined) this.fail(e.at, `${key}: unit "${clip(m[3]!)}" is not a time unit; use ms, s or m (a bare number is ms), e.g. ${ex}`);
      value = Math.round(value * mult[unit]!);
    } else if (unit === '%' && key === 'errorRate') value = value / 100;
    else if (unit) this.fail(e.at, `${key}: "${clip(written)}" has a unit (${clip(m[3]!)}), and ${key} takes a plain number, e.g. ${ex}`);
    const text = m[1] ? written : `== ${written}`;
    return this.checkedThreshold(e, key, units, { op, value, text });
  }

  private checkedThreshold(e: Entry, key: string, units: 'ms' | 'fraction' | 'count' | 'number', t: Threshold): Threshold {
    if (t.value < 0) this.fail(e.at, `${key} cannot be negative`);
    if (!Number.isFinite(t.value) || t.value > Number.MAX_SAFE_INTEGER) this.fail(e.at, `${key}: ${clip(t.text)} is too large to compare with`);
    if (units === 'fraction' && t.value > 1) {
      this.fail(e.at, `${key} is a fraction from 0 to 1${key === 'errorRate' ? ' (or a percentage: "< 1%")' : ''}, got ${clip(t.text)}`);
    }
    if (units === 'count' && !Number.isInteger(t.value)) this.fail(e.at, `${key} counts things: use a whole number, got ${clip(t.text)}`);
    return t;
  }

  // ---- compare

  private compare(e: Entry, pos: SourcePos): Step {
    const v = e.value!;
    const names: string[] = [];
    const at: YamlNode[] = [];
    if (isSeq(v)) {
      for (const item of v.items) {
        const n = this.resolve(item);
        if (!n || !isScalar(n) || typeof n.value !== 'string') this.fail(n ?? e.at, `compare lists run names, not ${this.show(n)}`);
        names.push(n.value.trim());
        at.push(n);
      }
    } else if (isScalar(v) && typeof v.value === 'string') {
      for (const n of v.value.split(',').map((s) => s.trim()).filter(Boolean)) {
        names.push(n);
        at.push(v);
      }
    } else this.fail(e.at, `compare must list load run names, e.g. [single, ha], not ${this.show(v)}`);
    if (names.length < 2) this.fail(e.at, 'compare needs at least two load runs, e.g. compare: [single, ha]');
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i) this.fail(at[i], `run "${clip(n)}" is listed twice`);
      const run = this.runs.get(n);
      if (!run) {
        const hint = closest(n, [...this.runs.keys()]);
        this.fail(at[i], `no load run named "${clip(n)}" before this step${hint ? ` (did you mean "${hint}"?)` : ''}${this.runs.size ? `: runs so far are ${quote([...this.runs.keys()])}` : ''} (name runs with \`load: { name: ${clip(n, 40)}, … }\`)`);
      }
      if (!run.done) this.fail(at[i], `run "${clip(n)}" is still running here: add \`load: wait\` before compare`);
    });
    return { pos, text: `compare ${names.join(', ')}`, kind: 'compare', runs: names };
  }
}

function metricUnits(key: MetricKey): 'ms' | 'fraction' | 'count' | 'number' {
  if (DURATION_METRICS.includes(key)) return 'ms';
  if (key === 'apdex' || key === 'errorRate') return 'fraction';
  if (key === 'throughput') return 'number';
  return 'count';
}

export function thresholdExample(key: string): string {
  const ex: Record<string, string> = {
    failures: '0', errorRate: '"<= 1%"', apdex: '">= 0.85"', p50: '"<= 500ms"', p95: '"<= 1500ms"', p99: '"<= 3s"', max: '"<= 5s"',
    requests: '">= 100"', throughput: '">= 1.5"', detection: '"<= 5s"', blackout: '"<= 3000ms"', recovery: '"<= 60s"',
    failedDuringFaults: '0', lostWrites: '0', lostFiles: '0', lostSessions: '">= 1"', galeraSize: '3', bricksOnline: '">= 2"', healPending: '0',
  };
  return ex[key] ?? '">= 1"';
}

function example(kind: string): string {
  const ex: Record<string, string> = {
    up: '`up` or `up: { preset: single }`',
    down: '`down`',
    load: '`load: { users: 30, duration: 60s }`, `load: stop` or `load: wait`',
    wait: '`wait: 20s`',
    fault: '`fault: stop web2`',
    heal: '`heal` or `heal: web2`',
    maintenance: '`maintenance: on` or `maintenance: { on: true, node: web2 }`',
    say: '`say: "Watch the HAProxy table"`',
    assert: '`assert: { failures: 0, apdex: ">= 0.85" }`',
    compare: '`compare: [single, ha]`',
  };
  return ex[kind] ?? '`wait: 20s`';
}
