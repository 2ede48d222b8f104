/** `up`: bring the lab up, on the scenario's topology or another preset (later steps' node names follow it). */
import { isScalar } from 'yaml';
import { MAX_WEB_NODES, PresetName } from '../../engine/topology';
import { prune, YamlNode } from '../yaml-reader';
import { ref, stepObject } from './schema-parts';
import { labForPreset, StepFailed } from './run-context';
import type { StepParser } from './parse-context';
import type { StepDefinition, StepInput, StepOf } from './step';

export const UP_KEYS = ['preset', 'web', 'moodle'] as const;

const describe = {
  summary: "Bring the lab up: the scenario's topology, or another preset (the node names of later steps follow it).",
  example: '`up` or `up: { preset: single }`',
};

export const upStep: StepDefinition<StepOf<'up'>> = {
  key: 'up',
  kinds: ['up'],
  bare: true,
  describe,

  parse(p: StepParser, { e, empty, at, pos }: StepInput) {
    const topology = p.topology;
    let preset: string | undefined;
    let presetAt: YamlNode | undefined;
    let web: number | undefined;
    let webAt: YamlNode | undefined;
    let moodle: boolean | undefined;
    if (!empty) {
      const v = e!.value!;
      if (isScalar(v) && typeof v.value === 'string') {
        preset = p.preset(v);
        presetAt = v;
      } else {
        const map = p.mapping(v, 'up', at);
        for (const x of p.entries(map, 'up', UP_KEYS)) {
          if (x.key === 'preset') {
            preset = p.preset(x.value ?? x.at);
            presetAt = x.at;
          } else if (x.key === 'web') {
            web = p.int(x, 'up web', 1, MAX_WEB_NODES);
            webAt = x.at;
          } else moodle = p.bool(x, 'up moodle');
        }
      }
    }
    p.noLoadRunning(at, '`up`');
    const to = preset ?? topology.preset;
    p.checkWeb(to, web, webAt);
    if (web === undefined && to === topology.preset) web = topology.web;
    p.env = { topo: p.topologyOf(to, web, webAt ?? presetAt ?? at), upLine: pos.line, noMoodleLine: moodle === false ? pos.line : undefined };
    const text = `up ${to}${web !== undefined && to === 'ha' ? ` (${web} web)` : ''}${moodle === false ? ' without Moodle' : ''}`;
    return prune({ pos, text, kind: 'up' as const, preset: to, web, moodle });
  },

  schema: stepObject(
    'up',
    describe.summary,
    {
      anyOf: [
        { type: 'null' },
        ref('preset'),
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            preset: ref('preset'),
            web: ref('webCount'),
            moodle: { type: 'boolean', description: 'Install Moodle (default true); false: probe journey only.' },
          },
        },
      ],
    },
    [{ up: { preset: 'single' } }],
  ),

  async run(step, ctx) {
    const { scenario, opts } = ctx;
    ctx.preset = step.preset ?? ctx.preset;
    if (step.preset) ctx.web = step.preset === scenario.topology.preset ? scenario.topology.web : step.web;
    if (step.web !== undefined) ctx.web = step.web;
    const name = labForPreset(scenario, opts.lab, ctx.preset);
    ctx.lab = ctx.deps.labFor(name);
    const noMoodle = step.moodle === false || (step.moodle === undefined && opts.noMoodle);
    if (step.moodle === true && opts.noMoodle) throw new StepFailed('this step needs Moodle, but the scenario was run with --no-moodle');
    // The scenario's own lab file, or a built-in by name.
    const definition = ctx.preset === scenario.topology.preset ? scenario.topology.definition : undefined;
    const st = await ctx.lab.up({
      preset: definition ? undefined : (ctx.preset as PresetName),
      definition,
      webCount: ctx.web,
      noMoodle: noMoodle || undefined,
      moodleSource: noMoodle ? undefined : opts.moodleSource,
    });
    ctx.note('up', `up ${name} (${ctx.preset})`);
    return {
      detail: `lab ${name} (${ctx.preset}): ${st.state}, ${st.nodes.filter((n) => n.healthy).length} of ${st.nodes.length} healthy${st.moodle.installed ? ', Moodle installed' : ''}`,
    };
  },
};
