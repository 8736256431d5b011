// Entry of the .onnx editor's bundle (dist/onnxEditor.js): the page comes rendered from the host
// (src/extension/editors/onnxEditorDocument.ts); this adds its styles, posts the buttons' actions
// and filters the layers as you type.
import type { FromOnnxEditor } from '../../src/shared/onnxEditorProtocol';

declare function acquireVsCodeApi(): { postMessage(message: FromOnnxEditor): void };

const vscode = acquireVsCodeApi();

const sheet = new CSSStyleSheet();
sheet.replaceSync(`
body { margin: 0; padding: 12px 20px 32px; background: var(--vscode-editor-background); color: var(--vscode-foreground);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); line-height: 1.45; }
h1 { font-size: 1.5em; font-weight: 600; margin: 8px 0 2px; }
h2 { font-size: 1.1em; font-weight: 600; margin: 20px 0 6px; border-bottom: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); padding-bottom: 3px; }
.muted, .count { color: var(--vscode-descriptionForeground); }
.count { font-weight: normal; margin-left: 4px; }
.warn { color: var(--vscode-editorWarning-foreground); }
.error { color: var(--vscode-errorForeground); }
.badge { font-size: 0.6em; vertical-align: middle; padding: 1px 6px; border-radius: 8px;
  background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0; }
button { font: inherit; padding: 4px 12px; border: 1px solid var(--vscode-button-border, transparent); border-radius: 2px; cursor: pointer;
  background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
button:hover:not(:disabled) { background: var(--vscode-button-hoverBackground); }
button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
button.secondary:hover:not(:disabled) { background: var(--vscode-button-secondaryHoverBackground); }
button:disabled { opacity: 0.6; cursor: default; }
button:focus-visible, input:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { color: var(--vscode-descriptionForeground); }
dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; }
th { text-align: left; font-weight: 600; color: var(--vscode-descriptionForeground); }
th, td { padding: 2px 16px 2px 0; vertical-align: top; }
code { font-family: var(--vscode-editor-font-family); font-size: 0.95em; }
.chip { display: inline-block; margin: 0 4px 4px 0; padding: 0 6px; border-radius: 3px;
  background: var(--vscode-textCodeBlock-background, var(--vscode-editorWidget-background)); }
#layer-filter { width: min(420px, 100%); box-sizing: border-box; margin: 4px 0 8px; padding: 3px 6px; font: inherit;
  background: var(--vscode-input-background); color: var(--vscode-input-foreground); border: 1px solid var(--vscode-input-border, transparent); }
details.module { margin-left: 14px; }
.tree > details.module { margin-left: 0; }
summary { cursor: pointer; padding: 1px 0; }
.segment { font-weight: 600; }
table.layers { margin: 2px 0 4px 16px; }
td.display { font-weight: 600; }
td.tensor code { color: var(--vscode-descriptionForeground); }
.hidden { display: none; }
`);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

document.addEventListener('click', (ev) => {
  const b = (ev.target as Element | null)?.closest('button[data-action]') as HTMLButtonElement | null;
  if (!b || b.disabled) return;
  const type = b.dataset.action as FromOnnxEditor['type'];
  vscode.postMessage({ type });
});

// type-to-find over the layers: rows that match stay, with the modules that hold them, open
const filter = document.getElementById('layer-filter') as HTMLInputElement | null;
filter?.addEventListener('input', () => {
  const q = filter.value.trim().toLowerCase();
  const modules = [...document.querySelectorAll<HTMLDetailsElement>('details.module')];
  for (const row of document.querySelectorAll<HTMLElement>('tr.layer')) {
    row.classList.toggle('hidden', q !== '' && !(row.textContent ?? '').toLowerCase().includes(q));
  }
  // innermost first, so a module's visibility can look at its children's
  for (const d of modules.reverse()) {
    const any = d.querySelector('tr.layer:not(.hidden)') !== null;
    d.classList.toggle('hidden', q !== '' && !any);
    if (q !== '') d.open = any;
  }
});
