/**
 * The one composition root of a lab host (the CLI dashboard, the VS Code extension, the benches):
 * the lab's controller, its snapshot store and the live wiring (load, scenarios, reports) built
 * together, once. Nothing else calls these constructors for a UI.
 */
import * as path from 'node:path';
import { LabController } from '../controller/lab-controller';
import type { DockerClient } from '../docker/types';
import type { Reporter } from '../engine/lab';
import { labReportsDir, StateStore } from '../engine/state';
import { SnapshotStore } from '../state/snapshot-store';
import { controllerActions } from './controller-actions';
import type { LabActions, LiveControls } from './controls';
import { LabLive } from './live';
import { labNodeEvents } from '../load/external';

export interface ControllerOptions {
  docker: DockerClient;
  /** The lab/ folder (build contexts, built-in scenarios). */
  labRoot: string;
  /** The state directory (default ~/.moodle-lab, or MOODLE_LAB_HOME as the engine reads it). */
  home?: string;
  reporter?: Reporter;
}

/** Controllers for any lab name, sharing one state store: what `labFor` hands a scenario. */
export function controllerFactory(o: ControllerOptions): (lab: string) => LabController {
  const store = new StateStore(o.home);
  return (lab) => new LabController({ docker: o.docker, store, labRoot: o.labRoot, reporter: o.reporter }, lab);
}

export interface AssembleOptions {
  /** The lab this host watches and drives. */
  controller: LabController;
  /** Labs a scenario may use besides this one (another preset); default: this one. */
  labFor?: (lab: string) => LabController;
  /** The lab/ folder: the built-in scenarios are its scenarios/. */
  labRoot: string;
  /** Where reports are written (default ~/.moodle-lab/reports/<lab>: `destroy` keeps them). */
  reportsDir?: string;
  /** Moodle source for a scenario's `up` of a lab that does not exist yet. */
  moodleSource?: () => string | undefined;
  /** The live wiring's log (load, scenarios). */
  log?: (line: string) => void;
  /** The snapshot store's log (refresh and Docker event trouble); default: `log`. */
  storeLog?: (line: string) => void;
}

export interface LabHost {
  readonly controller: LabController;
  readonly store: SnapshotStore;
  readonly live: LabLive;
  readonly reportsDir: string;
  /** What a dashboard view may ask of the lab (faults, heal, maintenance), noted on the live timeline. */
  readonly actions: LabActions;
  /** Load, scenarios and reports for a dashboard view. */
  readonly controls: LiveControls;
  /** Stops the live wiring (load, scenario), then the store. */
  dispose(): Promise<void>;
}

export function assembleLab(o: AssembleOptions): LabHost {
  const { controller } = o;
  const store = new SnapshotStore({
    lab: controller.lab,
    docker: controller.docker,
    collect: () => controller.status(),
    activeFaults: () => controller.activeFaults(),
    log: o.storeLog ?? o.log,
  });
  const reportsDir = o.reportsDir ?? labReportsDir(controller.lab);
  const live = new LabLive({
    lab: controller,
    store,
    labFor: o.labFor,
    builtinDir: path.join(o.labRoot, 'scenarios'),
    reportsDir,
    moodleSource: o.moodleSource,
    nodeEvents: labNodeEvents(controller.docker, controller.lab),
    log: o.log,
  });
  return {
    controller,
    store,
    live,
    reportsDir,
    actions: live.actions(controllerActions(controller)),
    controls: live.controls(),
    async dispose() {
      await live.dispose();
      store.dispose();
    },
  };
}
