/**
 * Bench: the full audit's wall time on `ha` (every node × kill and pause, 30 users, 40 s per
 * fault; aim ≤ 20 min for 11 nodes × 2 kinds). Brings the lab up when it does not exist (with
 * Moodle from --moodle-source, else --no-moodle) and destroys it afterwards unless it existed.
 *
 *   node --import tsx bench/audit.ts [--moodle-source /path/to/moodle] [--lab audit-bench]
 *   (BENCH_USERS=30 BENCH_PER_FAULT=40s BENCH_FAULTS=kill,pause BENCH_NODES=web2,redis BENCH_REPORT=audit.html
 *    BENCH_JSON=audit.json BENCH_JOURNEY=moodle|probe|auto)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/load/faults';
import { labNodeEvents } from '../src/load/external';
import { journeyFor, JourneyName } from '../src/load/run';
import { parseKinds, runAudit } from '../src/scenarios/audit/audit';
import { formatAudit } from '../src/scenarios/audit/command';
import { renderAuditHtml } from '../src/scenarios/audit/report';
import { machineLine, openLab } from './support';

const log = (m: string) => process.stderr.write(`  ${m}\n`);

async function main() {
  const { values } = parseArgs({ options: { 'moodle-source': { type: 'string' }, lab: { type: 'string' } } });
  const journey = process.env.BENCH_JOURNEY ?? 'auto';
  if (!['moodle', 'probe', 'auto'].includes(journey)) throw new Error(`BENCH_JOURNEY must be moodle, probe or auto (got "${journey}")`);
  const lab = values.lab ?? process.env.BENCH_LAB ?? 'audit-bench';
  const { controller, docker } = openLab(lab);
  let status = await controller.status();
  const created = status.state === 'absent';
  if (created) {
    log(`lab ${lab}: up (${values['moodle-source'] ? `Moodle from ${values['moodle-source']}` : 'no Moodle'})`);
    status = await controller.up(values['moodle-source'] ? { moodleSource: values['moodle-source'] } : { noMoodle: true });
  }
  const load = os.loadavg()[0]!.toFixed(1);
  const t0 = Date.now();
  try {
    const report = await runAudit(
      controller,
      {
        kinds: parseKinds(process.env.BENCH_FAULTS ?? 'kill,pause'),
        nodes: process.env.BENCH_NODES?.split(','),
        users: Number(process.env.BENCH_USERS ?? 30),
        perFaultMs: parseDuration(process.env.BENCH_PER_FAULT ?? '40s'),
        journey: journeyFor(journey as JourneyName | 'auto', status.moodle.installed),
        greenTimeoutMs: 300_000,
      },
      { progress: log, nodeEvents: labNodeEvents(docker, lab) },
    );
    const wall = Date.now() - t0;
    if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(report, null, 2));
    if (process.env.BENCH_REPORT)
      fs.writeFileSync(process.env.BENCH_REPORT, renderAuditHtml([{ report, nodes: status.nodes.map((n) => ({ name: n.name, role: n.role })) }]));
    process.stdout.write(
      `\naudit bench: lab ${lab} (${report.topology}), ${report.results.length} faults, ${report.options.users} users, ${report.options.perFaultS} s per fault, ${report.options.journey} journey\n`,
    );
    process.stdout.write(`${machineLine()}; load average at start ${load}\n\n${formatAudit(report)}\n`);
    process.stdout.write(
      `wall time: ${(wall / 60_000).toFixed(1)} min (${Math.round(wall / Math.max(1, report.results.length) / 1000)} s per fault; aim ≤ 20 min for 11 nodes × 2 kinds)\n`,
    );
  } finally {
    if (created && !process.env.BENCH_KEEP) {
      log(`lab ${lab}: destroy`);
      await controller.destroy();
    }
  }
}

main().catch((err) => {
  process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
