/**
 * The step registry: every scenario step kind, in the order the schema lists them. Adding a step
 * kind = its module here + one line below (+ its variant of `Step` in ../types.ts).
 */
import type { Step } from '../types';
import { assertStep } from './assert';
import { compareStep } from './compare';
import { downStep } from './down';
import { faultStep } from './fault';
import { healStep } from './heal';
import { loadStep } from './load';
import { maintenanceStep } from './maintenance';
import { sayStep } from './say';
import type { StepDefinition } from './step';
import { upStep } from './up';
import { waitStep } from './wait';

export const STEPS: readonly StepDefinition[] = [
  upStep,
  downStep,
  loadStep,
  waitStep,
  faultStep,
  healStep,
  maintenanceStep,
  sayStep,
  assertStep,
  compareStep,
];

/** The step written with this key (`fault:`), if any. */
export function stepByKey(key: string): StepDefinition | undefined {
  return STEPS.find((s) => s.key === key);
}

/** The step that produced a parsed step of this kind (`load-wait` → load). */
export function stepOfKind(kind: Step['kind']): StepDefinition {
  const def = STEPS.find((s) => (s.kinds as readonly string[]).includes(kind));
  if (!def) throw new Error(`no step module for step kind ${kind}`);
  return def;
}
