/** Every command of the extension: lab lifecycle, dashboard, and per-node context actions. */
import * as vscode from 'vscode';
import type { FaultKind, FaultRequest } from '../protocol/fault-catalog';
import { COMMAND_PREFIX, describeFault, faultEntry, menuKinds, menuParams } from '../protocol/fault-catalog';
import { BUILTIN_LABS, PRESET_NAMES, PresetName } from '../engine/topology';
import { loadLabFile } from '../scenarios/lab-file';
import { controllerActions } from '../host/controller-actions';
import type { RoleDisplay } from '../protocol/status';
import type { LabExtension } from './lab-extension';
import { registerLiveCommands } from './live-commands';
import { readSettings } from './settings';
import type { LabTreeElement } from './tree-provider';

/** The fault kinds with a node command (`moodleLab.node.<kind>`), from the fault catalog. */
const NODE_FAULTS = menuKinds() as FaultKind[];

/** The node a context action was invoked on (tree item), or one the user picks. */
async function pickNode(ext: LabExtension, arg: unknown, filter?: (role: RoleDisplay) => boolean): Promise<string | undefined> {
  const el = arg as LabTreeElement | undefined;
  if (el && el.kind === 'node') return el.node;
  if (typeof arg === 'string') return arg;
  const roles = ext.snapshot?.roles ?? [];
  const nodes = (ext.snapshot?.nodes ?? []).filter((n) => {
    const d = roles.find((r) => r.role === n.role);
    return !filter || (d !== undefined && filter(d));
  });
  if (!nodes.length) {
    void vscode.window.showWarningMessage('No lab nodes: start the lab first.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    nodes.map((n) => ({ label: n.name, description: `${n.role} · ${n.container}` })),
    { title: 'Which node?' },
  );
  return pick?.label;
}

async function moodleSourceChoice(defaultSource: string): Promise<{ moodleSource?: string; noMoodle?: boolean } | undefined> {
  const items: (vscode.QuickPickItem & { id: string })[] = [
    ...(defaultSource ? [{ id: 'setting', label: `$(gear) ${defaultSource}`, description: 'from settings (moodleLab.moodleSource)' }] : []),
    { id: 'pinned', label: '$(cloud-download) Pinned Moodle release', description: 'downloaded once, then cached' },
    { id: 'folder', label: '$(folder) A Moodle folder…', description: 'a git checkout or an unpacked release' },
    { id: 'archive', label: '$(file-zip) An archive or URL…', description: '.tgz / .zip, local or https' },
    { id: 'none', label: '$(circle-slash) No Moodle', description: 'infrastructure only (fast)' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Moodle source' });
  if (!pick) return undefined;
  switch (pick.id) {
    case 'setting':
      return { moodleSource: defaultSource };
    case 'pinned':
      return {};
    case 'none':
      return { noMoodle: true };
    case 'folder': {
      const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Moodle folder' });
      return uri?.[0] ? { moodleSource: uri[0].fsPath } : undefined;
    }
    default: {
      const v = await vscode.window.showInputBox({ title: 'Moodle archive path or URL', placeHolder: 'https://download.moodle.org/… or /path/to/moodle.tgz' });
      return v ? { moodleSource: v } : undefined;
    }
  }
}

export function registerCommands(ext: LabExtension): vscode.Disposable[] {
  const { ui } = ext;
  const c = () => ext.controller;
  // Faults and heals go through a running load (so its failover analysis sees them).
  const actions = () => ext.live.actions(controllerActions(ext.controller));
  const mark = (kind: 'fault' | 'heal', text: string, node?: string) =>
    ext.store.note({ source: 'action', severity: kind === 'fault' ? 'warn' : 'info', kind, node, text: `VS Code: ${text}` });
  const refreshSoon = () => void ext.store.refresh().catch(() => undefined);

  const containerOf = async (node: string) => {
    const info = (await c().engine.containers()).get(node);
    if (!info) throw new Error(`${node} has no container`);
    return info;
  };

  const openNode = async (node: string, what: 'logs' | 'shell' | 'browser'): Promise<string> => {
    if (what === 'logs') {
      const info = await containerOf(node);
      const text = await c().docker.containers.logs(info.id, 300);
      const doc = await vscode.workspace.openTextDocument({ content: `# ${info.name} — last 300 lines\n${text}`, language: 'log' });
      await vscode.window.showTextDocument(doc, { preview: true });
      return `logs of ${node} opened`;
    }
    if (what === 'shell') {
      const info = await containerOf(node);
      const term = vscode.window.createTerminal({ name: `${ext.lab}: ${node}`, shellPath: 'docker', shellArgs: ['exec', '-it', info.name, 'bash'] });
      term.show();
      return `shell on ${node} opened`;
    }
    const s = ext.snapshot;
    const url = node === 'haproxy' ? s?.endpoints.haproxyStats : s?.nodes.find((n) => n.name === node)?.url;
    if (!url) throw new Error(`${node} has no page to open`);
    await vscode.env.openExternal(vscode.Uri.parse(url));
    return `opened ${url}`;
  };

  const fault = (kind: FaultKind) => async (arg: unknown) => {
    const node = await pickNode(ext, arg);
    if (!node) return;
    const req: FaultRequest = { kind, nodes: [node] };
    // The parameters the kind needs, each asked in an input box (e.g. delay's ms, loss' percent).
    for (const p of menuParams(kind)) {
      const ask = p.ask;
      if (!ask) continue;
      const v = await vscode.window.showInputBox({
        title: ask.title(node),
        prompt: ask.prompt,
        value: String(p.uiDefault),
        validateInput: (x) => (ask.valid(x) ? undefined : ask.invalid),
      });
      if (!v) return;
      req[p.field] = Number(v);
    }
    mark(faultEntry(kind)?.effect === 'repair' ? 'heal' : 'fault', `fault ${describeFault(req)}`, node);
    await ui.withProgress(
      `Moodle lab: ${describeFault(req)}`,
      () => actions().fault(req),
      (t) => t,
    );
    refreshSoon();
  };

  const maintenanceNode = (on: boolean) => async (arg: unknown) => {
    const node = await pickNode(ext, arg, (d) => d.drainIn !== undefined);
    if (!node) return;
    await ui.run(
      `${on ? 'drain' : 'ready'} ${node}`,
      () => c().maintenance(on, node),
      (t) => t,
    );
    refreshSoon();
  };

  const reg = (id: string, fn: (...args: unknown[]) => unknown) => vscode.commands.registerCommand(id, fn);
  return [
    reg('moodleLab.startLab', async () => {
      const s = readSettings();
      const LAB_FILE = 'Lab file…';
      const preset = await vscode.window.showQuickPick(
        [
          ...(s.labFile ? [{ label: s.labFile, description: 'the lab file of the moodleLab.labFile setting', picked: true }] : []),
          ...PRESET_NAMES.map((p) => ({
            label: p,
            description: p === 'ha' ? `HAProxy, ${s.webCount} web nodes, Galera ×3, Gluster ×3, Redis` : BUILTIN_LABS[p].description,
            picked: !s.labFile && p === s.preset,
          })),
          { label: LAB_FILE, description: 'a *.lab.yaml file: roles, counts and options' },
        ],
        { title: 'Start the Moodle HA lab: topology' },
      );
      if (!preset) return;
      let labFile = preset.label === s.labFile ? s.labFile : undefined;
      if (preset.label === LAB_FILE) {
        const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Lab files': ['lab.yaml'] }, title: 'Lab file' });
        if (!picked?.[0]) return;
        labFile = picked[0].fsPath;
      }
      const source = await moodleSourceChoice(s.moodleSource);
      if (!source) return;
      await ui.withProgress(
        `Starting lab "${ext.lab}"`,
        (signal) =>
          c().up({
            // A lab file is read and checked (file:line:col) before anything is created.
            ...(labFile
              ? { definition: loadLabFile(labFile, ext.labRoot, { baseDir: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath }) }
              : { preset: preset.label as PresetName, webCount: s.webCount }),
            baseImage: s.baseImage || undefined,
            port: s.port || undefined,
            ...source,
            signal,
          }),
        (st) => `Lab "${st.lab}" is ${st.state}${st.endpoints.moodle ? `: Moodle at ${st.endpoints.moodle}` : ''}`,
      );
      refreshSoon();
    }),
    reg('moodleLab.stopLab', async () => {
      await ui.withProgress(
        `Stopping lab "${ext.lab}"`,
        () => c().down(),
        () => `Lab "${ext.lab}" stopped (data kept).`,
      );
      refreshSoon();
    }),
    reg('moodleLab.destroyLab', async () => {
      const ok = await vscode.window.showWarningMessage(
        `Destroy lab "${ext.lab}"? Every container, volume, network and image of it is removed, with the Moodle data.`,
        { modal: true },
        'Destroy',
      );
      if (ok !== 'Destroy') return;
      await ui.withProgress(
        `Destroying lab "${ext.lab}"`,
        () => c().destroy(),
        (r) => `Lab "${ext.lab}" destroyed: ${r.containers} containers, ${r.volumes} volumes removed.`,
      );
      refreshSoon();
    }),
    reg('moodleLab.openDashboard', () => ext.openDashboard(openNode)),
    reg('moodleLab.openMoodle', async () => {
      const url = ext.snapshot?.endpoints.moodle;
      if (!url) return void vscode.window.showWarningMessage('Moodle is not running: start the lab first.');
      await vscode.env.openExternal(vscode.Uri.parse(url));
    }),
    reg('moodleLab.healAll', async () => {
      mark('heal', 'heal all');
      await ui.withProgress(
        'Healing the lab',
        () => actions().heal(),
        (t) => t,
      );
      refreshSoon();
    }),
    reg(
      'moodleLab.maintenanceOn',
      async () =>
        void (await ui.withProgress(
          'Moodle maintenance on',
          () => c().maintenance(true),
          (t) => t,
        )),
    ),
    reg(
      'moodleLab.maintenanceOff',
      async () =>
        void (await ui.withProgress(
          'Moodle maintenance off',
          () => c().maintenance(false),
          (t) => t,
        )),
    ),
    reg('moodleLab.refresh', () => ext.refresh()),
    reg('moodleLab.showLogs', () => ui.log.show()),
    ...registerLiveCommands(ext),
    ...NODE_FAULTS.map((k) => reg(`${COMMAND_PREFIX}${k}`, fault(k))),
    reg('moodleLab.node.drain', maintenanceNode(true)),
    reg('moodleLab.node.ready', maintenanceNode(false)),
    reg('moodleLab.node.heal', async (arg) => {
      const node = await pickNode(ext, arg);
      if (!node) return;
      mark('heal', `heal ${node}`, node);
      await ui.withProgress(
        `Healing ${node}`,
        () => actions().heal(node),
        (t) => t,
      );
      refreshSoon();
    }),
    reg('moodleLab.node.logs', async (arg) => {
      const node = await pickNode(ext, arg);
      if (node) await ui.run(`logs of ${node}`, () => openNode(node, 'logs'));
    }),
    reg('moodleLab.node.shell', async (arg) => {
      const node = await pickNode(ext, arg);
      if (node) await ui.run(`shell on ${node}`, () => openNode(node, 'shell'));
    }),
    reg('moodleLab.node.openBrowser', async (arg) => {
      const node = await pickNode(ext, arg, (d) => d.opens !== undefined);
      if (node) await ui.run(`open ${node}`, () => openNode(node, 'browser'));
    }),
  ];
}
