import { defineFault, type FaultContext } from './types';

/**
 * runc freezes a container's processes one by one; a web node's Apache workers can be waiting on
 * the node's own Gluster FUSE daemon, and when that daemon is frozen first they never reach the
 * freezer: runc gives up ("unable to freeze") and thaws the node again. Once those file requests
 * are answered a new attempt usually lands, so the freeze is tried up to FREEZE_ATTEMPTS times;
 * any other error, or the last refusal, is the fault's error.
 */
const FREEZE_ATTEMPTS = 5;

async function freeze(ctx: FaultContext): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.docker.containers.pause(ctx.container.id);
    } catch (err) {
      if (attempt >= FREEZE_ATTEMPTS || !/unable to freeze/i.test(String(err))) throw err;
    }
  }
}

/** Freezes the node's processes (cgroup freezer): it holds its connections and answers nothing. */
export const pause = defineFault({
  kind: 'pause',
  effect: 'break',
  targets: 'node',
  params: [],
  states: ['running'],
  refuse: (node, state) => (state !== 'running' ? `${node} is ${state}: only a running node can be paused` : undefined),
  menu: { title: 'Pause Node', icon: '$(debug-pause)', group: 'container' },
  apply: freeze,
  revert: async (ctx) => {
    if (ctx.container.state === 'paused') await ctx.docker.containers.unpause(ctx.container.id);
  },
});
