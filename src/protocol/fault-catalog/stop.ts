import { defineFault } from './types';

/** Stops the node's container (its role's stop timeout); `up`/`heal` start it again. */
export const stop = defineFault({
  kind: 'stop',
  effect: 'break',
  targets: 'node',
  params: [],
  states: ['running', 'paused'],
  menu: { title: 'Stop Node', icon: '$(debug-stop)', group: 'container', treeStates: ['running'] },
  apply: (ctx) => ctx.docker.containers.stop(ctx.container.id, ctx.stopTimeoutS),
});
