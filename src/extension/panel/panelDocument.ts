// The panel's HTML and webview options as plain data (vscode-free, so the CSP is unit-tested):
// one nonce'd script, styles, fonts and images only from the extension's own resource roots.
/** Folders of the extension the webview may load from; nothing else (no workspace files). */
export const PANEL_RESOURCE_DIRS: readonly string[] = ['dist', 'media'];

/** Webview options; `localResourceRoots` are relative to the extension's folder. */
export const PANEL_WEBVIEW_OPTIONS = {
  enableScripts: true,
  enableCommandUris: false,
  localResourceRoots: PANEL_RESOURCE_DIRS,
} as const;

/** 144 random bits, fresh for every render. */
export function newNonce(): string {
  // required here, not at the top: activation should not pay for loading crypto
  const { randomBytes } = require('crypto') as typeof import('crypto');
  return randomBytes(18).toString('base64url');
}

export interface PanelDocumentOptions {
  /** `webview.cspSource`: the origin VS Code serves the extension's resources from */
  cspSource: string;
  /** webview URI of a file of the extension, given its path relative to the extension's folder */
  resourceUri: (relativePath: string) => string;
  /** whether dist/webview.css exists (esbuild writes it when the bundle imports CSS) */
  hasStylesheet: boolean;
  lang: string;
  title: string;
  nonce?: string;
}

export function panelDocument(o: PanelDocumentOptions): string {
  // Images arrive as data (rgba → canvas); data:/blob: cover canvas exports and the drawn overlays.
  return webviewDocument(o, {
    script: 'dist/webview.js',
    sources: (src) => [`style-src ${src}`, `img-src ${src} data: blob:`, `font-src ${src}`],
    stylesheet: o.hasStylesheet ? 'dist/webview.css' : undefined,
    body: '<al-app></al-app>\n',
  });
}

/** What differs between the extension's webview pages: their script, CSP sources and body. */
export interface WebviewPage {
  /** the bundle to load, relative to the extension's folder */
  script: string;
  /** CSP directives besides default-src 'none' and the script's nonce, for `webview.cspSource` */
  sources: (cspSource: string) => string[];
  stylesheet?: string;
  body?: string;
}

/** A webview page: default-src 'none', one nonce'd script, nothing else but the given sources. */
export type WebviewDocumentOptions = Omit<PanelDocumentOptions, 'hasStylesheet'>;

export function webviewDocument(o: WebviewDocumentOptions, page: WebviewPage): string {
  const n = o.nonce ?? newNonce();
  const csp = ["default-src 'none'", ...page.sources(o.cspSource), `script-src 'nonce-${n}'`].join('; ');
  const css = page.stylesheet ? `<link rel="stylesheet" href="${escapeHtml(o.resourceUri(page.stylesheet))}">\n` : '';
  return `<!DOCTYPE html>
<html lang="${escapeHtml(o.lang)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${css}<title>${escapeHtml(o.title)}</title>
</head>
<body>
${page.body ?? ''}<script nonce="${n}" src="${escapeHtml(o.resourceUri(page.script))}"></script>
</body>
</html>`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
