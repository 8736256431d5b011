// Messages between the .onnx editor's webview (webview-ui/src/onnxEditor.ts) and its host
// (src/extension/editors/onnxEditorProvider.ts). The host renders the page; the webview only asks.

/** webview → host: a button of the page was pressed. */
export type FromOnnxEditor =
  /** pick an image and attribute its prediction with this model */
  | { type: 'attribute' }
  /** make this model the active one for its folder */
  | { type: 'setActive' }
  /** Restricted Mode: open Manage Workspace Trust */
  | { type: 'manageTrust' }
  /** inspect again (after an error) */
  | { type: 'reload' };

const TYPES: ReadonlySet<string> = new Set(['attribute', 'setActive', 'manageTrust', 'reload']);

/** A message the host acts on: exactly `{ type }` with a known type, nothing else. */
export function isFromOnnxEditor(m: unknown): m is FromOnnxEditor {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
  const keys = Object.keys(m);
  const type = (m as { type?: unknown }).type;
  return keys.length === 1 && typeof type === 'string' && TYPES.has(type);
}
