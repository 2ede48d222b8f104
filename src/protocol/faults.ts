/**
 * Faults a learner can inject, as data shared by the CLI, the extension and the dashboard.
 * No node or vscode imports here: the webview imports this module too.
 */

export const FAULT_KINDS = ['stop', 'start', 'kill', 'pause', 'unpause', 'disconnect', 'connect', 'delay', 'loss', 'partition'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRequest {
  kind: FaultKind;
  /** The node (for `partition`: the first group, comma-separated in the CLI). */
  nodes: string[];
  /** `partition`: the other group. */
  from?: string[];
  /** `delay`: added latency and jitter, ms. */
  delayMs?: number;
  jitterMs?: number;
  /** `loss`: packet loss, percent. */
  lossPct?: number;
  /** Revert by itself after this long. */
  forMs?: number;
}

/** A fault that is in force and can be undone (`heal`). */
export interface ActiveFault {
  id: string;
  kind: FaultKind;
  nodes: string[];
  from?: string[];
  detail: string;
  appliedAt: string;
  /** When it reverts by itself, if `--for` was given. */
  expiresAt?: string;
  params?: { delayMs?: number; jitterMs?: number; lossPct?: number };
}

export function describeFault(f: FaultRequest): string {
  const nodes = f.nodes.join(',');
  switch (f.kind) {
    case 'partition':
      return `partition ${nodes} from ${(f.from ?? []).join(',')}`;
    case 'delay':
      return `delay ${nodes} ${f.delayMs ?? 0}ms${f.jitterMs ? ` ±${f.jitterMs}ms` : ''}`;
    case 'loss':
      return `loss ${nodes} ${f.lossPct ?? 0}%`;
    default:
      return `${f.kind} ${nodes}`;
  }
}
