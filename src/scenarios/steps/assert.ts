/** `assert`: check what learners should see — metric thresholds of a load run, state predicates of the cluster now. */
import { isScalar } from 'yaml';
import { AssertCheck, AssertStep, Comparator, METRIC_KEYS, MetricKey, StatePredicates, Threshold } from '../types';
import { clip, closest, Entry, fmtMs, prune, quote, YamlNode } from '../yaml-reader';
import { checkState, compareOp, describeState, fmt, metricOf } from './checks';
import type { StepParser } from './parse-context';
import { RunContext, StepFailed } from './run-context';
import { countThreshold, msThreshold, NUM, OP, ref, stepObject, threshold as thresholdSchema } from './schema-parts';
import type { StepDefinition, StepInput, StepOf } from './step';
import { roleModule } from '../../roles';

export const STATE_KEYS = [
  'healthy',
  'unhealthy',
  'haproxy',
  'galeraSize',
  'galeraStatus',
  'bricksOnline',
  'healPending',
  'redisUp',
  'vipHeld',
  'moodleMaintenance',
] as const;
export const ASSERT_KEYS = [...METRIC_KEYS, ...STATE_KEYS, 'within', 'run'] as const;
export const HAPROXY_STATES = ['UP', 'DOWN', 'MAINT', 'DRAIN'] as const;
export const GALERA_STATES = ['Primary', 'non-Primary'] as const;
/** Metrics measured in ms: thresholds take ms (bare number), s or m. */
export const DURATION_METRICS: readonly MetricKey[] = ['p50', 'p95', 'p99', 'max', 'detection', 'blackout', 'recovery'];

const METRIC_SCHEMAS: Record<MetricKey, object> = {
  failures: countThreshold('Failed requests of the load run.', [0, '<= 5']),
  errorRate: thresholdSchema(
    'Failed requests / requests, a fraction from 0 to 1, or a percentage: "< 1%".',
    `^\\s*${OP}${NUM}\\s*%?\\s*$`,
    ['<= 0.01', '< 1%'],
    { maximum: 1 },
  ),
  apdex: thresholdSchema(
    "Apdex of the load run, 0 to 1 (1 = every request satisfied). The paper's HA setup: 0.85.",
    `^\\s*${OP}${NUM}\\s*$`,
    ['>= 0.85', '>= 0.9'],
    { maximum: 1 },
  ),
  p50: msThreshold('Median latency.', ['<= 500ms']),
  p95: msThreshold('95th percentile latency.', ['<= 1500ms', '< 2s']),
  p99: msThreshold('99th percentile latency.', ['<= 3s']),
  max: msThreshold('Slowest request.', ['<= 5s']),
  requests: countThreshold('Requests the load run made.', ['>= 100']),
  throughput: thresholdSchema('Requests per second of the load run.', `^\\s*${OP}${NUM}\\s*$`, ['>= 1.5']),
  detection: msThreshold('Time from a fault until the load balancer noticed it (worst fault of the run).', ['<= 5s']),
  blackout: msThreshold('Longest stretch with failing requests after a fault.', ['<= 3000ms']),
  recovery: msThreshold('Time from a fault until requests succeeded again.', ['<= 60s']),
  failedDuringFaults: countThreshold('Requests that failed while a fault was in force.', [0]),
  lostWrites: countThreshold('Integrity writes (database rows) acknowledged but missing afterwards.', [0]),
  lostFiles: countThreshold('Integrity files written to shared storage but missing afterwards.', [0]),
  lostSessions: countThreshold('Users who lost their session (were logged out) during the run.', [0, '>= 1']),
};

const describe = {
  summary:
    'Check what learners should see. Metric thresholds read a load run (`run`, default the current/last one); state predicates read the cluster now, retried for `within`.',
  example: '`assert: { failures: 0, apdex: ">= 0.85" }`',
};

