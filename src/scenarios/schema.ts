/**
 * The JSON Schema (draft-07) of scenario files. The extension contributes it through
 * `contributes.yamlValidation` (media/scenario.schema.json, the same content: a unit test keeps
 * them equal; `node scripts/write-scenario-schema.mjs` rewrites the file), so the YAML extension
 * validates and completes `*.scenario.yaml` and `lab/scenarios/*.yaml` as one types.
 *
 * The schema catches the shape (keys, types, enums, patterns); ./parse.ts is the authority and
 * adds what a schema cannot see: node names against the topology in force at each step, load
 * runs started/stopped in order, run names used before they exist. No node imports here.
 */
import { FAULT_KINDS, MIN_LOSS_PCT } from '../protocol/faults';
import type { MetricKey } from './types';
import { buildTopology, MAX_WEB_NODES } from '../engine/topology';

const NODE_NAMES = buildTopology('ha', MAX_WEB_NODES).nodes.map((n) => n.name);
const WEB_NODES = NODE_NAMES.filter((n) => n.startsWith('web'));
const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?(ms|s|m)?\\s*$';
const OP = '(<=|>=|==|!=|=|<|>)?\\s*';
const NUM = '(\\d+(\\.\\d+)?|\\.\\d+)';

const ref = (name: string) => ({ $ref: `#/definitions/${name}` });

function threshold(description: string, pattern: string, examples: (string | number)[], numberRange: Record<string, unknown> = {}) {
  return {
    description,
    anyOf: [
      { type: 'number', minimum: 0, ...numberRange, description: 'A bare value means "equal to".' },
      { type: 'string', pattern, description: 'An operator (<, <=, ==, >=, >, !=) and a value.' },
    ],
    examples,
  };
}

const countThreshold = (what: string, examples: (string | number)[]) =>
  threshold(`${what} A whole number, or an operator and one: 0, ">= 1", "<= 2".`, `^\\s*${OP}\\d+\\s*$`, examples, { multipleOf: 1 });
const msThreshold = (what: string, examples: string[]) =>
  threshold(`${what} Milliseconds (a bare number), or with a unit: "<= 1500ms", "< 3s", "<= 1m".`, `^\\s*${OP}${NUM}\\s*(ms|s|m)?\\s*$`, examples);

const METRIC_SCHEMAS: Record<MetricKey, object> = {
  failures: countThreshold('Failed requests of the load run.', [0, '<= 5']),
  errorRate: threshold('Failed requests / requests, a fraction from 0 to 1, or a percentage: "< 1%".', `^\\s*${OP}${NUM}\\s*%?\\s*$`, ['<= 0.01', '< 1%'], { maximum: 1 }),
  apdex: threshold('Apdex of the load run, 0 to 1 (1 = every request satisfied). The paper\'s HA setup: 0.85.', `^\\s*${OP}${NUM}\\s*$`, ['>= 0.85', '>= 0.9'], { maximum: 1 }),
  p50: msThreshold('Median latency.', ['<= 500ms']),
  p95: msThreshold('95th percentile latency.', ['<= 1500ms', '< 2s']),
  p99: msThreshold('99th percentile latency.', ['<= 3s']),
  max: msThreshold('Slowest request.', ['<= 5s']),
  requests: countThreshold('Requests the load run made.', ['>= 100']),
  throughput: threshold('Requests per second of the load run.', `^\\s*${OP}${NUM}\\s*$`, ['>= 1.5']),
  detection: msThreshold('Time from a fault until the load balancer noticed it (worst fault of the run).', ['<= 5s']),
  blackout: msThreshold('Longest stretch with failing requests after a fault.', ['<= 3000ms']),
  recovery: msThreshold('Time from a fault until requests succeeded again.', ['<= 60s']),
  failedDuringFaults: countThreshold('Requests that failed while a fault was in force.', [0]),
  lostWrites: countThreshold('Integrity writes (database rows) acknowledged but missing afterwards.', [0]),
  lostFiles: countThreshold('Integrity files written to shared storage but missing afterwards.', [0]),
  lostSessions: countThreshold('Users who lost their session (were logged out) during the run.', [0, '>= 1']),
};

const stepObject = (key: string, description: string, value: object, examples?: unknown[]) => ({
  type: 'object',
  description,
  properties: { [key]: { description, ...value } },
  required: [key],
  additionalProperties: false,
  ...(examples ? { examples } : {}),
});

