/**
 * How the extension tells the user things: long work in a cancellable progress notification
 * with per-step messages, failures as a toast with "Show Logs", everything in a LogOutputChannel.
 */
import * as vscode from 'vscode';
import type { Reporter } from '../engine/lab';
import { errText } from '../core/errors';
import type { PredictionUi } from './predict-pick';
import type { AuditUi } from './audit-pick';

/** Cancels when `gone` aborts (the question was answered in the dashboard, or the run ended). */
function tokenFor(gone: AbortSignal | undefined): vscode.CancellationToken | undefined {
  if (!gone) return undefined;
  const src = new vscode.CancellationTokenSource();
  if (gone.aborted) src.cancel();
  else gone.addEventListener('abort', () => src.cancel(), { once: true });
  return src.token;
}

/** The prediction questions' quick pick and input box. */
export const vscodePredictionUi: PredictionUi = {
  pick: async (items, o, gone) => vscode.window.showQuickPick(items, { ...o, ignoreFocusOut: true }, tokenFor(gone)),
  input: async (o, gone) =>
    vscode.window.showInputBox({ title: o.title, prompt: o.prompt, ignoreFocusOut: true, validateInput: (v) => o.validate(v) }, tokenFor(gone)),
};

/** Run Audit's quick picks, progress notification and messages. */
export function vscodeAuditUi(log: vscode.LogOutputChannel, fail: (what: string, err: unknown) => void): AuditUi {
  return {
    pick: async (items, o) => {
      if (o.many) return vscode.window.showQuickPick(items, { title: o.title, placeHolder: o.placeHolder, canPickMany: true, ignoreFocusOut: true });
      const one = await vscode.window.showQuickPick(items, { title: o.title, placeHolder: o.placeHolder, ignoreFocusOut: true });
      return one ? [one] : undefined;
    },
    progress: (title, work) =>
      Promise.resolve(
        vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) =>
          work(
            (line) => progress.report({ message: line }),
            (fn) => void token.onCancellationRequested(fn),
          ),
        ),
      ),
    tell: async (text, warn, ...actions) =>
      warn ? vscode.window.showWarningMessage(text, ...actions) : vscode.window.showInformationMessage(text, ...actions),
    openFile: async (file) => void (await vscode.env.openExternal(vscode.Uri.file(file))),
    fail,
    log: (line) => log.info(line),
  };
}

/** A Reporter that logs, and forwards steps to the progress notification in force (if any). */
export class ProgressReporter implements Reporter {
  private sink: ((message: string) => void) | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  step(message: string): void {
    this.log.info(message);
    this.sink?.(message);
  }

  detail(message: string): void {
    this.log.trace(message);
  }

  attach(sink: ((message: string) => void) | undefined): void {
    this.sink = sink;
  }
}

export class LabUi {
  constructor(
    readonly log: vscode.LogOutputChannel,
    private readonly reporter: ProgressReporter,
  ) {}

  /** Runs long work with a cancellable progress notification; shows its result or its failure. */
  async withProgress<T>(title: string, work: (signal: AbortSignal) => Promise<T>, done?: (result: T) => string | undefined): Promise<T | undefined> {
    try {
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => {
          this.log.warn(`${title}: cancelled by the user`);
          abort.abort(new Error('cancelled'));
        });
        this.reporter.attach((m) => progress.report({ message: m }));
        try {
          return await work(abort.signal);
        } finally {
          this.reporter.attach(undefined);
          sub.dispose();
        }
      });
      this.announce(done?.(result));
      return result;
    } catch (err) {
      this.fail(title, err);
      return undefined;
    }
  }

  /** Short work: no progress UI, same error handling. */
  async run<T>(what: string, work: () => Promise<T>, done?: (result: T) => string | undefined): Promise<T | undefined> {
    try {
      const result = await work();
      this.announce(done?.(result));
      return result;
    } catch (err) {
      this.fail(what, err);
      return undefined;
    }
  }

  private announce(text: string | undefined): void {
    if (!text) return;
    this.log.info(text);
    void vscode.window.showInformationMessage(text);
  }

  fail(what: string, err: unknown): void {
    const message = errText(err);
    this.log.error(`${what} failed: ${message}`);
    if (err instanceof Error && err.stack) this.log.debug(err.stack);
    void vscode.window.showErrorMessage(`${what} failed: ${message}`, 'Show Logs').then((pick) => {
      if (pick === 'Show Logs') this.log.show(true);
    });
  }
}
