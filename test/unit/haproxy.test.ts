import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderHaproxyConfig, WEB_APACHE_WORKERS, WEB_SERVER_MAXCONN } from '../../src/roles/haproxy';
import { execRuntime, HaproxyRuntime, normaliseStatus, parseShowStat, runtimePort } from '../../src/roles/haproxy-runtime';
import { buildTopology } from '../../src/engine/topology';
import { FakeDocker } from '../support/fake-docker';

const section = (cfg: string, header: string) => {
  const start = cfg.indexOf(`\n${header}\n`);
  assert.ok(start >= 0, `no section ${header}`);
  const rest = cfg.slice(start + header.length + 2);
  const end = rest.search(/\n(?:\S)/);
  return end >= 0 ? rest.slice(0, end) : rest;
};

describe('HAProxy configuration', () => {
  it('tuned: checks, retries with redispatch, L7 retries for idempotent requests only', () => {
    const cfg = renderHaproxyConfig(buildTopology('ha'));
    const web = section(cfg, 'backend web');
    for (const line of [
      'retries 3',
      'option redispatch 1',
      'retry-on conn-failure empty-response response-timeout 502 504',
      'http-request disable-l7-retry if METH_POST',
      'option httpchk GET /lab/health.php',
      'http-response set-header X-Served-By %s',
    ]) {
      assert.ok(web.includes(line), `backend web lacks "${line}"`);
    }
    assert.match(web, /default-server check inter 500ms fastinter 200ms downinter 1s fall 2 rise 2 observe layer7 error-limit 5 on-error fail-check/);
    assert.match(cfg, /timeout connect 250ms/);
    assert.deepEqual(web.match(/server web\d web\d:80/g), ['server web1 web1:80', 'server web2 web2:80', 'server web3 web3:80']);
  });

  it('DB: a single writer with backups and a leastconn reader, both through the clustercheck', () => {
    const cfg = renderHaproxyConfig(buildTopology('ha'));
    const writer = section(cfg, 'listen db_writer');
    assert.match(writer, /server galera1 galera1:3306 on-marked-up shutdown-backup-sessions /);
    assert.match(writer, /server galera2 galera2:3306 backup/);
    assert.match(writer, /server galera3 galera3:3306 backup/);
    assert.match(writer, /check port 9200/);
    assert.match(writer, /on-marked-down shutdown-sessions/);
    const reader = section(cfg, 'listen db_reader');
    assert.match(reader, /balance leastconn/);
    assert.doesNotMatch(reader, /backup/);
    assert.match(reader, /server galera2 galera2:3306 track db_writer\/galera2/);
  });

  it('tuned DB listeners: a slow clustercheck is not a dead node (check read timeout ≥ 5 s), a killed one still fails its 250 ms connect', () => {
    // Measured (bench/false-alarm.ts, CPU neighbour, load average 60–80 on 2 cores): the
    // clustercheck (bash + a mariadb client per check) answered in 2.0–2.1 s, and with the 2 s
    // check timeout all three Galera nodes went DOWN at once: an outage with no fault.
    const cfg = renderHaproxyConfig(buildTopology('ha'));
    const writer = section(cfg, 'listen db_writer');
    const m = /timeout check (\d+)(ms|s)\b/.exec(writer);
    assert.ok(m, 'db_writer sets its own check timeout');
    assert.ok(Number(m[1]) * (m[2] === 's' ? 1000 : 1) >= 5000);
    assert.doesNotMatch(writer, /timeout connect/);
    assert.match(cfg, /timeout connect 250ms/);
    // The defaults profile stays stock.
    assert.doesNotMatch(section(renderHaproxyConfig(buildTopology('ha'), 'defaults'), 'listen db_writer'), /timeout check/);
  });

  it("tuned DB servers: an agent asks the node's peers whether Galera still counts it (a hung writer moves when Galera evicts it)", () => {
    const writer = section(renderHaproxyConfig(buildTopology('ha')), 'listen db_writer');
    const agents = writer
      .split('\n')
      .filter((l) => /^\s*server /.test(l))
      .map((l) => /agent-send "([^"]*)"/.exec(l)?.[1]);
    assert.deepEqual(agents, ['galera1 galera2 galera3\\n', 'galera2 galera1 galera3\\n', 'galera3 galera1 galera2\\n']);
    assert.match(writer, /server galera1 \S+ .*agent-check agent-addr 127\.0\.0\.1 agent-port 9201 agent-inter 500ms /);
    // The reader's servers track the writer's (its agent's verdict included); the defaults profile has none.
    assert.doesNotMatch(section(renderHaproxyConfig(buildTopology('ha')), 'listen db_reader'), /agent-check/);
    assert.doesNotMatch(section(renderHaproxyConfig(buildTopology('ha'), 'defaults'), 'listen db_writer'), /agent-check/);
    // One data node: nobody to ask.
    const oneDb = buildTopology({
      name: 'one-db',
      description: 'one Galera node behind HAProxy',
      roles: { lb: { count: 1 }, web: { count: 2 }, db: { count: 1 } },
    });
    assert.match(section(renderHaproxyConfig(oneDb), 'listen db_writer'), /server galera1 galera1:3306 on-marked-up shutdown-backup-sessions\n/);
  });

  it('defaults profile keeps HAProxy stock timing and no redispatch (for side-by-side lessons)', () => {
    const cfg = renderHaproxyConfig(buildTopology('ha'), 'defaults');
    const web = section(cfg, 'backend web');
    assert.doesNotMatch(web, /redispatch|retry-on/);
    assert.match(web, /default-server check inter 2s fall 3 rise 2/);
  });

  it('the runtime API and stats are configured; servers resolve through Docker DNS', () => {
    const cfg = renderHaproxyConfig(buildTopology('ha', 4));
    assert.match(cfg, /stats socket ipv4@0\.0\.0\.0:9999 level user\n/);
    assert.match(cfg, /nameserver dns 127\.0\.0\.11:53/);
    assert.match(cfg, /server web4 web4:80/);
  });
});

