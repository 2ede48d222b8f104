/**
 * The fault catalog: each fault kind declared once (`<kind>.ts`, registered in `registry.ts`),
 * and what every surface derives from it (`check.ts`: the request check, description and the
 * scenario's field form; `surfaces.ts`: CLI usage and options, menus, package.json
 * contributions, the scenario JSON Schema fragment).
 *
 * Browser-safe (the webview bundles it): no node imports.
 */
export * from './registry';
export * from './check';
export * from './surfaces';
export { defineFault, MAX_DURATION_MS, paramOk } from './types';
export type { AnyFault, FaultContainer, FaultContext, FaultDocker, FaultEntry, FaultFields, FaultParam, NetnsContext, NodeState, ParamField } from './types';
export { MAX_DELAY_MS, netemArgs } from './delay';
export { LOSS_CHAIN, lossRules, MIN_LOSS_PCT } from './loss';
export { PARTITION_CHAIN, partitionRules } from './partition';
