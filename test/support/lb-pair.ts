/** The `ha` lab with its load balancer as a keepalived pair (two HAProxy nodes, a VIP, the edge). */
import { BUILTIN_LABS, LabDefinition } from '../../src/engine/topology';

export const PAIR: LabDefinition = {
  name: 'ha-pair',
  description: 'ha with two HAProxy nodes holding a virtual IP',
  roles: { ...BUILTIN_LABS.ha.roles, lb: { count: 2, keepalived: true } },
};
