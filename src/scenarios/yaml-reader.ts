/**
 * The shared YAML reader of scenario files: a parsed `yaml` document with its line counter, and
 * the node/line/type helpers every step's parser reads values with (`entries`, `string`, `int`,
 * `duration`, `nodeList`, …). Every problem becomes one `ScenarioError` ("file:line:col: reason")
 * pointing at the offending YAML node; aliases are resolved once, before anything is read.
 */
import { isAlias, isMap, isScalar, isSeq, Lexer, LineCounter, parseDocument, visit } from 'yaml';
import type { Alias, Document, Node as YamlNode, YAMLMap } from 'yaml';
import { durationMs } from '../load/faults';
import { MAX_DURATION_MS } from '../protocol/faults';
import { ScenarioError, SourcePos } from './types';

export type { YamlNode };

/** description, say: and every other text value. */
export const MAX_TEXT_CHARS = 2000;
/** Collections inside collections: a scenario needs about 4; the yaml package needs memory and stack for each. */
export const MAX_NESTING = 64;

/**
 * Offset where collections first nest deeper than MAX_NESTING, or undefined. Lexing is linear
 * and light; the yaml package's parser is not, on 1 MB of "[[[[" (about 1 GB and a stack overflow).
 * Counts open flow collections, block indicators (`- `, `? `, `: `) on one line, and the
 * indentation levels the line is in.
 */
