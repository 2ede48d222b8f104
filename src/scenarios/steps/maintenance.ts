/** `maintenance`: Moodle's site-wide maintenance mode, or with `node`: drain that web node in HAProxy. */
import { isMap } from 'yaml';
import { prune, YamlNode } from '../yaml-reader';
import { ref, stepObject } from './schema-parts';
import type { StepParser } from './parse-context';
import type { StepDefinition, StepInput, StepOf } from './step';

export const MAINTENANCE_KEYS = ['on', 'node'] as const;

const describe = {
  summary: 'Site-wide Moodle maintenance (on/off), or with `node`: drain that web node in HAProxy (on) or make it ready again (off).',
  example: '`maintenance: on` or `maintenance: { on: true, node: web2 }`',
};

export const maintenanceStep: StepDefinition<StepOf<'maintenance'>> = {
  key: 'maintenance',
  kinds: ['maintenance'],
  needsValue: true,
  describe,

  parse(p: StepParser, { e: entry, pos }: StepInput) {
    const e = entry!;
    const v = e.value!;
    let on: boolean | undefined;
    let node: string | undefined;
    let nodeAt: YamlNode | undefined;
    if (isMap(v)) {
      for (const x of p.entries(v, 'maintenance', MAINTENANCE_KEYS)) {
        if (x.key === 'on') on = p.bool(x, 'maintenance on');
        else {
          node = p.string(x, 'maintenance node');
          nodeAt = x.at;
        }
      }
      if (on === undefined) p.fail(v, 'maintenance needs `on: true` or `on: false`');
    } else {
      on = p.bool(e, 'maintenance (on or off)');
    }
    if (node !== undefined) {
      if (!p.hasRole('lb')) p.fail(nodeAt, `maintenance of one node drains it in HAProxy, and ${p.describeTopo()} (no HAProxy): use the ha preset`);
      p.checkNode(node, nodeAt!, ['web'], 'maintenance of one node (an HAProxy drain)');
    }
    return prune({ pos, text: `maintenance ${on ? 'on' : 'off'}${node ? ` ${node}` : ''}`, kind: 'maintenance' as const, on, node });
  },

  schema: stepObject(
    'maintenance',
    describe.summary,
    {
      anyOf: [
        { type: 'string', enum: ['on', 'off'] },
        { type: 'boolean' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['on'],
          properties: {
            on: { anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['on', 'off'] }], description: 'true: maintenance/drain; false: back in service.' },
            node: { ...ref('webNode'), description: 'A web node: drain it in HAProxy instead of site-wide maintenance (ha preset).' },
          },
        },
      ],
    },
    [{ maintenance: 'on' }, { maintenance: { on: true, node: 'web2' } }],
  ),

  async run(step, ctx) {
    const detail = await ctx.lab.maintenance(step.on, step.node);
    ctx.note('maintenance', `maintenance ${step.on ? 'on' : 'off'}${step.node ? ` ${step.node}` : ''}: ${detail}`);
    return { detail };
  },
};
