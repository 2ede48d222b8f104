/**
 * One exclusive lock per lab, shared by every process on the machine (CLI, dashboard, VS Code):
 * a lock file created with O_EXCL (`wx`) that names its holder (pid, host, start time, purpose).
 * It guards the read-modify-write of the lab's state, which takes milliseconds, so waiting is
 * short and bounded; a lock whose process is gone (same host, `kill(pid, 0)` → ESRCH) is taken over.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';

export interface LockHolder {
  pid: number;
  host: string;
  /** When the holder took the lock (ISO time). */
  since: string;
  /** What it does under the lock ("record fault pause web1"). */
  what: string;
}

export interface LockOptions {
  /** How long to wait for another holder before giving up (default 15 s). */
  timeoutMs?: number;
  /** Told when a stale lock is taken over. */
  note?: (message: string) => void;
  /** Whether a process of this host still runs (default: `process.kill(pid, 0)`). */
  alive?: (pid: number) => boolean;
  /** This process as the lock file names it (tests pass another). */
  self?: { pid: number; host: string };
  /** Waits between attempts (default a timer). */
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 15_000;
/** An unreadable (half-written or empty) lock file older than this is stale. */
const UNREADABLE_STALE_MS = 5_000;

/** The lock is held by someone else for longer than we wait. */
export class LockTimeoutError extends Error {
  constructor(
    readonly file: string,
    readonly holder: LockHolder | undefined,
    waitedMs: number,
  ) {
    super(
      `the lab's state is locked by ${holder ? `${holder.what} (pid ${holder.pid} on ${holder.host}, since ${holder.since})` : 'an unknown process'}; ` +
        `waited ${Math.round(waitedMs / 1000)} s. If that process is gone, delete ${file}`,
    );
    this.name = 'LockTimeoutError';
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.since === 'string')
      return { pid: h.pid, host: h.host, since: h.since, what: String(h.what ?? '?') };
  } catch {
    // missing, empty or half-written
  }
  return undefined;
}

const sameHolder = (a: LockHolder | undefined, b: LockHolder | undefined) =>
  a !== undefined && b !== undefined && a.pid === b.pid && a.host === b.host && a.since === b.since;

/** An unreadable lock file is stale once old: a holder writes its name right after creating it. */
function unreadableIsStale(file: string): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs > UNREADABLE_STALE_MS;
  } catch {
    return false;
  }
}

/** Tries once to create the lock file; true when this call now holds it. */
function tryCreate(file: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, JSON.stringify(holder) + '\n');
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Removes a stale lock without ever removing a live one: the file is renamed aside first (one
 * rename wins), then checked to be the stale holder we saw; a live lock renamed by mistake (its
 * holder replaced the stale one in between) is put back.
 */
function takeOver(file: string, stale: LockHolder | undefined): boolean {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true; // someone else removed it
    throw err;
  }
  const got = readHolder(aside);
  if (stale === undefined ? got === undefined && unreadableIsStale(aside) : sameHolder(got, stale)) {
    fs.rmSync(aside, { force: true });
    return true;
  }
  try {
    fs.linkSync(aside, file);
  } catch {
    // a third process created a lock meanwhile: both hold one now; nothing better to do
  }
  fs.rmSync(aside, { force: true });
  return false;
}

/** Holds the lock file `file` while `fn` runs (keep `fn` short: no Docker calls inside). */
export async function withLock<T>(file: string, what: string, fn: () => T, opts: LockOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const alive = opts.alive ?? processAlive;
  const self = opts.self ?? { pid: process.pid, host: os.hostname() };
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const t0 = Date.now();
  let waitMs = 5;
  let holder: LockHolder | undefined;
  for (;;) {
    const mine: LockHolder = { ...self, since: new Date().toISOString(), what };
    if (tryCreate(file, mine)) {
      try {
        return fn();
      } finally {
        // Only our own lock is removed (a taker-over never replaces a live lock, see takeOver).
        if (sameHolder(readHolder(file), mine)) fs.rmSync(file, { force: true });
      }
    }
    holder = readHolder(file);
    const stale = holder ? holder.host === self.host && !alive(holder.pid) : unreadableIsStale(file);
    if (stale && takeOver(file, holder)) {
      opts.note?.(
        holder
          ? `taking over the lab's state lock left by ${holder.what} (pid ${holder.pid}, since ${holder.since}): that process is gone`
          : `taking over an unreadable lock file ${file} (left by a process that crashed while taking it)`,
      );
      continue;
    }
    if (!fs.existsSync(file)) continue;
    if (Date.now() - t0 >= timeoutMs) throw new LockTimeoutError(file, holder, Date.now() - t0);
    await sleep(waitMs + Math.random() * waitMs);
    waitMs = Math.min(waitMs * 2, 100);
  }
}
