/**
 * The one protocol between the dashboard (webview or browser page) and its host.
 * Every message is a descriptor with a typed payload; both sides import these descriptors and no
 * message name appears as a string literal anywhere else. Incoming messages are validated here.
 *
 *   webview → host: ready, then intents (each with an id and the revision it was based on)
 *   host → webview: snapshot (revisioned), reply {id, ok, error?} for every intent, even invalid ones
 */
import { FAULT_KINDS, FaultKind, FaultRequest } from './faults';
import type { LabSnapshot } from './snapshot';

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

  problem(m: WireMessage): string | undefined {
    if (!isRecord(m.params)) return 'params must be an object';
    return this.check(m.params);
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

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEnvelope = (v: unknown): v is WireMessage => isRecord(v) && typeof v.method === 'string';
const NODE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const isNode = (v: unknown): v is string => typeof v === 'string' && NODE_NAME.test(v);
const optional = (v: unknown, ok: (x: unknown) => boolean) => v === undefined || ok(v);
const isNum = (min: number, max: number) => (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
const isNodeList = (v: unknown) => Array.isArray(v) && v.length > 0 && v.length <= 16 && v.every(isNode);

function checkFault(p: Record<string, unknown>): string | undefined {
  const r = p.request;
  if (!isRecord(r)) return 'request must be an object';
  if (!FAULT_KINDS.includes(r.kind as FaultKind)) return `kind must be one of ${FAULT_KINDS.join(', ')}`;
  if (!isNodeList(r.nodes)) return 'nodes must be a non-empty list of node names';
  if (r.kind === 'partition' && !isNodeList(r.from)) return 'partition needs "from" nodes';
  if (!optional(r.delayMs, isNum(0, 60_000)) || !optional(r.jitterMs, isNum(0, 60_000))) return 'delayMs/jitterMs must be 0..60000';
  if (!optional(r.lossPct, isNum(0, 100))) return 'lossPct must be 0..100';
  if (!optional(r.forMs, isNum(0, 24 * 3600_000))) return 'forMs must be a duration in ms';
  return undefined;
}

// webview → host
export const Ready = new Notification<Record<string, never>>('ready', () => undefined);
export const FaultIntent = new Intent<{ request: FaultRequest }>('fault', checkFault);
export const HealIntent = new Intent<{ node?: string }>('heal', (p) => (optional(p.node, isNode) ? undefined : 'node must be a node name'));
export const MaintenanceIntent = new Intent<{ on: boolean; node?: string }>('maintenance', (p) =>
  typeof p.on !== 'boolean' ? 'on must be true or false' : optional(p.node, isNode) ? undefined : 'node must be a node name',
);
export const OpenNodeIntent = new Intent<{ node: string; what?: 'logs' | 'shell' | 'browser' }>('openNode', (p) =>
  !isNode(p.node) ? 'node must be a node name' : optional(p.what, (w) => w === 'logs' || w === 'shell' || w === 'browser') ? undefined : 'what must be logs, shell or browser',
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
  !optional(p.users, isInt(1, 1000))
    ? 'users must be a whole number from 1 to 1000'
    : !optional(p.durationS, isInt(1, 3600))
      ? 'durationS must be a whole number of seconds from 1 to 3600'
      : !optional(p.journey, (j) => JOURNEY_CHOICES.includes(j as JourneyChoice))
        ? `journey must be one of ${JOURNEY_CHOICES.join(', ')}`
        : undefined,
);
export const LoadStopIntent = new Intent<Record<string, never>>('loadStop', () => undefined);
const SCENARIO_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
export const ScenarioRunIntent = new Intent<{ name: string }>('scenarioRun', (p) => (typeof p.name === 'string' && SCENARIO_NAME.test(p.name) ? undefined : 'name must be a built-in scenario name'));
export const ScenarioStopIntent = new Intent<Record<string, never>>('scenarioStop', () => undefined);
export const ExportReportIntent = new Intent<Record<string, never>>('exportReport', () => undefined);

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

export const INTENTS = [FaultIntent, HealIntent, MaintenanceIntent, OpenNodeIntent, RefreshIntent, LoadStartIntent, LoadStopIntent, ScenarioRunIntent, ScenarioStopIntent, ExportReportIntent] as const;

export type IncomingCheck =
  | { ok: true; message: WireMessage; intent?: Intent<unknown> }
  | { ok: false; id?: string; error: string };

/** Validates a message a webview sent: `ready` or a known intent with an id and a valid payload. */
export function validateIncoming(raw: unknown): IncomingCheck {
  if (!isEnvelope(raw)) return { ok: false, error: 'not a protocol message' };
  const id = typeof raw.id === 'string' && raw.id.length > 0 && raw.id.length <= 64 ? raw.id : undefined;
  if (raw.method === Ready.method) return { ok: true, message: raw };
  const intent = INTENTS.find((i) => i.method === raw.method) as Intent<unknown> | undefined;
  if (!intent) return { ok: false, id, error: `unknown message "${raw.method}"` };
  if (!id) return { ok: false, error: `"${raw.method}" needs an id` };
  if (raw.revision !== undefined && !isNum(0, Number.MAX_SAFE_INTEGER)(raw.revision)) return { ok: false, id, error: 'revision must be a number' };
  const problem = intent.problem(raw);
  if (problem) return { ok: false, id, error: `invalid "${raw.method}": ${problem}` };
  return { ok: true, message: raw, intent };
}

/** Validates a message the host sent (the webview side). */
export function validateHostMessage(raw: unknown): WireMessage<{ snapshot: LabSnapshot }> | WireMessage<ReplyParams> | undefined {
  if (SnapshotMessage.is(raw)) return raw;
  if (Reply.is(raw) && typeof raw.id === 'string') return raw;
  return undefined;
}
