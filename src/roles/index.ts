/**
 * The role registry: every node role of the lab, in order (tiers, start grouping, diagram).
 * Adding a role = its lab/ folder + its module here + a preset entry (../engine/topology.ts).
 */
import type { Role, RoleDisplay } from '../protocol/status';
import { arbitratorRole } from './arbitrator';
import { cacheRole } from './cache';
import { dbRole } from './db';
import { edgeRole } from './edge';
import { lbRole } from './lb';
import type { NodeRef, RoleModule, Topology } from './types';
import { storageRole } from './storage';
import { webRole } from './web';

export type { RoleModule } from './types';

/** Every role module, by `display.order`. */
const MODULES: readonly RoleModule[] = [edgeRole, lbRole, webRole, dbRole, storageRole, cacheRole, arbitratorRole].sort(
  (a, b) => a.display.order - b.display.order,
);

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

/** `@<role>.<name>` (e.g. `@lb.master`): a node named by what the cluster says when it is used. */
export const NODE_REF_RE = /^@([a-z]+)\.([a-z]+)$/;

/** Every node reference any role offers (`@lb.master`, …). */
export function nodeRefNames(): string[] {
  return roleModules().flatMap((m) => Object.keys(m.nodeRefs ?? {}).map((k) => `@${m.role}.${k}`));
}

/**
 * The role module and reference a `@role.name` text stands for (and, given a topology, whether it
 * has such a node); a sentence on what is wrong otherwise.
 */
export function nodeRef(text: string, topology?: Topology): { role: Role; ref: NodeRef } | string {
  const m = NODE_REF_RE.exec(text);
  const all = nodeRefNames();
  if (!m) return `"${text}" is no node reference: write @<role>.<name>, e.g. ${all.join(', ') || '(none in this version)'}`;
  const mod = roleModules().find((r) => r.role === m[1]);
  const ref = mod?.nodeRefs?.[m[2]!];
  if (!mod || !ref) return `unknown node reference "${text}": this version has ${all.join(', ') || 'none'}`;
  if (topology && !ref.available(topology)) return `${text} names ${ref.what}, and this lab has none`;
  return { role: mod.role, ref };
}
