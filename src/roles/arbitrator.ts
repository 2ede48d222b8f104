/**
 * `arbitrator`: the Galera arbitrator (garbd), a companion of `db: { arbitrator: true }`. It votes
 * in the quorum and stores no data: with two data nodes, the survivor and garbd are 2 of 3 when
 * one data node dies, and keep a Primary component. It is ready, and healthy, when a data node
 * counts it as a cluster member (`mysql.wsrep_cluster_members`, the cluster's own view).
 */
import type { ContainerClient } from '../docker/types';
import { LABEL_ROLE, labLabels } from '../docker/labels';
import { galeraClusterAddress } from './env';
import { sql } from './galera';
import { notYet, ready } from '../core/wait';
import { nodesOf, RoleModule, RUNTIME_TMPFS } from './types';
import { forAll, forCheck, forContainerRunning } from './wait-strategies';
import { errText } from '../core/errors';

/** The cluster members a data node sees, by name (garbd's name is its node name). */
export async function clusterMembers(containers: ContainerClient, dbContainerId: string, rootPassword: string): Promise<string[]> {
  const out = await sql(containers, dbContainerId, rootPassword, 'SET SESSION wsrep_sync_wait=0; SELECT node_name FROM mysql.wsrep_cluster_members');
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export const arbitratorRole: RoleModule = {
  role: 'arbitrator',
  companionOnly: 'it comes with `db: { count: 2, arbitrator: true }`',
  memoryMiB: 16, // an estimate: garbd keeps no data (not yet in the lifecycle bench's figures)
  spec: {
    role: 'arbitrator',
    prefix: 'garbd',
    bareWhenAlone: true,
    image: 'garbd',
    ports: [],
    volumes: [],
    capAdd: [],
    devices: [],
    tmpfs: RUNTIME_TMPFS,
    stopTimeoutS: 5,
    readiness: 'galera-member',
    // It joins a running cluster.
    dependsOn: ['db'],
    sequential: false,
    stateless: true,
  },
  env(node, topology, state) {
    return {
      GALERA_CLUSTER_NAME: state.lab,
      GALERA_CLUSTER_ADDRESS: galeraClusterAddress(topology),
      GARBD_NAME: node.name,
    };
  },
  readiness: (t) =>
    forAll('galera-member', [
      forContainerRunning(t.docker.containers, t.node, t.containerId),
      forCheck('galera-member', 60_000, async () => {
        const dbs = (await t.docker.containers.list({ ...labLabels(t.state.lab), [LABEL_ROLE]: 'db' })).filter((c) => c.state === 'running');
        if (dbs.length === 0) return notYet('no data node running');
        try {
          const members = await clusterMembers(t.docker.containers, dbs[0]!.id, t.state.secrets.dbRootPassword);
          return members.includes(t.node) ? ready(undefined) : notYet(`not a member yet (members: ${members.join(', ') || 'none'})`);
        } catch (err) {
          return notYet(errText(err));
        }
      }),
    ]),
  collectStatus(ctx, nodes) {
    if (nodes.length === 0) return [];
    const { docker, state, status, byNode, health, topology } = ctx;
    return [
      (async () => {
        // Asked of every running data node: a member if any Primary-side node counts it.
        const dbs = nodesOf(topology, 'db')
          .map((n) => byNode.get(n.name))
          .filter((c) => c?.state === 'running');
        const seen = new Set<string>();
        let error: string | undefined;
        await Promise.all(
          dbs.map(async (c) => {
            try {
              for (const m of await clusterMembers(docker.containers, c!.id, state.secrets.dbRootPassword)) seen.add(m);
            } catch (err) {
              error = errText(err);
            }
          }),
        );
        status.galera.arbitrators = nodes.map((n) => ({ name: n.name, member: seen.has(n.name) }));
        for (const n of nodes) {
          const c = byNode.get(n.name);
          if (!c || c.state !== 'running') health.set(n.name, { healthy: false, detail: c ? c.state : 'missing' });
          else if (seen.has(n.name)) health.set(n.name, { healthy: true });
          else health.set(n.name, { healthy: false, detail: dbs.length ? `not a cluster member${error ? ` (${error})` : ''}` : 'no data node running' });
        }
      })(),
    ];
  },
  failover: 'galera-size',
  display: {
    role: 'arbitrator',
    order: 5,
    label: 'Galera arbitrator (garbd)',
    icon: 'law',
    reportTitle: 'Galera arbitrator',
    diagram: { title: 'garbd', group: false, from: 'db' },
  },
};
