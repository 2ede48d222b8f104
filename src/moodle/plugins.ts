/**
 * The plugins installed in a Moodle tree and whether their declared needs are met, checked
 * before Moodle's installer would stop on them: every `$plugin->dependencies` entry present (at
 * the version asked for), `$plugin->requires` not above the core $version, and the core branch
 * below `$plugin->incompatible`.
 *
 * Plugin types come from lib/components.json (paths relative to the root: 'public/mod' in 5.1+,
 * 'mod' in 4.x) and from each plugin's db/subplugins.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { phpArray, phpScalar, stripPhpComments } from './php-source';
import { MoodleSourceError, type MoodleSource } from './types';

export interface InstalledPlugin {
  component: string;
  /** Folder relative to the root, with '/' separators. */
  folder: string;
  version?: number;
  requires?: number;
  incompatible?: number;
  /** component → minimum version; undefined for ANY_VERSION. */
  dependencies: Array<{ component: string; version?: number }>;
}

/** ANY_VERSION is -1 in Moodle; a missing number means the same. */
function versionValue(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === 'ANY_VERSION') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function parsePluginVersion(text: string): Omit<InstalledPlugin, 'component' | 'folder'> & { component?: string } {
  const code = stripPhpComments(text);
  // Activity modules used $module before Moodle 2.7; both are read.
  const get = (field: string) => phpScalar(code, `plugin->${field}`) ?? phpScalar(code, `module->${field}`);
  const deps = phpArray(code, 'plugin->dependencies') ?? phpArray(code, 'module->dependencies') ?? [];
  return {
    component: get('component'),
    version: versionValue(get('version')),
    requires: versionValue(get('requires')),
    incompatible: versionValue(get('incompatible')),
    dependencies: deps.map(([component, v]) => ({ component, version: versionValue(v) })),
  };
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Every plugin folder (one holding version.php) of every plugin type, subplugins included. */
export function listPlugins(source: Pick<MoodleSource, 'root' | 'docroot'>): InstalledPlugin[] {
  const componentsFile = [path.join(source.root, 'lib', 'components.json'), path.join(source.docroot, 'lib', 'components.json')].find((f) => fs.existsSync(f));
  const components = componentsFile ? readJson(componentsFile) : undefined;
  if (!components) throw new MoodleSourceError(`${source.root} has no readable lib/components.json: cannot list its plugins`);
  const types: Array<[string, string]> = Object.entries({ ...stringMap(components.plugintypes), ...stringMap(components.deprecatedplugintypes) }).map(
    ([t, dir]) => [t, path.join(source.root, dir)],
  );
  const plugins: InstalledPlugin[] = [];
  for (let i = 0; i < types.length; i++) {
    const [type, dir] = types[i]!;
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of names) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const folder = path.join(dir, entry.name);
      let text: string;
      try {
        text = fs.readFileSync(path.join(folder, 'version.php'), 'utf8');
      } catch {
        continue;
      }
      const parsed = parsePluginVersion(text);
      plugins.push({ ...parsed, component: `${type}_${entry.name}`, folder: path.relative(source.root, folder).split(path.sep).join('/') });
      // Subplugin types: "subplugintypes" relative to the plugin (4.5+); older "plugintypes" relative to the web root.
      const sub = readJson(path.join(folder, 'db', 'subplugins.json'));
      if (sub) {
        const relToPlugin = stringMap(sub.subplugintypes);
        const relToDocroot = stringMap(sub.plugintypes);
        if (Object.keys(relToPlugin).length) for (const [t, d] of Object.entries(relToPlugin)) types.push([t, path.join(folder, d)]);
        else for (const [t, d] of Object.entries(relToDocroot)) types.push([t, path.join(source.docroot, d)]);
      }
    }
  }
  return plugins;
}

/** One line per unmet need; empty when the source installs cleanly as far as versions go. */
export function pluginProblems(plugins: InstalledPlugin[], core: Pick<MoodleSource, 'version' | 'branch' | 'release'>): string[] {
  const byComponent = new Map(plugins.map((p) => [p.component, p]));
  const problems: string[] = [];
  for (const p of plugins) {
    const who = `plugin ${p.component} (${p.folder})`;
    if (p.requires !== undefined && p.requires > core.version) {
      problems.push(`${who} requires Moodle version ${p.requires}, but the source is ${core.version} (${core.release})`);
    }
    if (p.incompatible !== undefined && Number(core.branch) >= p.incompatible) {
      problems.push(`${who} is marked incompatible with Moodle branch ${p.incompatible} and later, and the source is branch ${core.branch}`);
    }
    for (const dep of p.dependencies) {
      if (dep.component === 'core' || dep.component.startsWith('core_')) {
        if (dep.version !== undefined && dep.version > core.version)
          problems.push(`${who} depends on ${dep.component} version ${dep.version}, but the source is ${core.version}`);
        continue;
      }
      const have = byComponent.get(dep.component);
      if (!have) problems.push(`${who} depends on ${dep.component}, which is not in the source`);
      else if (dep.version !== undefined && (have.version ?? 0) < dep.version) {
        problems.push(
          `${who} depends on ${dep.component} version ${dep.version} or later, but the source has version ${have.version ?? 'unknown'} (${have.folder})`,
        );
      }
    }
  }
  return problems;
}

export async function checkPluginDependencies(source: MoodleSource): Promise<void> {
  const problems = pluginProblems(listPlugins(source), source);
  if (problems.length === 1) throw new MoodleSourceError(`${problems[0]}.`);
  if (problems.length > 1)
    throw new MoodleSourceError(`the Moodle source at ${source.root} has ${problems.length} unmet plugin needs:\n- ${problems.join('\n- ')}`);
}
