/**
 * The dashboard page, the same for the VS Code webview and the browser: a strict CSP with a
 * per-load nonce, one script (dist/webview/main.js), one stylesheet (media/dashboard.css).
 */
import { randomBytes } from 'node:crypto';

export interface PageOptions {
  scriptUri: string;
  styleUri: string;
  /** Origin(s) allowed for scripts/styles/images: the webview's cspSource, or 'self'. */
  cspSource: string;
  /** Extra connect-src (the WebSocket URL in the browser). */
  connectSrc?: string;
  bootstrap: { lab: string; transport: 'vscode' | 'websocket'; wsUrl?: string };
  nonce?: string;
}

export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The page's Content-Security-Policy: the meta tag carries it, and the browser dashboard sends it as a header too. */
export function dashboardCsp(o: Pick<PageOptions, 'cspSource' | 'connectSrc'>, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // mermaid injects <style> elements while it measures and renders: it needs 'unsafe-inline' styles
    // (measured with mermaid 11; it never needs 'unsafe-eval'). Scripts stay nonce-only.
    `style-src ${o.cspSource} 'unsafe-inline'`,
    `img-src ${o.cspSource} data:`,
    `font-src ${o.cspSource}`,
    ...(o.connectSrc ? [`connect-src ${o.connectSrc}`] : []),
  ].join('; ');
}

export function dashboardHtml(o: PageOptions): string {
  return dashboardPage(o).html;
}

/** The page and its policy (the same string as in its meta tag). */
export function dashboardPage(o: PageOptions): { html: string; csp: string } {
  const nonce = o.nonce ?? newNonce();
  const csp = dashboardCsp(o, nonce);
  // Escaped so a lab name can never close the script element.
  const boot = JSON.stringify(o.bootstrap).replaceAll('<', '\\u003c');
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Moodle HA Lab — ${escapeAttr(o.bootstrap.lab)}</title>
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}">
</head>
<body>
<div id="app" aria-busy="true">Connecting to the lab…</div>
<script type="application/json" id="bootstrap" nonce="${nonce}">${boot}</script>
<script nonce="${nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>
`;
  return { html, csp };
}
