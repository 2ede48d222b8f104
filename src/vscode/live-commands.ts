/**
 * Start/Stop Load, Run Scenario and Export Report: quick picks and dialogs here, the work in the
 * host's LabLive (src/host/live.ts), shared with the dashboard (which shows the same run live).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LabLive, ScenarioEnd } from '../host/live';
import type { JourneyChoice } from '../protocol/messages';
import type { LabExtension } from './lab-extension';
import { runSummary } from '../core/summary';
import { errText } from '../core/errors';
import { askPrediction } from './predict-pick';
import { vscodeAuditUi, vscodePredictionUi } from './ui';
import { runAuditCommand } from './audit-pick';
import { EXEMPT_ROLES } from '../scenarios/audit/audit';

interface LoadPick extends vscode.QuickPickItem {
  users?: number;
  durationS?: number;
  custom?: boolean;
}

const LOAD_PRESETS: LoadPick[] = [
  { label: '30 users · 60 s', description: 'default', users: 30, durationS: 60 },
  { label: '10 users · 30 s', description: 'a quick look', users: 10, durationS: 30 },
  { label: '30 users · 120 s', description: 'room for a fault and a heal', users: 30, durationS: 120 },
  { label: '60 users · 120 s', description: 'heavier', users: 60, durationS: 120 },
  { label: '$(edit) Custom…', description: 'users, duration', custom: true },
];

async function askLoad(): Promise<{ users: number; durationS: number; journey: JourneyChoice } | undefined> {
  const pick = await vscode.window.showQuickPick(LOAD_PRESETS, { title: 'Start Load: how much?' });
  if (!pick) return undefined;
  let users = pick.users ?? 30;
  let durationS = pick.durationS ?? 60;
  if (pick.custom) {
    const u = await vscode.window.showInputBox({
      title: 'Start Load: virtual users',
      value: '30',
      validateInput: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1000 ? undefined : '1 to 1000'),
    });
    if (!u) return undefined;
    const d = await vscode.window.showInputBox({
      title: 'Start Load: duration in seconds',
      value: '60',
      validateInput: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 3600 ? undefined : '1 to 3600 s'),
    });
    if (!d) return undefined;
    users = Number(u);
    durationS = Number(d);
  }
  const j = await vscode.window.showQuickPick(
    [
      { label: 'auto', description: 'Moodle’s user journey when Moodle is installed, else the lab probes', id: 'auto' as const },
      { label: 'moodle', description: 'login, course, page, forum, reply, participants, file, logout', id: 'moodle' as const },
      { label: 'probe', description: 'the lab’s own PHP probes (session, DB write, file) through HAProxy', id: 'probe' as const },
    ],
    { title: 'Start Load: journey' },
  );
  if (!j) return undefined;
  return { users, durationS, journey: j.id };
}

const pct = (v: number) => `${(v * 100).toFixed(2)} %`;

export function registerLiveCommands(ext: LabExtension): vscode.Disposable[] {
  const { ui } = ext;
  const live = () => ext.live;

  /** Writes the report of the last run into the reports folder and opens it. */
  const openReport = async (l: LabLive) => {
    const r = l.exportReport();
    ui.log.info(`report written: ${r.html}`);
    await vscode.env.openExternal(vscode.Uri.file(r.html));
  };

  const announceScenario = (e: ScenarioEnd, l: LabLive) => {
    if (!e.result) {
      ui.fail(`Scenario ${e.name}`, new Error(e.error ?? 'failed'));
      return;
    }
    const r = e.result;
    const failed = r.steps.filter((s) => !s.passed).length;
    const text = `Scenario ${r.name}: ${r.passed ? 'PASSED' : 'FAILED'} — ${r.steps.length - failed}/${r.steps.length} steps passed, Apdex ${r.apdex}, p95 ${r.latencyMs.p95} ms${r.faults.length ? `, ${r.faults.length} faults analysed` : ''}${r.predictions?.length ? `, predictions ${r.predictions.filter((p) => p.grade === 'right').length}/${r.predictions.length} right` : ''}`;
    ui.log.info(text);
    const show = r.passed ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    void show(text, 'Open Report', 'Export Report…').then((pick) => {
      if (pick === 'Open Report') void openReport(l).catch((err) => ui.fail('Open Report', err));
      if (pick === 'Export Report…') void vscode.commands.executeCommand('moodleLab.exportReport');
    });
  };

  // Every scenario end (started here or from the dashboard) gets its toast; every prediction a quick pick
  // (or an input box), whichever of it and the dashboard's dialog answers first.
  let unsubscribe: (() => void) | undefined;
  const hook = (l: LabLive) => {
    unsubscribe?.();
    const offEnd = l.onScenarioEnd((e) => announceScenario(e, l));
    const offQuestion = l.onQuestion((q, gone) => {
      void askPrediction(q, vscodePredictionUi, gone).then((a) => {
        if (gone.aborted || l.waitingQuestion?.id !== q.id) return; // answered in the dashboard, or the run ended
        try {
          ui.log.info(l.answerPrediction(a));
        } catch (err) {
          ui.log.warn(`prediction ${q.id}: ${errText(err)}`);
        }
      });
    });
    unsubscribe = () => {
      offEnd();
      offQuestion();
    };
  };
  ext.onLiveChanged = hook;
  hook(ext.live);

  const reg = (id: string, fn: (...args: unknown[]) => unknown) => vscode.commands.registerCommand(id, fn);
  return [
    { dispose: () => unsubscribe?.() },
    reg('moodleLab.startLoad', async () => {
      const l = live();
      if (l.load.running || l.scenarioRunning) {
        void vscode.window
          .showWarningMessage(
            l.scenarioRunning ? 'A scenario is running: it drives the load.' : 'A load is already running: stop it first (Moodle HA Lab: Stop Load).',
            'Stop Load',
          )
          .then((p) => p && vscode.commands.executeCommand('moodleLab.stopLoad'));
        return;
      }
      const req = await askLoad();
      if (!req) return;
      const text = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Load on ${ext.lab}`, cancellable: true },
        async (progress, token) => {
          try {
            await l.startLoad(req);
          } catch (err) {
            ui.fail('Start Load', err);
            return undefined;
          }
          void vscode.commands.executeCommand('moodleLab.openDashboard');
          progress.report({ message: `${req.users} users, ${req.durationS} s — Cancel stops it` });
          return new Promise<string>((resolve) => {
            const offMetrics = l.load.onMetrics((m) => {
              if (m.requests)
                progress.report({
                  message: `${m.requests} requests · availability ${pct(m.availability)} · p95 ${Math.round(m.p95Ms)} ms · Apdex ${m.apdex.toFixed(2)}`,
                });
            });
            const cancel = token.onCancellationRequested(() => void l.load.stop());
            const off = l.load.onEnd((f) => {
              off();
              offMetrics();
              cancel.dispose();
              const r = f.run?.result;
              resolve(
                r
                  ? `Load ended: ${runSummary(r, { availability: pct(r.requests ? 1 - r.failures / r.requests : 1), p95Ms: r.latencyMs.p95 })}${r.faults.length ? `; ${r.faults.map((x) => `${x.fault}: detected ${x.detectedMs ?? '—'} ms, blackout ${x.blackoutMs} ms`).join('; ')}` : ''}`
                  : `Load failed: ${f.error ?? ''}`,
              );
            });
          });
        },
      );
      if (text) {
        ui.log.info(text);
        void vscode.window.showInformationMessage(text, 'Export Report…').then((p) => p && vscode.commands.executeCommand('moodleLab.exportReport'));
      }
    }),
    reg('moodleLab.stopLoad', async () => {
      const l = live();
      if (!l.load.running) return void vscode.window.showInformationMessage('No load is running.');
      await ui.run(
        'Stop Load',
        () => (l.scenarioRunning ? Promise.resolve(l.stopScenario()) : l.stopLoad()),
        (t) => t,
      );
    }),
    reg('moodleLab.runScenario', async (arg) => {
      const l = live();
      if (l.scenarioRunning) return void vscode.window.showWarningMessage('A scenario is already running.');
      let ref: string | undefined = typeof arg === 'string' ? arg : arg instanceof vscode.Uri ? arg.fsPath : undefined;
      if (!ref) {
        const builtins = l.refreshCatalog();
        const pick = await vscode.window.showQuickPick(
          [
            ...builtins.map((b) => ({ label: b.name, description: b.description, ref: b.name })),
            { label: '$(folder-opened) Open file…', description: 'a scenario .yaml', ref: '' },
          ],
          { title: 'Run Scenario', placeHolder: builtins.length ? 'a built-in scenario, or a file' : 'no built-in scenarios found: open a file' },
        );
        if (!pick) return;
        ref = pick.ref;
        if (!ref) {
          const uri = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Scenario YAML': ['yaml', 'yml'] }, title: 'Scenario file' });
          if (!uri?.[0]) return;
          ref = uri[0].fsPath;
        }
      }
      const scenarioRef = ref;
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Scenario', cancellable: true }, async (progress, token) => {
        let started;
        try {
          started = await l.startScenario(scenarioRef);
        } catch (err) {
          ui.fail('Run Scenario', err);
          return;
        }
        const { scenario, done } = started;
        void vscode.commands.executeCommand('moodleLab.openDashboard');
        progress.report({ message: `${scenario.name}: starting` });
        const cancel = token.onCancellationRequested(() => {
          ui.log.warn(`scenario ${scenario.name}: cancelled by the user`);
          l.stopScenario();
        });
        let lastStep = '';
        const off = ext.store.subscribe(
          (s) => {
            const v = s.scenario;
            if (!v?.running) return;
            const step = v.steps[v.current ?? 0];
            const text = `${v.current !== undefined ? `step ${v.current + 1}/${v.steps.length}: ${step?.text ?? ''}` : ''}${v.narration ? ` — ${v.narration}` : ''}`;
            if (text !== lastStep) progress.report({ message: (lastStep = text) });
          },
          { intervalMs: 3000 },
        );
        try {
          await done;
        } catch {
          // announced by the scenario-end hook
        } finally {
          cancel.dispose();
          off();
        }
      });
    }),
    reg('moodleLab.runAudit', async () => {
      const l = live();
      await runAuditCommand(
        l,
        vscodeAuditUi(ui.log, (what, err) => ui.fail(what, err)),
        ext.lab,
        async () => {
          const nodes = ext.snapshot?.nodes.length ? ext.snapshot.nodes : (await ext.controller.status()).nodes;
          return nodes.map((n) => ({ name: n.name, role: n.role, exempt: EXEMPT_ROLES[n.role] }));
        },
      );
    }),
    reg('moodleLab.exportReport', async () => {
      const l = live();
      const result = l.lastResult();
      if (!result) return void vscode.window.showInformationMessage('Nothing to report yet: run a scenario or a load first.');
      const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? ext.reportsDir();
      const uri = await vscode.window.showSaveDialog({
        title: `Export the report of ${result.name === 'load' ? 'the last load run' : `scenario ${result.name}`}`,
        defaultUri: vscode.Uri.file(path.join(base, `${result.name.replace(/[^\w-]+/g, '-')}-report.html`)),
        filters: { 'HTML report': ['html'] },
      });
      if (!uri) return;
      const files = await ui.run('Export Report', async () => l.exportReport(uri.fsPath));
      if (!files) return;
      ui.log.info(`report written: ${files.html}, ${files.json}, ${files.md}`);
      const pick = await vscode.window.showInformationMessage(`Report written: ${path.basename(files.html)} (+ .json, .md)`, 'Open Report', 'Open Markdown');
      if (pick === 'Open Report') await vscode.env.openExternal(vscode.Uri.file(files.html));
      if (pick === 'Open Markdown') await vscode.window.showTextDocument(vscode.Uri.file(files.md));
    }),
  ];
}
