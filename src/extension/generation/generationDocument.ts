// The generation view's HTML as plain data (vscode-free, so its CSP is unit-tested): one nonce'd
// script from the extension's dist, nothing inline, no images or network.
import { escapeHtml, newNonce } from '../panel/panelDocument';

/** Folders of the extension the view may load from. */
export const GENERATION_RESOURCE_DIRS: readonly string[] = ['dist'];

export interface GenerationDocumentOptions {
  cspSource: string;
  /** webview URI of a file of the extension, given its path relative to the extension's folder */
  resourceUri: (relativePath: string) => string;
  lang: string;
  title: string;
  nonce?: string;
}

export function generationDocument(o: GenerationDocumentOptions): string {
  const n = o.nonce ?? newNonce();
  const csp = ["default-src 'none'", `style-src ${o.cspSource}`, `script-src 'nonce-${n}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="${escapeHtml(o.lang)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<script nonce="${n}" src="${escapeHtml(o.resourceUri('dist/generation.js'))}"></script>
</body>
</html>`;
}
