/**
 * Lab files (`*.lab.yaml`): YAML text → `LabDefinition`, checked completely before anything is
 * created. Every problem is one `ScenarioError` ("file:line:col: reason") pointing at the
 * offending YAML node, on the scenario files' reader (./yaml-reader.ts) and limits (1 MB,
 * strict UTF-8, nesting): unknown keys, roles and options (with what is allowed), counts the
 * role modules refuse (an even Galera without an arbitrator is explained), options a role does
 * not implement yet, and a lab too big for the memory Docker has.
 *
 * The built-in labs are files too: `lab/topologies/<name>.lab.yaml` (a unit test keeps them equal
 * to `BUILTIN_LABS`, which code that has no file system at hand builds from).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isScalar } from 'yaml';
import type { Document } from 'yaml';
import { buildTopology, memoryProblem, PRESET_NAMES, TopologyError } from '../engine/topology';
import type { LabDefinition, Role, RoleOptions } from '../engine/topology';
import { roleModules } from '../roles';
import { ROLE_OPTION_NAMES, ROLE_OPTIONS } from '../roles/definition';
import type { RoleOptionName } from '../roles/definition';
import { HAPROXY_PROFILES } from '../roles/haproxy';
import type { HaproxyProfile } from '../roles/types';
import { formatBytes, MAX_SCENARIO_BYTES, readScenarioFile, ScenarioFileError } from './files';
import { ScenarioError, SourcePos } from './types';
import { clip, closest, parseYaml, quote, YamlNode, YamlReader } from './yaml-reader';

export const LAB_FILE_SUFFIX = '.lab.yaml';
export const LAB_TOP_KEYS = ['name', 'description', 'roles', 'haproxy'] as const;
/** The keys of a role's entry: `count` and every option (a role module says which it implements). */
export const ROLE_ENTRY_KEYS: readonly string[] = ['count', ...ROLE_OPTION_NAMES];
/** The largest count any role entry may have (the role modules' own limits are lower). */
export const MAX_ROLE_COUNT = 99;
const NAME_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The roles a lab file may list: every role module's but those that only come as companions. */
export function listableRoles(): Role[] {
  return roleModules()
    .filter((m) => !m.companionOnly)
    .map((m) => m.role);
}

export interface LabFileOptions {
  /** Docker's memory (`docker info` MemTotal): a lab that does not fit is refused. */
  dockerMemBytes?: number;
  /** Read the file's shape only, without asking the role modules whether they can build it. */
  shapeOnly?: boolean;
}

/** Parses and checks a lab file. Throws `ScenarioError` (file:line:col: reason) on the first problem. */
export function parseLabFile(text: string, file: string, opts: LabFileOptions = {}): LabDefinition {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_SCENARIO_BYTES)
    throw new ScenarioError(file, 1, 1, `the lab file is ${formatBytes(bytes)}; a lab file may be at most ${formatBytes(MAX_SCENARIO_BYTES)}`);
  const { doc, at } = parseYaml(text, file, 'a lab file is a few mappings');
  return new LabFileParser(file, doc, at).definition(opts);
}

class LabFileParser extends YamlReader {
  constructor(file: string, doc: Document, at: (offset: number) => SourcePos) {
    super(file, doc, at);
  }

  definition(opts: LabFileOptions): LabDefinition {
    this.resolveAliases();
    const root = this.resolve(this.doc.contents);
    if (this.isEmpty(root)) throw new ScenarioError(this.file, 1, 1, 'the file is empty: a lab file needs at least `name:` and `roles:`');
    const map = this.mapping(root, 'a lab file', root!);
    let name: string | undefined;
    let description = '';
    let haproxy: HaproxyProfile | undefined;
    let rolesAt: YamlNode | undefined;
    const roles: LabDefinition['roles'] = {};
    /** Where each role's entry and each of its keys are, for errors found after reading. */
    const where = new Map<string, YamlNode>();
    for (const e of this.entries(map, 'the lab file', LAB_TOP_KEYS)) {
      if (e.key === 'name') {
        name = this.string(e, 'name', 63);
        if (!NAME_RE.test(name)) this.fail(e.at, `name must be kebab-case (lower-case letters, digits and dashes, e.g. galera-2plus1), not "${clip(name)}"`);
      } else if (e.key === 'description') description = this.string(e, 'description');
      else if (e.key === 'haproxy') {
        const v = this.string(e, 'haproxy', 40);
        if (!(HAPROXY_PROFILES as readonly string[]).includes(v)) this.fail(e.at, `haproxy must be one of ${quote(HAPROXY_PROFILES)}, not "${clip(v)}"`);
        haproxy = v as HaproxyProfile;
      } else {
        rolesAt = e.keyNode;
        const rmap = this.mapping(e.value, 'roles', e.at);
        const allowed = listableRoles();
        for (const r of this.entries(rmap, 'roles', allowed)) {
          const role = r.key as Role;
          where.set(role, r.keyNode);
          roles[role] = this.roleEntry(role, r.value, r.at, where);
        }
      }
    }
    if (name === undefined) this.fail(map, 'the lab file needs a `name:` (kebab-case, e.g. galera-2plus1)');
    if (!rolesAt) this.fail(map, `the lab file needs \`roles:\` (e.g. web: { count: 3 }; roles: ${quote(listableRoles())})`);
    const def: LabDefinition = { name, description, roles, ...(haproxy ? { haproxy } : {}) };
    if (opts.shapeOnly) return def;
    let topology;
    try {
      topology = buildTopology(def);
    } catch (err) {
      if (!(err instanceof TopologyError)) throw err;
      const node = (err.role && ((err.option && where.get(`${err.role}.${err.option}`)) || where.get(err.role))) || rolesAt;
      this.fail(node, err.message);
    }
    if (opts.dockerMemBytes !== undefined) {
      const why = memoryProblem(topology, opts.dockerMemBytes);
      if (why) this.fail(rolesAt, why);
    }
    return def;
  }

