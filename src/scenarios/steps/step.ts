/**
 * One scenario step kind, declared once: how it is written (its key, whether it may be a bare
 * word, an example for messages), how it is parsed and checked (on the shared YAML reader, with
 * the scenario's state so far), its fragment of the JSON Schema, and what the runner does for it.
 * The registry (./index.ts) lists them; parse.ts, schema.ts and runner.ts only dispatch.
 */
import type { AssertCheck, SourcePos, Step, StepImpairment } from '../types';
import type { Entry, YamlNode } from '../yaml-reader';
import type { StepParser } from './parse-context';
import type { RunContext } from './run-context';

/** A step as the parser found it: `kind: value` (entry), or a bare word (no entry). */
export interface StepInput {
  /** The `kind: value` entry; null for a bare word (`- up`). */
  e: Entry | null;
  /** No value (a bare word, or `kind:` with nothing after it). */
  empty: boolean;
  /** Where to point for the value. */
  at: YamlNode;
  pos: SourcePos;
}

/** What a step's run reports; nothing means passed, with no detail. */
export interface StepOutcome {
  passed?: boolean;
  detail?: string;
  checks?: AssertCheck[];
  impairments?: StepImpairment[];
}

export interface StepDefinition<S extends Step = Step> {
  /** The key a scenario writes (`fault: stop web2`). */
  key: string;
  /** The kinds of parsed step it produces (`load` gives load-start, load-stop and load-wait). */
  kinds: readonly S['kind'][];
  /** May be written as a bare word (`- up`). */
  bare?: boolean;
  /** `<key>:` with no value is refused ("<key> needs a value, e.g. <example>") before parse is called. */
  needsValue?: boolean;
  /** How the step is described to a user: one sentence (the schema's description, editor hovers) and an example (error messages). */
  describe: { summary: string; example: string };
  /** YAML → the step (with its one-line `text`), checked against the scenario's state so far. */
  parse(p: StepParser, input: StepInput): S;
  /** The step's alternative of the JSON Schema's `step` (see ../schema.ts). */
  schema: object;
  /** What the runner does for it. Throwing ends the scenario (the rest is not run). */
  run(step: S, ctx: RunContext): Promise<StepOutcome | void>;
}

/** The parsed step of these kinds. */
export type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;
