/**
 * `fault stop gluster2` then `heal`, N times in a row on a running lab: every time all three
 * bricks must be online again, nothing pending heal, and the brick's pidfile must name its real
 * glusterfsd. While the brick is down a file is written through web1's Gluster mount, so each
 * heal has entries to heal. Prints each iteration's heal time and a summary (min/median/max,
 * failures). A heal that fails is run again (at most twice more, as a user would) and says why;
 * the iteration fails when the bricks are still not 3/3 with nothing pending after that.
 * The lab is brought up (without Moodle) when it does not exist yet.
 *
 *   npm run bench:gluster-heal -- --lab h4a-bench --times 20      (MOODLE_LAB_HOME as for the CLI)
 *   node --import tsx bench/gluster-stop-heal.ts --lab NAME [--times 20] [--node gluster2] [--destroy]
 */
import { parseArgs } from 'node:util';
import { machineLine, openLab } from './support';
import { GLUSTER_VOLUME, MOODLEDATA } from '../src/engine/env';
import { readBrickPid } from '../src/roles/gluster';
import { LABEL_LAB, LABEL_NODE, validateLabName } from '../src/docker/labels';
import { errText } from '../src/core/errors';

const { values } = parseArgs({
  options: {
    lab: { type: 'string' },
    times: { type: 'string', default: '20' },
    node: { type: 'string', default: 'gluster2' },
    destroy: { type: 'boolean', default: false },
  },
});
const LAB = validateLabName(values.lab ?? 'gluster-heal-bench');
const TIMES = Number(values.times);
const NODE = values.node!;
if (!Number.isInteger(TIMES) || TIMES < 1) throw new Error('--times must be a whole number ≥ 1');
const log = (m: string) => process.stderr.write(`  ${m}\n`);

interface Iteration {
  i: number;
  healMs: number;
  /** `heal` runs needed (a failed heal is run again, at most twice more, as a user would). */
  runs: number;
  online: number;
  pending: number | null;
  ok: boolean;
  error?: string;
  /** Why earlier heal runs of this iteration failed. */
  retried: string[];
}

async function main() {
  const { controller, docker } = openLab(LAB);
  if (!controller.engine.state()) {
    log(`lab ${LAB} does not exist: up --no-moodle`);
    await controller.up({ noMoodle: true });
  }
  const idOf = async (node: string) => {
    const [c] = await docker.containers.list({ [LABEL_LAB]: LAB, [LABEL_NODE]: node });
    if (!c) throw new Error(`lab ${LAB} has no ${node}`);
    return c.id;
  };
  const runs: Iteration[] = [];
  for (let i = 1; i <= TIMES; i++) {
    let healMs = 0;
    let n = 0;
    const retried: string[] = [];
    try {
      await controller.fault({ kind: 'stop', nodes: [NODE] });
      const w = await docker.containers.exec(await idOf('web1'), [
        'dd',
        'if=/dev/urandom',
        `of=${MOODLEDATA}/bench-stop-heal-${i}`,
        'bs=4k',
        'count=4',
        'conv=fsync',
        'status=none',
      ]);
      if (w.exitCode !== 0) throw new Error(`write through web1 failed: ${w.stderr.trim()}`);
      const t0 = performance.now();
      let status;
      for (;;) {
        n++;
        try {
          ({ status } = await controller.heal());
          break;
        } catch (err) {
          if (n >= 3) throw err;
          retried.push(err instanceof Error ? err.message.split('\n')[0]! : String(err));
        }
      }
      healMs = performance.now() - t0;
      const online = status.gluster.bricks.filter((b) => b.online).length;
      const pending = status.gluster.healPending;
      const brick = await readBrickPid(docker.containers, await idOf(NODE), GLUSTER_VOLUME, NODE, `/bricks/${GLUSTER_VOLUME}`);
      const ok = online === 3 && pending === 0 && brick.glusterfsd;
      runs.push({
        i,
        healMs,
        runs: n,
        online,
        pending,
        ok,
        retried,
        ...(ok ? {} : { error: `bricks ${online}/3, pending ${pending}, pidfile ${JSON.stringify(brick)}` }),
      });
    } catch (err) {
      const s = await controller.status().catch(() => undefined);
      runs.push({
        i,
        healMs,
        runs: n,
        online: s?.gluster.bricks.filter((b) => b.online).length ?? 0,
        pending: s?.gluster.healPending ?? null,
        ok: false,
        retried,
        error: errText(err),
      });
    }
    const r = runs.at(-1)!;
    process.stdout.write(
      `#${String(i).padStart(2)}  heal ${(r.healMs / 1000).toFixed(1).padStart(5)} s  runs ${r.runs}  bricks ${r.online}/3  pending ${r.pending ?? '?'}  ${r.ok ? 'ok' : `FAILED: ${r.error}`}${r.retried.length ? `  (heal run again after: ${r.retried.join(' | ')})` : ''}\n`,
    );
  }

  const times = runs
    .filter((r) => r.ok)
    .map((r) => r.healMs / 1000)
    .sort((a, b) => a - b);
  const median = times.length ? (times.length % 2 ? times[(times.length - 1) / 2]! : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2) : NaN;
  const failures = runs.filter((r) => !r.ok).length;
  process.stdout.write(`\ngluster-stop-heal: fault stop ${NODE} + heal, ${TIMES} times, lab ${LAB}\n${machineLine()}\n`);
  process.stdout.write(
    `heal time (s): min ${times[0]?.toFixed(1) ?? '—'}  median ${Number.isNaN(median) ? '—' : median.toFixed(1)}  max ${times.at(-1)?.toFixed(1) ?? '—'}  (${times.length} successful)\n`,
  );
  const rerun = runs.filter((r) => r.retried.length > 0);
  process.stdout.write(
    `heal run more than once: ${rerun.length}/${TIMES}${rerun.length ? ` (iterations ${rerun.map((r) => r.i).join(', ')})` : ''}; heal time counts every run\n`,
  );
  process.stdout.write(
    `failures: ${failures}/${TIMES}${
      failures
        ? ` (iterations ${runs
            .filter((r) => !r.ok)
            .map((r) => r.i)
            .join(', ')})`
        : ''
    }\n`,
  );
  if (values.destroy) await controller.destroy();
  process.exitCode = failures ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(3);
});