export const assertStep: StepDefinition<StepOf<'assert'>> = {
  key: 'assert',
  kinds: ['assert'],
  needsValue: true,
  describe,

  parse(p: StepParser, { e: entry, pos }: StepInput) {
    const e = entry!;
    const map = p.mapping(e.value, 'assert', e.at);
    const step: AssertStep = { kind: 'assert', metrics: {} };
    const state: StatePredicates = {};
    const parts: string[] = [];
    let runAt: YamlNode | undefined;
    let withinAt: YamlNode | undefined;
    let firstMetricAt: YamlNode | undefined;
    for (const x of p.entries(map, 'assert', ASSERT_KEYS)) {
      const key = x.key;
      if ((METRIC_KEYS as readonly string[]).includes(key)) {
        const t = threshold(p, x, key, metricUnits(key as MetricKey));
        step.metrics[key as MetricKey] = t;
        parts.push(`${key} ${t.text}`);
        firstMetricAt ??= x.keyNode;
        continue;
      }
      switch (key) {
        case 'healthy':
        case 'unhealthy': {
          const l = p.nodeList(x, key);
          l.names.forEach((n, i) => p.checkNode(n, l.at[i]!));
          const other = key === 'healthy' ? state.unhealthy : state.healthy;
          const both = l.names.find((n) => other?.includes(n));
          if (both) p.fail(l.at[l.names.indexOf(both)], `${both} cannot be both healthy and unhealthy`);
          state[key] = [...new Set(l.names)];
          parts.push(`${key} ${l.names.join(',')}`);
          break;
        }
        case 'haproxy': {
          if (!p.hasRole('lb')) p.fail(x.keyNode, `haproxy: ${p.describeTopo()} (no HAProxy)`);
          const m = p.mapping(x.value, 'haproxy (node: status, e.g. { web2: DOWN })', x.at);
          const out: Record<string, string> = {};
          for (const s of p.entries(
            m,
            'haproxy',
            // Any node behind a HAProxy listener (its role module's haproxyBackend): web, Galera, a Sentinel group's Redis.
            p.env.topo.nodes.filter((n) => roleModule(n.role).haproxyBackend?.(p.env.topo) !== undefined).map((n) => n.name),
          )) {
            const st = s.value && isScalar(s.value) && typeof s.value.value === 'string' ? s.value.value.toUpperCase() : '';
            if (!(HAPROXY_STATES as readonly string[]).includes(st))
              p.fail(s.at, `haproxy status of ${s.key} must be one of ${quote(HAPROXY_STATES)}, not ${p.show(s.value)}`);
            out[s.key] = st;
          }
          if (!Object.keys(out).length) p.fail(x.at, 'haproxy needs at least one node: status, e.g. { web2: DOWN }');
          state.haproxy = out;
          parts.push(
            `haproxy ${Object.entries(out)
              .map(([n, s]) => `${n}=${s}`)
              .join(',')}`,
          );
          break;
        }
        case 'galeraSize':
        case 'galeraStatus':
          if (!p.hasRole('db')) p.fail(x.keyNode, `${key}: ${p.describeTopo()} (no Galera)`);
          if (key === 'galeraSize') {
            state.galeraSize = threshold(p, x, key, 'count');
            parts.push(`galeraSize ${state.galeraSize.text}`);
          } else {
            const s =
              x.value && isScalar(x.value) && typeof x.value.value === 'string'
                ? GALERA_STATES.find((g) => g.toLowerCase() === (x.value as { value: string }).value.trim().toLowerCase())
                : undefined;
            if (!s) p.fail(x.at, `galeraStatus must be ${GALERA_STATES.join(' or ')}, not ${p.show(x.value)}`);
            state.galeraStatus = s;
            parts.push(`galeraStatus ${s}`);
          }
          break;
        case 'bricksOnline':
        case 'healPending':
          if (!p.hasRole('storage')) p.fail(x.keyNode, `${key}: ${p.describeTopo()} (no GlusterFS)`);
          state[key] = threshold(p, x, key, 'count');
          parts.push(`${key} ${state[key]!.text}`);
          break;
        case 'vipHeld':
          // `available` is the lb module's own test: a keepalived pair (its nodes and its VIP).
          if (!roleModule('lb').nodeRefs?.master?.available(p.env.topo))
            p.fail(x.keyNode, `vipHeld: ${p.describeTopo()} (no load balancer pair holding a virtual IP)`);
          state.vipHeld = p.bool(x, 'vipHeld');
          parts.push(`vipHeld ${state.vipHeld}`);
          break;
        case 'redisUp':
          if (!p.hasRole('cache')) p.fail(x.keyNode, `redisUp: ${p.describeTopo()} (no Redis)`);
          state.redisUp = p.bool(x, 'redisUp');
          parts.push(`redisUp ${state.redisUp}`);
          break;
        case 'moodleMaintenance':
          state.moodleMaintenance = p.bool(x, 'moodleMaintenance');
          parts.push(`moodleMaintenance ${state.moodleMaintenance}`);
          break;
        case 'within':
          step.withinMs = p.duration(x, 'within', { min: 0 });
          withinAt = x.keyNode;
          break;
        default: // run
          step.run = p.string(x, 'run');
          runAt = x.at;
      }
    }
    const hasMetrics = Object.keys(step.metrics).length > 0;
    const hasState = Object.keys(state).length > 0;
    if (!hasMetrics && !hasState) {
      p.fail(e.at, `assert needs at least one metric threshold (${quote(METRIC_KEYS)}) or state predicate (${quote(STATE_KEYS)})`);
    }
    if (step.withinMs !== undefined && !hasState)
      p.fail(withinAt, '`within` retries state predicates (healthy, galeraSize, …); metric thresholds are checked once');
    if (step.run !== undefined) {
      if (!hasMetrics) p.fail(runAt, '`run` picks the load run that metric thresholds read; this assert has none');
      if (!p.runs.has(step.run)) {
        const hint = closest(step.run, [...p.runs.keys()]);
        p.fail(
          runAt,
          `no load run named "${clip(step.run)}" before this step${hint ? ` (did you mean "${hint}"?)` : ''}${p.runs.size ? `: runs so far are ${quote([...p.runs.keys()])}` : ': start one with `load: { name: …, users: … }`'}`,
        );
      }
    } else if (hasMetrics && p.runs.size === 0) {
      p.fail(firstMetricAt, 'metric thresholds read a load run, and no load was started before this assert: add a `load:` step first');
    }
    if (hasState) step.state = state;
    const within = step.withinMs !== undefined ? ` within ${fmtMs(step.withinMs)}` : '';
    const run = step.run !== undefined ? ` (run ${step.run})` : '';
    return prune({ pos, text: `assert ${parts.join(', ')}${within}${run}`, ...step });
  },

  schema: stepObject(
    'assert',
    describe.summary,
    {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        ...METRIC_SCHEMAS,
        healthy: { ...ref('nodes'), description: 'Nodes that must be running and healthy.' },
        unhealthy: { ...ref('nodes'), description: 'Nodes that must not be (stopped, killed, down).' },
        haproxy: {
          type: 'object',
          description: "HAProxy server status per node behind one of its listeners (web, Galera, a Sentinel group's Redis), e.g. { web2: DOWN }.",
          propertyNames: ref('node'),
          additionalProperties: { type: 'string', enum: ['UP', 'DOWN', 'MAINT', 'DRAIN'] },
          examples: [{ web2: 'DOWN' }],
        },
        galeraSize: countThreshold('Galera cluster size (wsrep_cluster_size).', [3, 2]),
        galeraStatus: {
          type: 'string',
          enum: ['Primary', 'non-Primary'],
          description: 'Galera component status: Primary has quorum and accepts writes; non-Primary refuses them.',
        },
        bricksOnline: countThreshold('GlusterFS bricks online.', ['>= 2', 3]),
        healPending: countThreshold('GlusterFS files waiting to be healed.', [0]),
        redisUp: { type: 'boolean', description: 'Redis (the session store) answers.' },
        vipHeld: {
          type: 'boolean',
          description: 'A load balancer pair: a running HAProxy holds the virtual IP (the kernel lists it) and keepalived there says MASTER.',
        },
        moodleMaintenance: { type: 'boolean', description: "Moodle's site-wide maintenance mode is on." },
        within: { ...ref('duration'), description: 'Keep checking the state predicates for up to this long (default: once).' },
        run: { type: 'string', description: 'The load run the metric thresholds read (its `name`; default the current/last run).' },
      },
    },
    [{ assert: { failures: 0, apdex: '>= 0.85' } }, { assert: { galeraSize: 2, galeraStatus: 'Primary', within: '15s' } }],
  ),

  async run(step, ctx) {
    const { passed, detail, checks } = await check(step, ctx);
    ctx.note('assert', `${step.text}: ${passed ? 'passed' : `FAILED: ${detail}`}`, passed);
    return { passed, detail, checks };
  },
};

