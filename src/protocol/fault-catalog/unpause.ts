import { defineFault } from './types';

/** Unfreezes a paused node. */
export const unpause = defineFault({
  kind: 'unpause',
  effect: 'repair',
  ends: ['pause'],
  resumes: true,
  targets: 'node',
  params: [],
  states: ['paused'],
  menu: { title: 'Unpause Node', icon: '$(debug-continue)', group: 'container', inline: true },
  apply: (ctx) => ctx.docker.containers.unpause(ctx.container.id),
});
