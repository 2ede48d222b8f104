/** `fault`: break (or repair) a node, written like the CLI's `--fault` or as a mapping. */
import { isMap, isScalar } from 'yaml';
import { durationMs, parseDuration } from '../../load/faults';
import { describeFault, FAULT_KINDS, FaultKind, FaultRequest, faultRequestProblem, isLossPct, MAX_DURATION_MS, MIN_LOSS_PCT } from '../../protocol/faults';
import { clip, closest, Entry, fmtMs, prune, quote, YamlNode } from '../yaml-reader';
import type { StepParser } from './parse-context';
import { DURATION_PATTERN, NUM, ref, stepObject } from './schema-parts';
import type { StepDefinition, StepInput, StepOf } from './step';

export const FAULT_KEYS = ['kind', 'node', 'nodes', 'from', 'ms', 'jitter', 'percent', 'for'] as const;
/** Faults that repair rather than break: `for` makes no sense on them. */
const REPAIR_FAULTS: readonly FaultKind[] = ['start', 'unpause', 'connect'];

const describe = {
  summary: 'Break (or repair) a node: text like the CLI, or a mapping.',
  example: '`fault: stop web2`',
};

export const faultStep: StepDefinition<StepOf<'fault'>> = {
  key: 'fault',
  kinds: ['fault'],
  needsValue: true,
  describe,

  parse(p: StepParser, { e, pos }: StepInput) {
    const fault = parseFault(p, e!);
    return { pos, text: `fault ${describeFault(fault)}${fault.forMs ? ` for ${fmtMs(fault.forMs)}` : ''}`, kind: 'fault', fault };
  },

  schema: stepObject('fault', describe.summary, {
    anyOf: [
      {
        type: 'string',
        pattern: `^\\s*(${FAULT_KINDS.join('|')})\\s+\\S+(\\s+\\S+)*\\s*$`,
        description: '"<kind> <node> [value] [from <nodes>] [for <duration>] [jitter <ms>]": "stop web2", "kill galera3", "delay web3 300" (ms), "loss web1 30" (%), "partition galera1 from galera2,galera3", "pause redis for 10s".',
        examples: ['stop web2', 'kill galera3', 'delay web3 300 jitter 20', 'loss web1 30', 'partition galera1 from galera2,galera3', 'pause redis for 10s'],
      },
      {
        type: 'object',
        additionalProperties: false,
        required: ['kind'],
        properties: {
          kind: { type: 'string', enum: [...FAULT_KINDS], description: 'stop/start, kill, pause/unpause, disconnect/connect (network), delay (latency), loss (packets), partition.' },
          node: ref('node'),
          nodes: { ...ref('nodes'), description: 'The node; for a partition, the first group.' },
          from: { ...ref('nodes'), description: 'partition: the other group.' },
          ms: { description: 'delay: added latency, ms (1–60000).', anyOf: [{ type: 'number', minimum: 1, maximum: 60000 }, { type: 'string', pattern: DURATION_PATTERN }] },
          jitter: { description: 'delay: jitter, ms (0–60000).', anyOf: [{ type: 'number', minimum: 0, maximum: 60000 }, { type: 'string', pattern: DURATION_PATTERN }] },
          percent: { description: 'loss: packet loss, percent: 0.01 to 100, at most two decimals (what iptables applies exactly).', anyOf: [{ type: 'number', minimum: MIN_LOSS_PCT, maximum: 100 }, { type: 'string', pattern: `^\\s*${NUM}\\s*%?\\s*$` }] },
          for: { ...ref('duration'), description: 'Revert by itself after this long (faults that break something).' },
        },
        allOf: [
          { if: { properties: { kind: { const: 'partition' } } }, then: { required: ['nodes', 'from'] }, else: { required: ['node'] } },
          { if: { properties: { kind: { const: 'delay' } } }, then: { required: ['ms'] } },
          { if: { properties: { kind: { const: 'loss' } } }, then: { required: ['percent'] } },
        ],
      },
    ],
  }, [{ fault: 'stop web2' }, { fault: { kind: 'delay', node: 'web3', ms: 300, jitter: 20 } }]),

  async run(step, ctx) {
    const text = describeFault(step.fault);
    if (ctx.current && !ctx.current.finished) await ctx.current.handle.fault(step.fault, text);
    else await ctx.lab.fault(step.fault);
    ctx.note('fault', text);
    return { detail: text };
  },
};

