/**
 * A synthetic 11-node lab status (no Docker): what the dashboard bench feeds the real server, and
 * what the unit tests of the dashboard, tree and store build their snapshots from.
 */
import type { DockerClient } from '../src/docker/types';
import type { LabStatus } from '../src/protocol/status';

/** tick even: all healthy; odd: web2 exited and DOWN in HAProxy. */
export function syntheticStatus(tick: number): LabStatus {
  const web2Down = tick % 2 === 1;
  const nodes: LabStatus['nodes'] = [
    { name: 'haproxy', role: 'lb', container: 'running', healthy: true },
    ...[1, 2, 3].map((i) => ({
      name: `web${i}`,
      role: 'web' as const,
      container: i === 2 && web2Down ? ('exited' as const) : ('running' as const),
      healthy: !(i === 2 && web2Down),
    })),
    ...[1, 2, 3].map((i) => ({ name: `galera${i}`, role: 'db' as const, container: 'running' as const, healthy: true })),
    ...[1, 2, 3].map((i) => ({ name: `gluster${i}`, role: 'storage' as const, container: 'running' as const, healthy: true })),
    { name: 'redis', role: 'cache', container: 'running', healthy: true },
  ];
  return {
    lab: 'bench',
    state: web2Down ? 'partial' : 'running',
    preset: 'ha',
    collectedAt: new Date().toISOString(),
    nodes,
    haproxy: {
      up: true,
      servers: [
        ...[1, 2, 3].map((i) => ({
          backend: 'web',
          server: `web${i}`,
          status: i === 2 && web2Down ? 'DOWN' : 'UP',
          checkStatus: 'L7OK',
          sessions: tick % 7,
          retries: 0,
          redispatches: tick % 3,
          http5xx: 0,
        })),
        ...[1, 2, 3].map((i) => ({ backend: 'db_writer', server: `galera${i}`, status: i === 1 ? 'UP' : 'UP', sessions: 0 })),
        ...[1, 2, 3].map((i) => ({ backend: 'db_reader', server: `galera${i}`, status: 'UP', sessions: 0 })),
      ],
    },
    galera: {
      clusterSize: 3,
      status: 'Primary',
      nodes: [1, 2, 3].map((i) => ({
        name: `galera${i}`,
        state: 'Synced',
        ready: true,
        clusterSize: 3,
        clusterStatus: 'Primary',
        flowControlPaused: 0,
        recvQueueAvg: 0,
      })),
    },
    gluster: { volume: 'moodledata', started: true, bricks: [1, 2, 3].map((i) => ({ name: `gluster${i}`, online: true })), healPending: 0 },
    redis: { up: true, keys: 10 + tick, usedMemoryBytes: 2_000_000 },
    moodle: { installed: false, maintenance: false, users: [] },
    endpoints: { haproxyStats: 'http://127.0.0.1:1/stats' },
  };
}

/** A Docker that has no events to tell (the synthetic lab has no containers). */
export const quietDocker: Pick<DockerClient, 'events'> = {
  events: async () => () => undefined,
};
