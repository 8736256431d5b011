// The dataset view's HTML as plain data (vscode-free, so its CSP is unit-tested): one nonce'd
// script from the extension's dist, images only from the webview resource origin (the data folder
// is the one workspace root it may read), nothing inline.
import { escapeHtml, newNonce } from '../panel/panelDocument';

/** Folders of the extension the view may load from; the data folder is added by the host. */
export const DATASET_RESOURCE_DIRS: readonly string[] = ['dist', 'media'];

export interface DatasetDocumentOptions {
  cspSource: string;
  /** webview URI of a file of the extension, given its path relative to the extension's folder */
  resourceUri: (relativePath: string) => string;
  lang: string;
  title: string;
  nonce?: string;
}

export function datasetDocument(o: DatasetDocumentOptions): string {
  const n = o.nonce ?? newNonce();
  const src = o.cspSource;
  const csp = [
    "default-src 'none'",
    `style-src ${src}`,
    `img-src ${src}`,
    `script-src 'nonce-${n}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="${escapeHtml(o.lang)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<script nonce="${n}" src="${escapeHtml(o.resourceUri('dist/dataset.js'))}"></script>
</body>
</html>`;
}
