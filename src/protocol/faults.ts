/**
 * Faults a learner can inject, as data shared by the CLI, the extension and the dashboard.
 * No node or vscode imports here: the webview imports this module too.
 */

export const FAULT_KINDS = ['stop', 'start', 'kill', 'pause', 'unpause', 'disconnect', 'connect', 'delay', 'loss', 'partition'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRequest {
  kind: FaultKind;
  /** The node (for `partition`: the first group, comma-separated in the CLI). */
  nodes: string[];
  /** `partition`: the other group. */
  from?: string[];
  /** `delay`: added latency and jitter, ms. */
  delayMs?: number;
  jitterMs?: number;
  /** `loss`: packet loss, percent. */
  lossPct?: number;
  /** Revert by itself after this long. */
  forMs?: number;
}

/**
 * The longest duration a user or a page may ask for (`--for`, `--duration`, a scenario's `wait:`…):
 * 24 h. Far below 2^31-1 ms (24.8 days), where Node's setTimeout overflows and fires after 1 ms.
 */
export const MAX_DURATION_MS = 24 * 3_600_000;
export const MAX_DELAY_MS = 60_000;
/** Loss is applied as an iptables probability with 4 decimals: 0.01 % is the finest step. */
export const MIN_LOSS_PCT = 0.01;

/** A fault request that cannot be applied as asked (unknown kind or node, a value out of range). */
export class FaultRequestError extends Error {}

/** Kinds that repair rather than break: `forMs` makes no sense on them. */
const REPAIR_KINDS: readonly string[] = ['start', 'unpause', 'connect'];

const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every((n) => typeof n === 'string');
const quoted = (names: string[]) => names.map((n) => `"${n.length > 40 ? `${n.slice(0, 40)}…` : n}"`).join(', ');

/**
 * What is wrong with a fault request, or undefined when it can be applied. `known` (the lab's
 * node names) adds the name check. Any value is accepted (the request may come off the wire):
 * this never throws.
 */
export function faultRequestProblem(req: FaultRequest, known?: readonly string[]): string | undefined {
  const r = req as unknown as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null) return 'a fault request must be an object';
  if (!(FAULT_KINDS as readonly unknown[]).includes(r.kind)) return `unknown fault "${String(r.kind).slice(0, 40)}": use one of ${FAULT_KINDS.join(', ')}`;
  if (!isNames(r.nodes) || (r.from !== undefined && !isNames(r.from))) return `fault ${r.kind} needs node names`;
  const nodes = r.nodes;
  const from = r.from as string[] | undefined;
  if (known) {
    const unknown = [...nodes, ...(from ?? [])].filter((n) => !known.includes(n));
    if (unknown.length) return `unknown node${unknown.length > 1 ? 's' : ''} ${quoted(unknown.slice(0, 5))}: this lab has ${known.join(', ')}`;
  }
  if (nodes.length === 0) return `fault ${r.kind} needs a node`;
  if (r.kind === 'partition') {
    if (!from?.length) return 'partition needs --from <nodes>: the other side';
    const both = nodes.filter((n) => from.includes(n));
    if (both.length) return `a node cannot be on both sides of a partition: ${quoted(both.slice(0, 5))}`;
  } else if (nodes.length > 1 || from) return `fault ${r.kind} takes one node`;
  const num = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
  if (r.kind === 'delay' && !(num(r.delayMs, 0, MAX_DELAY_MS) && (r.delayMs as number) > 0)) return `delay needs --ms between 1 and ${MAX_DELAY_MS}`;
  if (r.kind === 'delay' && r.jitterMs !== undefined && !num(r.jitterMs, 0, MAX_DELAY_MS)) return `--jitter must be between 0 and ${MAX_DELAY_MS} ms`;
  if (r.kind === 'loss' && !isLossPct(r.lossPct)) {
    return `loss needs --percent between 0 and 100: from ${MIN_LOSS_PCT} to 100, at most two decimals (got ${String(r.lossPct).slice(0, 40)})`;
  }
  if (r.forMs !== undefined && (REPAIR_KINDS.includes(r.kind as string) || !(num(r.forMs, 0, MAX_DURATION_MS) && (r.forMs as number) > 0))) {
    return `--for applies to faults that break something, with a positive duration of at most 24 h`;
  }
  return undefined;
}

/** A loss percentage the lab applies exactly: 0.01 to 100 in steps of 0.01 (12.34 yes, 12.345 no). */
export function isLossPct(x: unknown): x is number {
  return typeof x === 'number' && x >= MIN_LOSS_PCT && x <= 100 && Math.abs(x * 100 - Math.round(x * 100)) < 1e-6;
}

/** A fault that is in force and can be undone (`heal`). */
export interface ActiveFault {
  id: string;
  kind: FaultKind;
  nodes: string[];
  from?: string[];
  detail: string;
  appliedAt: string;
  /** When it reverts by itself, if `--for` was given. */
  expiresAt?: string;
  params?: { delayMs?: number; jitterMs?: number; lossPct?: number };
}

export function describeFault(f: FaultRequest): string {
  const nodes = f.nodes.join(',');
  switch (f.kind) {
    case 'partition':
      return `partition ${nodes} from ${(f.from ?? []).join(',')}`;
    case 'delay':
      return `delay ${nodes} ${f.delayMs ?? 0}ms${f.jitterMs ? ` ±${f.jitterMs}ms` : ''}`;
    case 'loss':
      return `loss ${nodes} ${f.lossPct ?? 0}%`;
    default:
      return `${f.kind} ${nodes}`;
  }
}
