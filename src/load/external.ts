/**
 * Faults nobody injected through this run: a crash, `docker kill` from another terminal, the OOM
 * killer, or a node HAProxy/Galera/Gluster reports failed without any Docker event (a network
 * fault applied elsewhere). They are collected during a load run from Docker's own events and
 * from the status snapshots, then analysed like the run's own faults (`source: 'external'`).
 *
 * - Docker events (die/stop/pause/kill/oom) of one node within GROUP_MS form one fault; its text
 *   says what it was ("kill web2", "stop web2", "pause web2", "oom web2", "crash web2" for a die
 *   alone). A start/unpause/restart of the node marks it healed.
 * - A status transition (healthy → failed in a snapshot) is a fault of its own only when no
 *   fault, injected or external, is active (or was in the last SETTLE_MS) on any node: a web node
 *   marked DOWN while Galera is down is a consequence, not a new fault.
 * - An event on a node an injected fault covers (from 1 s before it until SETTLE_MS after its
 *   heal) belongs to that fault.
 */
import type { DockerEvent } from '../docker/types';
import { LABEL_LAB, LABEL_NODE } from '../docker/labels';
import { showsFailed } from '../metrics/failover';
import { roleOfNode } from '../roles';
import type { ComponentSnapshot, FaultEvent } from '../metrics/types';

/** Subscribes to the lab's Docker events; returns the unsubscribe function. */
export type NodeEventSource = (onEvent: (e: DockerEvent) => void) => Promise<() => void>;

const FAULT_ACTIONS = new Set(['die', 'stop', 'pause', 'kill', 'oom']);
const HEAL_ACTIONS = new Set(['start', 'unpause', 'restart']);
/** Docker's events of one fault (kill → kill, die; stop → kill, die, stop) arrive within this. */
export const GROUP_MS = 5_000;
/** After a fault is healed, consequences (HAProxy/Galera coming back, a restart) still settle this long. */
export const SETTLE_MS = 30_000;

interface Raw {
  node: string;
  action: string;
  atMs: number;
}

function faultText(actions: string[], node: string): { kind: string; text: string } {
  const kind = actions.includes('oom')
    ? 'oom'
    : actions.includes('pause')
      ? 'pause'
      : actions.includes('stop')
        ? 'stop'
        : actions.includes('kill')
          ? 'kill'
          : 'crash';
  return { kind, text: `${kind} ${node}` };
}

/** Collects the lab's node events during a run; `externalFaults` turns them into FaultEvents. */
export class ExternalWatch {
  readonly events: Raw[] = [];
  private unsubscribe: (() => void) | undefined;
  error: string | undefined;

  constructor(private readonly source?: NodeEventSource) {}

  async start(): Promise<void> {
    if (!this.source) return;
    try {
      this.unsubscribe = await this.source((e) => this.onEvent(e));
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  onEvent(e: DockerEvent): void {
    const node = e.labels[LABEL_NODE];
    if (e.type !== 'container' || !node) return;
    const action = e.action.split(':')[0]!.trim();
    if (FAULT_ACTIONS.has(action) || HEAL_ACTIONS.has(action)) this.events.push({ node, action, atMs: e.timeMs });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}

/** Whether an injected fault covers `node` at `atMs`. */
function coveredBy(injected: FaultEvent[], node: string, atMs: number): boolean {
  return injected.some(
    (f) => (f.nodes.includes(node) || f.nodes.length === 0) && atMs >= f.atMs - 1000 && (f.healAtMs === undefined || atMs <= f.healAtMs + SETTLE_MS),
  );
}

/**
 * The external faults of a run: node events not explained by the injected faults, then status
 * transitions not explained by any fault. `nodes` = the lab's node names (for the snapshots).
 */
export function externalFaults(
  events: readonly Raw[],
  snapshots: readonly ComponentSnapshot[],
  injected: FaultEvent[],
  nodes: readonly string[],
  fromMs: number,
  toMs: number,
): FaultEvent[] {
  const out: FaultEvent[] = [];
  const sorted = [...events].filter((e) => e.atMs >= fromMs && e.atMs <= toMs).sort((a, b) => a.atMs - b.atMs);
  const open = new Map<string, { ev: FaultEvent; actions: string[]; lastMs: number }>();
  for (const e of sorted) {
    const cur = open.get(e.node);
    if (HEAL_ACTIONS.has(e.action)) {
      if (cur && cur.ev.healAtMs === undefined) cur.ev.healAtMs = e.atMs;
      continue;
    }
    if (coveredBy(injected, e.node, e.atMs)) continue;
    if (cur && cur.ev.healAtMs === undefined && e.atMs - cur.lastMs <= GROUP_MS) {
      cur.actions.push(e.action);
      cur.lastMs = e.atMs;
      Object.assign(cur.ev, { ...pick(faultText(cur.actions, e.node)) });
      continue;
    }
    if (cur && cur.ev.healAtMs === undefined) continue; // still down: a later die of a dead node is the same fault
    const { kind, text } = faultText([e.action], e.node);
    const ev: FaultEvent = { fault: text, kind, nodes: [e.node], atMs: e.atMs, source: 'external' };
    out.push(ev);
    open.set(e.node, { ev, actions: [e.action], lastMs: e.atMs });
  }

  // Status transitions nothing explains (e.g. a network fault applied from elsewhere).
  const snaps = [...snapshots].filter((s) => s.atMs >= fromMs && s.atMs <= toMs).sort((a, b) => a.atMs - b.atMs);
  const all = () => [...injected, ...out];
  const active = (atMs: number) => all().some((f) => atMs >= f.atMs - 1000 && (f.healAtMs === undefined || atMs <= f.healAtMs + SETTLE_MS));
  const baseline = Math.max(0, ...snaps.slice(0, 3).map((s) => s.galeraSize ?? 0)) || undefined;
  const failed = new Map<string, boolean>();
  for (const s of snaps) {
    for (const n of nodes) {
      const now = showsFailed(s, n, baseline);
      if (now === undefined) continue;
      const was = failed.get(n);
      failed.set(n, now);
      if (now && was === false && !active(s.atMs)) {
        // The Galera size says that a member left, not which: the fault is the cluster's.
        const cluster = roleOfNode(n)?.failover === 'galera-size';
        const members = cluster ? nodes.filter((m) => roleOfNode(m)?.failover === 'galera-size') : [n];
        out.push({ fault: cluster ? 'Galera cluster shrank' : `${n} reported failed`, kind: 'status', nodes: members, atMs: s.atMs, source: 'external' });
      } else if (!now && was === true) {
        const ev = [...out].reverse().find((f) => f.kind === 'status' && f.nodes.includes(n) && f.healAtMs === undefined);
        if (ev) ev.healAtMs = s.atMs;
      }
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

const pick = (x: { kind: string; text: string }) => ({ kind: x.kind, fault: x.text });

/** The Docker events of one lab's objects, as a load run watches them. */
export function labNodeEvents(
  docker: { events(labels: Record<string, string>, on: (e: DockerEvent) => void): Promise<() => void> },
  lab: string,
): NodeEventSource {
  return (on) => docker.events({ [LABEL_LAB]: lab }, on);
}
