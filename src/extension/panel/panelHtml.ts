// The panel's HTML and options for a real webview: the vscode glue around panelDocument.ts.
import * as fs from 'fs';
import * as vscode from 'vscode';
import { PANEL_WEBVIEW_OPTIONS, panelDocument } from './panelDocument';

/** Webview options: scripts on, command URIs off, and only `dist` and `media` readable. */
export function panelOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: PANEL_WEBVIEW_OPTIONS.enableScripts,
    enableCommandUris: PANEL_WEBVIEW_OPTIONS.enableCommandUris,
    localResourceRoots: PANEL_WEBVIEW_OPTIONS.localResourceRoots.map((dir) => vscode.Uri.joinPath(extensionUri, dir)),
  };
}

export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const file = (rel: string): vscode.Uri => vscode.Uri.joinPath(extensionUri, ...rel.split('/'));
  return panelDocument({
    cspSource: webview.cspSource,
    resourceUri: (rel) => webview.asWebviewUri(file(rel)).toString(),
    hasStylesheet: fs.existsSync(file('dist/webview.css').fsPath),
    lang: vscode.env.language,
    title,
  });
}
