/** Host ports: 127.0.0.1 only; the preferred one if free, else the next free one. */
import * as net from 'node:net';

export type PortProbe = (port: number) => Promise<boolean>;

export const isLoopbackPortFree: PortProbe = (port) =>
  new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });

/** The first free port at or after `preferred`, skipping ports already given out in `taken`. */
export async function choosePort(preferred: number, taken: Set<number>, probe: PortProbe = isLoopbackPortFree, attempts = 200): Promise<number> {
  for (let port = preferred; port < preferred + attempts && port <= 65535; port++) {
    if (taken.has(port)) continue;
    if (await probe(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${preferred} and ${preferred + attempts - 1}`);
}
