/**
 * `npm run lab -- audit [--topology <name>] [--faults kill,pause,partition] [--users 30]
 *  [--per-fault 40s] [--nodes a,b] [--journey moodle|probe] [--report out.html] [--json] [--junit out.xml]`
 * on the lab. Progress on stderr; the summary (or, with --json, the contract JSON) on stdout.
 * Exit 0: no single point of failure; 1: at least one; 2: bad input (the lab untouched); 3: the lab failed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDuration } from '../../load/faults';
import type { NodeEventSource } from '../../load/external';
import { journeyFor, JourneyName } from '../../load/run';
import { errText } from '../../core/errors';
import { AuditDeps, AuditKind, AuditLab, auditPlan, AuditReport, parseKinds, runAudit } from './audit';
import { auditJUnit, diffRows, renderAuditHtml } from './report';

export const AUDIT_OPTIONS = {
  faults: { type: 'string' },
  nodes: { type: 'string' },
  'per-fault': { type: 'string' },
  compare: { type: 'string' },
} as const;

export interface AuditArgs {
  topology?: string;
  faults?: string;
  nodes?: string;
  users?: string;
  'per-fault'?: string;
  journey?: string;
  report?: string;
  junit?: string;
  json?: boolean;
  compare?: string;
}

export interface AuditIo {
  out(text: string): void;
  err(text: string): void;
}

interface Parsed {
  kinds: AuditKind[];
  nodes?: string[];
  users: number;
  perFaultMs: number;
  journey?: JourneyName;
}

/** Every option checked before the lab is asked anything. */
export function auditArgs(args: AuditArgs, usage: (m: string) => Error): Parsed {
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw usage(errText(err));
    }
  };
  const kinds = wrap(() => parseKinds(args.faults));
  if (!kinds.length) throw usage('--faults needs at least one kind');
  const users = args.users !== undefined ? Number(args.users) : 30;
  if (!Number.isInteger(users) || users < 1 || users > 1000) throw usage('--users must be a whole number from 1 to 1000');
  const perFaultMs = args['per-fault'] !== undefined ? wrap(() => parseDuration(args['per-fault']!, '--per-fault')) : 40_000;
  if (perFaultMs < 8000) throw usage('--per-fault must be at least 8s (before the fault, the fault, after the heal)');
  if (args.journey !== undefined && args.journey !== 'moodle' && args.journey !== 'probe' && args.journey !== 'auto')
    throw usage('--journey must be moodle or probe');
  const nodes = args.nodes !== undefined ? args.nodes.split(',').map((n) => n.trim()) : undefined;
  if (nodes && nodes.some((n) => !/^[a-z0-9][a-z0-9-]{0,40}$/.test(n))) throw usage('--nodes takes node names separated by commas, e.g. web2,redis');
  return { kinds, nodes, users, perFaultMs, journey: args.journey as JourneyName | undefined };
}

export function formatAudit(a: AuditReport): string {
  const out = [
    `audit of ${a.topology} (lab ${a.lab}): ${Math.round(a.durationMs / 1000)} s${a.host ? `; load: the host's 1-minute load average at the end of each run (${a.host.cpus} cores)` : ''}${a.cancelled ? ', CANCELLED' : ''}`,
    '',
  ];
  const figures = (fault: string, detected: number | null, failed: number, requests: number, blackout: number, p99: number | null, load?: number) =>
    `  ${fault.padEnd(28)} detected ${String(detected ?? '—').padStart(6)} ms  failed ${String(failed).padStart(5)}/${String(requests).padEnd(5)} blackout ${String(blackout).padStart(6)} ms  p99 ${String(p99 ?? '—').padStart(6)} ms  load ${String(load ?? '—').padStart(5)}`;
  const b = a.baseline;
  if (b)
    out.push(
      `${figures('no fault (baseline)', null, b.failedRequests, b.requests, b.blackoutMs, b.p99Ms, b.hostLoad)}  (the lab's own gaps under the same load)${b.disturbed ? `  external faults meanwhile: ${b.disturbed.join(', ')}` : ''}`,
    );
  for (const r of a.results)
    out.push(
      `${figures(r.fault, r.detectedMs, r.failedRequests, r.requests, r.blackoutMs, r.p99Ms, r.hostLoad)}  recovered ${String(r.recoveredMs ?? '—').padStart(6)} ms  lost ${r.lost.writes}/${r.lost.files}/${r.lost.sessions}${r.error ? `  ERROR ${r.error}` : ''}`,
    );
  out.push('');
  for (const n of a.nodes) out.push(`  ${n.node.padEnd(10)} ${n.exempt ? 'exempt' : n.spof ? 'SINGLE POINT OF FAILURE' : 'survives'}: ${n.reasons.join('; ')}`);
  return out.join('\n') + '\n';
}

/** The contract JSON (`audit --json`), with a few fields beyond it. */
export function auditJson(a: AuditReport): unknown {
  return a;
}

