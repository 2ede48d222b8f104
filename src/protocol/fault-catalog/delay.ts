import { AnyFault, defineFault } from './types';

export const MAX_DELAY_MS = 60_000;
const IFACE = 'eth0';

/** tc arguments for the node's delay (netem), or undefined when none is active. */
export function netemArgs(faults: readonly AnyFault[]): string[] | undefined {
  const delay = faults.find((f) => f.kind === 'delay');
  if (!delay) return undefined;
  return [
    'tc',
    'qdisc',
    'replace',
    'dev',
    IFACE,
    'root',
    'netem',
    'delay',
    `${delay.params?.delayMs ?? 0}ms`,
    ...(delay.params?.jitterMs ? [`${delay.params.jitterMs}ms`] : []),
  ];
}

/** Added latency (and jitter) on the node's egress: `tc netem` in its network namespace. */
export const delay = defineFault({
  kind: 'delay',
  effect: 'break',
  targets: 'node',
  replaces: true,
  params: [
    {
      field: 'delayMs',
      option: 'ms',
      unit: 'ms',
      min: 1,
      max: MAX_DELAY_MS,
      integer: true,
      required: true,
      positional: true,
      uiDefault: 200,
      specDefault: 200,
      problem: () => `delay needs --ms between 1 and ${MAX_DELAY_MS}`,
      scenarioNeeds: 'fault delay needs the added latency in ms, e.g. "delay web3 300" or { kind: delay, node: web3, ms: 300 }',
      scenarioRange: (v) => `delay must be between 1 and ${MAX_DELAY_MS} ms, got ${String(v)}`,
      schemaDescription: `delay: added latency, ms (1–${MAX_DELAY_MS}).`,
      ask: { title: (node) => `Delay on ${node}`, prompt: 'Added latency in ms', valid: (x) => /^\d+$/.test(x), invalid: 'a number of ms' },
    },
    {
      field: 'jitterMs',
      option: 'jitter',
      unit: 'ms',
      min: 0,
      max: MAX_DELAY_MS,
      required: false,
      uiDefault: 0,
      problem: () => `--jitter must be between 0 and ${MAX_DELAY_MS} ms`,
      scenarioRange: (v) => `jitter must be between 0 and ${MAX_DELAY_MS} ms, got ${String(v)}`,
      schemaDescription: `delay: jitter, ms (0–${MAX_DELAY_MS}).`,
    },
  ],
  states: ['running'],
  refuse: (node, state) => (state !== 'running' ? `${node} is ${state}: network faults need a running node` : undefined),
  describe: (f) => `${f.nodes.join(',')} ${f.delayMs ?? 0}ms${f.jitterMs ? ` ±${f.jitterMs}ms` : ''}`,
  usage: 'fault delay <node> --ms N [--jitter N] [--for 10s]',
  menu: { title: 'Add Network Delay…', icon: '$(watch)', group: 'network' },
  apply: (ctx) => ctx.sync([ctx.node]),
  revert: async (ctx) => {
    if (ctx.container.state === 'running') await ctx.sync([ctx.node]);
  },
  netns: async (node, faults, ctx) => {
    const c = await ctx.container(node);
    const args = netemArgs(faults);
    if (!args) {
      if (c.state === 'running') await ctx.run(c, node, ['tc', 'qdisc', 'del', 'dev', IFACE, 'root']).catch(() => undefined);
      return;
    }
    try {
      await ctx.run(c, node, args);
    } catch (err) {
      if (/qdisc kind is unknown/i.test(String(err))) {
        throw new Error(
          "this Docker host's kernel has no netem (CONFIG_NET_SCH_NETEM), which delay faults need; Docker Desktop and the usual Linux distributions have it. Loss, partitions and the other faults work without it",
        );
      }
      throw err;
    }
  },
});