async function check(step: AssertStep, ctx: RunContext): Promise<{ passed: boolean; detail: string; checks: AssertCheck[] }> {
  const problems: string[] = [];
  const seen: string[] = [];
  const checks: AssertCheck[] = [];
  const keys = Object.keys(step.metrics) as MetricKey[];
  if (keys.length) {
    const run = step.run ? ctx.runs.get(step.run) : (ctx.current ?? [...ctx.runs.values()].pop());
    if (!run) throw new StepFailed(step.run ? `no load run named ${step.run}` : 'no load run to assert on');
    // Fault analysis and read-back integrity exist once a run is over: wait for it then.
    const needsEnd = keys.some((k) => ['detection', 'blackout', 'recovery', 'failedDuringFaults', 'lostWrites', 'lostFiles', 'lostSessions'].includes(k));
    if (needsEnd && !run.finished) {
      ctx.progress.log(`waiting for load ${run.name} to end (the assert reads its failover analysis)`);
      run.finished = await run.handle.done;
    }
    const r = ctx.resultOf(run);
    for (const k of keys) {
      const t = step.metrics[k]!;
      const v = metricOf(r, k);
      checks.push({ name: k, measured: v, expected: t.text, passed: v !== null && compareOp(v, t) });
      if (v === null)
        problems.push(
          `${k}: the run has no value for it${k === 'lostWrites' || k === 'lostFiles' || k === 'lostSessions' ? ' (no integrity probes ran)' : ' (no fault during the run)'}`,
        );
      else if (!compareOp(v, t)) problems.push(`${k} is ${fmt(v)}, expected ${t.text}`);
      else seen.push(`${k} ${fmt(v)}`);
    }
  }
  if (step.state) {
    const deadline = ctx.clock.now() + (step.withinMs ?? 0);
    let bad: string[];
    for (;;) {
      bad = checkState(await ctx.lab.status(), step.state);
      if (!bad.length || ctx.clock.now() >= deadline) break;
      await ctx.clock.sleep(ctx.opts.pollMs ?? 500);
    }
    const stated = bad.map((b) => (step.withinMs ? `${b} (after ${step.withinMs / 1000} s)` : b));
    checks.push({ name: 'state', measured: stated.length ? stated.join('; ') : 'as expected', expected: describeState(step.state), passed: !bad.length });
    if (bad.length) problems.push(...stated);
    else seen.push('state as expected');
  }
  return problems.length ? { passed: false, detail: problems.join('; '), checks } : { passed: true, detail: seen.join(', '), checks };
}

