/**
 * Labels on every object the lab creates. Discovery and cleanup go by these, never by name.
 *
 * Identity: the lab name is something anyone can put on a container. Every object a lab creates
 * also carries the lab's own random id (`io.moodle-lab.id`, kept in its state file), and the
 * engine adopts only objects carrying it: a foreign container labelled with the lab's name and a
 * node name never receives an exec (with the lab's passwords) nor counts as a node.
 */
import { randomBytes } from 'node:crypto';
import type { Labels } from './types';
import type { Role } from '../protocol/status';

export const LABEL_LAB = 'io.moodle-lab.lab';
export const LABEL_NODE = 'io.moodle-lab.node';
export const LABEL_ROLE = 'io.moodle-lab.role';
export const LABEL_ID = 'io.moodle-lab.id';
/** On the lab's tool containers (sidecars): which tool (`netem`, `delayer`). */
export const LABEL_TOOL = 'io.moodle-lab.tool';
/** On a long-lived delayer sidecar: the node whose traffic it impairs. */
export const LABEL_IMPAIRS = 'io.moodle-lab.impairs';
/** The tool of a long-lived delayer sidecar (`lab-impair run`, lab/netem). */
export const TOOL_DELAYER = 'delayer';

export const DEFAULT_LAB = 'moodle-lab';
const LAB_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;

export function validateLabName(name: string): string {
  if (!LAB_NAME.test(name)) {
    throw new Error(`invalid lab name "${name}": use 1–31 lowercase letters, digits and dashes, starting with a letter or digit`);
  }
  return name;
}

/** `id`: the lab's identity label too (every object the lab creates carries it). */
export function labLabels(lab: string, id?: string): Labels {
  return id ? { [LABEL_LAB]: lab, [LABEL_ID]: id } : { [LABEL_LAB]: lab };
}

export function nodeLabels(lab: string, node: string, role: Role, id?: string): Labels {
  return { ...labLabels(lab, id), [LABEL_NODE]: node, [LABEL_ROLE]: role };
}

/** Docker object names: readable, prefixed by the lab; never used for discovery. */
export function objectName(lab: string, suffix: string): string {
  return `${lab}-${suffix}`;
}

/**
 * A lab's identity, kept in its state (`extra.identity`). `adopted`: objects of a lab made
 * before labs had ids (they carry no id and Docker labels cannot be added later), recorded
 * once by the `up` that gave the lab its id: containers by Docker id, networks and volumes by
 * name. Objects created since carry the id.
 */
export interface LabIdentity {
  id: string;
  adopted?: { containers: string[]; networks: string[]; volumes: string[] };
}

export function newLabId(): string {
  return randomBytes(8).toString('hex');
}

type WithExtra = { extra: object };

/** The identity recorded in a lab's state; undefined for a state that predates ids (or no state). */
export function identityOf(state: WithExtra | undefined): LabIdentity | undefined {
  const raw = (state?.extra as { identity?: unknown } | undefined)?.identity;
  if (raw === undefined) return undefined;
  const i = raw as Partial<LabIdentity>;
  const lists =
    i.adopted === undefined ||
    (['containers', 'networks', 'volumes'] as const).every((k) => Array.isArray(i.adopted?.[k]) && i.adopted[k].every((x) => typeof x === 'string'));
  if (typeof i.id !== 'string' || !/^[0-9a-f]{8,64}$/.test(i.id) || !lists) {
    throw new Error(
      'the lab state\'s "extra.identity" must be {id: <hex>, adopted?: {containers, networks, volumes: lists of names}} (fix the file, or `destroy` the lab: destroy goes by Docker labels)',
    );
  }
  return i as LabIdentity;
}

/** Records the identity in the state (in place). */
export function setIdentity<T extends WithExtra>(state: T, identity: LabIdentity): T {
  (state.extra as { identity?: LabIdentity }).identity = identity;
  return state;
}

/**
 * Whether a container labelled for the lab is the lab's own: it carries the lab's id, or it
 * was adopted (by Docker id) when a pre-id lab got its id. Without an identity (a state that
 * predates ids, until its next `up`) every labelled container counts, as before ids.
 */
export function ownsContainer(identity: LabIdentity | undefined, c: { id: string; labels: Labels }): boolean {
  if (!identity) return true;
  const id = c.labels[LABEL_ID];
  if (id !== undefined) return id === identity.id;
  return identity.adopted?.containers.includes(c.id) ?? false;
}