function parseFault(p: StepParser, e: Entry): FaultRequest {
  const v = e.value!;
  const req: Partial<FaultRequest> = {};
  // Where to point for each field: the one scalar in the text form, each value in the mapping form.
  const where: Record<string, YamlNode> = {};
  const msText = (text: string, field: string, node: YamlNode): number => {
    const t = text.trim();
    if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
    try {
      return parseDuration(t, field);
    } catch {
      return p.fail(node, `fault ${field} must be milliseconds (e.g. 300 or 300ms), not "${clip(text)}"`);
    }
  };
  const pctText = (text: string, node: YamlNode): number => {
    const m = /^(\d+(?:\.\d+)?|\.\d+)\s*%?$/.exec(text.trim());
    if (!m) p.fail(node, `fault loss percent must be a number from 0 to 100 (e.g. 30 or 30%), not "${clip(text)}"`);
    return Number(m[1]);
  };
  const kindOf = (word: string, node: YamlNode): FaultKind => {
    if (!(FAULT_KINDS as readonly string[]).includes(word)) {
      const hint = closest(word, FAULT_KINDS);
      p.fail(node, `unknown fault kind "${clip(word)}"${hint ? ` (did you mean "${hint}"?)` : ''}: use one of ${quote(FAULT_KINDS)}`);
    }
    return word as FaultKind;
  };
  const split = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const nodeAt: YamlNode[] = [];
  const fromAt: YamlNode[] = [];

  if (isScalar(v) && typeof v.value === 'string') {
    // "<kind> <nodes>[ <value>][ from <nodes>][ for <duration>][ jitter <ms>]" (-- before options is fine, as in the CLI)
    const tokens = v.value.trim().split(/\s+/);
    const [k, nodes] = tokens;
    req.kind = kindOf(k ?? '', v);
    if (!nodes || nodes.startsWith('-')) p.fail(v, `fault ${req.kind} needs a node, e.g. ${req.kind === 'partition' ? '"partition galera1 from galera2,galera3"' : `"${req.kind} web2"`}`);
    req.nodes = split(nodes);
    req.nodes.forEach(() => nodeAt.push(v));
    let i = 2;
    const next = tokens[i];
    if ((req.kind === 'delay' || req.kind === 'loss') && next !== undefined && /^[\d.]/.test(next)) {
      if (req.kind === 'delay') req.delayMs = msText(next, 'delay', v);
      else req.lossPct = pctText(next, v);
      i++;
    }
    while (i < tokens.length) {
      const opt = tokens[i]!.replace(/^--/, '');
      const arg = tokens[i + 1];
      const OPTS = ['from', 'for', 'jitter', 'ms', 'percent'];
      if (!OPTS.includes(opt)) {
        const hint = closest(opt, OPTS);
        p.fail(v, `fault: unexpected "${clip(tokens[i]!)}"${hint ? ` (did you mean "${hint}"?)` : ''}; write "<kind> <node> [value] [from <nodes>] [for <duration>] [jitter <ms>]", e.g. "delay web3 300 jitter 20"`);
      }
      if (arg === undefined) p.fail(v, `fault: "${clip(tokens[i]!)}" needs a value`);
      if (opt === 'from') {
        req.from = split(arg);
        req.from.forEach(() => fromAt.push(v));
      } else if (opt === 'for') req.forMs = forDuration(p, arg, v);
      else if (opt === 'jitter') req.jitterMs = msText(arg, 'jitter', v);
      else if (opt === 'ms') req.delayMs = msText(arg, 'delay', v);
      else req.lossPct = pctText(arg, v);
      i += 2;
    }
    for (const f of ['kind', 'nodes', 'from', 'ms', 'jitter', 'percent', 'for']) where[f] = v;
  } else if (isMap(v)) {
    let kindEntry: Entry | undefined;
    const es = p.entries(v, 'fault', FAULT_KEYS);
    for (const x of es) where[x.key] = x.at;
    for (const x of es) {
      switch (x.key) {
        case 'kind':
          kindEntry = x;
          req.kind = kindOf(p.string(x, 'fault kind'), x.at);
          break;
        case 'node':
        case 'nodes':
          if (req.nodes) p.fail(x.keyNode, 'fault: give `node` or `nodes`, not both');
          {
            const l = p.nodeList(x, `fault ${x.key}`);
            req.nodes = l.names;
            nodeAt.push(...l.at);
          }
          where.nodes = x.at;
          break;
        case 'from': {
          const l = p.nodeList(x, 'fault from');
          req.from = l.names;
          fromAt.push(...l.at);
          break;
        }
        case 'ms':
          req.delayMs = msText(p.scalarText(x, 'fault ms', '300'), 'delay', x.at);
          break;
        case 'jitter':
          req.jitterMs = msText(p.scalarText(x, 'fault jitter', '20'), 'jitter', x.at);
          break;
        case 'percent':
          req.lossPct = pctText(p.scalarText(x, 'fault percent', '30'), x.at);
          break;
        default: // for
          req.forMs = forDuration(p, p.scalarText(x, 'fault for', '10s'), x.at);
      }
    }
    if (!kindEntry) p.fail(v, `fault needs a \`kind\` (${quote(FAULT_KINDS)})`);
    if (!req.nodes) p.fail(v, `fault ${req.kind} needs \`node\` (or \`nodes\` for a partition)`);
  } else {
    p.fail(e.at, `fault must be text like "stop web2" or a mapping like { kind: delay, node: web3, ms: 300 }, not ${p.show(v)}`);
  }
  return checkFault(p, req as FaultRequest, where, nodeAt, fromAt);
}

