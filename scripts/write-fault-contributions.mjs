// Rewrites package.json's fault commands and node-menu entries from the fault catalog
// (src/protocol/fault-catalog); a unit test fails when they differ.
// Usage: node --import tsx scripts/write-fault-contributions.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import catalogModule from '../src/protocol/fault-catalog/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'package.json');
const pkg = JSON.parse(readFileSync(file, 'utf8'));
const { faultContributions, isFaultCommand } = catalogModule;
const { commands, menus } = faultContributions();

/** Replaces the fault items of a list by `derived`, where the first of them was (else at the end). */
function splice(list, derived) {
  const first = list.findIndex((x) => isFaultCommand(x.command));
  const rest = list.filter((x) => !isFaultCommand(x.command));
  const at = first < 0 ? rest.length : list.slice(0, first).filter((x) => !isFaultCommand(x.command)).length;
  return [...rest.slice(0, at), ...derived, ...rest.slice(at)];
}

pkg.contributes.commands = splice(pkg.contributes.commands, commands);
pkg.contributes.menus['view/item/context'] = splice(pkg.contributes.menus['view/item/context'], menus);
writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`wrote package.json: ${commands.length} fault commands, ${menus.length} node-menu entries`);
