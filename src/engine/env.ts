/** The environment each node's container gets (the contract is lab/README.md): each role module's. */
import type { LabState } from './state';
import type { NodeSpec, Topology } from './topology';
import { roleModule } from '../roles';

export { DB_NAME, GLUSTER_VOLUME, MOODLEDATA, moodleUrl, PROBE_DB_NAME } from '../roles/env';

/** A node's environment: its role module's (src/roles); none for a role that needs none. */
export function nodeEnv(node: NodeSpec, topology: Topology, state: LabState): Record<string, string> {
  return roleModule(node.role).env?.(node, topology, state) ?? {};
}
