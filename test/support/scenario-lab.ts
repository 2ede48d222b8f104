/**
 * Fakes for the scenario runner's tests: a lab that records what it was asked and answers with a
 * status the test controls, load runs that end when told, all on one virtual clock (no real sleeps).
 */
import type { UpRequest } from '../../src/controller/lab-controller';
import type { LoadHandle, LoadOptions, LoadRun } from '../../src/load/run';
import { IntegrityLedger } from '../../src/load/integrity';
import type { LoadResult } from '../../src/metrics/export';
import { MetricsRecorder } from '../../src/metrics/recorder';
import type { FaultRequest } from '../../src/protocol/faults';
import type { LabStatus } from '../../src/protocol/status';
import { PredictionSource, ScenarioLab, ScenarioRunner } from '../../src/scenarios/runner';
import { virtualClock } from './clock';
import { syntheticStatus } from './lab-snapshot';

/** A lab that records what it was asked and answers with a status the test controls. */
export class FakeLab implements ScenarioLab {
  readonly calls: string[] = [];
  status_: LabStatus;
  failFault?: string;
  constructor(
    readonly lab: string,
    preset: 'ha' | 'single' | 'absent' = 'ha',
  ) {
    this.status_ = { ...syntheticStatus(0), lab, endpoints: { moodle: 'http://localhost:1' } };
    if (preset === 'absent') this.status_ = { ...this.status_, state: 'absent', preset: undefined };
    else this.status_.preset = preset;
  }
  async status() {
    return this.status_;
  }
  async up(req: UpRequest) {
    this.calls.push(`up ${req.preset}${req.noMoodle ? ' no-moodle' : ''}`);
    this.status_ = { ...this.status_, state: 'running', preset: req.preset };
    return this.status_;
  }
  async down() {
    this.calls.push('down');
  }
  async maintenance(on: boolean, node?: string) {
    this.calls.push(`maintenance ${on ? 'on' : 'off'} ${node ?? ''}`.trim());
    return 'ok';
  }
  async fault(req: FaultRequest) {
    if (this.failFault) throw new Error(this.failFault);
    this.calls.push(`fault ${req.kind} ${req.nodes.join(',')}`);
  }
  async heal(node?: string) {
    this.calls.push(`heal${node ? ` ${node}` : ''}`);
  }
}

export function result(over: Partial<LoadResult> = {}): LoadResult {
  return {
    users: 5,
    durationS: 1,
    requests: 100,
    failures: 0,
    errorRate: 0,
    apdex: 0.97,
    latencyMs: { p50: 40, p95: 200, p99: 400, max: 900 },
    throughputRps: 2,
    byLabel: {},
    faults: [],
    ...over,
  };
}

/** startLoad that records what the run saw and ends when stopped or when its duration has passed on the virtual clock. */
export function fakeLoads(results: LoadResult[], clock = virtualClock()) {
  const log: string[] = [];
  const opts: LoadOptions[] = [];
  const start = (_t: unknown, o: LoadOptions): LoadHandle => {
    opts.push(o);
    let stopped = false;
    let finish!: (r: LoadRun) => void;
    const done = new Promise<LoadRun>((r) => (finish = r));
    const r = results.shift() ?? result();
    const end = () => finish({ result: r, recorder: new MetricsRecorder(), faultEvents: [], ledger: new IntegrityLedger(), window: { startMs: 0, endMs: 0 } });
    void clock.sleep(o.durationMs).then(end);
    return {
      startedAt: clock.now(),
      recorder: new MetricsRecorder(),
      fault: async (req) => void log.push(`load-fault ${req.kind} ${req.nodes.join(',')}`),
      heal: async (node) => void log.push(`load-heal${node ? ` ${node}` : ''}`),
      stop: () => {
        stopped = true;
        log.push('stop');
        end();
      },
      get stopped() {
        return stopped;
      },
      done,
    };
  };
  return { log, opts, start, clock };
}

/** A runner on the loads' virtual clock: `run` drives that clock until the scenario settles. */
export function runner(
  labs: Record<string, FakeLab>,
  loads: Pick<ReturnType<typeof fakeLoads>, 'start'> & { clock?: ReturnType<typeof virtualClock> } = fakeLoads([]),
  answers?: PredictionSource,
) {
  const labFor = (name: string) => (labs[name] ??= new FakeLab(name, 'absent'));
  const clock = loads.clock ?? virtualClock();
  const r = new ScenarioRunner({ labFor, startLoad: loads.start, clock, answers }, { lab: 'lab', pollMs: 1 });
  return { run: (...a: Parameters<ScenarioRunner['run']>) => clock.run(r.run(...a)) };
}
