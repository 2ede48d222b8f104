import { defineFault } from './types';
import { IMPAIR_GROUP, impairNetns, linkText } from './impair';

export const MIN_RATE_KBIT = 8;
export const MAX_RATE_KBIT = 10_000_000;

/** A bandwidth limit on what the node sends (all of it, or `--to` some nodes): see impair.ts for how (tbf when it is alone). */
export const rate = defineFault({
  kind: 'rate',
  effect: 'break',
  targets: 'node',
  replaces: true,
  link: true,
  netnsGroup: IMPAIR_GROUP,
  params: [
    {
      field: 'rateKbit',
      option: 'kbit',
      unit: 'kbit',
      min: MIN_RATE_KBIT,
      max: MAX_RATE_KBIT,
      integer: true,
      required: true,
      positional: true,
      uiDefault: 512,
      specDefault: 512,
      problem: () => `rate needs --kbit between ${MIN_RATE_KBIT} and ${MAX_RATE_KBIT} (kbit/s, whole numbers)`,
      scenarioNeeds: 'fault rate needs the bandwidth in kbit/s, e.g. "rate web2 512" or { kind: rate, node: web2, kbit: 512 }',
      scenarioRange: (v) => `rate must be between ${MIN_RATE_KBIT} and ${MAX_RATE_KBIT} kbit/s (whole numbers), got ${String(v).slice(0, 40)}`,
      schemaDescription: `rate: bandwidth limit, kbit/s (${MIN_RATE_KBIT}–${MAX_RATE_KBIT}).`,
      ask: {
        title: (node) => `Bandwidth limit on ${node}`,
        prompt: 'Rate in kbit/s',
        valid: (x) => /^\d+$/.test(x) && Number(x) >= MIN_RATE_KBIT,
        invalid: `a number of kbit/s, at least ${MIN_RATE_KBIT}`,
      },
    },
  ],
  states: ['running'],
  refuse: (node, state) => (state !== 'running' ? `${node} is ${state}: network faults need a running node` : undefined),
  describe: (f) => `${f.nodes.join(',')} ${f.rateKbit ?? f.params?.rateKbit ?? 0}kbit${linkText(f.to)}`,
  usage: 'fault rate <node> --kbit N [--to <nodes>]',
  menu: { title: 'Limit Bandwidth…', icon: '$(dashboard)', group: 'network' },
  apply: (ctx) => ctx.sync([ctx.node]),
  // Also on a stopped node: its delayer sidecar goes (impairNetns clears what it can).
  revert: (ctx) => ctx.sync([ctx.node]),
  netns: impairNetns,
});
