import { defineFault } from './types';

/** Puts a disconnected node back on the lab's network. */
export const connect = defineFault({
  kind: 'connect',
  effect: 'repair',
  ends: ['disconnect'],
  targets: 'node',
  params: [],
  states: ['running'],
  menu: { title: 'Reconnect Node to the Network', icon: '$(plug)', group: 'network' },
  apply: (ctx) => ctx.docker.networks.connect(ctx.network, ctx.container.id, [ctx.node], ctx.address),
});