function forDuration(p: StepParser, text: string, node: YamlNode): number {
  const ms = durationMs(text);
  if (ms !== undefined && ms > MAX_DURATION_MS) p.fail(node, `fault for must be at most ${fmtMs(MAX_DURATION_MS)}, got "${clip(text)}"`);
  if (ms === undefined || ms <= 0) p.fail(node, `fault for must be a positive duration like 10s, not "${clip(text)}"`);
  return ms;
}

function checkFault(p: StepParser, req: FaultRequest, where: Record<string, YamlNode>, nodeAt: YamlNode[], fromAt: YamlNode[]): FaultRequest {
  const k = req.kind;
  req.nodes.forEach((n, i) => p.checkNode(n, nodeAt[i] ?? where.nodes!));
  (req.from ?? []).forEach((n, i) => p.checkNode(n, fromAt[i] ?? where.from!));
  if (k === 'partition') {
    if (!req.from?.length) p.fail(where.nodes ?? where.kind, 'a partition needs the other side: `from` (e.g. "partition galera1 from galera2,galera3")');
    const both = req.nodes.filter((n) => req.from!.includes(n));
    if (both.length) p.fail(where.from, `a node cannot be on both sides of a partition: ${both.join(', ')}`);
    const dup = [...req.nodes, ...req.from].find((n, i, all) => all.indexOf(n) !== i);
    if (dup) p.fail(where.from ?? where.nodes, `${dup} is named twice in the partition`);
  } else {
    if (req.nodes.length > 1) p.fail(where.nodes, `fault ${k} takes one node (only partition takes groups): write one fault step per node`);
    if (req.from) p.fail(where.from, `\`from\` belongs to partition, not to ${k}`);
  }
  if (k === 'delay') {
    if (req.delayMs === undefined) p.fail(where.kind, 'fault delay needs the added latency in ms, e.g. "delay web3 300" or { kind: delay, node: web3, ms: 300 }');
    if (!(req.delayMs > 0 && req.delayMs <= 60_000)) p.fail(where.ms, `delay must be between 1 and 60000 ms, got ${req.delayMs}`);
    if (req.jitterMs !== undefined && !(req.jitterMs >= 0 && req.jitterMs <= 60_000)) p.fail(where.jitter, `jitter must be between 0 and 60000 ms, got ${req.jitterMs}`);
  } else {
    if (req.delayMs !== undefined) p.fail(where.ms, `ms belongs to delay, not to ${k}`);
    if (req.jitterMs !== undefined) p.fail(where.jitter, `jitter belongs to delay, not to ${k}`);
  }
  if (k === 'loss') {
    if (req.lossPct === undefined) p.fail(where.kind, 'fault loss needs a percentage, e.g. "loss web1 30" or { kind: loss, node: web1, percent: 30 }');
    if (!isLossPct(req.lossPct)) {
      p.fail(where.percent, `loss percent must be from ${MIN_LOSS_PCT} to 100 with at most two decimals (the finest step packet loss is applied in), got ${clip(String(req.lossPct))}`);
    }
  } else if (req.lossPct !== undefined) p.fail(where.percent, `percent belongs to loss, not to ${k}`);
  if (req.forMs !== undefined && REPAIR_FAULTS.includes(k)) p.fail(where.for, `\`for\` applies to faults that break something; ${k} repairs`);
  const fault = prune({ kind: k, nodes: req.nodes, from: req.from, delayMs: req.delayMs, jitterMs: req.jitterMs, lossPct: req.lossPct, forMs: req.forMs });
  // The injector's own check, so that what a scenario accepts is what a lab applies.
  const problem = faultRequestProblem(fault, p.env.topo.nodes.map((n) => n.name));
  if (problem) p.fail(where.kind, `fault ${describeFault(fault)}: ${problem}`);
  return fault;
}
