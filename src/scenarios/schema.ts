/**
 * The JSON Schema (draft-07) of scenario files. The extension contributes it through
 * `contributes.yamlValidation` (media/scenario.schema.json, the same content: a unit test keeps
 * them equal; `node scripts/write-scenario-schema.mjs` rewrites the file), so the YAML extension
 * validates and completes `*.scenario.yaml` and `lab/scenarios/*.yaml` as one types.
 *
 * The schema catches the shape (keys, types, enums, patterns); ./parse.ts is the authority and
 * adds what a schema cannot see: node names against the topology in force at each step, load
 * runs started/stopped in order, run names used before they exist.
 *
 * Each step's alternative of `step` comes from its module (./steps/, the registry's order); this
 * file holds the document-level parts (top keys, shared definitions, the editor's snippets).
 */
import { buildTopology, MAX_WEB_NODES, PRESET_NAMES } from '../engine/topology';
import { STEPS } from './steps';
import { DURATION_PATTERN, NUM, OP, ref, threshold } from './steps/schema-parts';

const NODE_NAMES = buildTopology('ha', MAX_WEB_NODES).nodes.map((n) => n.name);
const WEB_NODES = NODE_NAMES.filter((n) => n.startsWith('web'));

export const SCENARIO_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://moodle-ha-lab.invalid/scenario.schema.json',
  title: 'Moodle HA Lab scenario',
  description:
    'A classroom scenario: bring the lab up, start load, break nodes, heal, narrate, and assert what learners should see. Run it with `npm run lab -- scenario run <file>`.',
  type: 'object',
  required: ['name', 'steps'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', description: 'Scenario name, kebab-case.', examples: ['paper-failover'] },
    description: { type: 'string', description: 'One or two sentences: what the scenario shows.' },
    lab: {
      type: 'string',
      description:
        'The lab the scenario expects, instead of `topology`: a built-in lab (ha, single, ha-full) or a lab file (`*.lab.yaml`, relative to this file).',
      examples: ['ha-full', 'galera-2plus1.lab.yaml'],
    },
    topology: {
      description: 'The lab the scenario expects; the first `up` uses it unless the step says otherwise.',
      anyOf: [
        ref('preset'),
        {
          type: 'object',
          additionalProperties: false,
          properties: { preset: ref('preset'), web: ref('webCount') },
        },
      ],
      default: { preset: 'ha' },
      examples: [{ preset: 'ha', web: 3 }, 'single'],
    },
    steps: {
      type: 'array',
      minItems: 1,
      description: 'What happens, in order. Each step is `kind: value`, or a bare `up`, `down` or `heal`.',
      items: ref('step'),
    },
  },
  definitions: {
    preset: {
      type: 'string',
      enum: [...PRESET_NAMES],
      description:
        'ha: HAProxy, web nodes, 3 Galera, 3 Gluster, Redis. single: one web node and one MariaDB. ha-full: no single point of failure (HAProxy pair with a VIP, Redis Sentinel).',
    },
    webCount: { type: 'integer', minimum: 1, maximum: 9, description: 'Number of web nodes (ha only; single has exactly one).' },
    duration: {
      description: 'A duration: 20s, 500ms, 2m (a bare number is seconds).',
      anyOf: [
        { type: 'string', pattern: DURATION_PATTERN },
        { type: 'number', minimum: 0 },
      ],
      examples: ['20s', '500ms', '2m'],
    },
    node: { type: 'string', enum: NODE_NAMES, description: 'A node of the lab (it must exist in the topology in force at that step).' },
    webNode: { type: 'string', enum: WEB_NODES, description: 'A web node.' },
    nodes: {
      description: 'A node, a list of nodes, or "a,b".',
      anyOf: [
        ref('node'),
        { type: 'array', items: ref('node'), minItems: 1, uniqueItems: true },
        { type: 'string', pattern: '^[a-z0-9]+(\\s*,\\s*[a-z0-9]+)+$' },
      ],
    },
    threshold: threshold('A threshold: a bare value (equal to) or an operator and a value.', `^\\s*${OP}${NUM}\\s*[A-Za-z%]*\\s*$`, [
      0,
      '>= 0.85',
      '<= 1500ms',
    ]),
    step: {
      description: 'One step of the scenario.',
      anyOf: [
        {
          type: 'string',
          enum: ['up', 'down', 'heal'],
          description: "up: bring the lab up (the scenario's topology); down: stop it, keep data; heal: undo every fault and start what is down.",
        },
        ...STEPS.map((s) => s.schema),
      ],
      defaultSnippets: [
        { label: 'say', description: 'Narration', body: { say: '${1:What to watch}' } },
        { label: 'load', description: 'Start a load run', body: { load: { users: 30, duration: '${1:60s}' } } },
        { label: 'load wait', description: 'Wait for the load run to finish', body: { load: 'wait' } },
        { label: 'fault', description: 'Break a node', body: { fault: '${1|stop,kill,pause,disconnect|} ${2:web2}' } },
        { label: 'wait', description: 'Pause', body: { wait: '${1:20s}' } },
        { label: 'assert', description: 'Check metrics', body: { assert: { failures: 0, apdex: '>= 0.85' } } },
      ],
    },
  },
};
