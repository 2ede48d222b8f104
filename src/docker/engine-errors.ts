/**
 * The Docker engine gone mid-command (stopped, restarted, its socket removed): whatever call was
 * in flight fails with a socket error ("connect ECONNREFUSED …", "socket hang up"). Every such
 * failure becomes one DockerUnavailableError saying where the engine was expected, so users get
 * one clear line (and the CLI exit code 3) instead of a stack of half-failed steps.
 */
import { DockerClient, DockerUnavailableError } from './types';

/** Socket errors of a client whose server is gone; ENOENT only as a connect error (not a missing file). */
const GONE = /\b(connect (ECONNREFUSED|ENOENT|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)|(read|write) (ECONNRESET|EPIPE)|socket hang up)\b/;
const GONE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether the error says the engine does not answer (rather than that it refused the request). */
export function isEngineGone(err: unknown): boolean {
  if (err instanceof DockerUnavailableError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; syscall?: unknown; message?: unknown };
  if (typeof e.code === 'string' && (GONE_CODES.has(e.code) || (e.code === 'ENOENT' && e.syscall === 'connect'))) return true;
  return typeof e.message === 'string' && GONE.test(e.message);
}

export function engineGoneMessage(where: string): string {
  return `the Docker engine does not answer at ${where}: start Docker (or point DOCKER_HOST at a running engine), then run the command again`;
}

/** The error to show for `err`: a DockerUnavailableError when the engine is gone, else `err` itself. */
export function engineError(err: unknown, where: string): unknown {
  if (err instanceof DockerUnavailableError) return err;
  return isEngineGone(err) ? new DockerUnavailableError(engineGoneMessage(where)) : err;
}

type AnyFn = (...args: unknown[]) => unknown;

function guardObject<T extends object>(target: T, where: string): T {
  const out: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(target), ...Object.getOwnPropertyNames(Object.getPrototypeOf(target))])) {
    if (key === 'constructor') continue;
    const value = (target as Record<string, unknown>)[key];
    if (typeof value !== 'function') continue;
    out[key] = async (...args: unknown[]) => {
      try {
        return await (value as AnyFn).apply(target, args);
      } catch (err) {
        throw engineError(err, where);
      }
    };
  }
  return out as T;
}

/** The same client, but every call whose engine is gone rejects with a DockerUnavailableError. */
export function guardEngine(client: DockerClient, where: string): DockerClient {
  return {
    ping: guardObject({ ping: () => client.ping() }, where).ping,
    ...(client.memTotalBytes ? { memTotalBytes: guardObject({ m: () => client.memTotalBytes!() }, where).m } : {}),
    events: guardObject(
      { events: (labels: Parameters<DockerClient['events']>[0], on: Parameters<DockerClient['events']>[1]) => client.events(labels, on) },
      where,
    ).events,
    containers: guardObject(client.containers, where),
    images: guardObject(client.images, where),
    networks: guardObject(client.networks, where),
    volumes: guardObject(client.volumes, where),
  };
}

/**
 * After a command failed: was it the engine? A DockerUnavailableError says so itself; any other
 * failure is checked with one ping (the engine may have gone while a step ran, and the step's
 * own error, e.g. a node's readiness, does not say so). The engine error, or undefined.
 */
export async function engineFailure(err: unknown, ping: () => Promise<void>, where: string, timeoutMs = 5000): Promise<DockerUnavailableError | undefined> {
  const mapped = engineError(err, where);
  if (mapped instanceof DockerUnavailableError) return mapped;
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DockerUnavailableError(engineGoneMessage(where))), timeoutMs);
  });
  try {
    await Promise.race([ping(), silence]);
    return undefined;
  } catch {
    return new DockerUnavailableError(engineGoneMessage(where));
  } finally {
    clearTimeout(timer);
  }
}