describe('HAProxy runtime API access', () => {
  it('admin level only on the root-only Unix socket; the TCP socket published on the host is read-only', () => {
    for (const profile of ['tuned', 'defaults'] as const) {
      const sockets = renderHaproxyConfig(buildTopology('ha'), profile)
        .split('\n')
        .filter((l) => /^\s*stats socket /.test(l))
        .map((l) => l.trim());
      assert.deepEqual(sockets, ['stats socket /run/haproxy/admin.sock mode 600 level admin', 'stats socket ipv4@0.0.0.0:9999 level user']);
    }
  });

  it('the admin transport runs lab-haproxy-admin in the HAProxy container (argv, no shell) and fails loudly', async () => {
    const docker = new FakeDocker();
    docker.addImage('img');
    const id = await docker.containers.create({
      name: 'lab-haproxy',
      image: 'img',
      hostname: 'haproxy',
      labels: {},
      env: {},
      network: 'n',
      aliases: [],
      ports: [],
      volumes: [],
      capAdd: [],
      devices: [],
      stopTimeoutS: 1,
    });
    let socketUp = true;
    docker.execHandlers = [
      (_c, argv) =>
        argv[0] === 'lab-haproxy-admin'
          ? socketUp
            ? { stdout: '\n', stderr: '', exitCode: 0 }
            : { stdout: '', stderr: 'lab-haproxy-admin: no admin socket at /run/haproxy/admin.sock', exitCode: 1 }
          : undefined,
    ];
    const admin = new HaproxyRuntime(execRuntime(docker.containers, id));
    await admin.setServerState('web', 'web1', 'maint');
    assert.deepEqual(
      docker.calls.filter((c) => c.startsWith('exec ')),
      ['exec haproxy lab-haproxy-admin set server web/web1 state maint'],
    );
    socketUp = false;
    await assert.rejects(admin.setServerState('web', 'web1', 'ready'), /HAProxy admin socket: lab-haproxy-admin: no admin socket/);
  });

  it('a refusal of the read-only socket is an error, not a silent success', async () => {
    const readOnly = new HaproxyRuntime(async () => 'Permission denied\n\n');
    await assert.rejects(readOnly.setServerState('web', 'web1', 'maint'), /HAProxy refused "set server web\/web1 state maint": Permission denied/);
  });
});

describe('show stat parsing', () => {
  const csv = [
    '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,',
    'web,FRONTEND,,,0,1,4096,3,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,1,,,,0,3,0,0,0,0,,0,1,3,,,0,0,0,0,,,,,,,,,',
    'web,web1,0,0,2,3,,10,0,0,,0,,0,0,1,0,UP,1,1,0,0,0,120,0,,1,3,1,,10,,2,0,,3,L7OK,200,1,0,10,0,0,0,0,,,,,0,0,,,,,1,,,0,0,4,9,',
    'web,web2,0,0,0,0,,5,0,0,,0,,3,0,2,1,DOWN,1,1,0,4,1,3,3,,1,3,2,,5,,2,0,,2,L4CON,,0,0,5,0,0,1,0,,,,,0,0,,,,,5,,,0,0,0,0,',
    'web,BACKEND,0,0,2,3,410,15,0,0,0,0,,3,0,3,1,UP,1,1,0,,1,120,3,,1,3,0,,15,,1,0,,3,,,,0,15,0,0,1,0,,,,,0,0,0,0,0,0,1,,,0,0,4,9,',
  ].join('\n');

  it('keeps server rows with the fields worth charting', () => {
    const rows = parseShowStat(csv);
    assert.equal(rows.length, 2);
    assert.deepEqual(
      { server: rows[0]!.server, status: rows[0]!.status, check: rows[0]!.checkStatus, scur: rows[0]!.sessions, retries: rows[0]!.retries },
      { server: 'web1', status: 'UP', check: 'L7OK', scur: 2, retries: 1 },
    );
    assert.equal(rows[1]!.status, 'DOWN');
    assert.equal(normaliseStatus('MAINT (resolution)'), 'DOWN');
    assert.equal(normaliseStatus('DOWN (agent)'), 'DOWN');
    assert.equal(runtimePort('tcp://127.0.0.1:8405'), 8405);
    assert.throws(() => runtimePort('unix:///run/haproxy/admin.sock'), /unexpected HAProxy runtime endpoint/);
    assert.equal(normaliseStatus('MAINT'), 'MAINT');
    assert.equal(normaliseStatus('DRAIN'), 'DRAIN');
    assert.equal(rows[1]!.checkStatus, 'L4CON');
    assert.equal(rows[1]!.connErrors, 3);
    assert.equal(rows[1]!.redispatches, 1);
    assert.equal(rows[1]!.http5xx, 1);
  });
});

