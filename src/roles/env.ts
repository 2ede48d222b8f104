/** Names shared by the roles and their containers (the contract is lab/README.md). */
import { nodesOf, RoleLabState, Topology } from './types';

export const DB_NAME = 'moodle';
export const DB_USER = 'moodle';
export const PROBE_DB_NAME = 'labprobe';
export const GLUSTER_VOLUME = 'moodledata';
export const MOODLEDATA = '/var/moodledata';

/** The URL users type: Moodle's wwwroot, exactly (`localhost`, not 127.0.0.1). */
export function moodleUrl(state: Pick<RoleLabState, 'ports'>): string {
  return `http://localhost:${state.ports.moodle}`;
}

export function galeraClusterAddress(topology: Topology): string {
  return `gcomm://${nodesOf(topology, 'db')
    .map((n) => n.name)
    .join(',')}`;
}
