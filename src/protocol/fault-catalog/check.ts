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
  if (!isNames(r.nodes) || (r.from !== undefined && !isNames(r.from)) || (r.to !== undefined && !isNames(r.to))) return `fault ${entry.kind} needs node names`;
  const nodes = r.nodes;
  const from = r.from as string[] | undefined;
  const to = r.to as string[] | undefined;
  if (known) {
    const unknown = [...nodes, ...(from ?? []), ...(to ?? [])].filter((n) => !known.includes(n));
    if (unknown.length) return `unknown node${unknown.length > 1 ? 's' : ''} ${quoted(unknown.slice(0, 5))}: this lab has ${known.join(', ')}`;
  }
  if (nodes.length === 0) return `fault ${entry.kind} needs a node`;
  if (entry.targets === 'groups') {
    if (!from?.length) return `${entry.kind} needs --from <nodes>: the other side`;
    const both = nodes.filter((n) => from.includes(n));
    if (both.length) return `a node cannot be on both sides of a ${entry.kind}: ${quoted(both.slice(0, 5))}`;
  } else if (nodes.length > 1 || from) return `fault ${entry.kind} takes one node`;
  if (to !== undefined) {
    if (!entry.link) return `--to applies to the link faults (${LINK_KINDS.join(', ')}), not to ${entry.kind}`;
    if (!to.length) return `--to needs node names`;
    if (to.includes(nodes[0]!)) return `--to names the other end of the link: not ${nodes[0]} itself`;
  }
  for (const p of entry.params) {
    const v = r[p.field];
    if (p.required || v !== undefined ? !paramOk(p, v) : false) return p.problem(v);
  }
  const forMs = r.forMs;
  if (forMs !== undefined && (entry.effect === 'repair' || !(typeof forMs === 'number' && Number.isFinite(forMs) && forMs > 0 && forMs <= MAX_DURATION_MS))) {
    return `--for applies to faults that break something, with a positive duration of at most 24 h`;
  }
  const everyMs = r.everyMs;
  if (everyMs !== undefined) {
    if (entry.effect === 'repair') return `--every applies to faults that break something; ${entry.kind} repairs`;
    if (!(typeof everyMs === 'number' && Number.isFinite(everyMs) && everyMs >= MIN_EVERY_MS && everyMs <= MAX_DURATION_MS))
      return `--every must be a duration from ${MIN_EVERY_MS / 1000} s to 24 h`;
    if (typeof forMs !== 'number' || forMs >= everyMs) return `--every needs --for shorter than it: how long each time lasts (e.g. --every 20s --for 5s)`;
  }
  return undefined;
}

/** The shortest repetition period (`--every`): a cycle must leave time to apply and revert. */
export const MIN_EVERY_MS = 2000;

/** The kinds that take `--to` (link faults). */
export const LINK_KINDS: readonly FaultKind[] = FAULT_CATALOG.filter((e) => e.link).map((e) => e.kind);

/** A loss percentage the lab applies exactly: 0.01 to 100 in steps of 0.01 (12.34 yes, 12.345 no). */
export function isLossPct(x: unknown): x is number {
  return paramOk(percent, x);
}

/** "delay web1 200ms ±20ms", "partition galera1 from galera2,galera3", "stop web2", "stop web2 every 20s for 5s". */
export function describeFault(f: FaultRequest | ActiveFault | FaultRequestLike, catalog: readonly FaultEntry[] = FAULT_CATALOG): string {
  const entry = faultEntry(f.kind, catalog);
  const every = f.everyMs && f.forMs ? ` every ${secs(f.everyMs)} for ${secs(f.forMs)}` : '';
  return `${f.kind} ${entry?.describe ? entry.describe(f) : f.nodes.join(',')}${every}`;
}
const secs = (ms: number) => `${+(ms / 1000).toFixed(3)}s`;
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
  to?: string[];
  for?: number;
  every?: number;
  [option: string]: number | string[] | undefined;
}

/** The request, or the first problem and the field it is about (`kind`, `nodes`, `from`, `for`, or an option). */
export type FaultFromFields = { ok: true; request: FaultRequest } | { ok: false; field: string; problem: string };

/** Keys a scenario's fault mapping may have: kind, node, nodes, from, each parameter's option, for. */
export const FAULT_FIELD_KEYS: readonly string[] = ['kind', 'node', 'nodes', 'from', 'to', ...faultParams().map((p) => p.option), 'for', 'every'];

/** The option words of a fault's text form (`"delay web3 300 jitter 20 for 10s"`): from, for, each parameter's option. */
export const FAULT_TEXT_OPTIONS: readonly string[] = ['from', 'to', 'for', 'every', ...faultParams().map((p) => p.option)];

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
  if (fields.to !== undefined && !entry.link) return fail('to', `\`to\` belongs to the link faults (${LINK_KINDS.join(', ')}), not to ${k}`);
  const request: FaultRequest = { kind: k as FaultKind, nodes, ...(from ? { from } : {}), ...(fields.to ? { to: fields.to } : {}) };
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
  if (fields.every !== undefined) {
    if (entry.effect === 'repair') return fail('every', `\`every\` applies to faults that break something; ${k} repairs`);
    if (fields.for === undefined) return fail('every', `\`every\` needs \`for\`: how long each time lasts (e.g. "stop web2 every 20s for 5s")`);
    request.everyMs = fields.every;
  }
  const problem = faultRequestProblem(request, known);
  if (problem) return fail('kind', `fault ${describeFault(request)}: ${problem}`);
  return { ok: true, request };
}