export function tooDeepAt(text: string): number | undefined {
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

/** `*alias` uses per file (the yaml package's own default for alias expansion). */
export const MAX_ALIASES = 100;

/**
 * Parses a YAML text into a document with its positions, or throws the first problem as one
 * `ScenarioError` (file:line:col): nesting deeper than MAX_NESTING (`what` says what the file is,
 * e.g. "a lab file is a few mappings"), or the parser's first syntax error (with `hint` added when
 * it has one for that error's code). Duplicate keys are left to the readers (the yaml package's
 * own check compares every key with every other one).
 */
export function parseYaml(
  text: string,
  file: string,
  what: string,
  hint: (code: string) => string = () => '',
): { doc: Document; at: (offset: number) => SourcePos } {
  const deep = tooDeepAt(text);
  if (deep !== undefined) {
    const before = text.slice(0, deep).split('\n');
    throw new ScenarioError(
      file,
      before.length,
      before.at(-1)!.length + 1,
      `nesting deeper than ${MAX_NESTING} levels (lists and mappings inside one another): ${what}`,
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number): SourcePos => lineCounter.linePos(offset);
  const first = doc.errors[0];
  if (first) {
    const p = at(first.pos[0]);
    if (/call stack/i.test(first.message)) throw new ScenarioError(file, p.line, p.col, `nesting too deep: ${what}`);
    throw new ScenarioError(file, p.line, p.col, `YAML syntax error: ${clip(first.message.split('\n')[0] ?? '', 200)}${hint(first.code)}`);
  }
  return { doc, at };
}

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
export function prune<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function fmtMs(ms: number): string {
  if (ms >= 600_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A value the user wrote, shortened for a message. */
export function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function quote(list: readonly string[]): string {
  return list.join(', ');
}

/** One `key: value` of a mapping; `at` is where to point for the value (the key when the value is empty). */
export interface Entry {
  key: string;
  keyNode: YamlNode;
  value: YamlNode | null;
  at: YamlNode;
}

export class YamlReader {
  /** Every `*alias` with the node it stands for (resolved once: the yaml package walks the whole document per alias). */
  private readonly aliases = new Map<Alias, YamlNode | null>();

  constructor(
    readonly file: string,
    protected readonly doc: Document,
    private readonly at: (offset: number) => SourcePos,
  ) {}

  // ---- positions and errors

  pos(node: YamlNode | null | undefined): SourcePos {
    const off = node?.range?.[0];
    return off === undefined ? { line: 1, col: 1 } : this.at(off);
  }

  fail(node: YamlNode | null | undefined, reason: string): never {
    const p = this.pos(node);
    throw new ScenarioError(this.file, p.line, p.col, clip(reason, 1000));
  }

  resolve(node: unknown): YamlNode | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.aliases.get(node) ?? null;
    return node as YamlNode;
  }

  /** Resolves every alias to the last node anchored with its name before it, as YAML says; at most MAX_ALIASES. */
  resolveAliases(): void {
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
  show(node: YamlNode | null): string {
    if (node === null || (isScalar(node) && node.value === null)) return 'nothing';
    if (isMap(node)) return 'a mapping';
    if (isSeq(node)) return 'a list';
    if (isScalar(node)) return clip(typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.value));
    return 'something else';
  }

  isEmpty(node: YamlNode | null): boolean {
    return node === null || (isScalar(node) && node.value === null);
  }

  entries(map: YAMLMap, where: string, allowed: readonly string[], limit?: number): Entry[] {
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

  mapping(node: YamlNode | null, where: string, fallback: YamlNode): YAMLMap {
    if (!node || !isMap(node)) this.fail(node && !this.isEmpty(node) ? node : fallback, `${where} must be a mapping (key: value), not ${this.show(node)}`);
    return node;
  }

  string(e: Entry, where: string, max = MAX_TEXT_CHARS): string {
    const v = e.value;
    if (!v || !isScalar(v) || typeof v.value !== 'string' || v.value.trim() === '') this.fail(e.at, `${where} must be text, not ${this.show(v)}`);
    const text = v.value.trim();
    if (text.length > max) this.fail(e.at, `${where} is ${text.length} characters long; at most ${max}`);
    return text;
  }

  /** Text or a number (durations, thresholds and fault values may be written either way). */
  scalarText(e: Entry, where: string, example: string): string {
    const v = e.value;
    if (!v || !isScalar(v) || (typeof v.value !== 'string' && typeof v.value !== 'number'))
      this.fail(e.at, `${where} must be a value like ${example}, not ${this.show(v)}`);
    return String(v.value).trim();
  }

  bool(e: Entry, where: string): boolean {
    const v = e.value;
    if (v && isScalar(v)) {
      if (typeof v.value === 'boolean') return v.value;
      if (v.value === 'on' || v.value === 'yes') return true;
      if (v.value === 'off' || v.value === 'no') return false;
    }
    return this.fail(e.at, `${where} must be true or false, not ${this.show(v)}`);
  }

  int(e: Entry, where: string, min: number, max: number): number {
    const v = e.value;
    const n =
      v && isScalar(v) ? (typeof v.value === 'number' ? v.value : typeof v.value === 'string' && /^\s*\d+\s*$/.test(v.value) ? Number(v.value) : NaN) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) this.fail(e.at, `${where} must be a whole number from ${min} to ${max} (got ${this.show(v)})`);
    return n;
  }

  number(e: Entry, where: string, min: number, max: number, unit = ''): number {
    const v = e.value;
    let n = NaN;
    if (v && isScalar(v)) {
      if (typeof v.value === 'number') n = v.value;
      else if (typeof v.value === 'string') {
        const m = new RegExp(`^\\s*(\\d+(?:\\.\\d+)?|\\.\\d+)\\s*${unit ? `(?:${unit})?` : ''}\\s*$`).exec(v.value);
        if (m) n = Number(m[1]);
      }
    }
    if (!Number.isFinite(n) || n < min || n > max)
      this.fail(e.at, `${where} must be a number from ${min} to ${max}${unit ? ` (${unit} optional)` : ''}, got ${this.show(v)}`);
    return n;
  }

  /** A duration in ms, from `min` (default: above zero) to `max` (default and most: 24 h). */
  duration(e: Entry, where: string, opts: { min?: number; max?: number } = {}): number {
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
  nodeList(e: Entry, where: string): { names: string[]; at: YamlNode[] } {
    const v = e.value;
    const names: string[] = [];
    const at: YamlNode[] = [];
    const push = (n: YamlNode | null) => {
      if (!n || !isScalar(n) || typeof n.value !== 'string' || !n.value.trim())
        this.fail(n ?? e.at, `${where} must name nodes, e.g. web2 or [web1, web3], not ${this.show(n)}`);
      for (const part of n.value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        names.push(part);
        at.push(n);
      }
    };
    if (v && isSeq(v)) v.items.forEach((i) => push(this.resolve(i)));
    else push(v && !this.isEmpty(v) ? v : null);
    if (!names.length) this.fail(e.at, `${where} needs at least one node`);
    return { names, at };
  }
}
