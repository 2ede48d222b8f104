/**
 * keepalived (VRRP) for a load-balancer pair: two HAProxy nodes, one virtual IP on the lab
 * network. Rendered here, copied into each HAProxy container before it starts (its entrypoint
 * runs keepalived only when the file is there), and read back by lab/haproxy/lab-vrrp-status.
 * Facts (measured on this project's 2-core host): shared/docs/HA-NOTES.md, "keepalived in Docker".
 */

export const KEEPALIVED_CONFIG_PATH = '/etc/keepalived/lab-keepalived.conf';
/** The container's interface on the lab network (its only network). */
export const VRRP_INTERFACE = 'eth0';
export const VRRP_INSTANCE = 'lb';
/** One VRRP router per lab network (each lab has its own network: no clash between labs). */
export const VRRP_ROUTER_ID = 51;
/**
 * Seconds between adverts. VRRPv3 (`vrrp_version 3`) takes centiseconds; VRRPv2 rounds 0.2 up to
 * 1 s (VIP moved 3.4 s after a kill instead of ≈ 0.75 s). The backup takes over after
 * 3 × advert + skew ((256 − priority) × advert / 256) without adverts: ≈ 0.72 s.
 */
export const VRRP_ADVERT_INTERVAL_S = 0.2;
/** The first node's priority; each further node one less (nopreempt: a node that returns stays BACKUP). */
export const VRRP_BASE_PRIORITY = 101;
/**
 * The track script (lab/haproxy/lab-haproxy-alive): seconds between runs, failures before FAULT.
 * Measured under load average ≈ 50 on 2 cores: 1 s / 0.8 s curl / fall 2 put a healthy but
 * starved HAProxy in FAULT 9–12 times in 10 minutes (each a needless VIP move); a hung HAProxy
 * is now detected in ≈ 6–8 s instead of ≈ 2.5 s. A killed one is unaffected (its adverts stop).
 */
export const VRRP_TRACK = { intervalS: 2, timeoutS: 2, fall: 3, rise: 2 } as const;

export type VrrpState = 'MASTER' | 'BACKUP' | 'FAULT';
export const VRRP_STATES: readonly VrrpState[] = ['MASTER', 'BACKUP', 'FAULT'];

export interface VrrpPeer {
  name: string;
  /** The node's fixed address on the lab network. */
  address: string;
}

export interface KeepalivedInput {
  self: VrrpPeer;
  /** Every node of the pair (self included), in node order: their priorities follow it. */
  nodes: VrrpPeer[];
  vip: string;
  /** The lab subnet's prefix length (the VIP is an address of that subnet). */
  prefixLength: number;
}

export function vrrpPriority(nodes: VrrpPeer[], name: string): number {
  const i = nodes.findIndex((n) => n.name === name);
  if (i < 0) throw new Error(`${name} is not a node of the VRRP pair (${nodes.map((n) => n.name).join(', ')})`);
  return VRRP_BASE_PRIORITY - i;
}

/**
 * One node's keepalived.conf. Unicast adverts to the peer's fixed address (no multicast needed on
 * a Docker bridge); every node starts BACKUP with `nopreempt`, so the first to time out becomes
 * MASTER and a node that comes back does not take the VIP again (no second move). The track
 * script moves a node whose HAProxy does not answer to FAULT: it gives up the VIP.
 */
export function renderKeepalivedConfig(input: KeepalivedInput): string {
  const { self, nodes, vip, prefixLength } = input;
  const peers = nodes.filter((n) => n.name !== self.name);
  if (peers.length === 0) throw new Error('a VRRP pair needs at least one peer');
  const t = VRRP_TRACK;
  return [
    `# Rendered by Moodle HA Lab for ${self.name}. Do not edit: the lab rewrites it.`,
    'global_defs {',
    `    router_id ${self.name}`,
    // VRRPv3: sub-second adverts (v2 rounds them up to whole seconds).
    '    vrrp_version 3',
    // Scripts run as root, and keepalived refuses a script others may write.
    '    script_user root',
    '    enable_script_security',
    // Gratuitous ARPs at once on becoming MASTER (the edge's neighbour entry moves to this node), no second burst.
    '    vrrp_garp_master_delay 0',
    '}',
    '',
    'vrrp_script haproxy_alive {',
    '    script "/usr/local/bin/lab-haproxy-alive"',
    `    interval ${t.intervalS}`,
    `    timeout ${t.timeoutS}`,
    `    fall ${t.fall}`,
    `    rise ${t.rise}`,
    '}',
    '',
    `vrrp_instance ${VRRP_INSTANCE} {`,
    '    state BACKUP',
    '    nopreempt',
    `    interface ${VRRP_INTERFACE}`,
    `    virtual_router_id ${VRRP_ROUTER_ID}`,
    `    priority ${vrrpPriority(nodes, self.name)}`,
    `    advert_int ${VRRP_ADVERT_INTERVAL_S}`,
    `    unicast_src_ip ${self.address}`,
    '    unicast_peer {',
    ...peers.map((p) => `        ${p.address}`),
    '    }',
    '    virtual_ipaddress {',
    `        ${vip}/${prefixLength} dev ${VRRP_INTERFACE}`,
    '    }',
    '    track_script {',
    '        haproxy_alive',
    '    }',
    // Records keepalived's own state (lab-vrrp-status reads it back).
    '    notify /usr/local/bin/lab-vrrp-notify',
    '}',
    '',
  ].join('\n');
}

/** What lab-vrrp-status says about one HAProxy node's namespace. */
export interface VrrpReading {
  /** keepalived's process runs. */
  keepalived: boolean;
  /** keepalived's last state, per its notify script (undefined before its first transition). */
  state?: VrrpState;
  /** When keepalived entered it (epoch ms). */
  since?: number;
  /** The kernel lists the VIP among the namespace's addresses. */
  holdsVip: boolean;
}

interface IpAddrInfo {
  family?: string;
  local?: string;
}

/** Parses lab-vrrp-status's JSON line; throws with the reason when it is not one. */
export function parseVrrpStatus(stdout: string, vip: string): VrrpReading {
  let raw: unknown;
  try {
    raw = JSON.parse(stdout.trim());
  } catch {
    throw new Error(`lab-vrrp-status printed no JSON: ${stdout.trim().slice(0, 120) || '(nothing)'}`);
  }
  if (!raw || typeof raw !== 'object') throw new Error('lab-vrrp-status printed no JSON object');
  const r = raw as { keepalived?: unknown; state?: unknown; since?: unknown; addrs?: unknown };
  const state = typeof r.state === 'string' ? r.state : undefined;
  // keepalived's STOP (it is shutting down) and anything unknown count as FAULT: the node does not serve the VIP.
  const vrrp: VrrpState | undefined = state === undefined ? undefined : (VRRP_STATES as readonly string[]).includes(state) ? (state as VrrpState) : 'FAULT';
  const addrs = Array.isArray(r.addrs) ? (r.addrs as { addr_info?: unknown }[]) : [];
  const holdsVip = addrs.some((a) => Array.isArray(a?.addr_info) && (a.addr_info as IpAddrInfo[]).some((i) => i?.family === 'inet' && i.local === vip));
  return {
    keepalived: r.keepalived === true,
    ...(vrrp ? { state: vrrp } : {}),
    ...(typeof r.since === 'number' && Number.isFinite(r.since) ? { since: r.since } : {}),
    holdsVip,
  };
}
