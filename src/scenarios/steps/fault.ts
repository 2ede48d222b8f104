/**
 * `fault`: break (or repair) a node, written like the CLI's `--fault` or as a mapping. The kinds,
 * their parameters, bounds and sentences come from the fault catalog (src/faults/catalog): this
 * module reads the YAML forms into the catalog's fields and points each problem at its node.
 */
import { isMap, isScalar } from 'yaml';
import { durationMs, parseDuration } from '../../load/faults';
import {
  describeFault,
  FAULT_FIELD_KEYS,
  FAULT_KINDS,
  FAULT_TEXT_OPTIONS,
  faultEntry,
  FaultKind,
  faultFromFields,
  FaultParam,
  faultParams,
  FaultRequest,
  faultSchemaParts,
  GROUP_KINDS,
  LINK_KINDS,
  MAX_DURATION_MS,
  paramOwners,
  positionalParam,
} from '../../protocol/fault-catalog';
import { clip, closest, Entry, fmtMs, quote, YamlNode } from '../yaml-reader';
import type { StepParser } from './parse-context';
import { DURATION_PATTERN, NUM, ref, stepObject } from './schema-parts';
import type { StepDefinition, StepInput, StepOf } from './step';
import { nodeRef } from '../../roles';
import { RunContext, StepFailed } from './run-context';
import type { StepImpairment } from '../types';

/** Keys of the mapping form: kind, node, nodes, from, each parameter's option, for. */
export const FAULT_KEYS = FAULT_FIELD_KEYS;
const paramByOption = (option: string) => faultParams().find((x) => x.option === option);
/** What a parameter's value looks like, for "must be a value like …" (else the value a menu offers). */
const VALUE_EXAMPLE: Record<string, string> = { ms: '300', jitter: '20', percent: '30', kbit: '512' };
const FAULT_SCHEMA = faultSchemaParts({ ms: DURATION_PATTERN, percent: `^\\s*${NUM}\\s*%?\\s*$` });

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
    return {
      pos,
      text: `fault ${describeFault(fault)}${fault.forMs && fault.everyMs === undefined ? ` for ${fmtMs(fault.forMs)}` : ''}`,
      kind: 'fault',
      fault,
    };
  },

  schema: stepObject(
    'fault',
    describe.summary,
    {
      anyOf: [
        {
          type: 'string',
          pattern: `^\\s*(${FAULT_KINDS.join('|')})\\s+\\S+(\\s+\\S+)*\\s*$`,
          description:
            '"<kind> <node> [value] [from <nodes>] [to <nodes>] [for <duration>] [every <duration>] [jitter <ms>]": "stop web2", "kill galera3", "delay web3 300" (ms), "delay galera3 100 to galera1,galera2", "loss web1 30" (%), "rate web2 512" (kbit/s), "partition galera1 from galera2,galera3", "pause redis for 10s", "stop web2 every 20s for 5s".',
          examples: ['stop web2', 'kill galera3', 'delay web3 300 jitter 20', 'loss web1 30', 'partition galera1 from galera2,galera3', 'pause redis for 10s'],
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['kind'],
          properties: {
            kind: {
              type: 'string',
              enum: FAULT_SCHEMA.kinds,
              description: 'stop/start, kill, pause/unpause, disconnect/connect (network), delay (latency), loss (packets), partition.',
            },
            node: ref('node'),
            nodes: { ...ref('nodes'), description: `The node; for a ${GROUP_KINDS.join('/')}, the first group.` },
            from: { ...ref('nodes'), description: `${GROUP_KINDS.join(', ')}: the other group.` },
            to: { ...ref('nodes'), description: `${LINK_KINDS.join(', ')}: only the traffic between the node and these nodes.` },
            ...FAULT_SCHEMA.properties,
            for: { ...ref('duration'), description: 'Revert by itself after this long (faults that break something); with `every`, how long each time lasts.' },
            every: { ...ref('duration'), description: 'Repeat: apply it every this long, for `for` each time, until `heal` (e.g. every: 20s, for: 5s).' },
          },
          allOf: FAULT_SCHEMA.allOf,
        },
      ],
    },
    [{ fault: 'stop web2' }, { fault: { kind: 'delay', node: 'web3', ms: 300, jitter: 20 } }],
  ),

  async run(step, ctx) {
    const fault = await resolveNodeRefs(step.fault, ctx);
    const text = describeFault(fault);
    if (ctx.current && !ctx.current.finished) await ctx.current.handle.fault(fault, text);
    else await ctx.lab.fault(fault);
    // A link fault: how the lab applied it, as its status says now (never what we asked for).
    const impairments = faultEntry(fault.kind)?.link ? await appliedImpairments(fault, ctx) : undefined;
    const how = impairments?.length ? ` (${impairments.map(impairmentText).join('; ')})` : '';
    ctx.note('fault', `${text}${how}`);
    const refs = step.fault.nodes.filter((n) => n.startsWith('@'));
    return { detail: `${refs.length ? `${text} (${refs.join(', ')})` : text}${how}`, ...(impairments ? { impairments } : {}) };
  },
};

