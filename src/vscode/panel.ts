/**
 * The dashboard as a VS Code webview panel: the same bundle and the same host-side handler
 * (DashboardSession) as the browser dashboard, over postMessage.
 */
import * as vscode from 'vscode';
import { dashboardHtml, newNonce } from '../dashboard/html';
import { DashboardSession, SessionDeps } from '../dashboard/session';
import type { WireMessage } from '../protocol/messages';

export class DashboardPanel implements vscode.Disposable {
  static readonly viewType = 'moodleLab.dashboard';
  private readonly panel: vscode.WebviewPanel;
  private readonly session: DashboardSession;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    extensionUri: vscode.Uri,
    lab: string,
    deps: SessionDeps,
    private readonly onDispose: () => void,
  ) {
    const dist = vscode.Uri.joinPath(extensionUri, 'dist');
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    this.panel = vscode.window.createWebviewPanel(DashboardPanel.viewType, `Moodle HA Lab — ${lab}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [dist, media],
    });
    this.panel.iconPath = vscode.Uri.joinPath(media, 'icon.svg');
    const webview = this.panel.webview;
    // CSP: scripts by nonce only; style-src needs 'unsafe-inline' because mermaid injects <style> (see dashboardHtml).
    webview.html = dashboardHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview', 'main.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'dashboard.css')).toString(),
      cspSource: webview.cspSource,
      bootstrap: { lab, transport: 'vscode' },
      nonce: newNonce(),
    });
    this.session = new DashboardSession(
      {
        post: (m: WireMessage) => void webview.postMessage(m),
        onMessage: (listener) => {
          const d = webview.onDidReceiveMessage(listener);
          return () => d.dispose();
        },
      },
      deps,
    );
    this.disposables.push(this.panel.onDidDispose(() => this.dispose()));
  }

  reveal(): void {
    this.panel.reveal();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.session.dispose();
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
    this.onDispose();
  }
}
