/** A LabEngine's dependencies for unit tests: the fake Docker, a quick clock, every check answering. */
import * as path from 'node:path';
import type { DockerClient } from '../../src/docker/types';
import type { EngineDeps } from '../../src/engine/lab';
import { HaproxyRuntime } from '../../src/roles/haproxy-runtime';
import type { StateStore } from '../../src/engine/state';
import { fakeClock } from './clock';

export const LAB_ROOT = path.resolve(__dirname, '..', '..', 'lab');

/** HAProxy's `show stat` with every web server and DB writer UP. */
export const ALL_UP_STAT = [
  '# pxname,svname,status',
  ...['web1', 'web2', 'web3'].map((w) => `web,${w},UP`),
  ...['galera1', 'galera2', 'galera3'].map((g) => `db_writer,${g},UP`),
].join('\n');

/** What `collectStatus` needs besides Docker: HTTP checks and HAProxy both answering "all up". */
export function upProbes(): Pick<EngineDeps, 'http' | 'runtime'> {
  return { http: async () => ({ status: 200, body: 'ok' }), runtime: () => new HaproxyRuntime(async () => ALL_UP_STAT) };
}

/** The engine's deps on the fake Docker; `steps` collects what the reporter says. */
export function fakeEngineDeps(docker: DockerClient, store: StateStore, steps?: string[]): EngineDeps {
  return {
    docker,
    store,
    labRoot: LAB_ROOT,
    clock: fakeClock(),
    portProbe: async () => true,
    ...upProbes(),
    ...(steps ? { reporter: { step: (m: string) => void steps.push(m), detail: () => undefined } } : {}),
  };
}
