import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTopology, LabDefinition, TopologyError } from '../../src/engine/topology';
import { renderHaproxyConfig } from '../../src/roles/haproxy';
import { renderRedisListener } from '../../src/roles/redis-haproxy';
import {
  nodeProbeCommand,
  parseNodeProbe,
  RedisNodeReading,
  sentinelAborts,
  sentinelEventAt,
  sentinelNodeProblem,
  sentinelVerdict,
  sentinelsMaster,
} from '../../src/roles/redis-sentinel';
import { roleModule } from '../../src/roles';
import { composeRefusal } from '../../src/export/compose';
import { collectStatus } from '../../src/engine/status';
import { LabEngine } from '../../src/engine/lab';
import { StateStore } from '../../src/engine/state';
import type { LabStatus } from '../../src/protocol/status';
import { FakeDocker, healthyClusterHandlers } from '../support/fake-docker';
import { fakeEngineDeps, upProbes } from '../support/engine';
import { HaproxyRuntime } from '../../src/roles/haproxy-runtime';
import { parseScenario } from '../../src/scenarios/parse';
import type { AssertStep } from '../../src/scenarios/types';
import { checkState } from '../../src/scenarios/steps/checks';
import { syntheticStatus } from '../../bench/synthetic-lab';

const SENTINEL_LAB: LabDefinition = {
  name: 'ha-sentinel',
  description: 'ha with a Redis Sentinel group',
  roles: { lb: { count: 1 }, web: { count: 3 }, db: { count: 3 }, storage: { count: 3 }, cache: { count: 3, mode: 'sentinel' } },
};

/** What `nodeProbeCommand` prints on a node (redis-cli without a terminal: CRLF in INFO, one line per element). */
function probeOutput(o: {
  role: 'master' | 'slave';
  masterHost?: string;
  linkUp?: boolean;
  offset: number;
  sentinelNames?: string;
  others?: number;
  replicas?: number;
  ping?: string;
}): string {
  const info =
    o.role === 'master'
      ? [
          '# Replication',
          'role:master',
          'connected_slaves:2',
          `master_repl_offset:${o.offset}`,
          '',
          '# Memory',
          'used_memory:2048',
          '',
          '# Keyspace',
          'db0:keys=4,expires=4,avg_ttl=0',
        ]
      : [
          '# Replication',
          'role:slave',
          `master_host:${o.masterHost}`,
          'master_port:6379',
          `master_link_status:${o.linkUp === false ? 'down' : 'up'}`,
          `slave_repl_offset:${o.offset}`,
          `master_repl_offset:${o.offset}`,
        ];
  const sentinel = o.sentinelNames === undefined ? ['Could not connect to Redis at 127.0.0.1:26379: Connection refused'] : [o.sentinelNames, '6379'];
  const master =
    o.sentinelNames === undefined
      ? ['Could not connect to Redis at 127.0.0.1:26379: Connection refused']
      : ['name', 'lab', 'ip', o.sentinelNames, 'num-slaves', String(o.replicas ?? 2), 'num-other-sentinels', String(o.others ?? 2), 'quorum', '2'];
  return [o.ping ?? 'PONG', '#lab-section', info.join('\r\n'), '#lab-section', ...sentinel, '#lab-section', ...master, ''].join('\n');
}

const healthyTrio = (): RedisNodeReading[] => [
  parseNodeProbe('redis1', probeOutput({ role: 'master', offset: 5000, sentinelNames: 'redis1' })),
  parseNodeProbe('redis2', probeOutput({ role: 'slave', masterHost: 'redis1', offset: 4900, sentinelNames: 'redis1' })),
  parseNodeProbe('redis3', probeOutput({ role: 'slave', masterHost: 'redis1', offset: 5000, sentinelNames: 'redis1' })),
];

