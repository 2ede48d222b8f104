/** The environment each node's container gets (the contract is lab/README.md): names shared by the roles. */
import type { LabState } from './state';
import type { NodeSpec, Topology } from './topology';
import { nodesOf } from './topology';
import { roleModule } from '../roles';

export const DB_NAME = 'moodle';
export const DB_USER = 'moodle';
export const PROBE_DB_NAME = 'labprobe';
export const GLUSTER_VOLUME = 'moodledata';
export const MOODLEDATA = '/var/moodledata';

/** The URL users type: Moodle's wwwroot, exactly (`localhost`, not 127.0.0.1). */
export function moodleUrl(state: LabState): string {
  return `http://localhost:${state.ports.moodle}`;
}

export function galeraClusterAddress(topology: Topology): string {
  return `gcomm://${nodesOf(topology, 'db').map((n) => n.name).join(',')}`;
}

/** A node's environment: its role module's (src/roles); none for a role that needs none. */
export function nodeEnv(node: NodeSpec, topology: Topology, state: LabState): Record<string, string> {
  return roleModule(node.role).env?.(node, topology, state) ?? {};
}