export function threshold(p: StepParser, e: Entry, key: string, units: 'ms' | 'fraction' | 'count' | 'number'): Threshold {
  const v = e.value;
  const ex = thresholdExample(key);
  if (v && isScalar(v) && typeof v.value === 'number') {
    return checkedThreshold(p, e, key, units, { op: '==', value: v.value, text: `== ${v.value}` });
  }
  if (!v || !isScalar(v) || typeof v.value !== 'string') p.fail(e.at, `${key} must be a threshold like ${ex}, not ${p.show(v)}`);
  const written = v.value.trim();
  const m = /^(<=|>=|==|!=|=|<|>)?\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z%]*)$/i.exec(written);
  if (!m) p.fail(e.at, `${key}: "${clip(written)}" is not a threshold; write e.g. ${ex} (operators <, <=, ==, >=, >, !=)`);
  const op = (m[1] === '=' || !m[1] ? '==' : m[1]) as Comparator;
  let value = Number(m[2]);
  const unit = m[3]!.toLowerCase();
  if (units === 'ms') {
    const mult: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000 };
    if (mult[unit] === undefined) p.fail(e.at, `${key}: unit "${clip(m[3]!)}" is not a time unit; use ms, s or m (a bare number is ms), e.g. ${ex}`);
    value = Math.round(value * mult[unit]!);
  } else if (unit === '%' && key === 'errorRate') value = value / 100;
  else if (unit) p.fail(e.at, `${key}: "${clip(written)}" has a unit (${clip(m[3]!)}), and ${key} takes a plain number, e.g. ${ex}`);
  const text = m[1] ? written : `== ${written}`;
  return checkedThreshold(p, e, key, units, { op, value, text });
}

function checkedThreshold(p: StepParser, e: Entry, key: string, units: 'ms' | 'fraction' | 'count' | 'number', t: Threshold): Threshold {
  if (t.value < 0) p.fail(e.at, `${key} cannot be negative`);
  if (!Number.isFinite(t.value) || t.value > Number.MAX_SAFE_INTEGER) p.fail(e.at, `${key}: ${clip(t.text)} is too large to compare with`);
  if (units === 'fraction' && t.value > 1) {
    p.fail(e.at, `${key} is a fraction from 0 to 1${key === 'errorRate' ? ' (or a percentage: "< 1%")' : ''}, got ${clip(t.text)}`);
  }
  if (units === 'count' && !Number.isInteger(t.value)) p.fail(e.at, `${key} counts things: use a whole number, got ${clip(t.text)}`);
  return t;
}

function metricUnits(key: MetricKey): 'ms' | 'fraction' | 'count' | 'number' {
  if (DURATION_METRICS.includes(key)) return 'ms';
  if (key === 'apdex' || key === 'errorRate') return 'fraction';
  if (key === 'throughput') return 'number';
  return 'count';
}

export function thresholdExample(key: string): string {
  const ex: Record<string, string> = {
    failures: '0',
    errorRate: '"<= 1%"',
    apdex: '">= 0.85"',
    p50: '"<= 500ms"',
    p95: '"<= 1500ms"',
    p99: '"<= 3s"',
    max: '"<= 5s"',
    requests: '">= 100"',
    throughput: '">= 1.5"',
    detection: '"<= 5s"',
    blackout: '"<= 3000ms"',
    recovery: '"<= 60s"',
    failedDuringFaults: '0',
    lostWrites: '0',
    lostFiles: '0',
    lostSessions: '">= 1"',
    galeraSize: '3',
    bricksOnline: '">= 2"',
    healPending: '0',
  };
  return ex[key] ?? '">= 1"';
}
