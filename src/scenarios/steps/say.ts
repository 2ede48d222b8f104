/** `say`: narration for the classroom, shown in the CLI, the dashboard and the report. */
import { stepObject } from './schema-parts';
import type { StepParser } from './parse-context';
import type { StepDefinition, StepInput, StepOf } from './step';

const describe = {
  summary: 'Narration for the classroom: shown in the CLI, the dashboard and the report.',
  example: '`say: "Watch the HAProxy table"`',
};

export const sayStep: StepDefinition<StepOf<'say'>> = {
  key: 'say',
  kinds: ['say'],
  needsValue: true,
  describe,

  parse(p: StepParser, { e, pos }: StepInput) {
    const message = p.string(e!, 'say').replace(/\s+$/, '');
    const one = message.replace(/\s+/g, ' ');
    return { pos, text: `say "${one.length > 60 ? `${one.slice(0, 57)}…` : one}"`, kind: 'say', message };
  },

  schema: stepObject('say', describe.summary, { type: 'string', minLength: 1 }, [{ say: 'Watch the HAProxy table: web2 turns red within seconds.' }]),

  async run(step, ctx) {
    ctx.progress.say(step.message);
    ctx.note('say', step.message);
  },
};
