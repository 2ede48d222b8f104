/**
 * What a dashboard view may ask of the host: lab actions (the LabController satisfies them) and
 * the live controls (load, scenarios, reports) that src/host/live.ts provides. Declared here, below
 * the dashboard, so that the dashboard uses the host and the host never imports the dashboard.
 */
import type { FaultRequest } from '../protocol/faults';
import type { LoadStartParams, PredictAnswerParams } from '../protocol/messages';
import type { AuditStartParams } from '../protocol/audit';

/** What the dashboard may ask the lab to do (LabController satisfies it). */
export interface LabActions {
  fault(req: FaultRequest): Promise<string>;
  heal(node?: string): Promise<string>;
  maintenance(on: boolean, node?: string): Promise<string>;
}

/** Load, scenarios and reports (src/host/live.ts); absent: those intents are answered with an error. */
export interface LiveControls {
  startLoad(p: LoadStartParams): Promise<string>;
  stopLoad(): Promise<string>;
  runScenario(name: string): Promise<string>;
  stopScenario(): Promise<string>;
  exportReport(): Promise<{ detail: string; file?: string }>;
  /** Answers the `predict` step the running scenario waits on. */
  answerPrediction?(p: PredictAnswerParams): Promise<string>;
  /** Starts the audit (progress in the snapshot's `audit`); resolves once it started. */
  startAudit?(p: AuditStartParams): Promise<string>;
  /** Cancels it: the lab is healed before it ends. */
  stopAudit?(): Promise<string>;
}
