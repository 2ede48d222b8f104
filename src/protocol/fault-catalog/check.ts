/**
 * The one check of a fault request (CLI, protocol, scenarios, `--fault`, the injector), its
 * one-line description, and the scenario's field form — all from the catalog. Browser-safe.
 */
import { ActiveFault, FAULT_CATALOG, FAULT_KINDS, faultEntry, FaultKind, faultParams, FaultRequest, paramOwners } from './registry';
import { percent } from './loss';
import { FaultEntry, FaultParam, MAX_DURATION_MS, paramOk } from './types';

const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((n) => typeof n === 'string');
const quoted = (names: string[]) => names.map((n) => `"${n.length > 40 ? `${n.slice(0, 40)}…` : n}"`).join(', ');

/**
 * What is wrong with a fault request, or undefined when it can be applied. `known` (the lab's
 * node names) adds the name check; `catalog`: the kinds known (default: all). Any value is accepted (the request may come off the wire):
 * this never throws.
 */
export function faultRequestProblem(req: FaultRequest, known?: readonly string[], catalog: readonly FaultEntry[] = FAULT_CATALOG): string | undefined {
  const r = req as unknown as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null) return 'a fault request must be an object';
  const entry = faultEntry(r.kind, catalog);
  if (!entry) return `unknown fault "${String(r.kind).slice(0, 40)}": use one of ${catalog.map((e) => e.kind).join(', ')}`;
  if (!isNames(r.nodes) || (r.from !== undefined && !isNames(r.from))) return `fault ${entry.kind} needs node names`;
  const nodes = r.nodes;
  const from = r.from as string[] | undefined;
  if (known) {
    const unknown = [...nodes, ...(from ?? [])].filter((n) => !known.includes(n));
    if (unknown.length) return `unknown node${unknown.length > 1 ? 's' : ''} ${quoted(unknown.slice(0, 5))}: this lab has ${known.join(', ')}`;
  }
  if (nodes.length === 0) return `fault ${entry.kind} needs a node`;
  if (entry.targets === 'groups') {
    if (!from?.length) return `${entry.kind} needs --from <nodes>: the other side`;
    const both = nodes.filter((n) => from.includes(n));
    if (both.length) return `a node cannot be on both sides of a ${entry.kind}: ${quoted(both.slice(0, 5))}`;
  } else if (nodes.length > 1 || from) return `fault ${entry.kind} takes one node`;
  for (const p of entry.params) {
    const v = r[p.field];
    if (p.required || v !== undefined ? !paramOk(p, v) : false) return p.problem(v);
  }
  const forMs = r.forMs;
  if (forMs !== undefined && (entry.effect === 'repair' || !(typeof forMs === 'number' && Number.isFinite(forMs) && forMs > 0 && forMs <= MAX_DURATION_MS))) {
    return `--for applies to faults that break something, with a positive duration of at most 24 h`;
  }
  return undefined;
}

/** A loss percentage the lab applies exactly: 0.01 to 100 in steps of 0.01 (12.34 yes, 12.345 no). */
export function isLossPct(x: unknown): x is number {
  return paramOk(percent, x);
}

/** "delay web1 200ms ±20ms", "partition galera1 from galera2,galera3", "stop web2". */
export function describeFault(f: FaultRequest | ActiveFault | FaultRequestLike, catalog: readonly FaultEntry[] = FAULT_CATALOG): string {
  const entry = faultEntry(f.kind, catalog);
  return `${f.kind} ${entry?.describe ? entry.describe(f) : f.nodes.join(',')}`;
}
type FaultRequestLike = Parameters<NonNullable<FaultEntry['describe']>>[0];

/** The kinds that take two groups (`nodes` and `from`). */
export const GROUP_KINDS: readonly FaultKind[] = FAULT_CATALOG.filter((e) => e.targets === 'groups').map((e) => e.kind);

