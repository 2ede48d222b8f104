/**
 * Link impairments (delay, loss, rate): one impairment per node, set from every recorded fault of
 * the three kinds that touches it, by the first method that works (see `impairNetns`):
 *
 *   1. `netem` — tc netem on the node's eth0, when the kernel has it (learnt from tc's own refusal,
 *      "Specified qdisc kind is unknown", once per process);
 *   2. `tbf`   — tc tbf, for a rate limit alone on all of the node's traffic;
 *   3. `nfqueue` — iptables sends the node's outgoing packets to NFQUEUEs read by `lab-delayer`
 *      (lab/netem), a userspace daemon in a long-lived sidecar: delay ± jitter in order, loss,
 *      token-bucket rate. The rules carry `--queue-bypass`: if the daemon dies, the traffic passes
 *      unimpaired (fail-open) — the status then reports the impairment not in force.
 *
 * The impairment acts on what the node sends (egress, like netem): a delay of 300 ms adds 300 ms to
 * every round trip through the node, whichever side starts it; `--to a,b` narrows it to the
 * traffic between the node and a, b. Browser-safe (pure data; the sidecars run through the context).
 */
import type { AnyFault, FaultContainer, NetnsContext } from './types';

export const IMPAIR_GROUP = 'impair';
export const IMPAIR_CHAIN = 'MLAB-IMPAIR';
export const IMPAIR_IFACE = 'eth0';
/** The first NFQUEUE number the delayer reads (one queue per class of destinations). */
export const IMPAIR_QUEUE_BASE = 4200;

export type ImpairMethod = 'netem' | 'nfqueue' | 'tbf';

export interface Impairment {
  delayMs: number;
  jitterMs: number;
  lossPct: number;
  rateKbit: number;
}

/** The traffic to these peers (all the rest when `peers` is absent) gets this impairment. */
export interface ImpairClass {
  peers?: string[];
  imp: Impairment;
}

const num = (f: AnyFault, field: 'delayMs' | 'jitterMs' | 'lossPct' | 'rateKbit') => f.params?.[field] ?? f[field] ?? 0;

function combine(faults: readonly AnyFault[]): Impairment {
  const imp: Impairment = { delayMs: 0, jitterMs: 0, lossPct: 0, rateKbit: 0 };
  for (const f of faults) {
    if (f.kind === 'delay') {
      imp.delayMs = num(f, 'delayMs');
      imp.jitterMs = num(f, 'jitterMs');
    } else if (f.kind === 'loss') imp.lossPct = num(f, 'lossPct');
    else if (f.kind === 'rate') imp.rateKbit = num(f, 'rateKbit');
  }
  return imp;
}

const isNone = (i: Impairment) => !i.delayMs && !i.jitterMs && !i.lossPct && !i.rateKbit;

/**
 * The node's impairment per class of destinations, from the delay/loss/rate faults touching it:
 * each peer named in a `to` gets the faults aimed at it plus those on all traffic; peers with the
 * same result share a class; the class without `peers` (the rest) comes last. [] when none.
 */
export function impairmentClasses(faults: readonly AnyFault[]): ImpairClass[] {
  const all = faults.filter((f) => !f.to?.length);
  const peers = [...new Set(faults.flatMap((f) => f.to ?? []))].sort();
  const byKey = new Map<string, ImpairClass>();
  for (const p of peers) {
    const imp = combine(faults.filter((f) => !f.to?.length || f.to.includes(p)));
    if (isNone(imp)) continue;
    const key = JSON.stringify(imp);
    const cls = byKey.get(key) ?? { peers: [], imp };
    cls.peers!.push(p);
    byKey.set(key, cls);
  }
  const classes = [...byKey.values()];
  const rest = combine(all);
  if (!isNone(rest)) classes.push({ imp: rest });
  return classes;
}

/** The methods to try, in order, for these classes on a kernel that has (true), lacks (false) or may have netem. */
export function impairMethods(classes: readonly ImpairClass[], netem: boolean | undefined): ImpairMethod[] {
  const rateOnly = classes.length === 1 && !classes[0]!.peers && !classes[0]!.imp.delayMs && !classes[0]!.imp.jitterMs && !classes[0]!.imp.lossPct;
  return [...(netem === false ? [] : ['netem' as const]), ...(rateOnly ? ['tbf' as const] : []), 'nfqueue'];
}

const netemOpts = (i: Impairment) => [
  'netem',
  ...(i.delayMs || i.jitterMs ? ['delay', `${i.delayMs}ms`, ...(i.jitterMs ? [`${i.jitterMs}ms`] : [])] : []),
  ...(i.lossPct ? ['loss', `${i.lossPct}%`] : []),
  ...(i.rateKbit ? ['rate', `${i.rateKbit}kbit`] : []),
];

/**
 * `tc -batch` input for netem: one root netem for all traffic; with peer classes, a prio qdisc
 * whose last band (the default for every priority) holds the rest and one band per class picked
 * by destination address.
 */
