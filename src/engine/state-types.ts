/** The shape of a lab's state file (./state.ts reads and writes it, ./state-check.ts checks it). */
import type { LabIdentity } from '../docker/labels';
import type { MoodleLabState } from '../moodle/install';
import type { ActiveFault } from '../protocol/faults';
import type { HaproxyProfile } from '../roles/haproxy';
import type { LabSecrets } from '../roles/types';
import type { LabDefinition } from '../roles/definition';
import type { LabNetworkPlan } from '../roles/lab-network';

export type { LabSecrets };

export interface LabState {
  lab: string;
  createdAt: string;
  /** The definition's name (kept under its old field name; older versions read it). */
  preset: string;
  /** Its web nodes (kept for older versions' sake; `definition` is what counts). */
  webCount: number;
  /** The resolved lab definition the topology is built from (a state of the old shape gets its preset's, converted on load). */
  definition: LabDefinition;
  baseImage: string;
  secrets: LabSecrets;
  /** Host ports by port name (`moodle`, `stats`, `runtime`). */
  ports: Record<string, number>;
  /** Sections owned by other modules (the name `extra` is kept for state files already written). */
  extra: LabExtra;
}

export interface LabExtra {
  /** HAProxy's timing profile, chosen at creation. */
  haproxyProfile?: HaproxyProfile;
  /** The Moodle image and install (src/moodle). */
  moodle?: MoodleLabState;
  /** Faults in force, whoever applied them (src/faults). */
  faults?: ActiveFault[];
  /** The lab network's address plan, when a role needs fixed addresses (a virtual IP): src/roles/lab-network.ts. */
  network?: LabNetworkPlan;
  /** The lab's id on its Docker objects (src/docker/labels.ts). */
  identity?: LabIdentity;
  /**
   * Set first thing by `down` and `destroy` (cleared by `up`): a process driving a repeating or
   * self-reverting fault reads it and starts nothing again (no node restarted after `down`, no
   * container re-created while `destroy` removes them).
   */
  stopping?: { by: 'down' | 'destroy'; at: string };
}
