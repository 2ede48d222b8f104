/**
 * The JSON Schema (draft-07) of lab files (`*.lab.yaml`), generated from the role modules (their
 * roles, counts and the options each implements) and the definition's vocabulary
 * (src/roles/definition.ts). The extension contributes it through `contributes.yamlValidation`
 * (media/lab.schema.json, the same content: a unit test keeps them equal;
 * `node --import tsx scripts/write-scenario-schema.mjs` rewrites both schema files).
 * ./lab-file.ts is the authority (it adds what a schema cannot see: even Galera counts, memory).
 */
import { PRESET_NAMES } from '../engine/topology';
import { roleModules } from '../roles';
import { ROLE_OPTIONS } from '../roles/definition';
import type { RoleOptionName } from '../roles/definition';
import { HAPROXY_PROFILES } from '../roles/haproxy';

const OPTION_DOC: Record<RoleOptionName, string> = {
  keepalived: 'Two HAProxy nodes hold a virtual IP with keepalived (VRRP); count must be 2.',
  arbitrator: 'A Galera arbitrator (garbd) votes in the quorum: two data nodes keep a Primary component when one dies.',
  arbiter: 'The third Gluster brick is an arbiter (replica 3 arbiter 1): metadata only.',
  mode: 'Redis: one node, a master with replicas watched by Sentinels, or a Redis Cluster.',
};

function roleSchema(m: ReturnType<typeof roleModules>[number]): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    count: { type: 'integer', minimum: m.required ? 1 : 0, maximum: m.maxCount ?? 1, description: `Number of ${m.spec.prefix} nodes.` },
  };
  for (const o of m.options ?? []) {
    const kind = ROLE_OPTIONS[o];
    properties[o] = kind === 'boolean' ? { type: 'boolean', description: OPTION_DOC[o] } : { type: 'string', enum: [...kind], description: OPTION_DOC[o] };
  }
  return { type: 'object', additionalProperties: false, required: ['count'], description: m.display.label, properties };
}

export const LAB_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://moodle-ha-lab.invalid/lab.schema.json',
  title: 'Moodle HA Lab lab file',
  description: `A lab's topology: its roles, their counts and options. Use it with \`npm run lab -- up --topology <file>\` (built-ins: ${PRESET_NAMES.join(', ')}).`,
  type: 'object',
  required: ['name', 'roles'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', maxLength: 63, description: 'Lab file name, kebab-case.', examples: ['galera-2plus1'] },
    description: { type: 'string', description: 'One sentence: what the lab is.' },
    haproxy: { type: 'string', enum: [...HAPROXY_PROFILES], description: "HAProxy's timing profile (default tuned)." },
    roles: {
      type: 'object',
      additionalProperties: false,
      description: 'The roles of the lab, each with its count and options.',
      properties: Object.fromEntries(
        roleModules()
          .filter((m) => !m.companionOnly)
          .map((m) => [m.role, roleSchema(m)]),
      ),
    },
  },
};
