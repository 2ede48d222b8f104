/** `wait`: pause the scenario (a running load keeps running). */
import { fmtMs } from '../yaml-reader';
import { ref, stepObject } from './schema-parts';
import type { StepParser } from './parse-context';
import type { StepDefinition, StepInput, StepOf } from './step';

const describe = {
  summary: 'Pause the scenario (the load keeps running).',
  example: '`wait: 20s`',
};

export const waitStep: StepDefinition<StepOf<'wait'>> = {
  key: 'wait',
  kinds: ['wait'],
  needsValue: true,
  describe,

  parse(p: StepParser, { e, pos }: StepInput) {
    const ms = p.duration(e!, 'wait');
    return { pos, text: `wait ${fmtMs(ms)}`, kind: 'wait', ms };
  },

  schema: stepObject('wait', describe.summary, ref('duration'), [{ wait: '20s' }]),

  async run(step, ctx) {
    await ctx.clock.sleep(step.ms);
  },
};
