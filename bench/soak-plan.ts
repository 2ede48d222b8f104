/**
 * The soak bench's fault plan, drawn from a seed: which fault, on which node, held how long.
 * Pure (no Docker, no clock): the same seed and lab always give the same plan.
 *
 * The plan opens with windows that cover every kind and every role at least once (in a drawn
 * order), then draws freely. A partition cuts a node off from its peers of the same role, so it
 * only goes to roles whose nodes talk to each other and that have at least two nodes (Galera,
 * Gluster). The plan is a little longer than the run needs (heals are estimated short); the
 * runner stops taking windows when the time left is too short for one.
 */
import type { Role } from '../src/protocol/status';

/** The faults that break something and are healed by `heal` (start/unpause/connect are repairs). */
export const SOAK_KINDS = ['kill', 'stop', 'pause', 'disconnect', 'loss', 'delay', 'partition'] as const;
export type SoakKind = (typeof SOAK_KINDS)[number];

export const SOAK_ROLES: readonly Role[] = ['lb', 'web', 'db', 'storage', 'cache'];

/** Roles whose nodes talk to each other: a partition between them means something. */
export const PEERED_ROLES: readonly Role[] = ['db', 'storage'];

export interface PlanNode {
  name: string;
  role: Role;
}

export interface SoakWindow {
  /** 1-based position in the plan. */
  index: number;
  kind: SoakKind;
  role: Role;
  node: string;
  /** partition: the node's peers (the other side). */
  from?: string[];
  lossPct?: number;
  delayMs?: number;
  /** How long the fault is held before the heal. */
  holdMs: number;
}

export interface PlanOptions {
  seed: number;
  minutes: number;
  nodes: PlanNode[];
  holdMinMs?: number;
  holdMaxMs?: number;
  /** Heal + recovery to green, as estimated for sizing the plan (the runner measures the real one). */
  healEstimateMs?: number;
}

export const PLAN_DEFAULTS = { holdMinMs: 10_000, holdMaxMs: 40_000, healEstimateMs: 20_000 } as const;

/** mulberry32: a small, fast 32-bit PRNG; floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

function shuffled<T>(rnd: () => number, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The roles of this lab a kind can go to (partition: peered roles with ≥ 2 nodes). */
export function rolesFor(kind: SoakKind, nodes: PlanNode[]): Role[] {
  const present = SOAK_ROLES.filter((r) => nodes.some((n) => n.role === r));
  if (kind !== 'partition') return present;
  return present.filter((r) => PEERED_ROLES.includes(r) && nodes.filter((n) => n.role === r).length >= 2);
}

/** The kinds this lab can be given (partition only with a peered role). */
export function kindsFor(nodes: PlanNode[]): SoakKind[] {
  return SOAK_KINDS.filter((k) => rolesFor(k, nodes).length > 0);
}

export function soakPlan(opts: PlanOptions): SoakWindow[] {
  if (!Number.isInteger(opts.seed)) throw new Error(`the seed must be a whole number, not ${opts.seed}`);
  if (!(opts.minutes > 0)) throw new Error(`the soak needs a positive number of minutes, not ${opts.minutes}`);
  const holdMinMs = opts.holdMinMs ?? PLAN_DEFAULTS.holdMinMs;
  const holdMaxMs = opts.holdMaxMs ?? PLAN_DEFAULTS.holdMaxMs;
  if (!(holdMinMs > 0 && holdMaxMs >= holdMinMs)) throw new Error('the hold range must be positive and go up');
  const healEstimateMs = opts.healEstimateMs ?? PLAN_DEFAULTS.healEstimateMs;
  const kinds = kindsFor(opts.nodes);
  if (!kinds.length) throw new Error('the lab has no nodes to fault');
  const rnd = mulberry32(opts.seed);

  // Coverage first: every kind once, and every role not yet hit gets one more window.
  const pairs: [SoakKind, Role][] = [];
  const rolesLeft = new Set(shuffled(rnd, rolesFor('kill', opts.nodes)));
  for (const kind of shuffled(rnd, kinds)) {
    const allowed = rolesFor(kind, opts.nodes);
    const fresh = allowed.filter((r) => rolesLeft.has(r));
    const role = pick(rnd, fresh.length ? fresh : allowed);
    rolesLeft.delete(role);
    pairs.push([kind, role]);
  }
  for (const role of rolesLeft)
    pairs.push([
      pick(
        rnd,
        kinds.filter((k) => rolesFor(k, opts.nodes).includes(role)),
      ),
      role,
    ]);

  const budgetMs = opts.minutes * 60_000;
  const windows: SoakWindow[] = [];
  let usedMs = 0;
  while (usedMs < budgetMs) {
    let kind: SoakKind;
    let role: Role;
    const covering = pairs[windows.length];
    if (covering) [kind, role] = covering;
    else {
      kind = pick(rnd, kinds);
      role = pick(rnd, rolesFor(kind, opts.nodes));
    }
    const ofRole = opts.nodes.filter((n) => n.role === role).map((n) => n.name);
    const node = pick(rnd, ofRole);
    const holdMs = Math.round((holdMinMs + rnd() * (holdMaxMs - holdMinMs)) / 100) * 100;
    const w: SoakWindow = { index: windows.length + 1, kind, role, node, holdMs };
    if (kind === 'partition') w.from = ofRole.filter((n) => n !== node);
    if (kind === 'loss') w.lossPct = pick(rnd, [10, 30, 50]);
    if (kind === 'delay') w.delayMs = pick(rnd, [100, 250, 500]);
    windows.push(w);
    usedMs += holdMs + healEstimateMs;
  }
  return windows;
}

/** "kill galera2 for 23.4 s", as the progress lines and the summary say it. */
export function describeWindow(w: SoakWindow): string {
  const what =
    w.kind === 'partition'
      ? `partition ${w.node} from ${(w.from ?? []).join(',')}`
      : w.kind === 'loss'
        ? `loss ${w.node} ${w.lossPct}%`
        : w.kind === 'delay'
          ? `delay ${w.node} ${w.delayMs}ms`
          : `${w.kind} ${w.node}`;
  return `${what} for ${(w.holdMs / 1000).toFixed(1)} s`;
}
