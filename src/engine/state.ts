/**
 * The lab's state directory: per-lab random secrets, the host ports chosen at creation, and
 * what later features remember (Moodle install, active faults). One JSON file per lab, 0600,
 * checked for its shape on every load.
 *
 * Every change is a read-modify-write under the lab's lock (`update`), so the CLI, the dashboard
 * and VS Code changing the same lab at once never lose each other's changes; writes go to a
 * unique temporary file renamed into place, so a reader always sees a whole file.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LabExtra, LabSecrets, LabState } from './state-types';
import { LockOptions, withLock } from './lock';
import { checkLabState } from './state-check';

export type { LabExtra, LabSecrets, LabState };

export function newSecret(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

export function newSecrets(): LabSecrets {
  return {
    dbRootPassword: newSecret(),
    dbPassword: newSecret(),
    redisPassword: newSecret(),
    moodleAdminPassword: newSecret(),
    moodleUsersPassword: newSecret(),
  };
}

/** A state written by an older version may lack newer secrets: add them (never change existing ones). */
export function withAllSecrets(state: LabState): LabState {
  return { ...state, secrets: { ...newSecrets(), ...state.secrets } };
}

export function defaultLabHome(): string {
  return process.env.MOODLE_LAB_HOME ?? path.join(os.homedir(), '.moodle-lab');
}

/** Folder names under the lab home that are not labs. */
const RESERVED = new Set(['reports', 'cache']);

export interface UpdateOptions {
  /** What the change is, for the lock file (a waiting process names it). */
  what?: string;
  /** Told when a stale lock is taken over. */
  note?: (message: string) => void;
}

export class LabAbsentError extends Error {
  constructor(lab: string) {
    super(`lab "${lab}" does not exist: run \`up\` first`);
    this.name = 'LabAbsentError';
  }
}

export class StateStore {
  constructor(
    readonly home: string = defaultLabHome(),
    private readonly lockOptions: LockOptions = {},
  ) {}

  dir(lab: string): string {
    if (RESERVED.has(lab)) throw new Error(`"${lab}" cannot be a lab name: ${path.join(this.home, lab)} holds the lab's ${lab}`);
    return path.join(this.home, lab);
  }

  file(lab: string): string {
    return path.join(this.dir(lab), 'state.json');
  }

  /** The lab's lock file: {pid, host, since, what} of the process changing the state. */
  lockFile(lab: string): string {
    return path.join(this.dir(lab), 'state.lock');
  }

  /** Where exported reports go: outside the lab's folder, so `destroy` keeps them. */
  reportsDir(lab: string): string {
    return labReportsDir(lab, this.home);
  }

  /** The state as it is on disk (shape-checked), or undefined when the lab has none. */
  load(lab: string): LabState | undefined {
    const file = this.file(lab);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new Error(`the lab state file ${file} is not valid JSON; fix or delete it (the lab's secrets are in it)`);
    }
    return checkLabState(raw, file, lab);
  }

  private locked<T>(lab: string, what: string, opts: UpdateOptions, fn: () => T): Promise<T> {
    return withLock(this.lockFile(lab), what, fn, { ...this.lockOptions, note: opts.note ?? this.lockOptions.note }).catch((err: unknown) => {
      // The lab's folder went away (destroyed) while we waited for its lock.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(this.dir(lab))) throw new LabAbsentError(lab);
      throw err;
    });
  }

  private write(state: LabState): void {
    const file = this.file(state.lab);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Reads the state afresh under the lab's lock, lets `change` modify it (in place, or by
   * returning a new one) and writes it back. `change` must be quick: no Docker calls inside.
   */
  async update(lab: string, change: (state: LabState) => LabState | void, opts: UpdateOptions = {}): Promise<LabState> {
    if (!fs.existsSync(this.dir(lab))) throw new LabAbsentError(lab);
    return this.locked(lab, opts.what ?? 'update', opts, () => {
      const current = this.load(lab);
      if (!current) throw new LabAbsentError(lab);
      const next = change(current) ?? current;
      if (next.lab !== lab) throw new Error(`a change of lab "${lab}"'s state cannot rename it to "${next.lab}"`);
      this.write(next);
      return next;
    });
  }

  /** Writes a new lab's state, unless another process created it first: returns the one on disk. */
  async create(state: LabState, opts: UpdateOptions = {}): Promise<LabState> {
    fs.mkdirSync(this.dir(state.lab), { recursive: true, mode: 0o700 });
    return this.locked(state.lab, opts.what ?? 'create', opts, () => {
      const existing = this.load(state.lab);
      if (existing) return existing;
      this.write(state);
      return state;
    });
  }

  /**
   * The Moodle image each lab of this home records in its state (a lab's role images are known
   * from its containers): what `destroy --images` must not remove. An unreadable state names none.
   */
  recordedImages(): Map<string, string> {
    const out = new Map<string, string>();
    let names: string[];
    try {
      names = fs.readdirSync(this.home);
    } catch {
      return out;
    }
    for (const lab of names.filter((n) => !RESERVED.has(n))) {
      try {
        const raw = JSON.parse(fs.readFileSync(path.join(this.home, lab, 'state.json'), 'utf8')) as { extra?: { moodle?: { image?: unknown } } };
        const image = raw.extra?.moodle?.image;
        if (typeof image === 'string') out.set(lab, image);
      } catch {
        // no state, or not one this version reads: it names no image
      }
    }
    return out;
  }

  /**
   * Removes the lab's folder (under its lock, so no change lands after it). Reports stay in
   * `reportsDir` (older versions kept them in the lab's folder: those are moved there first).
   * Works whatever state.json holds. Returns the reports folder when it holds anything.
   */
  async remove(lab: string, opts: UpdateOptions = {}): Promise<{ reportsDir?: string }> {
    const dir = this.dir(lab);
    const reports = this.reportsDir(lab);
    if (fs.existsSync(dir)) {
      await this.locked(lab, opts.what ?? 'destroy', opts, () => {
        const legacy = path.join(dir, 'reports');
        if (fs.existsSync(legacy)) {
          fs.mkdirSync(reports, { recursive: true, mode: 0o700 });
          for (const name of fs.readdirSync(legacy)) {
            const target = fs.existsSync(path.join(reports, name)) ? path.join(reports, `${Date.now()}-${name}`) : path.join(reports, name);
            fs.renameSync(path.join(legacy, name), target);
          }
        }
        fs.rmSync(dir, { recursive: true, force: true });
      });
    }
    return fs.existsSync(reports) && fs.readdirSync(reports).length > 0 ? { reportsDir: reports } : {};
  }
}

/** Reports of a lab: `<lab home>/reports/<lab>/`, kept by `destroy`. */
export function labReportsDir(lab: string, home: string = defaultLabHome()): string {
  return path.join(home, 'reports', lab);
}
