/**
 * A lab network with an address plan: a subnet the lab chooses itself (free against Docker's
 * existing networks), Docker's own range for dynamic addresses inside it, and fixed addresses
 * outside that range that Docker never hands out: a virtual IP, and the nodes that must know each
 * other's address before they start (keepalived's unicast peers). Only topologies whose roles
 * ask for addresses get one; every other lab keeps Docker's default network.
 */

/** The chosen plan, kept in the lab's state (`extra.network`). */
export interface LabNetworkPlan {
  /** e.g. `172.29.3.0/24`. */
  subnet: string;
  gateway: string;
  /** Docker's dynamic range (`IPRange`): every container without a fixed address gets one from here. */
  ipRange: string;
  /** Fixed addresses by name: node names, and `vip`. */
  addresses: Record<string, string>;
}

/** Address name of the load balancer's virtual IP. */
export const VIP_ADDRESS = 'vip';

/** Where candidates come from: /24s inside these /16s, in order (Docker's own pools are 172.17–31 /16s and 192.168/16). */
export const SUBNET_BLOCKS: readonly string[] = ['172.29', '172.30', '172.31', '172.28', '172.27'];
/** Fixed addresses start at `.10` of the /24; Docker's range is the upper half (`.128/25`). */
const FIXED_FROM = 10;

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** `a.b.c.d/n` → its first address and size; undefined for anything else (IPv6 included). */
export function parseCidr(cidr: string): { start: number; size: number; prefix: number } | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) return undefined;
  const prefix = Number(m[2]);
  if (prefix > 32) return undefined;
  let ip: number;
  try {
    ip = ipToInt(m[1]!);
  } catch {
    return undefined;
  }
  const size = 2 ** (32 - prefix);
  return { start: Math.floor(ip / size) * size, size, prefix };
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y) return false;
  return x.start < y.start + y.size && y.start < x.start + x.size;
}

/** The prefix length of a plan's subnet. */
export function prefixLength(plan: LabNetworkPlan): number {
  const c = parseCidr(plan.subnet);
  if (!c) throw new Error(`not an IPv4 subnet: ${plan.subnet}`);
  return c.prefix;
}

/**
 * The first /24 of SUBNET_BLOCKS that overlaps none of `taken` (Docker's networks' subnets, the
 * host's own interface networks) nor `exclude` (candidates that failed meanwhile), with the named
 * fixed addresses at `.10`, `.11`, … in the order given.
 */
export function planLabNetwork(taken: readonly string[], names: readonly string[], exclude: readonly string[] = []): LabNetworkPlan {
  if (names.length > 128 - FIXED_FROM) throw new Error(`too many fixed addresses (${names.length}) for a /24 lab network`);
  for (const block of SUBNET_BLOCKS) {
    for (let third = 0; third < 256; third++) {
      const subnet = `${block}.${third}.0/24`;
      if (exclude.includes(subnet) || taken.some((t) => cidrsOverlap(t, subnet))) continue;
      const base = ipToInt(`${block}.${third}.0`);
      const addresses: Record<string, string> = {};
      names.forEach((n, i) => (addresses[n] = intToIp(base + FIXED_FROM + i)));
      return { subnet, gateway: intToIp(base + 1), ipRange: `${block}.${third}.128/25`, addresses };
    }
  }
  throw new Error(
    `no free /24 left in ${SUBNET_BLOCKS.map((b) => `${b}.0.0/16`).join(', ')} for the lab network: remove unused Docker networks (\`docker network prune\`)`,
  );
}