/**
 * The impairments the lab reports on the fault's node for its kind (status `impairments[]`), read
 * once right after the step: the method the injector used and whether it is in force. A repeating
 * fault's cycle shows once its first cycle was applied; before that the list is empty.
 */
async function appliedImpairments(fault: FaultRequest, ctx: Pick<RunContext, 'lab'>): Promise<StepImpairment[]> {
  const status = await ctx.lab.status().catch(() => undefined);
  return (status?.impairments ?? [])
    .filter((i) => i.node === fault.nodes[0] && i.kind === fault.kind)
    .map((i) => ({ node: i.node, kind: i.kind, method: i.method, inForce: i.inForce, ...(i.problem ? { problem: i.problem } : {}) }));
}

/** "method nfqueue" (in force) or "method nfqueue, not in force: <why>". */
export function impairmentText(i: StepImpairment): string {
  return `method ${i.method}${i.inForce ? '' : `, not in force${i.problem ? `: ${i.problem}` : ''}`}`;
}

function parseFault(p: StepParser, e: Entry): FaultRequest {
  const v = e.value!;
  let kind: FaultKind | undefined;
  let nodes: string[] | undefined;
  let from: string[] | undefined;
  let to: string[] | undefined;
  let forMs: number | undefined;
  let everyMs: number | undefined;
  /** Each parameter's value by its option (`ms`, `jitter`, `percent`), as the catalog names them. */
  const values: Record<string, number> = {};
  // Where to point for each field: the one scalar in the text form, each value in the mapping form.
  const where: Record<string, YamlNode> = {};
  /** A parameter's value as written: ms (a bare number or a duration) or a percentage. */
  const paramValue = (param: FaultParam, text: string, node: YamlNode): number => {
    // The positional value reads as the kind (`delay`), the others as their option (`jitter`).
    const word = param.positional ? paramOwners(param.field)[0]! : param.option;
    if (param.unit === 'kbit') {
      const m = /^(\d+)\s*(kbit)?$/.exec(text.trim());
      if (!m) p.fail(node, `fault ${word} must be a whole number of kbit/s (e.g. 512 or 512kbit), not "${clip(text)}"`);
      return Number(m[1]);
    }
    if (param.unit === '%') {
      const m = /^(\d+(?:\.\d+)?|\.\d+)\s*%?$/.exec(text.trim());
      if (!m) p.fail(node, `fault ${word} ${param.option} must be a number from 0 to ${param.max} (e.g. 30 or 30%), not "${clip(text)}"`);
      return Number(m[1]);
    }
    const t = text.trim();
    if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
    try {
      return parseDuration(t, word);
    } catch {
      return p.fail(node, `fault ${word} must be milliseconds (e.g. 300 or 300ms), not "${clip(text)}"`);
    }
  };
  const kindOf = (word: string, node: YamlNode): FaultKind => {
    if (!(FAULT_KINDS as readonly string[]).includes(word)) {
      const hint = closest(word, FAULT_KINDS);
      p.fail(node, `unknown fault kind "${clip(word)}"${hint ? ` (did you mean "${hint}"?)` : ''}: use one of ${quote(FAULT_KINDS)}`);
    }
    return word as FaultKind;
  };
  const split = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const nodeAt: YamlNode[] = [];
  const fromAt: YamlNode[] = [];

  if (isScalar(v) && typeof v.value === 'string') {
    // "<kind> <nodes>[ <value>][ from <nodes>][ for <duration>][ jitter <ms>]" (-- before options is fine, as in the CLI)
    const tokens = v.value.trim().split(/\s+/);
    const [k, nodesText] = tokens;
    kind = kindOf(k ?? '', v);
    const entry = faultEntry(kind)!;
    if (!nodesText || nodesText.startsWith('-'))
      p.fail(v, `fault ${kind} needs a node, e.g. ${entry.targets === 'groups' ? `"${kind} galera1 from galera2,galera3"` : `"${kind} web2"`}`);
    nodes = split(nodesText);
    nodes.forEach(() => nodeAt.push(v));
    let i = 2;
    const next = tokens[i];
    const positional = positionalParam(kind);
    if (positional && next !== undefined && /^[\d.]/.test(next)) {
      values[positional.option] = paramValue(positional, next, v);
      i++;
    }
    while (i < tokens.length) {
      const opt = tokens[i]!.replace(/^--/, '');
      const arg = tokens[i + 1];
      if (!FAULT_TEXT_OPTIONS.includes(opt)) {
        const hint = closest(opt, FAULT_TEXT_OPTIONS);
        p.fail(
          v,
          `fault: unexpected "${clip(tokens[i]!)}"${hint ? ` (did you mean "${hint}"?)` : ''}; write "<kind> <node> [value] [from <nodes>] [for <duration>] [jitter <ms>]", e.g. "delay web3 300 jitter 20"`,
        );
      }
      if (arg === undefined) p.fail(v, `fault: "${clip(tokens[i]!)}" needs a value`);
      if (opt === 'from') {
        from = split(arg);
        from.forEach(() => fromAt.push(v));
      } else if (opt === 'to') to = split(arg);
      else if (opt === 'for') forMs = forDuration(p, arg, v);
      else if (opt === 'every') everyMs = forDuration(p, arg, v, 'every');
      else values[opt] = paramValue(paramByOption(opt)!, arg, v);
      i += 2;
    }
    for (const f of FAULT_KEYS) where[f === 'node' ? 'nodes' : f] = v;
  } else if (isMap(v)) {
    let kindEntry: Entry | undefined;
    const es = p.entries(v, 'fault', FAULT_KEYS);
    for (const x of es) where[x.key] = x.at;
    for (const x of es) {
      switch (x.key) {
        case 'kind':
          kindEntry = x;
          kind = kindOf(p.string(x, 'fault kind'), x.at);
          break;
        case 'node':
        case 'nodes':
          if (nodes) p.fail(x.keyNode, 'fault: give `node` or `nodes`, not both');
          {
            const l = p.nodeList(x, `fault ${x.key}`);
            nodes = l.names;
            nodeAt.push(...l.at);
          }
          where.nodes = x.at;
          break;
        case 'from': {
          const l = p.nodeList(x, 'fault from');
          from = l.names;
          fromAt.push(...l.at);
          break;
        }
        case 'to':
          to = p.nodeList(x, 'fault to').names;
          break;
        case 'for':
          forMs = forDuration(p, p.scalarText(x, 'fault for', '10s'), x.at);
          break;
        case 'every':
          everyMs = forDuration(p, p.scalarText(x, 'fault every', '20s'), x.at, 'every');
          break;
        default: {
          // a parameter: ms, jitter, percent, …
          const param = paramByOption(x.key)!;
          values[x.key] = paramValue(param, p.scalarText(x, `fault ${x.key}`, VALUE_EXAMPLE[x.key] ?? String(param.uiDefault)), x.at);
        }
      }
    }
    if (!kindEntry) p.fail(v, `fault needs a \`kind\` (${quote(FAULT_KINDS)})`);
    if (!nodes) p.fail(v, `fault ${kind} needs \`node\` (or \`nodes\` for a ${GROUP_KINDS.join('/')})`);
  } else {
    p.fail(e.at, `fault must be text like "stop web2" or a mapping like { kind: delay, node: web3, ms: 300 }, not ${p.show(v)}`);
  }
  // Node names against the topology in force (with a hint), then the catalog's one check. A node
  // reference (`@lb.master`) stands for a node of its role until the step runs and resolves it.
  const standIn = (n: string, at: YamlNode): string => {
    if (!n.startsWith('@')) {
      p.checkNode(n, at);
      return n;
    }
    const r = nodeRef(n, p.env.topo);
    if (typeof r === 'string') return p.fail(at, `fault: ${r}`);
    return p.env.topo.nodes.find((x) => x.role === r.role)!.name;
  };
  const nodeNames = nodes!.map((n, i) => standIn(n, nodeAt[i] ?? where.nodes!));
  const fromNames = from?.map((n, i) => standIn(n, fromAt[i] ?? where.from!));
  (to ?? []).forEach((n) => p.checkNode(n, where.to!));
  const checked = faultFromFields(
    kind!,
    { nodes: nodeNames, from: fromNames, ...(to ? { to } : {}), for: forMs, ...(everyMs !== undefined ? { every: everyMs } : {}), ...values },
    p.env.topo.nodes.map((n) => n.name),
  );
  if (!checked.ok) {
    const at = checked.field === 'nodes' ? (where.nodes ?? where.kind) : checked.field === 'from' ? (where.from ?? where.nodes) : where[checked.field];
    p.fail(at, checked.problem);
  }
  const request = checked.request;
  if (nodes!.some((n) => n.startsWith('@'))) request.nodes = [...nodes!];
  if (from?.some((n) => n.startsWith('@'))) request.from = [...from];
  return request;
}