  private roleEntry(role: Role, node: YamlNode | null, at: YamlNode, where: Map<string, YamlNode>): RoleOptions {
    const map = this.mapping(node, `roles.${role}`, at);
    const out: Partial<RoleOptions> = {};
    for (const e of this.entries(map, `roles.${role}`, ROLE_ENTRY_KEYS)) {
      where.set(`${role}.${e.key}`, e.at);
      if (e.key === 'count') out.count = this.int(e, `${role} count`, 0, MAX_ROLE_COUNT);
      else {
        const o = e.key as RoleOptionName;
        const kind = ROLE_OPTIONS[o];
        if (kind === 'boolean') (out as Record<string, unknown>)[o] = this.bool(e, `${role} ${o}`);
        else {
          const v = e.value && isScalar(e.value) && typeof e.value.value === 'string' ? e.value.value : undefined;
          if (v === undefined || !kind.includes(v)) this.fail(e.at, `${role} ${o} must be one of ${quote(kind)}, not ${this.show(e.value)}`);
          (out as Record<string, unknown>)[o] = v;
        }
      }
    }
    if (out.count === undefined) this.fail(at, `roles.${role} needs a count (e.g. ${role}: { count: 1 })`);
    return out as RoleOptions;
  }
}

/** The folder of the built-in lab files, under the lab/ folder. */
export function builtinLabDir(labRoot: string): string {
  return path.join(labRoot, 'topologies');
}

/** The built-in lab files' names (every `<dir>/*.lab.yaml`). */
export function builtinLabNames(labRoot: string): string[] {
  let files: string[];
  try {
    files = fs.readdirSync(builtinLabDir(labRoot));
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith(LAB_FILE_SUFFIX))
    .map((f) => f.slice(0, -LAB_FILE_SUFFIX.length))
    .sort();
}

/** Why `--topology <ref>` cannot name a lab (neither a built-in's name nor a lab file's path), or undefined. */
export function topologyRefProblem(ref: string, labRoot: string): string | undefined {
  const names = [...PRESET_NAMES, ...builtinLabNames(labRoot).filter((n) => !(PRESET_NAMES as readonly string[]).includes(n))];
  if (isLabFileRef(ref) || names.includes(ref)) return undefined;
  const hint = closest(ref, names);
  return `--topology must be one of ${quote(names)} or a lab file (a path ending in ${LAB_FILE_SUFFIX}), not "${clip(ref)}"${hint ? `: did you mean "${hint}"?` : ''}`;
}

function isLabFileRef(ref: string): boolean {
  return /\.ya?ml$/i.test(ref) || ref.includes('/') || ref.includes(path.sep);
}

/**
 * `ref` is a path to a lab file, or a built-in's name (`lab/topologies/<name>.lab.yaml`). Relative
 * paths are taken from `baseDir` (a scenario's folder) when given. A file that cannot be read
 * (missing, over 1 MB, not UTF-8) or an unknown built-in is a `ScenarioFileError`; a bad lab file
 * a `ScenarioError`.
 */
export function loadLabFile(ref: string, labRoot: string, opts: LabFileOptions & { baseDir?: string } = {}): LabDefinition & { source: string } {
  if (isLabFileRef(ref)) {
    const file = opts.baseDir && !path.isAbsolute(ref) ? path.join(opts.baseDir, ref) : ref;
    return { ...parseLabFile(readScenarioFile(file, 'lab file'), file, opts), source: path.resolve(file) };
  }
  const names = builtinLabNames(labRoot);
  if (!names.includes(ref)) {
    const hint = closest(ref, names);
    throw new ScenarioFileError(
      `unknown topology "${clip(ref)}": not a lab file (path ending in ${LAB_FILE_SUFFIX})${hint ? `; did you mean "${hint}"?` : ''} (built-ins: ${quote(names.length ? names : PRESET_NAMES)})`,
    );
  }
  const file = path.join(builtinLabDir(labRoot), `${ref}${LAB_FILE_SUFFIX}`);
  return { ...parseLabFile(readScenarioFile(file, 'lab file'), file, opts), source: `builtin:${ref}` };
}

/**
 * `--topology <file|builtin>`: the lab file read and checked, then checked again against the
 * memory Docker has (so a file with a mistake is refused before Docker is asked anything).
 */
export async function topologyOption(ref: string, labRoot: string, memTotalBytes?: () => Promise<number>): Promise<LabDefinition> {
  const def = loadLabFile(ref, labRoot);
  const mem = memTotalBytes ? await memTotalBytes() : 0;
  return mem > 0 ? loadLabFile(ref, labRoot, { dockerMemBytes: mem }) : def;
}
