/**
 * The step registry: every scenario step kind, in the order the schema lists them.
 *
 * Adding a step kind: `<key>.ts` here, exporting one `StepDefinition` (./step.ts): its key, the
 * parsed kinds it produces, `describe` (a sentence and an example), `parse` (on the shared YAML
 * reader and the scenario's state so far, ./parse-context.ts), its `schema` alternative
 * (`stepObject`, ./schema-parts.ts) and `run` (on the run's state, ./run-context.ts) + its line
 * in STEPS below + its variant of `Step` in ../types.ts. Then
 * `node --import tsx scripts/write-scenario-schema.mjs` rewrites media/scenario.schema.json;
 * test/unit/scenario-steps.test.ts checks the registry, the schema and the dispatch.
 */
import type { Step } from '../types';
import { assertStep } from './assert';
import { compareStep } from './compare';
import { downStep } from './down';
import { faultStep } from './fault';
import { healStep } from './heal';
import { loadStep } from './load';
import { maintenanceStep } from './maintenance';
import { predictStep } from './predict';
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
  predictStep,
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