/** A lab of one design for `--compare`: up (created when absent), and what it costs at rest. */
export interface DesignLab {
  lab: AuditLab;
  created: boolean;
  idleMemoryBytes(): Promise<number>;
  nodeEvents?: NodeEventSource;
  destroy(): Promise<void>;
}

/**
 * `audit --compare A B`: each design (a built-in or a lab file) on its own lab, one after the
 * other (never two at once: the host is shared), the same audit on both, one report side by side.
 * Labs the comparison created are destroyed after their audit.
 */
export async function compareCommand(
  designs: [string, string],
  args: AuditArgs,
  io: AuditIo,
  usage: (m: string) => Error,
  deps: {
    checkRef(ref: string): string | undefined;
    designLab(ref: string, index: number, progress: (l: string) => void): Promise<DesignLab>;
    signal?: AbortSignal;
    startLoad?: AuditDeps['startLoad'];
  },
): Promise<number> {
  const p = auditArgs(args, usage);
  for (const d of designs) {
    const bad = deps.checkRef(d);
    if (bad) throw usage(bad);
  }
  if (args.topology !== undefined) throw usage('--compare takes the two designs itself: leave out --topology');
  const stamp = Date.now();
  const progress = (line: string) => io.err(`[${((Date.now() - stamp) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  const audits: { report: AuditReport; nodes: { name: string; role: string }[] }[] = [];
  for (const [i, d] of designs.entries()) {
    if (deps.signal?.aborted) break;
    progress(`design ${i + 1}/2: ${d}`);
    const dl = await deps.designLab(d, i, progress);
    try {
      const status = await dl.lab.status();
      const idle = await dl.idleMemoryBytes();
      const journey = journeyFor(p.journey ?? 'auto', status.moodle.installed);
      const report = await runAudit(
        dl.lab,
        {
          kinds: p.kinds,
          nodes: p.nodes?.filter((n) => status.nodes.some((x) => x.name === n)),
          users: p.users,
          perFaultMs: p.perFaultMs,
          journey,
          greenTimeoutMs: 300_000,
        },
        { progress: (l) => progress(`  ${d}: ${l}`), nodeEvents: dl.nodeEvents, signal: deps.signal, startLoad: deps.startLoad },
      );
      report.topology = d;
      report.idleMemoryBytes = idle;
      audits.push({ report, nodes: status.nodes.map((n) => ({ name: n.name, role: n.role })) });
    } finally {
      if (dl.created) {
        progress(`${d}: destroying the lab the comparison created`);
        await dl.destroy();
      }
    }
  }
  if (args.report && audits.length) {
    const file = path.resolve(args.report);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, renderAuditHtml(audits));
    progress(`report: ${file}`);
  }
  const reports = audits.map((a) => a.report);
  io.out(args.json ? JSON.stringify({ compare: reports, diff: diffRows(reports) }, null, 2) + '\n' : reports.map(formatAudit).join('\n'));
  if (audits.length < 2 || reports.some((r) => r.cancelled)) return 1;
  return 0;
}

export async function auditCommand(
  lab: AuditLab,
  args: AuditArgs,
  io: AuditIo,
  usage: (m: string) => Error,
  extra: { nodeEvents?: NodeEventSource; signal?: AbortSignal } = {},
): Promise<number> {
  const p = auditArgs(args, usage);
  const status = await lab.status();
  if (status.state === 'absent') throw new Error(`lab "${status.lab}" does not exist: run \`up${args.topology ? ` --topology ${args.topology}` : ''}\` first`);
  if (args.topology !== undefined && args.topology !== (status.preset ?? 'ha'))
    throw usage(`lab "${status.lab}" runs the ${status.preset ?? 'ha'} topology, not ${args.topology}: audit a lab of that topology (--lab NAME)`);
  // Unknown nodes: one clear error before anything is faulted.
  try {
    auditPlan(status, p.kinds, p.nodes);
  } catch (err) {
    throw usage(errText(err));
  }
  const journey = journeyFor(p.journey ?? 'auto', status.moodle.installed);
  if (journey === 'moodle' && !status.moodle.installed) throw usage('the moodle journey needs Moodle installed on the lab: use --journey probe');
  const stamp = Date.now();
  const progress = (line: string) => io.err(`[${((Date.now() - stamp) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  const report: AuditReport = await runAudit(
    lab,
    { kinds: p.kinds, nodes: p.nodes, users: p.users, perFaultMs: p.perFaultMs, journey, greenTimeoutMs: 300_000 },
    { progress, nodeEvents: extra.nodeEvents, signal: extra.signal },
  );
  const nodes = status.nodes.map((n) => ({ name: n.name, role: n.role }));
  if (args.report) {
    const file = path.resolve(args.report);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, renderAuditHtml([{ report, nodes }]));
    progress(`report: ${file}`);
  }
  if (args.junit) {
    fs.writeFileSync(args.junit, auditJUnit(report));
    progress(`JUnit: ${args.junit}`);
  }
  io.out(args.json ? JSON.stringify(auditJson(report), null, 2) + '\n' : formatAudit(report));
  if (report.cancelled) return 1;
  return report.nodes.some((n) => n.spof) ? 1 : 0;
}
