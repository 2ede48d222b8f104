/**
 * The one protocol between the dashboard (webview or browser page) and its host.
 * Every message is a descriptor with a typed payload; both sides import these descriptors and no
 * message name appears as a string literal anywhere else. Incoming messages are validated here.
 *
 *   webview → host: ready, then intents (each with an id and the revision it was based on)
 *   host → webview: snapshot (revisioned), reply {id, ok, error?} for every intent, even invalid ones
 */
import { faultEntry, faultParams, MAX_DURATION_MS, paramOk } from './fault-catalog';
import { FAULT_KINDS, FaultRequest, faultRequestProblem } from './faults';
import type { LabSnapshot } from './snapshot';
import { AUDIT_KINDS, AUDIT_LIMITS, AuditStartParams } from './audit';

export interface WireMessage<P = unknown> {
  method: string;
  /** Intents and replies only. */
  id?: string;
  /** Intents: the snapshot revision the user looked at. */
  revision?: number;
  params: P;
}

/** Returns a problem description, or undefined when the payload is valid. */
type Check = (params: Record<string, unknown>) => string | undefined;

export class MessageType<P> {
  constructor(
    readonly method: string,
    private readonly check: Check,
  ) {}

  /** Type guard: the method matches and the payload is valid. */
  is(m: unknown): m is WireMessage<P> {
    return isEnvelope(m) && m.method === this.method && this.problem(m) === undefined;
  }

  /** What is wrong with a message of this type, or undefined; any input, never throws. */
  problem(m: unknown): string | undefined {
    if (!isEnvelope(m)) return 'not a protocol message';
    if (!isRecord(m.params)) return 'params must be an object';
    try {
      return this.check(m.params);
    } catch {
      return 'malformed params';
    }
  }
}

/** webview → host notifications and host → webview messages. */
export class Notification<P> extends MessageType<P> {
  create(params: P): WireMessage<P> {
    return { method: this.method, params };
  }
}

/** webview → host requests: always answered with a Reply carrying the same id. */
export class Intent<P> extends MessageType<P> {
  create(id: string, params: P, revision?: number): WireMessage<P> {
    return revision === undefined ? { method: this.method, id, params } : { method: this.method, id, revision, params };
  }
}

/**
 * Bounds on what a page may send: every string is short, every number finite and in range.
 * The fault parameters' bounds are the fault catalog's (src/protocol/fault-catalog), checked in faultProblem.
 */
