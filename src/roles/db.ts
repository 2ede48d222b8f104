/** `db`: the MariaDB Galera cluster (start order: ./galera-start.ts). */
import { DB_NAME, DB_USER, galeraClusterAddress, PROBE_DB_NAME } from './env';
import { sql, wsrepStatus } from './galera';
import { GaleraStarter } from './galera-start';
import { BACKENDS } from './haproxy';
import type { EventSeverity } from '../protocol/snapshot';
import type { GaleraNodeStatus } from '../protocol/status';
import type { DerivedEvent } from './types';
import { notYet, ready } from '../core/wait';
import { RoleModule, RUNTIME_TMPFS } from './types';
import { forAll, forCheck, forContainerRunning } from './wait-strategies';
import { errText } from '../core/errors';

export const dbRole: RoleModule = {
  role: 'db',
  required: true,
  memoryMiB: 170, // measured idle: galera1 164 (the bootstrap node; joiners 76)
  maxCount: 5,
  options: ['arbitrator'],
  companions: (opts) => (opts.arbitrator ? [{ role: 'arbitrator', count: 1 }] : []),
  checkOptions(opts) {
    if (opts.count % 2 === 0 && !opts.arbitrator)
      return `count ${opts.count} is even, and Galera keeps a Primary component only with a majority: a ${opts.count}-node cluster loses quorum when half of it (${opts.count === 2 ? 'either node' : `${opts.count / 2} nodes`}) dies — add \`arbitrator: true\` (garbd votes as a third member) or use ${opts.count + 1} nodes`;
    return undefined;
  },
  spec: {
    role: 'db',
    prefix: 'galera',
    bareWhenAlone: false,
    image: 'galera',
    ports: [],
    volumes: [{ suffix: 'data', path: '/var/lib/mysql' }],
    capAdd: [],
    devices: [],
    tmpfs: RUNTIME_TMPFS,
    // A clean shutdown writes safe_to_bootstrap: give MariaDB time for it.
    stopTimeoutS: 60,
    readiness: 'galera-synced',
    dependsOn: [],
    // Joiners one at a time: each takes a full SST from a donor.
    sequential: true,
    stateless: false,
  },
  env(node, topology, state) {
    const s = state.secrets;
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
  },
  // A joiner takes a full SST.
  readiness: (t) =>
    forAll('galera-synced', [
      forContainerRunning(t.docker.containers, t.node, t.containerId),
      forCheck('galera-synced', 240_000, async () => {
        const out = await sql(
          t.docker.containers,
          t.containerId,
          t.state.secrets.dbRootPassword,
          "SET SESSION wsrep_sync_wait=0; SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'",
        );
        const value = out.split('\t')[1]?.trim();
        return value === 'Synced' ? ready(undefined) : notYet(`wsrep_local_state_comment=${value ?? '?'}`);
      }),
    ]),
  hooks: {
    startOrder(ctx, nodes, ids, existing, created) {
      return new GaleraStarter({ docker: ctx.docker, lab: ctx.lab, labels: ctx.labels, reporter: ctx.reporter, clock: ctx.clock }).startOrder(
        ctx.state,
        nodes,
        ids,
        existing,
        created,
      );
    },
  },
  collectStatus(ctx, dbNodes) {
    const { docker, state, status, health, byNode } = ctx;
    const galeraRows: GaleraNodeStatus[] = [];
    return [
      (async () => {
        await Promise.all(
          dbNodes.map(async (n) => {
            const c = byNode.get(n.name);
            if (!c || c.state !== 'running') {
              galeraRows.push({ name: n.name, state: c ? c.state : 'missing', ready: false });
              health.set(n.name, { healthy: false, detail: c ? c.state : 'missing' });
              return;
            }
            try {
              const w = await wsrepStatus(docker.containers, c.id, state.secrets.dbRootPassword);
              const row: GaleraNodeStatus = {
                name: n.name,
                state: w.wsrep_local_state_comment ?? 'unknown',
                ready: w.wsrep_ready === 'ON',
                clusterSize: Number(w.wsrep_cluster_size ?? 0),
                clusterStatus: w.wsrep_cluster_status,
                connected: w.wsrep_connected === 'ON',
                flowControlPaused: Number(w.wsrep_flow_control_paused ?? 0),
                recvQueueAvg: Number(w.wsrep_local_recv_queue_avg ?? 0),
              };
              galeraRows.push(row);
              const healthy = row.state === 'Synced' && row.ready && row.clusterStatus === 'Primary';
              health.set(n.name, healthy ? { healthy } : { healthy, detail: `${row.clusterStatus ?? '?'} / ${row.state}${row.ready ? '' : ' / not ready'}` });
            } catch (err) {
              galeraRows.push({ name: n.name, state: 'unreachable', ready: false, error: errText(err) });
              health.set(n.name, { healthy: false, detail: errText(err) });
            }
          }),
        );
        galeraRows.sort((a, b) => a.name.localeCompare(b.name));
        status.galera.nodes = galeraRows;
        const primary = galeraRows.filter((r) => r.clusterStatus === 'Primary');
        status.galera.clusterSize = Math.max(0, ...primary.map((r) => r.clusterSize ?? 0));
        status.galera.status = primary.length > 0 ? 'Primary' : galeraRows.some((r) => r.clusterStatus) ? 'non-Primary' : 'down';
      })(),
    ];
  },
  greenProblems(s, count) {
    const synced = s.galera.nodes.filter((n) => n.state === 'Synced').length;
    return s.galera.status !== 'Primary' || s.galera.clusterSize !== count || synced !== count
      ? [`galera ${s.galera.status} size ${s.galera.clusterSize}, ${synced}/${count} Synced`]
      : [];
  },
  diff(prev, next) {
    const out: DerivedEvent[] = [];
    if (prev.galera.nodes.length || next.galera.nodes.length) {
      if (prev.galera.clusterSize !== next.galera.clusterSize || prev.galera.status !== next.galera.status) {
        const sev: EventSeverity = next.galera.status !== 'Primary' ? 'error' : next.galera.clusterSize < 3 ? 'warn' : 'ok';
        out.push({
          source: 'galera',
          severity: sev,
          text: `Galera ${prev.galera.status} size ${prev.galera.clusterSize} → ${next.galera.status} size ${next.galera.clusterSize}`,
        });
      }
      const prevG = new Map(prev.galera.nodes.map((g) => [g.name, g]));
      for (const g of next.galera.nodes) {
        const p = prevG.get(g.name);
        if (p && p.state !== g.state)
          out.push({ source: 'galera', severity: g.state === 'Synced' ? 'ok' : 'warn', node: g.name, text: `${g.name} wsrep ${p.state} → ${g.state}` });
      }
    }
    return out;
  },
  failover: 'galera-size',
  // Its nodes are servers of the writer and reader listeners; a `haproxy:` assert reads the writer's row.
  haproxyBackend: () => BACKENDS.dbWriter,
  display: {
    role: 'db',
    order: 2,
    label: 'Database (Galera)',
    icon: 'database',
    reportTitle: 'Galera (db)',
    status: 'galera',
    haproxyBackend: BACKENDS.dbWriter,
    panel: 'galera',
    diagram: {
      title: 'Galera',
      group: true,
      from: 'web',
      via: {
        role: 'lb',
        listeners: [
          { id: 'dbwriter', label: 'DB writer', backend: BACKENDS.dbWriter, what: 'writer', single: true },
          { id: 'dbreader', label: 'DB readers', backend: BACKENDS.dbReader, what: 'readers', single: false },
        ],
      },
    },
  },
};
