// The generation view's HTML as plain data (vscode-free, so its CSP is unit-tested): one nonce'd
// script from the extension's dist, nothing inline, no images or network.
import { webviewDocument, type WebviewDocumentOptions } from '../panel/panelDocument';

/** Folders of the extension the view may load from. */
export const GENERATION_RESOURCE_DIRS: readonly string[] = ['dist'];

export type GenerationDocumentOptions = WebviewDocumentOptions;

export function generationDocument(o: GenerationDocumentOptions): string {
  return webviewDocument(o, { script: 'dist/generation.js', sources: (src) => [`style-src ${src}`] });
}
