import { defineFault } from './types';

/** Takes the node off the lab's network. */
export const disconnect = defineFault({
  kind: 'disconnect',
  effect: 'break',
  targets: 'node',
  params: [],
  states: ['running'],
  menu: { title: 'Disconnect Node from the Network', icon: '$(debug-disconnect)', group: 'network' },
  apply: (ctx) => ctx.docker.networks.disconnect(ctx.network, ctx.container.id),
  revert: async (ctx) => {
    if (!ctx.container.ips?.[ctx.network]) await ctx.docker.networks.connect(ctx.network, ctx.container.id, [ctx.node], ctx.address);
  },
});
