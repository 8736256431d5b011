// The dataset view's HTML as plain data (vscode-free, so its CSP is unit-tested): one nonce'd
// script from the extension's dist, images only from the webview resource origin (the data folder
// is the one workspace root it may read), nothing inline.
import { webviewDocument, type WebviewDocumentOptions } from '../panel/panelDocument';

/** Folders of the extension the view may load from; the data folder is added by the host. */
export const DATASET_RESOURCE_DIRS: readonly string[] = ['dist', 'media'];

export type DatasetDocumentOptions = WebviewDocumentOptions;

export function datasetDocument(o: DatasetDocumentOptions): string {
  return webviewDocument(o, { script: 'dist/dataset.js', sources: (src) => [`style-src ${src}`, `img-src ${src}`] });
}
