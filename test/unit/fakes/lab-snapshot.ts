/** An 11-node lab status/snapshot for unit tests of the dashboard, tree and store. */
import type { LabSnapshot } from '../../../src/protocol/snapshot';
import type { LabStatus } from '../../../src/protocol/status';
import { syntheticStatus } from '../../../bench/fixtures';

/** tick even: all healthy; odd: web2 exited and DOWN in HAProxy. */
export function labStatus(tick = 0): LabStatus {
  return syntheticStatus(tick);
}

export function labSnapshot(tick = 0, extra: Partial<LabSnapshot> = {}): LabSnapshot {
  return { ...syntheticStatus(tick), revision: tick + 1, activeFaults: [], events: [], ...extra };
}