export const LIMITS = {
  /** Method names and ids. */
  method: 64,
  id: 64,
  /** Names (nodes, built-in scenarios). */
  name: 256,
  /** Paths and other free text. */
  text: 4096,
  nodesPerFault: 16,
  /** A fault's self-revert delay: above 0, at most 24 h. */
  forMs: { max: MAX_DURATION_MS },
  users: { min: 1, max: 1000 },
  durationS: { min: 1, max: 3600 },
} as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEnvelope = (v: unknown): v is WireMessage => isRecord(v) && typeof v.method === 'string';
const NODE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
export const isNodeName = (v: unknown): v is string => typeof v === 'string' && NODE_NAME.test(v);
const optional = (v: unknown, ok: (x: unknown) => boolean) => v === undefined || ok(v);
const isNum = (min: number, max: number) => (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const isPositive = (max: number) => (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= max;
const isNodeList = (v: unknown) => Array.isArray(v) && v.length > 0 && v.length <= LIMITS.nodesPerFault && v.every(isNodeName);

/** What is wrong with a fault request a page sent (the injector's rules), or undefined. */
export function faultProblem(r: unknown): string | undefined {
  if (!isRecord(r)) return 'request must be an object';
  const entry = faultEntry(r.kind);
  if (!entry) return `kind must be one of ${FAULT_KINDS.join(', ')}`;
  const kind = entry.kind;
  if (!isNodeList(r.nodes)) return 'nodes must be a non-empty list of node names';
  if (entry.targets === 'groups') {
    if (!isNodeList(r.from)) return `${kind} needs "from" nodes`;
  } else if ((r.nodes as string[]).length > 1 || r.from !== undefined) return `fault ${kind} takes one node and no "from"`;
  // Numbers a page sends are finite and in range, whatever the kind…
  for (const p of faultParams()) {
    const above = p.wireAbove;
    if (above !== undefined) {
      if (!optional(r[p.field], (v) => typeof v === 'number' && Number.isFinite(v) && v > above && v <= p.max))
        return `${p.field} must be above ${p.wireAbove} and at most ${p.max}`;
    } else if (!optional(r[p.field], (v) => paramOk({ ...p, step: undefined }, v))) return `${p.field} must be ${p.min}..${p.max}`;
  }
  if (!optional(r.forMs, isPositive(LIMITS.forMs.max))) return `forMs must be a duration above 0 and at most ${LIMITS.forMs.max} ms (24 h)`;
  // …and the kind's own rules are the one check the CLI, scenarios and the injector use too.
  return faultRequestProblem(r as unknown as FaultRequest);
}

const checkFault: Check = (p) => faultProblem(p.request);

const BUILTIN_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
// An absolute POSIX or Windows path of a .yaml/.yml file (control characters are refused apart).
const SCENARIO_FILE = /^(?:\/|[A-Za-z]:[\\/]).*\.ya?ml$/is;
const hasControl = (v: string) => {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
};
/** A scenario a page may ask for: a built-in name, or the absolute path of a scenario file (the host decides which it offers). */
export const isScenarioRef = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= LIMITS.text && (BUILTIN_NAME.test(v) || (SCENARIO_FILE.test(v) && !hasControl(v)));

// webview → host
export const Ready = new Notification<Record<string, never>>('ready', () => undefined);
export const FaultIntent = new Intent<{ request: FaultRequest }>('fault', checkFault);
export const HealIntent = new Intent<{ node?: string }>('heal', (p) => (optional(p.node, isNodeName) ? undefined : 'node must be a node name'));
export const MaintenanceIntent = new Intent<{ on: boolean; node?: string }>('maintenance', (p) =>
  typeof p.on !== 'boolean' ? 'on must be true or false' : optional(p.node, isNodeName) ? undefined : 'node must be a node name',
);
export const OpenNodeIntent = new Intent<{ node: string; what?: 'logs' | 'shell' | 'browser' }>('openNode', (p) =>
  !isNodeName(p.node)
    ? 'node must be a node name'
    : optional(p.what, (w) => w === 'logs' || w === 'shell' || w === 'browser')
      ? undefined
      : 'what must be logs, shell or browser',
);
export const RefreshIntent = new Intent<Record<string, never>>('refresh', () => undefined);

export type JourneyChoice = 'auto' | 'moodle' | 'probe';
export const JOURNEY_CHOICES: readonly JourneyChoice[] = ['auto', 'moodle', 'probe'];
export interface LoadStartParams {
  users?: number;
  durationS?: number;
  journey?: JourneyChoice;
}
const isInt = (min: number, max: number) => (v: unknown) => Number.isInteger(v) && isNum(min, max)(v);
export const LoadStartIntent = new Intent<LoadStartParams>('loadStart', (p) =>
  !optional(p.users, isInt(LIMITS.users.min, LIMITS.users.max))
    ? `users must be a whole number from ${LIMITS.users.min} to ${LIMITS.users.max}`
    : !optional(p.durationS, isInt(LIMITS.durationS.min, LIMITS.durationS.max))
      ? `durationS must be a whole number of seconds from ${LIMITS.durationS.min} to ${LIMITS.durationS.max}`
      : !optional(p.journey, (j) => JOURNEY_CHOICES.includes(j as JourneyChoice))
        ? `journey must be one of ${JOURNEY_CHOICES.join(', ')}`
        : undefined,
);
export const LoadStopIntent = new Intent<Record<string, never>>('loadStop', () => undefined);
/** `name`: a built-in scenario, or a scenario file the host offers (its absolute path); the host refuses any other. */
export const ScenarioRunIntent = new Intent<{ name: string }>('scenarioRun', (p) =>
  isScenarioRef(p.name) ? undefined : 'name must be a built-in scenario name or the absolute path of a scenario .yaml file',
);
export const ScenarioStopIntent = new Intent<Record<string, never>>('scenarioStop', () => undefined);
export const ExportReportIntent = new Intent<Record<string, never>>('exportReport', () => undefined);
/** A learner's answer to the `predict` step waiting now: a choice's index or a number; neither = skip. The host checks it against the question. */
export interface PredictAnswerParams {
  id: string;
  choice?: number;
  value?: number;
}
const QUESTION_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const PredictAnswerIntent = new Intent<PredictAnswerParams>('predictAnswer', (p) =>
  typeof p.id !== 'string' || p.id.length > 60 || !QUESTION_ID.test(p.id)
    ? 'id must be a question id (kebab-case, at most 60 characters)'
    : !optional(p.choice, isInt(0, 31))
      ? 'choice must be a whole number from 0 to 31'
      : !optional(p.value, isNum(-1e12, 1e12))
        ? 'value must be a finite number'
        : p.choice !== undefined && p.value !== undefined
          ? 'give a choice or a value, not both'
          : undefined,
);

/** Starts the audit: kinds (at least one, no repeats), optionally the nodes, users and seconds per fault. */
export const AuditStartIntent = new Intent<AuditStartParams>('auditStart', (p) => {
  const kinds = p.kinds;
  if (!Array.isArray(kinds) || !kinds.length || kinds.length > AUDIT_KINDS.length || !kinds.every((k) => (AUDIT_KINDS as readonly unknown[]).includes(k)))
    return `kinds must be a non-empty list of ${AUDIT_KINDS.join(', ')}`;
  if (new Set(kinds).size !== kinds.length) return 'kinds must not repeat a kind';
  if (p.nodes !== undefined && !(Array.isArray(p.nodes) && p.nodes.length > 0 && p.nodes.length <= AUDIT_LIMITS.nodes && p.nodes.every(isNodeName)))
    return `nodes must be a non-empty list of at most ${AUDIT_LIMITS.nodes} node names`;
  if (!optional(p.users, isInt(AUDIT_LIMITS.users.min, AUDIT_LIMITS.users.max)))
    return `users must be a whole number from ${AUDIT_LIMITS.users.min} to ${AUDIT_LIMITS.users.max}`;
  if (!optional(p.perFaultS, isInt(AUDIT_LIMITS.perFaultS.min, AUDIT_LIMITS.perFaultS.max)))
    return `perFaultS must be a whole number of seconds from ${AUDIT_LIMITS.perFaultS.min} to ${AUDIT_LIMITS.perFaultS.max}`;
  return undefined;
});
/** Cancels the running audit: the current fault's load stops, the lab is healed and waited for until green. */
export const AuditStopIntent = new Intent<Record<string, never>>('auditStop', () => undefined);

// host → webview
export const SnapshotMessage = new Notification<{ snapshot: LabSnapshot }>('snapshot', (p) =>
  isRecord(p.snapshot) && typeof p.snapshot.revision === 'number' && Array.isArray(p.snapshot.nodes) ? undefined : 'snapshot must carry a revision and nodes',
);
export interface ReplyParams {
  ok: boolean;
  /** A sentence for the user on success (e.g. what the fault did). */
  detail?: string;
  error?: string;
  /** The intent was based on an old revision: a fresh snapshot follows. */
  stale?: boolean;
  /** A link for the user (e.g. the exported report, in the browser dashboard). */
  url?: string;
}
export const Reply = new Notification<ReplyParams>('reply', (p) => (typeof p.ok === 'boolean' ? undefined : 'ok must be a boolean'));

export const INTENTS = [
  FaultIntent,
  HealIntent,
  MaintenanceIntent,
  OpenNodeIntent,
  RefreshIntent,
  LoadStartIntent,
  LoadStopIntent,
  ScenarioRunIntent,
  ScenarioStopIntent,
  ExportReportIntent,
  PredictAnswerIntent,
  AuditStartIntent,
  AuditStopIntent,
] as const;

export type IncomingCheck = { ok: true; message: WireMessage; intent?: Intent<unknown> } | { ok: false; id?: string; error: string };

/**
 * Validates a message a webview sent: `ready` or a known intent with an id and a valid payload.
 * Pure, and total on any input (JSON or not): it returns an error result, it never throws.
 */
export function validateIncoming(raw: unknown): IncomingCheck {
  try {
    return checkIncoming(raw);
  } catch {
    return { ok: false, error: 'not a protocol message' };
  }
}

function checkIncoming(raw: unknown): IncomingCheck {
  if (!isEnvelope(raw)) return { ok: false, error: 'not a protocol message' };
  const id = typeof raw.id === 'string' && raw.id.length > 0 && raw.id.length <= LIMITS.id ? raw.id : undefined;
  if (raw.method.length > LIMITS.method) return { ok: false, id, error: `unknown message (a method name of ${raw.method.length} characters)` };
  if (raw.method === Ready.method) return { ok: true, message: raw };
  const intent = INTENTS.find((i) => i.method === raw.method) as Intent<unknown> | undefined;
  if (!intent) return { ok: false, id, error: `unknown message "${raw.method}"` };
  if (!id) return { ok: false, error: `"${raw.method}" needs an id of 1 to ${LIMITS.id} characters` };
  if (raw.revision !== undefined && !(Number.isSafeInteger(raw.revision) && (raw.revision as number) >= 0))
    return { ok: false, id, error: 'revision must be a number' };
  const problem = intent.problem(raw);
  if (problem) return { ok: false, id, error: `invalid "${raw.method}": ${problem}` };
  return { ok: true, message: raw, intent };
}

/** Validates a message the host sent (the webview side); undefined for anything else, never throws. */
export function validateHostMessage(raw: unknown): WireMessage<{ snapshot: LabSnapshot }> | WireMessage<ReplyParams> | undefined {
  try {
    if (SnapshotMessage.is(raw)) return raw;
    if (Reply.is(raw) && typeof raw.id === 'string') return raw;
  } catch {
    // fall through: not a host message
  }
  return undefined;
}
