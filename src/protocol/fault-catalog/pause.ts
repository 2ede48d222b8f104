import { defineFault } from './types';

/** Freezes the node's processes (cgroup freezer): it holds its connections and answers nothing. */
export const pause = defineFault({
  kind: 'pause',
  effect: 'break',
  targets: 'node',
  params: [],
  states: ['running'],
  refuse: (node, state) => (state !== 'running' ? `${node} is ${state}: only a running node can be paused` : undefined),
  menu: { title: 'Pause Node', icon: '$(debug-pause)', group: 'container' },
  apply: (ctx) => ctx.docker.containers.pause(ctx.container.id),
  revert: async (ctx) => {
    if (ctx.container.state === 'paused') await ctx.docker.containers.unpause(ctx.container.id);
  },
});
