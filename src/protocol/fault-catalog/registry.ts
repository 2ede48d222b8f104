/**
 * The registry of fault kinds. Adding a kind = its entry file beside this one (parameters,
 * states, describe, apply/revert) + one line in FAULT_CATALOG below. Browser-safe.
 */
import { connect } from './connect';
import { delay } from './delay';
import { disconnect } from './disconnect';
import { kill } from './kill';
import { loss } from './loss';
import { partition } from './partition';
import { pause } from './pause';
import { rate } from './rate';
import { start } from './start';
import { stop } from './stop';
import { unpause } from './unpause';
import type { FaultEntry, FaultFields, FaultParam, ParamField } from './types';

/** The registry, in the order every surface lists the kinds. */
export const FAULT_CATALOG = [stop, start, kill, pause, unpause, disconnect, connect, delay, loss, rate, partition] as const;

export type FaultKind = (typeof FAULT_CATALOG)[number]['kind'];
export const FAULT_KINDS: readonly FaultKind[] = FAULT_CATALOG.map((e) => e.kind);

export interface FaultRequest extends FaultFields {
  kind: FaultKind;
}

/** A fault that is in force and can be undone (`heal`). */
export interface ActiveFault {
  id: string;
  kind: FaultKind;
  nodes: string[];
  from?: string[];
  /** Link kinds: only the traffic between the node and these nodes. */
  to?: string[];
  detail: string;
  appliedAt: string;
  /** When it reverts by itself, if `--for` was given. */
  expiresAt?: string;
  params?: Partial<Record<ParamField, number>>;
  /** Link kinds: how the impairment is applied (`netem`, `nfqueue`, `tbf`) and when it was last set. */
  method?: string;
  methodAt?: string;
  /** Link kinds with `to`: each peer's address the rules were written for, when they were last set. */
  peerIps?: Record<string, string>;
  /** A repeating fault (`--every`): the schedule itself; each cycle is its own fault with `cycleOf` = this id. */
  everyMs?: number;
  forMs?: number;
  /** A cycle of the repeating fault with this id. */
  cycleOf?: string;
}

/** A fault request that cannot be applied as asked (unknown kind or node, a value out of range). */
export class FaultRequestError extends Error {}

/** The entry of a kind, or undefined (any value; never reads inherited properties). */
export function faultEntry(kind: unknown, catalog: readonly FaultEntry[] = FAULT_CATALOG): FaultEntry | undefined {
  return catalog.find((e) => e.kind === kind);
}

/** Kinds that repair rather than break: applied at once, never recorded, no `--for`. */
export const REPAIR_KINDS: readonly FaultKind[] = FAULT_CATALOG.filter((e) => e.effect === 'repair').map((e) => e.kind);

/** Every parameter of the catalog, once per field, in catalog order. */
export function faultParams(catalog: readonly FaultEntry[] = FAULT_CATALOG): FaultParam[] {
  const seen = new Map<string, FaultParam>();
  for (const e of catalog) for (const p of e.params) if (!seen.has(p.field)) seen.set(p.field, p);
  return [...seen.values()];
}

/** The kinds that own a parameter field. */
export function paramOwners(field: ParamField, catalog: readonly FaultEntry[] = FAULT_CATALOG): string[] {
  return catalog.filter((e) => e.params.some((p) => p.field === field)).map((e) => e.kind);
}

/** A repeating fault's schedule (`--every`): recorded while it repeats, but itself changes nothing (its cycles do). */
export function isSchedule(f: Pick<ActiveFault, 'everyMs' | 'cycleOf'>): boolean {
  return f.everyMs !== undefined && f.cycleOf === undefined;
}
