// The panel's HTML: strict CSP, one nonce'd script, styles and images only from the extension.
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as vscode from 'vscode';

export function nonce(): string {
  return randomBytes(18).toString('base64').replace(/[+/=]/g, '');
}

/** Webview options: scripts on, and only `dist` and `media` readable. */
export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const n = nonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const cssFile = vscode.Uri.joinPath(extensionUri, 'dist', 'webview.css');
  const css = fs.existsSync(cssFile.fsPath) ? `<link rel="stylesheet" href="${webview.asWebviewUri(cssFile)}">` : '';
  const src = webview.cspSource;
  // Images arrive as data (rgba → canvas); data:/blob: cover canvas exports and the drawn overlays.
  const csp = [
    "default-src 'none'",
    `style-src ${src}`,
    `img-src ${src} data: blob:`,
    `font-src ${src}`,
    `script-src 'nonce-${n}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="${escapeHtml(vscode.env.language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${css}
<title>${escapeHtml(title)}</title>
</head>
<body>
<al-app></al-app>
<script nonce="${n}" src="${script}"></script>
</body>
</html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
