/** `heal`: undo one node's faults (no value: every fault) and start what is down. */
import { ref, stepObject } from './schema-parts';
import type { StepParser } from './parse-context';
import type { StepDefinition, StepInput, StepOf } from './step';

const describe = {
  summary: "Undo one node's faults (empty: every fault) and start what is down.",
  example: '`heal` or `heal: web2`',
};

export const healStep: StepDefinition<StepOf<'heal'>> = {
  key: 'heal',
  kinds: ['heal'],
  bare: true,
  describe,

  parse(p: StepParser, { e, empty, pos }: StepInput) {
    if (empty) return { pos, text: 'heal', kind: 'heal' };
    const node = p.string(e!, 'heal');
    p.checkNode(node, e!.at);
    return { pos, text: `heal ${node}`, kind: 'heal', node };
  },

  schema: stepObject('heal', describe.summary, { anyOf: [{ type: 'null' }, ref('node')] }, [{ heal: 'web2' }]),

  async run(step, ctx) {
    if (ctx.current && !ctx.current.finished) await ctx.current.handle.heal(step.node);
    else await ctx.lab.heal(step.node);
    ctx.note('heal', step.node ? `heal ${step.node}` : 'heal');
  },
};
