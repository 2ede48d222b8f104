// @ts-check
/**
 * ESLint rule `lab/no-folder-cycle`: a folder under src/ may not import from a folder that
 * (transitively) imports it back. The folder graph is read from every .ts file under src/
 * (type-only imports count: they tie the folders together just the same) and re-read for a
 * file whose modification time changed, so an editor session sees edits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/** @type {Map<string, { mtimeMs: number; folders: Set<string> }>} */
const perFile = new Map();

/** The folder directly under `src` holding `file`, or undefined (src/cli.ts, files outside src). */
function folderOf(src, file) {
  const rel = path.relative(src, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const parts = rel.split(path.sep);
  return parts.length > 1 ? parts[0] : undefined;
}

function tsFiles(dir) {
  /** @type {string[]} */
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(full));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Folders (under src) that `file` imports from, other than its own. */
function importedFolders(src, file, text) {
  const own = folderOf(src, file);
  const folders = new Set();
  for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
    if (!ref.fileName.startsWith('.')) continue;
    const to = folderOf(src, path.resolve(path.dirname(file), ref.fileName));
    if (to && to !== own) folders.add(to);
  }
  return folders;
}

/** folder → folders it imports from. */
function folderGraph(src) {
  /** @type {Map<string, Set<string>>} */
  const graph = new Map();
  const seen = new Set();
  for (const file of tsFiles(src)) {
    seen.add(file);
    const mtimeMs = fs.statSync(file).mtimeMs;
    let entry = perFile.get(file);
    if (!entry || entry.mtimeMs !== mtimeMs) {
      entry = { mtimeMs, folders: importedFolders(src, file, fs.readFileSync(file, 'utf8')) };
      perFile.set(file, entry);
    }
    const from = folderOf(src, file);
    if (!from) continue;
    const edges = graph.get(from) ?? new Set();
    for (const f of entry.folders) edges.add(f);
    graph.set(from, edges);
  }
  for (const file of perFile.keys()) if (!seen.has(file)) perFile.delete(file);
  return graph;
}

/** A path of folders from `start` to `goal` (both included), or undefined. */
function findPath(graph, start, goal) {
  const prev = new Map([[start, start]]);
  const queue = [start];
  while (queue.length) {
    const at = /** @type {string} */ (queue.shift());
    if (at === goal) {
      const route = [at];
      for (let p = at; p !== start;) route.unshift((p = prev.get(p)));
      return route;
    }
    for (const next of graph.get(at) ?? []) {
      if (!prev.has(next)) {
        prev.set(next, at);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
export const noFolderCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'A folder under src/ may not import from a folder that (transitively) imports it back.' },
    schema: [{ type: 'object', properties: { src: { type: 'string' } }, additionalProperties: false }],
    messages: { cycle: 'src/{{from}} imports src/{{to}}, which imports it back: {{route}}. Move the shared code down a layer.' },
  },
  create(context) {
    const src = path.resolve(context.cwd, context.options[0]?.src ?? 'src');
    const file = context.filename;
    const from = folderOf(src, file);
    if (!from) return {};
    /** @type {Map<string, Set<string>> | undefined} */
    let graph;
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = folderOf(src, path.resolve(path.dirname(file), spec));
      if (!to || to === from) return;
      graph ??= folderGraph(src);
      const back = findPath(graph, to, from);
      if (back) context.report({ node, messageId: 'cycle', data: { from, to, route: [from, ...back].map((f) => `src/${f}`).join(' → ') } });
    };
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};

export default { rules: { 'no-folder-cycle': noFolderCycle } };