/**
 * A fault as the fields of a scenario step (or any form): `nodes`, `from`, `for` (ms) and each
 * parameter under its option name (`ms`, `jitter`, `percent`), numbers already parsed.
 */
export interface FaultFieldValues {
  nodes?: string[];
  from?: string[];
  for?: number;
  [option: string]: number | string[] | undefined;
}

/** The request, or the first problem and the field it is about (`kind`, `nodes`, `from`, `for`, or an option). */
export type FaultFromFields = { ok: true; request: FaultRequest } | { ok: false; field: string; problem: string };

/** Keys a scenario's fault mapping may have: kind, node, nodes, from, each parameter's option, for. */
export const FAULT_FIELD_KEYS: readonly string[] = ['kind', 'node', 'nodes', 'from', ...faultParams().map((p) => p.option), 'for'];

/** The option words of a fault's text form (`"delay web3 300 jitter 20 for 10s"`): from, for, each parameter's option. */
export const FAULT_TEXT_OPTIONS: readonly string[] = ['from', 'for', ...faultParams().map((p) => p.option)];

/** The parameter a kind takes as the value right after its node (`delay web3 300`, `loss web1 30`), if any. */
export function positionalParam(kind: string): FaultParam | undefined {
  return faultEntry(kind)?.params.find((p) => p.positional);
}

/**
 * Builds a fault request from named fields and checks it with the scenario parser's sentences
 * (which field is wrong and why), then the one request check (with the lab's node names when
 * given: `known`).
 */
export function faultFromFields(kind: string, fields: FaultFieldValues, known?: readonly string[]): FaultFromFields {
  const fail = (field: string, problem: string): FaultFromFields => ({ ok: false, field, problem });
  const entry = faultEntry(kind);
  if (!entry) return fail('kind', `unknown fault kind "${kind.length > 40 ? `${kind.slice(0, 40)}…` : kind}": use one of ${FAULT_KINDS.join(', ')}`);
  const k = entry.kind;
  const nodes = fields.nodes;
  const from = fields.from;
  if (!nodes?.length) return fail('nodes', `fault ${k} needs \`node\` (or \`nodes\` for a ${GROUP_KINDS.join('/')})`);
  if (entry.targets === 'groups') {
    if (!from?.length) return fail('nodes', `a ${k} needs the other side: \`from\` (e.g. "partition galera1 from galera2,galera3")`);
    const both = nodes.filter((n) => from.includes(n));
    if (both.length) return fail('from', `a node cannot be on both sides of a ${k}: ${both.join(', ')}`);
    const dup = [...nodes, ...from].find((n, i, all) => all.indexOf(n) !== i);
    if (dup) return fail('from', `${dup} is named twice in the ${k}`);
  } else {
    if (nodes.length > 1) return fail('nodes', `fault ${k} takes one node (only ${GROUP_KINDS.join(', ')} takes groups): write one fault step per node`);
    if (from) return fail('from', `\`from\` belongs to ${GROUP_KINDS.join(', ')}, not to ${k}`);
  }
  const request: FaultRequest = { kind: k as FaultKind, nodes, ...(from ? { from } : {}) };
  for (const p of faultParams()) {
    const v = fields[p.option];
    if (entry.params.includes(p)) {
      if (v === undefined) {
        if (p.required) return fail('kind', p.scenarioNeeds ?? `fault ${k} needs ${p.option}`);
        continue;
      }
      if (!paramOk(p, v)) return fail(p.option, p.scenarioRange(v));
      request[p.field] = v as number;
    } else if (v !== undefined) return fail(p.option, `${p.option} belongs to ${paramOwners(p.field).join(', ')}, not to ${k}`);
  }
  if (fields.for !== undefined) {
    if (entry.effect === 'repair') return fail('for', `\`for\` applies to faults that break something; ${k} repairs`);
    request.forMs = fields.for;
  }
  const problem = faultRequestProblem(request, known);
  if (problem) return fail('kind', `fault ${describeFault(request)}: ${problem}`);
  return { ok: true, request };
}
