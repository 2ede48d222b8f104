/** `down`: stop the lab, keep its data. */
import { stepObject } from './schema-parts';
import type { StepParser } from './parse-context';
import type { StepDefinition, StepInput, StepOf } from './step';

const describe = {
  summary: 'Stop the lab (data kept).',
  example: '`down`',
};

export const downStep: StepDefinition<StepOf<'down'>> = {
  key: 'down',
  kinds: ['down'],
  bare: true,
  describe,

  parse(p: StepParser, { empty, at, pos }: StepInput) {
    if (!empty) p.fail(at, '`down` takes no value');
    p.noLoadRunning(at, 'down');
    return { pos, text: 'down', kind: 'down' };
  },

  schema: stepObject('down', describe.summary, { type: 'null' }),

  async run(_step, ctx) {
    if (ctx.current) await ctx.finish(ctx.current, true);
    await ctx.lab.down();
    ctx.note('down', `down ${ctx.lab.lab}`);
    return { detail: `lab ${ctx.lab.lab} stopped` };
  },
};
