import { defineFault } from './types';

export const PARTITION_CHAIN = 'MLAB-PARTITION';

/** iptables-restore input: the node drops every packet from and to these addresses (or nothing). */
export function partitionRules(blockedIps: string[]): string {
  const lines = ['*filter', `:${PARTITION_CHAIN} - [0:0]`, `-F ${PARTITION_CHAIN}`];
  const ips = [...new Set(blockedIps)].sort();
  // The jumps into the chain (a repeated jump into the same chain changes nothing).
  if (ips.length) lines.push(`-I INPUT 1 -j ${PARTITION_CHAIN}`, `-I OUTPUT 1 -j ${PARTITION_CHAIN}`);
  for (const ip of ips) lines.push(`-A ${PARTITION_CHAIN} -s ${ip} -j DROP`, `-A ${PARTITION_CHAIN} -d ${ip} -j DROP`);
  return lines.concat('COMMIT', '').join('\n');
}

/** Each node of the first group drops traffic with every node of the other (`from`). No menu: it takes two groups. */
export const partition = defineFault({
  kind: 'partition',
  effect: 'break',
  targets: 'groups',
  params: [],
  states: ['running'],
  describe: (f) => `${f.nodes.join(',')} from ${(f.from ?? []).join(',')}`,
  usage: 'fault partition <nodes> --from <nodes>',
  apply: (ctx) => ctx.sync(ctx.nodes),
  revert: (ctx) => ctx.sync(ctx.nodes),
  netns: async (node, faults, ctx) => {
    const blocked: string[] = [];
    for (const f of faults) {
      for (const peer of f.from ?? []) {
        const ip = (await ctx.container(peer)).ips?.[ctx.network];
        if (ip) blocked.push(ip);
      }
    }
    const c = await ctx.container(node);
    if (c.state !== 'running' && blocked.length === 0) return; // nothing to undo in a stopped namespace
    await ctx.run(c, node, ['iptables-restore', '--noflush', '/rules'], { path: '/rules', content: partitionRules(blocked) });
  },
});
