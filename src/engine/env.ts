/** The environment each node's container gets (the contract is lab/README.md). */
import type { LabState } from './state';
import type { NodeSpec, Topology } from './topology';
import { nodesOf } from './topology';
import { HAPROXY_PORTS } from './haproxy';

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

export function nodeEnv(node: NodeSpec, topology: Topology, state: LabState): Record<string, string> {
  const s = state.secrets;
  switch (node.role) {
    case 'db':
      return {
        GALERA_CLUSTER_NAME: state.lab,
        GALERA_NODE_NAME: node.name,
        GALERA_CLUSTER_ADDRESS: galeraClusterAddress(topology),
        MARIADB_ROOT_PASSWORD: s.dbRootPassword,
        DB_NAME,
        DB_USER,
        DB_PASSWORD: s.dbPassword,
        PROBE_DB_NAME,
      };
    case 'cache':
      return { REDIS_PASSWORD: s.redisPassword };
    case 'web': {
      const lb = nodesOf(topology, 'lb')[0];
      const db = nodesOf(topology, 'db')[0];
      const cache = nodesOf(topology, 'cache')[0];
      const storage = nodesOf(topology, 'storage');
      return {
        LAB_NODE: node.name,
        // Through HAProxy's single-writer and reader listeners when there is one; else the lone DB.
        DB_HOST: lb ? lb.name : (db?.name ?? ''),
        DB_PORT: String(HAPROXY_PORTS.dbWriter),
        DB_READ_PORT: String(lb ? HAPROXY_PORTS.dbReader : HAPROXY_PORTS.dbWriter),
        DB_NAME,
        DB_USER,
        DB_PASSWORD: s.dbPassword,
        PROBE_DB_NAME,
        REDIS_HOST: cache?.name ?? '',
        REDIS_PASSWORD: cache ? s.redisPassword : '',
        GLUSTER_SERVERS: storage.map((n) => n.name).join(','),
        GLUSTER_VOLUME,
        MOODLEDATA,
        MOODLE_WWWROOT: moodleUrl(state),
        MOODLE_USERS_PASSWORD: s.moodleUsersPassword,
      };
    }
    default:
      return {};
  }
}
