import { defineFault } from './types';
import { IMPAIR_GROUP, impairNetns, linkText } from './impair';

export const MAX_DELAY_MS = 60_000;

/** Added latency (and jitter) on what the node sends (all of it, or `--to` some nodes): see impair.ts for how. */
export const delay = defineFault({
  kind: 'delay',
  effect: 'break',
  targets: 'node',
  replaces: true,
  link: true,
  netnsGroup: IMPAIR_GROUP,
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
  describe: (f) =>
    `${f.nodes.join(',')} ${f.delayMs ?? f.params?.delayMs ?? 0}ms${(f.jitterMs ?? f.params?.jitterMs) ? ` ±${f.jitterMs ?? f.params?.jitterMs}ms` : ''}${linkText(f.to)}`,
  usage: 'fault delay <node> --ms N [--jitter N] [--to <nodes>]',
  menu: { title: 'Add Network Delay…', icon: '$(watch)', group: 'network' },
  apply: (ctx) => ctx.sync([ctx.node]),
  // Also on a stopped node: its delayer sidecar goes (impairNetns clears what it can).
  revert: (ctx) => ctx.sync([ctx.node]),
  netns: impairNetns,
});
