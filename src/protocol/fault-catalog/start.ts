import { defineFault } from './types';

/** Starts a stopped or killed node again. */
export const start = defineFault({
  kind: 'start',
  effect: 'repair',
  ends: ['stop', 'kill'],
  resumes: true,
  targets: 'node',
  params: [],
  states: ['exited', 'missing', 'created', 'restarting', 'dead'],
  menu: { title: 'Start Node', icon: '$(debug-start)', group: 'container', treeStates: ['exited', 'missing', 'created', 'dead'], inline: true },
  apply: (ctx) => ctx.docker.containers.start(ctx.container.id),
});
