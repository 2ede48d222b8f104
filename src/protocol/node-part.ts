/**
 * A node's part in its service, read from the status (a Redis Sentinel group's master and
 * replicas), for the UIs that name it: the diagram (`redis1 (master)`), the VS Code tree and the
 * scenario report. Which section a role's nodes read is their role module's `display.part`; no
 * role's name here. Browser-safe (the webview imports it).
 */
import type { LabStatus, NodePartSource, RoleDisplay } from './status';

const PARTS: Record<NodePartSource, (s: Pick<LabStatus, 'redis'>, node: string) => string | undefined> = {
  // A Sentinel group: the master the status names, and the nodes replicating; a single Redis has no part.
  redis: (s, node) =>
    s.redis.mode !== 'sentinel' ? undefined : s.redis.master === node ? 'master' : s.redis.replicas?.some((r) => r.name === node) ? 'replica' : undefined,
};

/** The node's part (`master`, `replica`), or undefined when its role has none or the status names none now. */
export function nodePart(s: Pick<LabStatus, 'redis'>, node: string, display: Pick<RoleDisplay, 'part'> | undefined): string | undefined {
  return display?.part ? PARTS[display.part](s, node) : undefined;
}

/** `redis1 (master)`, or the name alone. */
export function withPart(name: string, part: string | undefined): string {
  return part ? `${name} (${part})` : name;
}
