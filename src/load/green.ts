/** Waiting until the lab is green again (the soak bench and the audit, between faults). */
import { errText } from '../core/errors';
import { Clock, notYet, ready, realClock, waitFor } from '../core/wait';
import type { ActiveFault } from '../protocol/faults';
import type { LabStatus } from '../protocol/status';
import { labProblems } from '../roles/green';

export interface GreenLab {
  status(): Promise<LabStatus>;
  activeFaults?(): ActiveFault[];
}

/** Until the lab is green (or the timeout): the status it ended on and what was still wrong ([] = green). */
export async function waitGreen(
  lab: GreenLab,
  timeoutMs: number,
  seen: (s: LabStatus) => void = () => undefined,
  clock: Clock = realClock,
): Promise<{ status?: LabStatus; problems: string[] }> {
  let last: { status?: LabStatus; problems: string[] } = { problems: ['no status yet'] };
  try {
    await waitFor(
      async () => {
        const status = await lab.status();
        seen(status);
        last = { status, problems: labProblems(status, lab.activeFaults?.() ?? []) };
        return last.problems.length ? notYet(last.problems.join('; ')) : ready(true);
      },
      { what: 'the lab green', timeoutMs, intervalMs: 2000, clock },
    );
  } catch (err) {
    if (!last.problems.length) last.problems = [errText(err)];
  }
  return last;
}
