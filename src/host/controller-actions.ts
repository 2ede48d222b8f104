/** Adapts the LabController to what a dashboard may ask, each answer a sentence for the user. */
import type { LabController } from '../controller/lab-controller';
import { describeFault } from '../protocol/faults';
import type { LabActions } from './controls';

export function controllerActions(c: LabController): LabActions {
  return {
    fault: async (req) => {
      const f = await c.fault(req);
      return f ? `${f.detail} (in force: heal undoes it)` : `${describeFault(req)}: done`;
    },
    heal: async (node) => {
      const { reverted } = await c.heal(node);
      return reverted.length ? `reverted: ${reverted.map((f) => f.detail).join('; ')}` : 'no active fault recorded; every node started and ready';
    },
    maintenance: (on, node) => c.maintenance(on, node),
  };
}
