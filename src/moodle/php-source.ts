/**
 * Just enough PHP reading for version.php files: comments out (strings kept intact), then
 * assignments picked out by pattern. Nothing here runs PHP.
 */

/** The source without comments; string literals are kept as they are. */
export function stripPhpComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
      out += ' ';
    } else if ((c === '/' && next === '/') || c === '#') {
      const end = src.indexOf('\n', i);
      i = end < 0 ? src.length : end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The literal assigned to `$name` (e.g. `version`) or `$obj->name` (e.g. `plugin->requires`), unquoted. */
export function phpScalar(code: string, target: string): string | undefined {
  const lhs = target.split('->').map(escapeRegExp).join('\\s*->\\s*');
  const m = new RegExp(`\\$${lhs}\\s*=\\s*(?:'((?:[^'\\\\]|\\\\.)*)'|"((?:[^"\\\\]|\\\\.)*)"|([A-Za-z0-9_.+-]+))\\s*;`).exec(code);
  if (!m) return undefined;
  return m[1] ?? m[2] ?? m[3];
}

/** The `'key' => value` pairs of the array assigned to `$obj->name`, or undefined when there is no such assignment. */
export function phpArray(code: string, target: string): Array<[string, string]> | undefined {
  const lhs = target.split('->').map(escapeRegExp).join('\\s*->\\s*');
  const m = new RegExp(`\\$${lhs}\\s*=\\s*(?:\\[([^\\]]*)\\]|array\\s*\\(([^)]*)\\))\\s*;`).exec(code);
  if (!m) return undefined;
  const body = m[1] ?? m[2] ?? '';
  const pairs: Array<[string, string]> = [];
  for (const e of body.matchAll(/['"]([^'"]+)['"]\s*=>\s*([A-Za-z0-9_.+-]+)/g)) pairs.push([e[1]!, e[2]!]);
  return pairs;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
