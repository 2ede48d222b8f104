/**
 * Faults a learner can inject, as data shared by the CLI, the extension and the dashboard.
 * They are declared once, in the fault catalog (src/protocol/fault-catalog): this module is the
 * protocol's view of it. No node or vscode imports here: the webview imports this module too.
 */
export type { ActiveFault, FaultRequest } from './fault-catalog';
export {
  describeFault,
  FAULT_CATALOG,
  FAULT_KINDS,
  FaultRequestError,
  faultRequestProblem,
  isLossPct,
  MAX_DELAY_MS,
  MAX_DURATION_MS,
  MIN_LOSS_PCT,
  REPAIR_KINDS,
} from './fault-catalog';
