import { defineFault, FaultParam, paramOk } from './types';
import { IMPAIR_GROUP, impairNetns, linkText } from './impair';

export const LOSS_CHAIN = 'MLAB-LOSS';
/** Loss is applied as an iptables probability with 4 decimals: 0.01 % is the finest step. */
export const MIN_LOSS_PCT = 0.01;

/**
 * iptables-restore input for packet loss on the node's egress (like netem loss, but through
 * iptables' `statistic` match, which every Docker host kernel has — netem is a separate module
 * some kernels lack).
 */
export function lossRules(lossPct: number | undefined): string {
  const lines = ['*filter', `:${LOSS_CHAIN} - [0:0]`, `-F ${LOSS_CHAIN}`];
  if (lossPct) lines.push(`-I OUTPUT 1 -j ${LOSS_CHAIN}`, `-A ${LOSS_CHAIN} -m statistic --mode random --probability ${(lossPct / 100).toFixed(4)} -j DROP`);
  return lines.concat('COMMIT', '').join('\n');
}

/** Loss in percent, 0.01 to 100 in steps of 0.01 (12.34 yes, 12.345 no). */
export const percent: FaultParam = {
  field: 'lossPct',
  option: 'percent',
  unit: '%',
  min: MIN_LOSS_PCT,
  max: 100,
  step: 0.01,
  required: true,
  positional: true,
  uiDefault: 20,
  specDefault: 10,
  wireAbove: 0,
  problem: (v) => `loss needs --percent between 0 and 100: from ${MIN_LOSS_PCT} to 100, at most two decimals (got ${String(v).slice(0, 40)})`,
  scenarioNeeds: 'fault loss needs a percentage, e.g. "loss web1 30" or { kind: loss, node: web1, percent: 30 }',
  scenarioRange: (v) =>
    `loss percent must be from ${MIN_LOSS_PCT} to 100 with at most two decimals (the finest step packet loss is applied in), got ${String(v).slice(0, 40)}`,
  schemaDescription: 'loss: packet loss, percent: 0.01 to 100, at most two decimals (what iptables applies exactly).',
  ask: {
    title: (node) => `Packet loss on ${node}`,
    prompt: 'Loss in percent',
    valid: (x) => /^\d+(\.\d+)?$/.test(x) && paramOk(percent, Number(x)),
    invalid: '0.01 to 100, at most two decimals',
  },
};

/** Packet loss on what the node sends (all of it, or `--to` some nodes): see impair.ts for how. */
export const loss = defineFault({
  kind: 'loss',
  effect: 'break',
  targets: 'node',
  replaces: true,
  link: true,
  netnsGroup: IMPAIR_GROUP,
  params: [percent],
  states: ['running'],
  refuse: (node, state) => (state !== 'running' ? `${node} is ${state}: network faults need a running node` : undefined),
  describe: (f) => `${f.nodes.join(',')} ${f.lossPct ?? f.params?.lossPct ?? 0}%${linkText(f.to)}`,
  usage: 'fault loss <node> --percent N [--to <nodes>]',
  menu: { title: 'Add Packet Loss…', icon: '$(graph-scatter)', group: 'network' },
  apply: (ctx) => ctx.sync([ctx.node]),
  // Also on a stopped node: its delayer sidecar goes (impairNetns clears what it can).
  revert: (ctx) => ctx.sync([ctx.node]),
  netns: impairNetns,
});
