/**
 * A lab's definition: which roles it has, how many nodes of each and their options. The
 * topology (../engine/topology.ts) is built from one; lab files (`*.lab.yaml`) and the built-in
 * labs are definitions. Browser-safe: types and plain data only.
 */
import type { Role } from '../protocol/status';
import type { HaproxyProfile } from './types';

/** Redis's shape: one node, a master with replicas watched by Sentinels, or a Redis Cluster. */
export type CacheMode = 'single' | 'sentinel' | 'cluster';
export const CACHE_MODES: readonly CacheMode[] = ['single', 'sentinel', 'cluster'];

/** One role's entry in a definition. Which options a role accepts is its module's `options`. */
export interface RoleOptions {
  count: number;
  /** lb: two HAProxy nodes holding a virtual IP with keepalived (VRRP). */
  keepalived?: boolean;
  /** db: a Galera arbitrator (garbd) votes in the quorum. */
  arbitrator?: boolean;
  /** storage: the last brick is an arbiter (`replica 3 arbiter 1`). */
  arbiter?: boolean;
  /** cache: Redis's shape. */
  mode?: CacheMode;
}

export type RoleOptionName = Exclude<keyof RoleOptions, 'count'>;
/** Every option a role entry may carry (besides `count`), with its kind. */
export const ROLE_OPTIONS: Readonly<Record<RoleOptionName, 'boolean' | readonly string[]>> = {
  keepalived: 'boolean',
  arbitrator: 'boolean',
  arbiter: 'boolean',
  mode: CACHE_MODES,
};
export const ROLE_OPTION_NAMES = Object.keys(ROLE_OPTIONS) as RoleOptionName[];

export interface LabDefinition {
  name: string;
  description: string;
  roles: Partial<Record<Role, RoleOptions>>;
  /** HAProxy's timing profile (default `tuned`). */
  haproxy?: HaproxyProfile;
}

/** A role's options in a definition (count 0 when the definition has none of it). */
export function definitionRole(def: LabDefinition, role: Role): RoleOptions {
  return def.roles[role] ?? { count: 0 };
}