describe('HAProxy under overload (issue 16): queue at HAProxy, checks never wait behind users', () => {
  const prefork = fs.readFileSync(path.resolve(__dirname, '../../lab/web/apache/mpm_prefork.conf'), 'utf8');
  const webServers = (cfg: string) => {
    const web = section(cfg, 'backend web');
    const defaults = /default-server (.*)/.exec(web)?.[1] ?? '';
    return { web, servers: web.match(/^\s*server web\d.*$/gm) ?? [], defaults };
  };

  it("WEB_APACHE_WORKERS is the web image's prefork MaxRequestWorkers (and ServerLimit allows it)", () => {
    assert.equal(Number(/^\s*MaxRequestWorkers\s+(\d+)/m.exec(prefork)?.[1]), WEB_APACHE_WORKERS);
    assert.ok(Number(/^\s*ServerLimit\s+(\d+)/m.exec(prefork)?.[1]) >= WEB_APACHE_WORKERS);
  });

  it('tuned: every web server takes fewer requests than its Apache workers, the rest is queued', () => {
    for (const n of [1, 3, 6]) {
      const { web, servers, defaults } = webServers(renderHaproxyConfig(buildTopology(n === 1 ? 'single' : 'ha', n)));
      assert.equal(servers.length, n);
      const maxconn = Number(/\bmaxconn (\d+)/.exec(defaults)?.[1]);
      assert.equal(maxconn, WEB_SERVER_MAXCONN);
      // A worker stays free for HAProxy's check, Docker's HEALTHCHECK and the lab's node probe.
      assert.ok(maxconn >= 1 && maxconn <= WEB_APACHE_WORKERS - 3, `maxconn ${maxconn} leaves no worker for the checks`);
      for (const s of servers) assert.doesNotMatch(s, /maxconn/, 'a server line overrides default-server maxconn');
      // Without `timeout queue`, a queued request waits `timeout connect` (250 ms) and gets a 503.
      const queue = /^\s*timeout queue (\d+)s$/m.exec(web);
      assert.ok(queue && Number(queue[1]) >= 10, 'backend web: timeout queue of at least 10 s');
      // Prefork gives an idle keep-alive connection a worker of its own: HAProxy must not keep them.
      assert.match(web, /^\s*option http-server-close$/m);
      // Errors seen on user traffic count as a failed check; only the checks mark a node DOWN.
      assert.match(defaults, /\bobserve layer7 error-limit \d+ on-error fail-check\b/);
      assert.doesNotMatch(defaults, /on-error (mark-down|sudden-death)/);
    }
  });

  it('tuned: detection of a dead node stays fast (inter + fall × connect timeout + fastinter ≤ 1.5 s)', () => {
    const cfg = renderHaproxyConfig(buildTopology('ha'));
    const { defaults } = webServers(cfg);
    const ms = (re: RegExp, text: string) => {
      const m = re.exec(text);
      assert.ok(m, `no ${re}`);
      return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
    };
    const inter = ms(/\binter (\d+)(ms|s)\b/, defaults);
    const fastinter = ms(/\bfastinter (\d+)(ms|s)\b/, defaults);
    const fall = Number(/\bfall (\d+)/.exec(defaults)?.[1]);
    const connect = Math.min(ms(/timeout connect (\d+)(ms|s)\b/, cfg), inter);
    assert.ok(inter + fall * connect + fastinter <= 1500);
    // A slow check is not a failed one: the check's read timeout is well above a busy node's answer.
    assert.ok(ms(/timeout check (\d+)(ms|s)\b/, cfg) >= 2000);
  });

  it("both profiles: HAProxy's own errors say why (termination state) in X-Lab-Term", () => {
    for (const p of ['tuned', 'defaults'] as const) {
      assert.match(
        section(renderHaproxyConfig(buildTopology('ha'), p), 'frontend web'),
        /http-after-response set-header X-Lab-Term %\[txn\.sess_term_state\] if \{ status ge 500 \}/,
      );
    }
  });

  it('defaults profile stays stock: no maxconn, no queue timeout, server keep-alive untouched', () => {
    const { web, servers } = webServers(renderHaproxyConfig(buildTopology('ha'), 'defaults'));
    assert.doesNotMatch(web, /maxconn|timeout queue|http-server-close|redispatch|retry-on|observe/);
    assert.deepEqual(
      web
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
      [
        'balance roundrobin',
        'option httpchk GET /lab/health.php',
        'http-check expect status 200',
        'http-response set-header X-Served-By %s',
        'default-server check inter 2s fall 3 rise 2',
        ...servers.map((s) => s.trim()),
      ],
    );
    assert.equal(servers.length, 3);
  });
});
