/** VS Code entry point: builds the composition root and registers every disposable. */
import * as vscode from 'vscode';
import { registerCommands } from './vscode/commands';
import { LabExtension } from './vscode/lab-extension';
import { LabUi, ProgressReporter } from './vscode/ui';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Moodle HA Lab', { log: true });
  const reporter = new ProgressReporter(log);
  const ui = new LabUi(log, reporter);
  const ext = new LabExtension(context, ui, reporter);
  context.subscriptions.push(log, ext, ...registerCommands(ext));
  log.info(`Moodle HA Lab ${String(context.extension.packageJSON.version ?? '')} activated`);
}

export function deactivate(): void {
  // everything is in context.subscriptions
}
