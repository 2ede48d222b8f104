import { defineFault } from './types';

/** SIGKILL to the node's container; `up`/`heal` start it again. */
export const kill = defineFault({
  kind: 'kill',
  effect: 'break',
  targets: 'node',
  params: [],
  states: ['running', 'paused'],
  refuse: (node, state) => (state !== 'running' && state !== 'paused' ? `${node} is ${state}: nothing to kill` : undefined),
  menu: { title: 'Kill Node', icon: '$(flame)', group: 'container', treeStates: ['running'], inline: true },
  apply: (ctx) => ctx.docker.containers.kill(ctx.container.id, 'SIGKILL'),
});
