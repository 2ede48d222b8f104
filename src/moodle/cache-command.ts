/**
 * `npm run lab -- cache list [--json]` and `cache prune [--all | --older-than 30d]`: the site
 * cache of installed Moodle sites (src/moodle/site-cache.ts). Needs no Docker and no lab.
 */
import { ListedEntry, SiteCache } from './site-cache';

/** Options of the `cache` command and `up --fresh-install`, for the CLI's parseArgs. */
export const SITE_CACHE_OPTIONS = {
  all: { type: 'boolean' },
  'older-than': { type: 'string' },
  'fresh-install': { type: 'boolean' },
} as const;

export interface CacheIo {
  out(text: string): void;
}

/** "30d", "12h", "90m", "45s" → ms. */
export function parseAge(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(d|h|m|s)$/.exec(text.trim());
  if (!m) throw new Error(`invalid --older-than "${text}": expected e.g. 30d, 12h, 90m`);
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[m[2] as 'd' | 'h' | 'm' | 's'];
  return Math.round(Number(m[1]) * unit);
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

function describe(e: ListedEntry): string {
  if (!e.manifest) return `${e.key}  UNUSABLE (${e.problem ?? '?'})  ${mb(e.bytes)}`;
  const m = e.manifest;
  return `${e.key}  Moodle ${m.release}  from ${m.origin}  ${mb(e.bytes)}  made ${m.createdAt}${m.lastUsedAt ? `, last used ${m.lastUsedAt}` : ''}`;
}

function asJson(e: ListedEntry) {
  const m = e.manifest;
  return {
    key: e.key,
    dir: e.dir,
    bytes: e.bytes,
    usable: Boolean(m),
    ...(m
      ? {
          release: m.release,
          origin: m.origin,
          fingerprint: m.fingerprint,
          createdAt: m.createdAt,
          lastUsedAt: m.lastUsedAt,
          tables: m.tables,
          madeBy: m.madeBy,
        }
      : { problem: e.problem }),
  };
}

/** Runs `cache <sub>`; throws `usage(message)` for bad input (nothing touched). */
export function cacheCommand(
  positionals: string[],
  values: { json?: boolean; all?: boolean; 'older-than'?: string },
  cache: SiteCache,
  io: CacheIo,
  usage: (message: string) => Error,
  now = new Date(),
): number {
  const [sub, ...extra] = positionals;
  if (extra.length) throw usage(`cache ${sub ?? ''} takes no arguments (got "${extra.join(' ')}")`);
  if (sub === 'list') {
    if (values.all || values['older-than'] !== undefined) throw usage('--all and --older-than belong to `cache prune`');
    const entries = cache.list();
    if (values.json) io.out(JSON.stringify({ dir: cache.dir, entries: entries.map(asJson) }, null, 2) + '\n');
    else if (!entries.length) io.out(`site cache ${cache.dir}: empty (the first \`up\` of a Moodle source fills it)\n`);
    else io.out(`site cache ${cache.dir}:\n${entries.map((e) => `  ${describe(e)}\n`).join('')}`);
    return 0;
  }
  if (sub === 'prune') {
    if (values.all && values['older-than'] !== undefined) throw usage('cache prune takes --all or --older-than, not both');
    let olderThanMs: number | undefined;
    if (values['older-than'] !== undefined) {
      try {
        olderThanMs = parseAge(values['older-than']);
      } catch (err) {
        throw usage((err as Error).message);
      }
    }
    const removed = cache.prune({ all: values.all, olderThanMs, now });
    const freed = removed.reduce((n, e) => n + e.bytes, 0);
    if (values.json) io.out(JSON.stringify({ dir: cache.dir, removed: removed.map(asJson), freedBytes: freed }, null, 2) + '\n');
    else
      io.out(
        removed.length
          ? `removed ${removed.length} site cache entr${removed.length === 1 ? 'y' : 'ies'} (${mb(freed)}):\n${removed.map((e) => `  ${describe(e)}\n`).join('')}`
          : 'nothing to remove\n',
      );
    return 0;
  }
  throw usage('usage: cache list [--json] | cache prune [--all | --older-than 30d]   (prune alone removes unusable entries)');
}
