/**
 * Faults on a load run's timeline: `--fault "kill web2@20s"` (repeatable) and `--heal-at 40s`.
 * The injector is anything with LabController's fault/heal (the benches pass a Docker-direct one).
 */
import { describeFault, FAULT_CATALOG, faultEntry, FaultKind, FaultRequest, faultRequestProblem, MAX_DURATION_MS } from '../protocol/fault-catalog';

/** The kinds a `--fault` may name: those on one node (a partition takes two groups). */
const SPEC_KINDS: readonly string[] = FAULT_CATALOG.filter((e) => e.targets === 'node').map((e) => e.kind);

/** What a load run injects faults through: LabController, or the benches' Docker-direct target. */
export interface FaultTarget {
  fault(req: FaultRequest): Promise<unknown>;
  heal(node?: string): Promise<unknown>;
}

export interface ScheduledFault {
  req: FaultRequest;
  /** ms after the run's start. */
  atMs: number;
  text: string;
}

/**
 * The one duration parser (CLI options, scenario files): '60s', '1.5s', '500ms', '2m', or a bare
 * number of seconds → whole ms, at most MAX_DURATION_MS (24 h). Throws one clear Error otherwise.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const ms = durationMs(text);
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  if (ms === undefined) throw new Error(`invalid ${what} "${shown}": expected e.g. 60s, 500ms, 2m`);
  if (!(ms <= MAX_DURATION_MS)) throw new Error(`invalid ${what} "${shown}": at most 24 h (1440m)`);
  return ms;
}

/** The duration syntax alone, unbounded (may be Infinity): undefined when `text` is not a duration. */
export function durationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

/** "kill web2@20s", "pause galera1@10s", "stop web1,web2@5s", "delay web1 200@3s" (ms). */
export function parseFaultSpec(spec: string): ScheduledFault {
  const at = spec.lastIndexOf('@');
  if (at < 0) throw new Error(`invalid --fault "${spec}": expected "<kind> <node>@<time>", e.g. "kill web2@20s"`);
  const [kind, nodes, arg, ...extra] = spec.slice(0, at).trim().split(/\s+/);
  if (!kind || !nodes || extra.length) throw new Error(`invalid --fault "${spec}": expected "<kind> <node>@<time>", e.g. "kill web2@20s"`);
  const entry = faultEntry(kind);
  if (!entry || !SPEC_KINDS.includes(kind)) throw new Error(`invalid --fault "${spec}": kind must be one of ${SPEC_KINDS.join(', ')}`);
  const req: FaultRequest = { kind: kind as FaultKind, nodes: nodes.split(',') };
  const value = entry.params.find((p) => p.positional);
  if (value) req[value.field] = Number(arg ?? value.specDefault ?? value.uiDefault);
  else if (arg !== undefined) throw new Error(`invalid --fault "${spec}": "${kind}" takes no value`);
  const problem = faultRequestProblem(req);
  if (problem) throw new Error(`invalid --fault "${spec}": ${problem}`);
  return { req, atMs: parseDuration(spec.slice(at + 1), '--fault time'), text: describeFault(req) };
}
