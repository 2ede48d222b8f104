/**
 * The role registry: every node role of the lab, in order (tiers, start grouping, diagram).
 * Adding a role = its lab/ folder + its module here + a preset entry (../engine/topology.ts).
 */
import type { Role, RoleDisplay } from '../protocol/status';
import { arbitratorRole } from './arbitrator';
import { cacheRole } from './cache';
import { dbRole } from './db';
import { lbRole } from './lb';
import type { RoleModule } from './types';
import { storageRole } from './storage';
import { webRole } from './web';

export type { RoleModule } from './types';

/** Every role module, by `display.order`. */
const MODULES: readonly RoleModule[] = [lbRole, webRole, dbRole, storageRole, cacheRole, arbitratorRole].sort((a, b) => a.display.order - b.display.order);

export function roleModules(): readonly RoleModule[] {
  return MODULES;
}

export function roleModule(role: Role): RoleModule {
  const m = roleModules().find((r) => r.role === role);
  if (!m) throw new Error(`no role module for role "${role}"`);
  return m;
}

/** The role whose nodes run Moodle (the Moodle image replaces its image in a Moodle lab). */
export function moodleRole(): Role {
  const m = roleModules().find((r) => r.spec.runsMoodle);
  if (!m) throw new Error('no role runs Moodle');
  return m.role;
}

/** What the UIs draw roles with (carried in the snapshot). */
export function roleDisplays(): RoleDisplay[] {
  return roleModules().map((m) => m.display);
}

/** The role of a node named `<prefix><n>` (or `<prefix>` for a role that names a lone node so). */
export function roleOfNode(node: string): RoleModule | undefined {
  return roleModules().find((m) => new RegExp(`^${m.spec.prefix}${m.spec.bareWhenAlone ? '(\\d+)?' : '\\d+'}$`).test(node));
}
