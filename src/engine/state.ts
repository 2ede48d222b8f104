/**
 * The lab's state directory: per-lab random secrets, the host ports chosen at creation, and
 * what later features remember (Moodle install, active faults). One JSON file per lab, 0600.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PresetName } from './topology';

export interface LabSecrets {
  dbRootPassword: string;
  dbPassword: string;
  redisPassword: string;
  moodleAdminPassword: string;
  /** Password of the generated test users (tool_generator). */
  moodleUsersPassword: string;
}

export interface LabState {
  lab: string;
  createdAt: string;
  preset: PresetName;
  webCount: number;
  baseImage: string;
  secrets: LabSecrets;
  /** Host ports by port name (`moodle`, `stats`, `runtime`). */
  ports: Record<string, number>;
  /** Free-form sections owned by other modules (moodle, faults, ...). */
  extra: Record<string, unknown>;
}

export function newSecret(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

export function newSecrets(): LabSecrets {
  return { dbRootPassword: newSecret(), dbPassword: newSecret(), redisPassword: newSecret(), moodleAdminPassword: newSecret(), moodleUsersPassword: newSecret() };
}

/** A state written by an older version may lack newer secrets: add them (never change existing ones). */
export function withAllSecrets(state: LabState): LabState {
  return { ...state, secrets: { ...newSecrets(), ...state.secrets } };
}

export function defaultLabHome(): string {
  return process.env.MOODLE_LAB_HOME ?? path.join(os.homedir(), '.moodle-lab');
}

export class StateStore {
  constructor(readonly home: string = defaultLabHome()) {}

  dir(lab: string): string {
    return path.join(this.home, lab);
  }

  private file(lab: string): string {
    return path.join(this.dir(lab), 'state.json');
  }

  load(lab: string): LabState | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file(lab), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as LabState;
    } catch {
      throw new Error(`the lab state file ${this.file(lab)} is not valid JSON; fix or delete it (the lab's secrets are in it)`);
    }
  }

  save(state: LabState): void {
    fs.mkdirSync(this.dir(state.lab), { recursive: true, mode: 0o700 });
    const tmp = `${this.file(state.lab)}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, this.file(state.lab));
  }

  remove(lab: string): void {
    fs.rmSync(this.dir(lab), { recursive: true, force: true });
  }
}
