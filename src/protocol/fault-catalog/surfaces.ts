/**
 * What each surface shows of the catalog: CLI usage and options, the dashboard's node menu,
 * the VS Code commands and menus (package.json contributions), the scenario's JSON Schema
 * fragment. Every function takes the catalog (default: the real one), so a test can hold a
 * surface against a changed copy. Browser-safe.
 */
import { FAULT_CATALOG, faultParams } from './registry';
import type { FaultEntry, FaultParam, NodeState } from './types';

type Catalog = readonly FaultEntry[];

// ---- CLI

/** The `fault` lines of the CLI usage text. */
export function faultUsageLines(catalog: Catalog = FAULT_CATALOG): string[] {
  const simple = catalog.filter((e) => !e.usage).map((e) => e.kind);
  const own = catalog.filter((e) => e.usage && e.targets === 'node').map((e) => e.usage!);
  const groups = catalog.filter((e) => e.usage && e.targets === 'groups').map((e) => e.usage!);
  return [
    ...(simple.length ? [`fault ${simple.join('|')} <node> [--for 10s]`] : []),
    ...(own.length ? [own.join('     ')] : []),
    ...groups,
    'any fault that breaks: [--for 10s] reverts it by itself; [--every 20s --for 5s] repeats it until `heal`',
  ].map((l) => `  ${l}`);
}

/** The one-line usage of `fault` when its arguments are wrong. */
export function faultUsageError(catalog: Catalog = FAULT_CATALOG): string {
  const options = faultParams(catalog).map((p) => `[--${p.option} N]`);
  const groups = catalog.filter((e) => e.targets === 'groups' && e.usage).map((e) => e.usage!);
  return `usage: ${['fault <kind> <node>', ...options, '[--to <nodes>]', '[--for 10s]', '[--every 20s --for 5s]'].join(' ')}${groups.map((g) => ` | ${g}`).join('')}`;
}

type StringOption = { type: 'string' };

/** The CLI options of `fault` (node:util parseArgs form): --from (groups), --for and each parameter's. */
export function faultCliOptions(
  catalog: Catalog = FAULT_CATALOG,
): { from: StringOption; to: StringOption; for: StringOption; every: StringOption } & Record<string, StringOption> {
  const options: { from: StringOption; to: StringOption; for: StringOption; every: StringOption } & Record<string, StringOption> = {
    from: { type: 'string' },
    to: { type: 'string' },
    for: { type: 'string' },
    every: { type: 'string' },
  };
  for (const p of faultParams(catalog)) options[p.option] = { type: 'string' };
  return options;
}

// ---- menus (dashboard, VS Code)

/** The kinds a node menu offers (VS Code command + dashboard action). */
export function menuKinds(catalog: Catalog = FAULT_CATALOG): string[] {
  return catalog.filter((e) => e.menu).map((e) => e.kind);
}

/** The fault actions the dashboard offers on a node in this state: repairs that bring it back first. */
export function faultActionsFor(state: string, catalog: Catalog = FAULT_CATALOG): string[] {
  const fits = catalog.filter((e) => e.menu && (e.states as readonly string[]).includes(state));
  return [...fits.filter((e) => e.resumes), ...fits.filter((e) => !e.resumes)].map((e) => e.kind);
}

/** The parameters a menu asks for (the required ones), with the value it offers. */
export function menuParams(kind: string, catalog: Catalog = FAULT_CATALOG): FaultParam[] {
  return catalog.find((e) => e.kind === kind)?.params.filter((p) => p.required) ?? [];
}

export const COMMAND_PREFIX = 'moodleLab.node.';
const CATEGORY = 'Moodle HA Lab';
const GROUPS = { container: '1_faults', network: '2_network' } as const;

export interface CommandContribution {
  command: string;
  title: string;
  category: string;
  icon: string;
}
export interface MenuContribution {
  command: string;
  when: string;
  group: string;
}

/**
 * A command id of a fault kind: `moodleLab.node.<kind>` for a kind of the catalog (the other node
 * commands — drain, ready, heal, logs, shell, openBrowser — are not faults).
 */
export function isFaultCommand(command: unknown, catalog: Catalog = FAULT_CATALOG): boolean {
  return typeof command === 'string' && command.startsWith(COMMAND_PREFIX) && catalog.some((e) => e.kind === command.slice(COMMAND_PREFIX.length));
}

const whenStates = (states: readonly NodeState[]) =>
  `view == moodleLab.nodes && viewItem =~ /state-${states.length === 1 ? states[0] : `(${states.join('|')})`}/`;

/** The package.json contributions of the fault kinds: commands, and the node tree's context menu (inline first). */
export function faultContributions(catalog: Catalog = FAULT_CATALOG): { commands: CommandContribution[]; menus: MenuContribution[] } {
  const withMenu = catalog.filter((e) => e.menu);
  const commands = withMenu.map((e) => ({ command: `${COMMAND_PREFIX}${e.kind}`, title: e.menu!.title, category: CATEGORY, icon: e.menu!.icon }));
  const item = (e: FaultEntry, group: string) => ({ command: `${COMMAND_PREFIX}${e.kind}`, when: whenStates(e.menu!.treeStates ?? e.states), group });
  const inline = withMenu.filter((e) => e.menu!.inline).map((e) => item(e, 'inline@1'));
  const grouped = withMenu.map((e) => {
    const mates = withMenu.filter((x) => x.menu!.group === e.menu!.group);
    return item(e, `${GROUPS[e.menu!.group]}@${mates.indexOf(e) + 1}`);
  });
  return { commands, menus: [...inline, ...grouped] };
}

// ---- scenario JSON Schema

/**
 * The fault mapping's pieces for the scenario JSON Schema: the kind enum, one property per
 * parameter (a number in bounds, or text matching the unit's pattern), and the rules of which
 * kind needs what. `patterns` are the schema's text forms: a duration (ms) and a percentage.
 */
export function faultSchemaParts(patterns: { ms: string; percent: string }, catalog: Catalog = FAULT_CATALOG) {
  const properties: Record<string, unknown> = {};
  for (const p of faultParams(catalog)) {
    properties[p.option] = {
      description: p.schemaDescription,
      anyOf: [
        { type: p.integer ? 'integer' : 'number', minimum: p.min, maximum: p.max },
        { type: 'string', pattern: p.unit === 'ms' ? patterns.ms : p.unit === 'kbit' ? '^\\s*\\d+\\s*(kbit)?\\s*$' : patterns.percent },
      ],
    };
  }
  const kindIs = (kinds: string[]) => ({ properties: { kind: kinds.length === 1 ? { const: kinds[0] } : { enum: kinds } } });
  const groups = catalog.filter((e) => e.targets === 'groups').map((e) => e.kind);
  const allOf: unknown[] = groups.length ? [{ if: kindIs(groups), then: { required: ['nodes', 'from'] }, else: { required: ['node'] } }] : [];
  for (const e of catalog) for (const p of e.params.filter((x) => x.required)) allOf.push({ if: kindIs([e.kind]), then: { required: [p.option] } });
  return { kinds: catalog.map((e) => e.kind), properties, allOf };
}
