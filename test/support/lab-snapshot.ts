/** An 11-node lab status/snapshot for unit tests of the dashboard, tree and store (the data: bench/synthetic-lab.ts). */
import type { LabSnapshot } from '../../src/protocol/snapshot';
import type { LabStatus } from '../../src/protocol/status';
import { syntheticStatus } from '../../bench/synthetic-lab';
import { roleDisplays } from '../../src/roles';

export { syntheticStatus };

export function labStatus(tick = 0): LabStatus {
  return syntheticStatus(tick);
}

export function labSnapshot(tick = 0, extra: Partial<LabSnapshot> = {}): LabSnapshot {
  return { ...syntheticStatus(tick), revision: tick + 1, roles: roleDisplays(), activeFaults: [], events: [], ...extra };
}