/** The fault with each node reference (`@lb.master`) replaced by the node the cluster names now. */
export async function resolveNodeRefs(fault: FaultRequest, ctx: Pick<RunContext, 'lab'>): Promise<FaultRequest> {
  const refs = [...fault.nodes, ...(fault.from ?? [])].filter((n) => n.startsWith('@'));
  if (refs.length === 0) return fault;
  const status = await ctx.lab.status();
  const names = new Map<string, string>();
  for (const text of refs) {
    const r = nodeRef(text);
    if (typeof r === 'string') throw new StepFailed(r);
    const node = r.ref.resolve(status);
    if (!node) throw new StepFailed(`${text}: no node is ${r.ref.what} right now`);
    names.set(text, node);
  }
  const name = (n: string) => names.get(n) ?? n;
  return { ...fault, nodes: fault.nodes.map(name), ...(fault.from ? { from: fault.from.map(name) } : {}) };
}

function forDuration(p: StepParser, text: string, node: YamlNode, word = 'for'): number {
  const ms = durationMs(text);
  if (ms !== undefined && ms > MAX_DURATION_MS) p.fail(node, `fault ${word} must be at most ${fmtMs(MAX_DURATION_MS)}, got "${clip(text)}"`);
  if (ms === undefined || ms <= 0) p.fail(node, `fault ${word} must be a positive duration like 10s, not "${clip(text)}"`);
  return ms;
}