export function netemBatch(classes: readonly ImpairClass[], ipOf: (peer: string) => string): string {
  const dev = ['dev', IMPAIR_IFACE];
  if (classes.length === 1 && !classes[0]!.peers) return [['qdisc', 'replace', ...dev, 'root', ...netemOpts(classes[0]!.imp)].join(' '), ''].join('\n');
  const peerClasses = classes.filter((c) => c.peers);
  const rest = classes.find((c) => !c.peers);
  const bands = peerClasses.length + 1;
  const last = bands - 1;
  const lines = [['qdisc', 'replace', ...dev, 'root', 'handle', '1:', 'prio', 'bands', String(bands), 'priomap', ...Array(16).fill(String(last))].join(' ')];
  peerClasses.forEach((c, i) => {
    lines.push(['qdisc', 'add', ...dev, 'parent', `1:${i + 1}`, 'handle', `${i + 10}:`, ...netemOpts(c.imp)].join(' '));
    for (const p of c.peers!)
      lines.push(
        ['filter', 'add', ...dev, 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'dst', `${ipOf(p)}/32`, 'flowid', `1:${i + 1}`].join(
          ' ',
        ),
      );
  });
  if (rest) lines.push(['qdisc', 'add', ...dev, 'parent', `1:${bands}`, 'handle', `${bands + 9}:`, ...netemOpts(rest.imp)].join(' '));
  return lines.concat('').join('\n');
}

/** tc arguments for a rate limit alone (tbf): a burst of 32 kbit, at most 400 ms queued. */
export function tbfArgs(rateKbit: number): string[] {
  return ['tc', 'qdisc', 'replace', 'dev', IMPAIR_IFACE, 'root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', '32kbit', 'latency', '400ms'];
}

/** iptables-restore input sending each class's outgoing packets to its NFQUEUE (fail-open: --queue-bypass); no classes: none. */
export function nfqueueRules(classes: readonly ImpairClass[], ipOf: (peer: string) => string): string {
  const lines = ['*filter', `:${IMPAIR_CHAIN} - [0:0]`, `-F ${IMPAIR_CHAIN}`];
  if (classes.length) lines.push(`-I OUTPUT 1 -o ${IMPAIR_IFACE} -j ${IMPAIR_CHAIN}`);
  classes.forEach((c, i) => {
    const target = `-j NFQUEUE --queue-num ${IMPAIR_QUEUE_BASE + i} --queue-bypass`;
    if (c.peers) for (const p of c.peers) lines.push(`-A ${IMPAIR_CHAIN} -d ${ipOf(p)}/32 ${target}`);
    else lines.push(`-A ${IMPAIR_CHAIN} ${target}`);
  });
  return lines.concat('COMMIT', '').join('\n');
}

/** The delayer's lines, one daemon per class: `queue delayMs jitterMs lossPct rateKbit`. */
export function delayerLines(classes: readonly ImpairClass[]): string {
  return classes
    .map((c, i) => [IMPAIR_QUEUE_BASE + i, c.imp.delayMs, c.imp.jitterMs, c.imp.lossPct, c.imp.rateKbit].join(' '))
    .concat('')
    .join('\n');
}

/** Removes whatever impairment the node had: the delayer sidecar, then the root qdisc and the NFQUEUE rules (`lab-impair clear`). */
async function clearImpairment(c: FaultContainer, node: string, ctx: NetnsContext): Promise<void> {
  await ctx.daemon(c, node);
  if (c.state === 'running') await ctx.run(c, node, ['lab-impair', 'clear']);
}

/**
 * The impairment kinds' `netns`: sets the node's impairment from the faults touching it, by the
 * first method that works; returns the method used. Each method is one sidecar run that also
 * removes what another method left (`lab-impair`, lab/netem).
 */
export async function impairNetns(node: string, faults: AnyFault[], ctx: NetnsContext): Promise<string | void> {
  const c = await ctx.container(node);
  const classes = impairmentClasses(faults);
  if (!classes.length) return clearImpairment(c, node, ctx);
  if (c.state !== 'running') throw new Error(`${node} is ${c.state}: network faults need a running node`);
  const ips = new Map<string, string>();
  for (const p of new Set(classes.flatMap((x) => x.peers ?? []))) {
    const ip = (await ctx.container(p)).ips?.[ctx.network];
    if (!ip) throw new Error(`${p} has no address on the lab's network (is it running?): cannot aim a link fault at it`);
    ips.set(p, ip);
  }
  const ipOf = (p: string) => ips.get(p)!;
  for (const method of impairMethods(classes, ctx.kernel.netem)) {
    if (method === 'netem') {
      await ctx.daemon(c, node);
      const r = await ctx.attempt(c, node, ['lab-impair', 'netem', '/tc'], { path: '/tc', content: netemBatch(classes, ipOf) });
      if (r.code === 0) {
        ctx.kernel.netem = true;
        return method;
      }
      if (!/qdisc kind is unknown/i.test(r.out)) throw new Error(`tc netem in ${node}'s network namespace failed (exit ${r.code}): ${r.out.trim()}`);
      ctx.kernel.netem = false; // this kernel has no netem (CONFIG_NET_SCH_NETEM): the next methods
    } else if (method === 'tbf') {
      await ctx.daemon(c, node);
      await ctx.run(c, node, ['lab-impair', 'exec', ...tbfArgs(classes[0]!.imp.rateKbit)]);
      return method;
    } else {
      await ctx.daemon(c, node, {
        argv: ['lab-impair', 'run'],
        files: [
          { path: '/rules', content: nfqueueRules(classes, ipOf) },
          { path: '/impair', content: delayerLines(classes) },
        ],
        readyLines: classes.length + 1, // each daemon's, then the rules'
      });
      return method;
    }
  }
}

/** " to galera1,galera2" for a link fault aimed at some nodes, else "". */
export function linkText(to: readonly string[] | undefined): string {
  return to?.length ? ` to ${to.join(',')}` : '';
}
