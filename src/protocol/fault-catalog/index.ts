/**
 * The fault catalog: each fault kind declared once (`<kind>.ts`, registered in `registry.ts`),
 * and what every surface derives from it (`check.ts`: the request check, description and the
 * scenario's field form; `surfaces.ts`: CLI usage and options, menus, package.json
 * contributions, the scenario JSON Schema fragment).
 *
 * Browser-safe (the webview bundles it): no imports outside this folder.
 *
 * Adding a fault kind: `<kind>.ts` here (a `defineFault({...})`: effect, targets, parameters with
 * unit and bounds, the node states it applies to, describe, usage, menu, apply/revert and, for a
 * network kind, its `netns` rules) + its line in registry.ts's FAULT_CATALOG; then
 * `node --import tsx scripts/write-fault-contributions.mjs` rewrites package.json's commands and
 * menus. A new numeric parameter also adds its field to `ParamField`/`FaultFields` (types.ts).
 * test/unit/fault-catalog.test.ts fails while a surface lacks the kind.
 */
export * from './registry';
export * from './check';
export * from './surfaces';
export { defineFault, MAX_DURATION_MS, paramOk } from './types';
export type { AnyFault, FaultContainer, FaultContext, FaultDocker, FaultEntry, FaultFields, FaultParam, NetnsContext, NodeState, ParamField } from './types';
export { MAX_DELAY_MS } from './delay';
export { MAX_RATE_KBIT, MIN_RATE_KBIT } from './rate';
export * from './impair';
export { LOSS_CHAIN, lossRules, MIN_LOSS_PCT } from './loss';
export { PARTITION_CHAIN, partitionRules } from './partition';