export const SCENARIO_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://moodle-ha-lab.invalid/scenario.schema.json',
  title: 'Moodle HA Lab scenario',
  description: 'A classroom scenario: bring the lab up, start load, break nodes, heal, narrate, and assert what learners should see. Run it with `npm run lab -- scenario run <file>`.',
  type: 'object',
  required: ['name', 'steps'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', description: 'Scenario name, kebab-case.', examples: ['paper-failover'] },
    description: { type: 'string', description: 'One or two sentences: what the scenario shows.' },
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
    preset: { type: 'string', enum: ['ha', 'single'], description: 'ha: HAProxy, web nodes, 3 Galera, 3 Gluster, Redis. single: one web node and one MariaDB.' },
    webCount: { type: 'integer', minimum: 1, maximum: 9, description: 'Number of web nodes (ha only; single has exactly one).' },
    duration: {
      description: 'A duration: 20s, 500ms, 2m (a bare number is seconds).',
      anyOf: [{ type: 'string', pattern: DURATION_PATTERN }, { type: 'number', minimum: 0 }],
      examples: ['20s', '500ms', '2m'],
    },
    node: { type: 'string', enum: NODE_NAMES, description: 'A node of the lab (it must exist in the topology in force at that step).' },
    webNode: { type: 'string', enum: WEB_NODES, description: 'A web node.' },
    nodes: {
      description: 'A node, a list of nodes, or "a,b".',
      anyOf: [ref('node'), { type: 'array', items: ref('node'), minItems: 1, uniqueItems: true }, { type: 'string', pattern: '^[a-z0-9]+(\\s*,\\s*[a-z0-9]+)+$' }],
    },
    threshold: threshold('A threshold: a bare value (equal to) or an operator and a value.', `^\\s*${OP}${NUM}\\s*[A-Za-z%]*\\s*$`, [0, '>= 0.85', '<= 1500ms']),
    step: {
      description: 'One step of the scenario.',
      anyOf: [
        { type: 'string', enum: ['up', 'down', 'heal'], description: 'up: bring the lab up (the scenario\'s topology); down: stop it, keep data; heal: undo every fault and start what is down.' },
        stepObject('up', 'Bring the lab up: the scenario\'s topology, or another preset (the node names of later steps follow it).', {
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
        }, [{ up: { preset: 'single' } }]),
        stepObject('down', 'Stop the lab (data kept).', { type: 'null' }),
        stepObject('load', 'Start a background load run (a mapping), or end the running one: `stop` now, `wait` until its duration is over.', {
          anyOf: [
            { type: 'string', enum: ['start', 'stop', 'wait'], description: 'start: the default load (30 users, 60s); stop: end the running load now; wait: wait until it has run its duration.' },
            {
              type: 'object',
              additionalProperties: false,
              properties: {
                users: { type: 'integer', minimum: 1, maximum: 1000, default: 30, description: 'Simulated users (JMeter threads). The paper used 30.' },
                journey: { type: 'string', enum: ['auto', 'moodle', 'probe'], default: 'auto', description: 'moodle: log in, view the course, post (the paper\'s JMeter plan); probe: light HTTP checks; auto: moodle when Moodle is installed, else probe.' },
                duration: { ...ref('duration'), description: 'How long the load runs (default 60s).' },
                name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$', description: 'Names the run, for `assert: { run: … }`, `compare` and the report (default run1, run2, …).', examples: ['ha', 'single'] },
                throughput: {
                  description: 'Samples per minute shared by all users; 0 = unpaced (users pause only their think time). Default: 120 for the Moodle journey (Moodle\'s JMeter test plan), unpaced for the probe journey.',
                  anyOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: `^\\s*${NUM}\\s*(/min)?\\s*$` }],
                  examples: [120],
                },
                think: {
                  description: 'Think time between a user\'s requests: a range (500ms-1s) or one value.',
                  anyOf: [{ type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?(ms|s|m)?\\s*(-\\s*\\d+(\\.\\d+)?(ms|s|m)?\\s*)?$' }, { type: 'number', minimum: 0 }],
                  examples: ['500ms-1s'],
                },
                rampUp: { ...ref('duration'), description: 'Start the users gradually over this long (shorter than duration).' },
              },
            },
          ],
        }, [{ load: { users: 30, journey: 'auto', duration: '120s', name: 'ha' } }, { load: 'wait' }]),
        stepObject('wait', 'Pause the scenario (the load keeps running).', ref('duration'), [{ wait: '20s' }]),
        stepObject('fault', 'Break (or repair) a node: text like the CLI, or a mapping.', {
          anyOf: [
            {
              type: 'string',
              pattern: `^\\s*(${FAULT_KINDS.join('|')})\\s+\\S+(\\s+\\S+)*\\s*$`,
              description: '"<kind> <node> [value] [from <nodes>] [for <duration>] [jitter <ms>]": "stop web2", "kill galera3", "delay web3 300" (ms), "loss web1 30" (%), "partition galera1 from galera2,galera3", "pause redis for 10s".',
              examples: ['stop web2', 'kill galera3', 'delay web3 300 jitter 20', 'loss web1 30', 'partition galera1 from galera2,galera3', 'pause redis for 10s'],
            },
            {
              type: 'object',
              additionalProperties: false,
              required: ['kind'],
              properties: {
                kind: { type: 'string', enum: [...FAULT_KINDS], description: 'stop/start, kill, pause/unpause, disconnect/connect (network), delay (latency), loss (packets), partition.' },
                node: ref('node'),
                nodes: { ...ref('nodes'), description: 'The node; for a partition, the first group.' },
                from: { ...ref('nodes'), description: 'partition: the other group.' },
                ms: { description: 'delay: added latency, ms (1–60000).', anyOf: [{ type: 'number', minimum: 1, maximum: 60000 }, { type: 'string', pattern: DURATION_PATTERN }] },
                jitter: { description: 'delay: jitter, ms (0–60000).', anyOf: [{ type: 'number', minimum: 0, maximum: 60000 }, { type: 'string', pattern: DURATION_PATTERN }] },
                percent: { description: 'loss: packet loss, percent: 0.01 to 100, at most two decimals (what iptables applies exactly).', anyOf: [{ type: 'number', minimum: MIN_LOSS_PCT, maximum: 100 }, { type: 'string', pattern: `^\\s*${NUM}\\s*%?\\s*$` }] },
                for: { ...ref('duration'), description: 'Revert by itself after this long (faults that break something).' },
              },
              allOf: [
                { if: { properties: { kind: { const: 'partition' } } }, then: { required: ['nodes', 'from'] }, else: { required: ['node'] } },
                { if: { properties: { kind: { const: 'delay' } } }, then: { required: ['ms'] } },
                { if: { properties: { kind: { const: 'loss' } } }, then: { required: ['percent'] } },
              ],
            },
          ],
        }, [{ fault: 'stop web2' }, { fault: { kind: 'delay', node: 'web3', ms: 300, jitter: 20 } }]),
        stepObject('heal', 'Undo one node\'s faults (empty: every fault) and start what is down.', { anyOf: [{ type: 'null' }, ref('node')] }, [{ heal: 'web2' }]),
        stepObject('maintenance', 'Site-wide Moodle maintenance (on/off), or with `node`: drain that web node in HAProxy (on) or make it ready again (off).', {
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
        }, [{ maintenance: 'on' }, { maintenance: { on: true, node: 'web2' } }]),
        stepObject('say', 'Narration for the classroom: shown in the CLI, the dashboard and the report.', { type: 'string', minLength: 1 }, [{ say: 'Watch the HAProxy table: web2 turns red within seconds.' }]),
        stepObject('assert', 'Check what learners should see. Metric thresholds read a load run (`run`, default the current/last one); state predicates read the cluster now, retried for `within`.', {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            ...METRIC_SCHEMAS,
            healthy: { ...ref('nodes'), description: 'Nodes that must be running and healthy.' },
            unhealthy: { ...ref('nodes'), description: 'Nodes that must not be (stopped, killed, down).' },
            haproxy: {
              type: 'object',
              description: 'HAProxy server status per node, e.g. { web2: DOWN }.',
              propertyNames: ref('node'),
              additionalProperties: { type: 'string', enum: ['UP', 'DOWN', 'MAINT', 'DRAIN'] },
              examples: [{ web2: 'DOWN' }],
            },
            galeraSize: countThreshold('Galera cluster size (wsrep_cluster_size).', [3, 2]),
            galeraStatus: { type: 'string', enum: ['Primary', 'non-Primary'], description: 'Galera component status: Primary has quorum and accepts writes; non-Primary refuses them.' },
            bricksOnline: countThreshold('GlusterFS bricks online.', ['>= 2', 3]),
            healPending: countThreshold('GlusterFS files waiting to be healed.', [0]),
            redisUp: { type: 'boolean', description: 'Redis (the session store) answers.' },
            moodleMaintenance: { type: 'boolean', description: 'Moodle\'s site-wide maintenance mode is on.' },
            within: { ...ref('duration'), description: 'Keep checking the state predicates for up to this long (default: once).' },
            run: { type: 'string', description: 'The load run the metric thresholds read (its `name`; default the current/last run).' },
          },
        }, [{ assert: { failures: 0, apdex: '>= 0.85' } }, { assert: { galeraSize: 2, galeraStatus: 'Primary', within: '15s' } }]),
        stepObject('compare', 'Print a comparison table of finished load runs (failures, Apdex, p95, max, …).', {
          anyOf: [{ type: 'array', items: { type: 'string' }, minItems: 2, uniqueItems: true }, { type: 'string' }],
        }, [{ compare: ['single', 'ha'] }]),
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

