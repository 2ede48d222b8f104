/**
 * The extension's composition: one LabController and one SnapshotStore for the configured lab,
 * feeding the tree, the status bar and the dashboard panel. Docker is diagnosed at start and on
 * refresh (context key `moodleLab.docker` drives the welcome view). A running lab is found again
 * after a reload by its labels (the engine's discovery): nothing to restore here.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LabController } from '../controller/lab-controller';
import { createDockerClient } from '../docker/dockerode-client';
import type { DockerClient } from '../docker/types';
import { assembleLab, controllerFactory, LabHost } from '../host/assemble';
import type { LabLive } from '../host/live';
import type { LabSnapshot } from '../protocol/snapshot';
import type { SnapshotStore } from '../state/snapshot-store';
import { DashboardPanel } from './panel';
import { readSettings } from './settings';
import { LabTreeElement, LabTreeProvider } from './tree-provider';
import { statusBarText } from './tree-model';
import { LabUi, ProgressReporter } from './ui';
import { errText } from '../core/errors';

export class LabExtension implements vscode.Disposable {
  readonly docker: DockerClient;
  /** The controller, store and live wiring of the configured lab; rebuilt when the lab name changes. */
  private host: LabHost;
  readonly tree = new LabTreeProvider();
  readonly treeView: vscode.TreeView<LabTreeElement>;
  private readonly statusBar: vscode.StatusBarItem;
  private panel: DashboardPanel | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly ui: LabUi,
    private readonly reporter: ProgressReporter,
  ) {
    // dockerode honours DOCKER_HOST (and DOCKER_CERT_PATH/DOCKER_TLS_VERIFY).
    this.docker = createDockerClient();
    this.treeView = vscode.window.createTreeView('moodleLab.nodes', { treeDataProvider: this.tree, showCollapseAll: false });
    this.statusBar = vscode.window.createStatusBarItem('moodleLab.status', vscode.StatusBarAlignment.Left, 50);
    this.statusBar.name = 'Moodle HA Lab';
    this.statusBar.command = 'moodleLab.openDashboard';
    this.disposables.push(this.tree, this.treeView, this.statusBar);
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('moodleLab.labName')) this.host = this.connect(this.host);
      }),
    );
    this.host = this.connect(undefined);
  }

  /** The lab/ folder shipped with the extension (build contexts, built-in lab files). */
  get labRoot(): string {
    return path.join(this.context.extensionPath, 'lab');
  }

  get controller(): LabController {
    return this.host.controller;
  }

  get store(): SnapshotStore {
    return this.host.store;
  }

  get live(): LabLive {
    return this.host.live;
  }

  get lab(): string {
    return this.controller.lab;
  }

  get snapshot(): LabSnapshot | undefined {
    return this.store.current();
  }

  /** (Re)builds the controller and store for the configured lab and subscribes the tree and status bar. */
  private connect(previous: LabHost | undefined): LabHost {
    this.unsubscribe?.();
    void previous?.live.dispose();
    previous?.store.dispose();
    this.panel?.dispose();
    const labRoot = path.join(this.context.extensionPath, 'lab');
    const controllerFor = controllerFactory({ docker: this.docker, labRoot, reporter: this.reporter });
    const controller = controllerFor(readSettings().labName);
    const host = assembleLab({
      controller,
      labFor: controllerFor,
      labRoot,
      moodleSource: () => readSettings().moodleSource,
      log: (l) => this.ui.log.info(l),
      storeLog: (l) => this.ui.log.warn(l),
    });
    this.onLiveChanged?.(host.live);
    this.ui.log.info(`watching lab "${controller.lab}" (containers labelled io.moodle-lab.lab=${controller.lab})`);
    this.unsubscribe = host.store.subscribe((s) => this.render(s), { intervalMs: 3000 });
    void this.diagnose();
    return host;
  }

  /** Set by the commands: hears about every new LabLive (a lab name change makes a new one). */
  onLiveChanged: ((live: LabLive) => void) | undefined;

  /** Where reports go unless the user picks a file. */
  reportsDir(): string {
    return this.host.reportsDir;
  }

  /** Checks Docker; sets the context keys the welcome views use. */
  async diagnose(): Promise<boolean> {
    try {
      await this.docker.ping();
      await vscode.commands.executeCommand('setContext', 'moodleLab.docker', 'ok');
      this.treeView.message = undefined;
      return true;
    } catch (err) {
      const message = errText(err);
      this.ui.log.error(message);
      await vscode.commands.executeCommand('setContext', 'moodleLab.docker', 'unavailable');
      this.treeView.message = message;
      this.statusBar.text = '$(error) Moodle lab: no Docker';
      this.statusBar.tooltip = message;
      this.statusBar.show();
      return false;
    }
  }

  private render(s: LabSnapshot): void {
    this.tree.update(s);
    void vscode.commands.executeCommand('setContext', 'moodleLab.labState', s.state);
    if (s.error) {
      this.treeView.message = `Last refresh failed: ${s.error}`;
      void this.diagnose();
    } else if (this.treeView.message?.startsWith('Last refresh failed')) {
      this.treeView.message = undefined;
    }
    const sb = statusBarText(s);
    this.statusBar.text = sb.text;
    this.statusBar.tooltip = sb.tooltip;
    this.statusBar.show();
  }

  async refresh(): Promise<void> {
    if (await this.diagnose()) await this.store.refresh();
  }

  openDashboard(openNode: (node: string, what: 'logs' | 'shell' | 'browser') => Promise<string | void>): void {
    if (this.panel) {
      this.panel.reveal();
      return;
    }
    this.panel = new DashboardPanel(
      this.context.extensionUri,
      this.lab,
      {
        store: this.store,
        actions: this.host.actions,
        live: this.host.controls,
        openNode,
        log: (l) => this.ui.log.info(l),
        // the dashboard may run the built-ins and the scenario files open in VS Code, no other file
        scenarioFiles: () => vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'file' && /\.ya?ml$/i.test(d.fileName)).map((d) => d.fileName),
      },
      () => (this.panel = undefined),
    );
  }

  dispose(): void {
    void this.host.live.dispose();
    this.unsubscribe?.();
    this.panel?.dispose();
    this.host.store.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
