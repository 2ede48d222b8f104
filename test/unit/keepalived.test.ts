import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseVrrpStatus, renderKeepalivedConfig, VRRP_ADVERT_INTERVAL_S, vrrpPriority } from '../../src/roles/keepalived';
import { cidrsOverlap, intToIp, ipToInt, parseCidr, planLabNetwork, prefixLength } from '../../src/roles/lab-network';

const pair = [
  { name: 'haproxy1', address: '172.29.0.11' },
  { name: 'haproxy2', address: '172.29.0.12' },
];

describe('keepalived configuration', () => {
  it('VRRPv3 with sub-second adverts, unicast to the peer only, the VIP in the lab subnet, the track script and notify', () => {
    const cfg = renderKeepalivedConfig({ self: pair[0]!, nodes: pair, vip: '172.29.0.10', prefixLength: 24 });
    assert.match(cfg, /^\s*vrrp_version 3$/m);
    assert.match(cfg, new RegExp(`^\\s*advert_int ${VRRP_ADVERT_INTERVAL_S}$`, 'm'));
    assert.ok(VRRP_ADVERT_INTERVAL_S < 1, 'sub-second adverts: the VIP must move in under a second');
    assert.match(cfg, /^\s*unicast_src_ip 172\.29\.0\.11$/m);
    const peers = /unicast_peer \{\n([^}]*)\}/.exec(cfg)?.[1] ?? '';
    assert.deepEqual(peers.trim().split(/\s+/), ['172.29.0.12'], 'its peer only, never itself');
    assert.match(cfg, /virtual_ipaddress \{\n\s+172\.29\.0\.10\/24 dev eth0\n/);
    assert.match(cfg, /track_script \{\n\s+haproxy_alive\n/);
    assert.match(cfg, /script "\/usr\/local\/bin\/lab-haproxy-alive"/);
    assert.match(cfg, /^\s*notify \/usr\/local\/bin\/lab-vrrp-notify$/m);
    // Both start BACKUP without preemption: a node that comes back does not take the VIP again.
    assert.match(cfg, /^\s*state BACKUP$/m);
    assert.match(cfg, /^\s*nopreempt$/m);
  });

  it('priorities follow node order; the peer list is symmetric', () => {
    assert.equal(vrrpPriority(pair, 'haproxy1'), 101);
    assert.equal(vrrpPriority(pair, 'haproxy2'), 100);
    assert.throws(() => vrrpPriority(pair, 'web1'), /not a node of the VRRP pair/);
    const two = renderKeepalivedConfig({ self: pair[1]!, nodes: pair, vip: '172.29.0.10', prefixLength: 24 });
    assert.match(two, /^\s*priority 100$/m);
    assert.match(two, /unicast_peer \{\n\s+172\.29\.0\.11\n/);
    assert.throws(() => renderKeepalivedConfig({ self: pair[0]!, nodes: [pair[0]!], vip: '172.29.0.10', prefixLength: 24 }), /needs at least one peer/);
  });

  it('the scripts it names are in the HAProxy image', () => {
    const dir = path.join(__dirname, '../../lab/haproxy');
    const docker = fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    for (const f of ['lab-haproxy-alive', 'lab-vrrp-notify', 'lab-vrrp-status']) {
      assert.ok(fs.existsSync(path.join(dir, f)), f);
      assert.ok(docker.includes(f), `${f} copied by the Dockerfile`);
    }
    assert.match(docker, /keepalived/);
    assert.match(fs.readFileSync(path.join(dir, 'entrypoint.sh'), 'utf8'), /lab-keepalived\.conf/);
  });
});

describe('lab-vrrp-status', () => {
  const addrs = (...ips: string[]) =>
    JSON.stringify([
      { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      { ifname: 'eth0', addr_info: ips.map((local) => ({ family: 'inet', local, prefixlen: 24 })) },
    ]);

  it('reads keepalived state and whether the kernel lists the VIP', () => {
    const master = parseVrrpStatus(`{"keepalived":true,"state":"MASTER","since":1700,"addrs":${addrs('172.29.0.11', '172.29.0.10')}}\n`, '172.29.0.10');
    assert.deepEqual(master, { keepalived: true, state: 'MASTER', since: 1700, holdsVip: true });
    const backup = parseVrrpStatus(`{"keepalived":true,"state":"BACKUP","since":1800,"addrs":${addrs('172.29.0.12')}}`, '172.29.0.10');
    assert.deepEqual(backup, { keepalived: true, state: 'BACKUP', since: 1800, holdsVip: false });
  });

  it('a prefix of the VIP is not the VIP; STOP and unknown words are FAULT; no state before the first transition', () => {
    assert.equal(parseVrrpStatus(`{"keepalived":true,"state":"BACKUP","since":1,"addrs":${addrs('172.29.0.100')}}`, '172.29.0.10').holdsVip, false);
    assert.equal(parseVrrpStatus(`{"keepalived":false,"state":"STOP","since":1,"addrs":[]}`, '172.29.0.10').state, 'FAULT');
    const fresh = parseVrrpStatus('{"keepalived":true,"state":null,"since":null,"addrs":null}', '172.29.0.10');
    assert.deepEqual(fresh, { keepalived: true, holdsVip: false });
  });

  it('anything but a JSON object is one clear error', () => {
    assert.throws(() => parseVrrpStatus('', '172.29.0.10'), /printed no JSON: \(nothing\)/);
    assert.throws(() => parseVrrpStatus('OCI runtime exec failed', '172.29.0.10'), /printed no JSON: OCI runtime/);
    assert.throws(() => parseVrrpStatus('42', '172.29.0.10'), /no JSON object/);
  });
});

describe('lab network address plan', () => {
  it('IPv4 arithmetic', () => {
    assert.equal(ipToInt('172.29.3.10'), ((172 * 256 + 29) * 256 + 3) * 256 + 10);
    assert.equal(intToIp(ipToInt('10.0.255.1')), '10.0.255.1');
    assert.throws(() => ipToInt('300.1.1.1'), /not an IPv4 address/);
    assert.deepEqual(parseCidr('172.29.3.77/24'), { start: ipToInt('172.29.3.0'), size: 256, prefix: 24 });
    assert.equal(parseCidr('fd00::/64'), undefined);
    assert.ok(cidrsOverlap('172.29.0.0/16', '172.29.200.0/24'));
    assert.ok(!cidrsOverlap('172.28.0.0/16', '172.29.0.0/24'));
    assert.ok(!cidrsOverlap('fd00::/64', '172.29.0.0/24'));
  });

  it('the first free /24: fixed addresses from .10, outside Docker range (the upper half)', () => {
    const plan = planLabNetwork(['172.17.0.0/16', '172.29.0.0/24', '172.29.1.0/24'], ['vip', 'haproxy1', 'haproxy2']);
    assert.deepEqual(plan, {
      subnet: '172.29.2.0/24',
      gateway: '172.29.2.1',
      ipRange: '172.29.2.128/25',
      addresses: { vip: '172.29.2.10', haproxy1: '172.29.2.11', haproxy2: '172.29.2.12' },
    });
    assert.equal(prefixLength(plan), 24);
    for (const ip of Object.values(plan.addresses)) {
      assert.ok(cidrsOverlap(`${ip}/32`, plan.subnet) && !cidrsOverlap(`${ip}/32`, plan.ipRange), `${ip}: in the subnet, not in Docker's range`);
    }
  });

  it('skips a whole taken block and excluded candidates; says what to do when nothing is free', () => {
    assert.equal(planLabNetwork(['172.29.0.0/16'], ['vip']).subnet, '172.30.0.0/24');
    assert.equal(planLabNetwork([], ['vip'], ['172.29.0.0/24']).subnet, '172.29.1.0/24');
    assert.throws(() => planLabNetwork(['172.16.0.0/12'], ['vip']), /no free \/24 left .*docker network prune/);
  });
});