describe('Redis Sentinel: reading the nodes', () => {
  it('one exec per node asks PING, INFO and its sentinel, the password in the environment only', () => {
    const argv = nodeProbeCommand();
    assert.equal(argv[0], 'bash');
    assert.match(argv[2]!, /redis-cli --no-auth-warning -p 6379 ping/);
    assert.match(argv[2]!, /-p 26379 sentinel get-master-addr-by-name lab/);
    assert.ok(!argv.join(' ').includes('-a '), 'no password in argv');
  });

  it('parses a node: PONG, its role and offsets, what its sentinel names and how many sentinels it knows', () => {
    const r = parseNodeProbe('redis2', probeOutput({ role: 'slave', masterHost: 'redis1', offset: 42, sentinelNames: 'redis1', others: 2 }));
    assert.equal(r.pong, true);
    assert.equal(r.info?.get('role'), 'slave');
    assert.equal(r.info?.get('master_link_status'), 'up');
    assert.equal(r.sentinelUp, true);
    assert.equal(r.sentinelMaster, 'redis1');
    assert.equal(r.otherSentinels, 2);
    assert.equal(r.knownReplicas, 2);
  });

  it('a wrong password is no PONG (and no INFO is read); a dead sentinel names nobody', () => {
    const r = parseNodeProbe('redis1', probeOutput({ role: 'master', offset: 1, ping: 'AUTH failed: WRONGPASS invalid username-password pair' }));
    assert.equal(r.pong, false);
    assert.match(r.pingProblem!, /WRONGPASS/);
    assert.equal(r.info, undefined);
    const s = parseNodeProbe('redis1', probeOutput({ role: 'master', offset: 1 }));
    assert.equal(s.sentinelUp, false);
    assert.equal(s.sentinelMaster, undefined);
  });

  it('healthy: the master, two replicas with their lag in bytes, three sentinels naming the master', () => {
    const { status, health } = sentinelVerdict(healthyTrio());
    assert.equal(status.up, true);
    assert.equal(status.mode, 'sentinel');
    assert.equal(status.master, 'redis1');
    assert.deepEqual(status.replicas, [
      { name: 'redis2', linkUp: true, masterHost: 'redis1', lagBytes: 100 },
      { name: 'redis3', linkUp: true, masterHost: 'redis1', lagBytes: 0 },
    ]);
    assert.deepEqual(
      status.sentinels?.map((x) => [x.name, x.up, x.master]),
      [
        ['redis1', true, 'redis1'],
        ['redis2', true, 'redis1'],
        ['redis3', true, 'redis1'],
      ],
    );
    assert.equal(status.keys, 4);
    assert.equal(status.usedMemoryBytes, 2048);
    assert.equal(status.error, undefined);
    assert.deepEqual(
      [...health.values()].map((h) => h.healthy),
      [true, true, true],
    );
  });

  it('master killed, failover not done: no master, the replicas link down, the sentinels still name the dead node', () => {
    const readings: RedisNodeReading[] = [
      { name: 'redis1', running: false, pong: false, pingProblem: 'exited', sentinelUp: false },
      parseNodeProbe('redis2', probeOutput({ role: 'slave', masterHost: 'redis1', linkUp: false, offset: 4900, sentinelNames: 'redis1' })),
      parseNodeProbe('redis3', probeOutput({ role: 'slave', masterHost: 'redis1', linkUp: false, offset: 5000, sentinelNames: 'redis1' })),
    ];
    const { status, health } = sentinelVerdict(readings);
    assert.equal(status.up, false);
    assert.equal(status.master, undefined);
    assert.match(status.error!, /the sentinels name redis1, which does not answer role:master/);
    assert.equal(status.replicas?.[0]?.lagBytes, undefined, 'no lag while the link is down');
    assert.match(health.get('redis2')!.detail!, /link to redis1 down/);
    assert.equal(health.has('redis1'), false, 'a node whose container is not running gets no verdict here');
  });

  it('after the failover: the promoted replica is the master; the other replicates from it', () => {
    const readings: RedisNodeReading[] = [
      { name: 'redis1', running: false, pong: false, pingProblem: 'exited', sentinelUp: false },
      parseNodeProbe('redis2', probeOutput({ role: 'master', offset: 6000, sentinelNames: 'redis2' })),
      parseNodeProbe('redis3', probeOutput({ role: 'slave', masterHost: 'redis2', offset: 6000, sentinelNames: 'redis2' })),
    ];
    const { status } = sentinelVerdict(readings);
    assert.equal(status.up, true);
    assert.equal(status.master, 'redis2');
    assert.deepEqual(status.replicas, [{ name: 'redis3', linkUp: true, masterHost: 'redis2', lagBytes: 0 }]);
  });

  it('mid-failover: the leader sentinel names the promoted replica, another still names the dead master: the promoted one is the master now', () => {
    // redis3's sentinel led the failover and names redis2 at once; redis2's own sentinel learns it
    // from the leader's hello (up to 2 s later) and still names redis1, which is gone.
    const readings: RedisNodeReading[] = [
      { name: 'redis1', running: false, pong: false, pingProblem: 'exited', sentinelUp: false },
      parseNodeProbe('redis2', probeOutput({ role: 'master', offset: 6000, sentinelNames: 'redis1' })),
      parseNodeProbe('redis3', probeOutput({ role: 'slave', masterHost: 'redis1', linkUp: false, offset: 5000, sentinelNames: 'redis2' })),
    ];
    const { status, health } = sentinelVerdict(readings);
    assert.equal(status.master, 'redis2');
    assert.equal(status.up, true);
    assert.equal(health.get('redis2')?.healthy, true);
    assert.match(health.get('redis3')!.detail!, /link to redis1 down/, 'redis3 is not reconfigured yet: unhealthy until it is');
    // The same with the readings in the other order: no tie broken by position.
    assert.equal(sentinelVerdict([readings[0]!, readings[2]!, readings[1]!]).status.master, 'redis2');
  });

  it('two claimants named by as many sentinels: no master (a split brain), not the first in order', () => {
    const readings: RedisNodeReading[] = [
      { name: 'redis1', running: false, pong: false, pingProblem: 'exited', sentinelUp: false },
      parseNodeProbe('redis2', probeOutput({ role: 'master', offset: 6000, sentinelNames: 'redis2' })),
      parseNodeProbe('redis3', probeOutput({ role: 'master', offset: 6000, sentinelNames: 'redis3' })),
    ];
    const { status } = sentinelVerdict(readings);
    assert.equal(status.master, undefined);
    assert.match(status.error!, /split brain/);
  });

  it('two nodes answering role:master is reported as a split brain, the sentinels decide which is the master', () => {
    const readings = healthyTrio();
    readings[2] = parseNodeProbe('redis3', probeOutput({ role: 'master', offset: 10, sentinelNames: 'redis1' }));
    const { status, health } = sentinelVerdict(readings);
    assert.equal(status.master, 'redis1');
    assert.match(status.error!, /redis3 also answers role:master \(split brain/);
    assert.equal(health.get('redis3')?.healthy, false);
  });

  it('the majority of the sentinels names the master', () => {
    const r = healthyTrio();
    r[0]!.sentinelMaster = 'redis2';
    assert.equal(sentinelsMaster(r), 'redis1');
  });

  it('readiness: PING, a replica link up, a sentinel that names the master its node replicates from and knows the others', () => {
    const [m, r2] = healthyTrio();
    assert.equal(sentinelNodeProblem(m!, 3), undefined);
    assert.equal(sentinelNodeProblem(r2!, 3), undefined);
    assert.match(
      sentinelNodeProblem(
        parseNodeProbe('redis2', probeOutput({ role: 'slave', masterHost: 'redis1', linkUp: false, offset: 0, sentinelNames: 'redis1' })),
        3,
      )!,
      /link to redis1 not up/,
    );
    assert.match(
      sentinelNodeProblem(parseNodeProbe('redis2', probeOutput({ role: 'slave', masterHost: 'redis1', offset: 0, sentinelNames: 'redis1', others: 1 })), 3)!,
      /knows 1 of the 2 other sentinels/,
    );
    // Seen on a real lab: a sentinel that had not yet read the replicas from the master's INFO was
    // elected, found no replica to promote, and the failover waited 20 s (twice the failover timeout).
    assert.match(
      sentinelNodeProblem(parseNodeProbe('redis2', probeOutput({ role: 'slave', masterHost: 'redis1', offset: 0, sentinelNames: 'redis1', replicas: 0 })), 3)!,
      /knows 0 of the 2 replicas \(it could not promote one yet\)/,
    );
    assert.match(
      sentinelNodeProblem(parseNodeProbe('redis2', probeOutput({ role: 'slave', masterHost: 'redis1', offset: 0 })), 3)!,
      /sentinel does not answer/,
    );
    assert.match(
      sentinelNodeProblem(parseNodeProbe('redis2', probeOutput({ role: 'slave', masterHost: 'redis3', offset: 0, sentinelNames: 'redis1' })), 3)!,
      /names redis1 as master, the node itself redis3/,
    );
  });
});

describe('Redis Sentinel: topology, HAProxy, Moodle', () => {
  it('a definition: three numbered nodes; cluster mode, other counts and no load balancer are refused', () => {
    const t = buildTopology(SENTINEL_LAB);
    assert.deepEqual(
      t.nodes.filter((n) => n.role === 'cache').map((n) => n.name),
      ['redis1', 'redis2', 'redis3'],
    );
    const bad =
      (cache: LabDefinition['roles']['cache'], roles: LabDefinition['roles'] = SENTINEL_LAB.roles) =>
      () =>
        buildTopology({ ...SENTINEL_LAB, roles: { ...roles, cache } });
    assert.throws(
      bad({ count: 3, mode: 'cluster' }),
      (e: unknown) => e instanceof TopologyError && /cache: mode "cluster" is not supported, use sentinel/.test(e.message),
    );
    assert.throws(bad({ count: 2, mode: 'sentinel' }), /cache: count must be 3 with mode sentinel/);
    assert.throws(bad({ count: 3 }), /cache: count must be 1 without mode sentinel/);
    const { lb: _lb, ...noLb } = SENTINEL_LAB.roles;
    assert.throws(bad({ count: 3, mode: 'sentinel' }, { ...noLb, web: { count: 1 } }), /mode sentinel needs a load balancer/);
    // ha keeps its lone `redis`.
    assert.deepEqual(
      buildTopology('ha')
        .nodes.filter((n) => n.role === 'cache')
        .map((n) => n.name),
      ['redis'],
    );
  });

  it('HAProxy: a tcp listener on 6379 whose check authenticates, PINGs and expects role:master, cutting sessions of a node marked down', () => {
    const cfg = renderHaproxyConfig(buildTopology(SENTINEL_LAB), 'tuned', 'pw_x-1');
    const redis = cfg.slice(cfg.indexOf('listen redis'));
    for (const line of [
      'mode tcp',
      'bind :6379',
      'tcp-check send AUTH\\ pw_x-1\\r\\n',
      'tcp-check expect string +PONG',
      'tcp-check send info\\ replication\\r\\n',
      'tcp-check send QUIT\\r\\n',
      'tcp-check expect string role:master',
      'on-marked-down shutdown-sessions',
      'server redis1 redis1:6379',
      'server redis3 redis3:6379',
    ]) {
      assert.ok(redis.includes(line), `listen redis lacks "${line}"`);
    }
    // QUIT goes right behind INFO, before the expect: a replica's check fails at once.
    assert.ok(redis.indexOf('send QUIT') < redis.indexOf('expect string role:master'));
    assert.ok(!renderHaproxyConfig(buildTopology('ha'), 'tuned', 'pw').includes('listen redis'), 'ha has no Redis listener');
    assert.throws(() => renderRedisListener(['redis1'], 'a\nb', 'tuned'), /line break/);
    assert.match(renderRedisListener(['redis1'], 'a b', 'tuned').join('\n'), /AUTH\\ a\\ b\\r\\n/);
  });

  it('environment: the web nodes reach Redis through HAProxy; each node knows the group and the first master', () => {
    const t = buildTopology(SENTINEL_LAB);
    const state = { lab: 'x', secrets: { redisPassword: 'pw' } as never, ports: { moodle: 8080 }, extra: {} };
    const web1 = t.nodes.find((n) => n.name === 'web1')!;
    assert.equal(roleModule('web').env!(web1, t, state).REDIS_HOST, 'haproxy');
    const redis2 = t.nodes.find((n) => n.name === 'redis2')!;
    const env = roleModule('cache').env!(redis2, t, state);
    assert.equal(env.REDIS_SENTINEL_NODES, 'redis1,redis2,redis3');
    assert.equal(env.REDIS_SENTINEL_INITIAL_MASTER, 'redis1');
    assert.equal(env.REDIS_NODE, 'redis2');
    assert.equal(env.REDIS_SENTINEL_QUORUM, '2');
    const ha = buildTopology('ha');
    assert.equal(
      roleModule('web').env!(
        ha.nodes.find((n) => n.name === 'web1')!,
        ha,
        state,
      ).REDIS_HOST,
      'redis',
    );
    assert.deepEqual(
      Object.keys(
        roleModule('cache').env!(
          ha.nodes.find((n) => n.name === 'redis')!,
          ha,
          state,
        ),
      ),
      ['REDIS_PASSWORD'],
    );
  });

  it('the Compose export refuses a Sentinel topology with one sentence, and exports ha as before', () => {
    assert.match(composeRefusal(buildTopology(SENTINEL_LAB))!, /does not support Redis Sentinel/);
    assert.equal(composeRefusal(buildTopology('ha')), undefined);
  });

  it('timeline: a new master is one event naming the old and the new one', () => {
    const s = (master: string | undefined, up = true) => ({ nodes: [{}], redis: { up, mode: 'sentinel', master, replicas: [] } }) as unknown as LabStatus;
    const diff = roleModule('cache').diff!;
    assert.deepEqual(diff(s('redis1'), s('redis1')), []);
    assert.deepEqual(
      diff(s(undefined, false), s('redis2')).map((e) => e.text),
      ['Redis up'],
    );
    assert.deepEqual(
      diff(s('redis1'), s('redis2')).map((e) => [e.text, e.node]),
      [['Redis master: redis1 → redis2', 'redis2']],
    );
  });
});

describe('Redis Sentinel: status and readiness on the fake engine', () => {
  function setup() {
    const docker = new FakeDocker();
    docker.addImage('debian:trixie-slim');
    const masterOf = new Map<string, string>();
    docker.execHandlers = [
      (c, argv) => {
        if (argv[0] !== 'bash' || !argv[2]?.includes('sentinel get-master-addr-by-name')) return undefined;
        const name = c.spec.hostname;
        const out =
          name === 'redis1'
            ? probeOutput({ role: 'master', offset: 900, sentinelNames: 'redis1' })
            : probeOutput({ role: 'slave', masterHost: 'redis1', offset: 800, sentinelNames: 'redis1' });
        masterOf.set(name, 'redis1');
        return { stdout: out, stderr: '', exitCode: 0 };
      },
      ...healthyClusterHandlers(),
    ];
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-unit-'));
    const deps = fakeEngineDeps(docker, new StateStore(home));
    // HAProxy sees exactly the master UP in its Redis listener.
    const stat = [
      '# pxname,svname,status',
      ...['web1', 'web2', 'web3'].map((w) => `web,${w},UP`),
      ...['galera1', 'galera2', 'galera3'].map((g) => `db_writer,${g},UP`),
      'redis,redis1,UP',
      'redis,redis2,DOWN',
      'redis,redis3,DOWN',
    ].join('\n');
    deps.runtime = () => new HaproxyRuntime(async () => stat);
    const engine = new LabEngine(deps, 'unit-redis');
    return { docker, engine, deps, masterOf };
  }

  it('up waits for each node (its sentinel asked) and for HAProxy to route to the master; status reads master, replicas and lag', async () => {
    const { docker, engine, deps, masterOf } = setup();
    await engine.up({ definition: SENTINEL_LAB });
    assert.deepEqual([...masterOf.keys()].sort(), ['redis1', 'redis2', 'redis3'], 'every node was asked for readiness');
    const s = await collectStatus({ docker, http: upProbes().http, runtime: deps.runtime }, 'unit-redis', engine.state());
    assert.equal(s.redis.mode, 'sentinel');
    assert.equal(s.redis.up, true);
    assert.equal(s.redis.master, 'redis1');
    assert.deepEqual(
      s.redis.replicas?.map((r) => [r.name, r.lagBytes]),
      [
        ['redis2', 100],
        ['redis3', 100],
      ],
    );
    assert.ok(s.nodes.filter((n) => n.role === 'cache').every((n) => n.healthy));
  });
});

describe('Redis Sentinel: the haproxy assert names a Redis node (it is behind HAProxy)', () => {
  it('accepted for a Sentinel group on ha-full, read from the redis backend; refused for the lone Redis of ha', () => {
    const s = parseScenario('name: t\nlab: ha-full\nsteps:\n  - up\n  - assert: { haproxy: { redis1: DOWN, redis2: up, web1: UP } }\n', 'f.yaml');
    const a = s.steps[1] as AssertStep;
    assert.deepEqual(a.state?.haproxy, { redis1: 'DOWN', redis2: 'UP', web1: 'UP' });
    const status = {
      ...syntheticStatus(0),
      haproxy: {
        up: true,
        servers: [
          { backend: 'web', server: 'web1', status: 'UP' },
          { backend: 'redis', server: 'redis1', status: 'DOWN' },
          { backend: 'redis', server: 'redis2', status: 'UP' },
        ],
      },
    } as LabStatus;
    assert.deepEqual(checkState(status, a.state!), []);
    assert.deepEqual(checkState(status, { haproxy: { redis2: 'DOWN' } }), ['HAProxy shows redis2 UP, expected DOWN']);
    assert.throws(
      () => parseScenario('name: t\nsteps:\n  - up\n  - assert: { haproxy: { redis: DOWN } }\n', 'f.yaml'),
      /f\.yaml:4:\d+: .*redis/,
      'the ha lab: its lone Redis is not behind HAProxy',
    );
  });
});

describe("Redis Sentinel: what the sentinels' own logs say about a failover", () => {
  // Two survivors' logs after a master kill: a split vote (each voted for itself), then the retry.
  const logs = [
    [
      '30:X 01 Dec 2026 09:54:31.100 # +sdown master lab redis3 6379',
      '30:X 01 Dec 2026 09:54:32.221 # +try-failover master lab redis3 6379',
      '30:X 01 Dec 2026 09:54:42.300 # -failover-abort-not-elected master lab redis3 6379',
      '30:X 01 Dec 2026 09:54:52.900 # +try-failover master lab redis3 6379',
      '30:X 01 Dec 2026 09:54:53.260 # +promoted-slave slave redis2:6379 redis2 6379 @ lab redis3 6379',
    ].join('\n'),
    [
      '31:X 01 Dec 2026 09:54:20.000 # -failover-abort-no-good-slave master lab redis1 6379',
      '31:X 01 Dec 2026 09:54:32.230 # +try-failover master lab redis3 6379',
      '31:X 01 Dec 2026 09:54:42.310 # -failover-abort-not-elected master lab redis3 6379',
      'not a sentinel line',
    ].join('\n'),
  ];
  const since = Date.parse('2026-12-01T09:54:30.000Z');
  it('the aborted attempts since the kill, by reason (an older abort is not counted)', () => {
    assert.deepEqual(sentinelAborts(logs, since), ['not-elected', 'not-elected']);
    assert.deepEqual(sentinelAborts(logs, Date.parse('2026-12-01T09:54:00.000Z')), ['not-elected', 'no-good-slave', 'not-elected']);
  });
  it('the first time an event was logged, over every log', () => {
    assert.equal(sentinelEventAt(logs, '+try-failover', since), Date.parse('2026-12-01T09:54:32.221Z'));
    assert.equal(sentinelEventAt(logs, '+promoted-slave', since), Date.parse('2026-12-01T09:54:53.260Z'));
    assert.equal(sentinelEventAt(logs, '+switch-master', since), undefined);
  });
});
