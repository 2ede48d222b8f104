/** Labels on every object the lab creates. Discovery and cleanup go by these, never by name. */
import type { Labels } from '../docker/types';
import type { Role } from './topology';

export const LABEL_LAB = 'io.moodle-lab.lab';
export const LABEL_NODE = 'io.moodle-lab.node';
export const LABEL_ROLE = 'io.moodle-lab.role';

export const DEFAULT_LAB = 'moodle-lab';
const LAB_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;

export function validateLabName(name: string): string {
  if (!LAB_NAME.test(name)) {
    throw new Error(`invalid lab name "${name}": use 1–31 lowercase letters, digits and dashes, starting with a letter or digit`);
  }
  return name;
}

export function labLabels(lab: string): Labels {
  return { [LABEL_LAB]: lab };
}

export function nodeLabels(lab: string, node: string, role: Role): Labels {
  return { [LABEL_LAB]: lab, [LABEL_NODE]: node, [LABEL_ROLE]: role };
}

/** Docker object names: readable, prefixed by the lab; never used for discovery. */
export function objectName(lab: string, suffix: string): string {
  return `${lab}-${suffix}`;
}
