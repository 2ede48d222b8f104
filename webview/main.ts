/** Dashboard entry point (bundled to dist/webview/main.js): VS Code webview or plain browser. */
import mermaid from 'mermaid';
import { LabClient, Bootstrap } from './client';
import { registerComponents } from './components';
import { Dashboard } from './dashboard';

declare global {
  interface Window {
    /** For the UI test and the bench: counters and the update function. */
    labDashboard?: Dashboard;
  }
}

function boot(): void {
  const bootEl = document.getElementById('bootstrap');
  const boot = JSON.parse(bootEl?.textContent ?? '{}') as Bootstrap;
  const dark =
    document.body.classList.contains('vscode-dark') ||
    document.body.classList.contains('vscode-high-contrast') ||
    (!document.body.className && matchMedia('(prefers-color-scheme: dark)').matches);
  mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: dark ? 'dark' : 'default', flowchart: { htmlLabels: true, curve: 'basis' } });
  registerComponents();
  const root = document.getElementById('app');
  if (!root) return;
  const dashboard = new Dashboard(root, mermaid, boot.transport === 'vscode');
  window.labDashboard = dashboard;
  const client = new LabClient(
    boot,
    (s) => void dashboard.update(s),
    (state) => dashboard.setConnection(state),
  );
  dashboard.client = client;
  client.connect();
}

boot();
