// The .onnx editor's page as plain HTML (vscode-free, so its CSP and content are unit-tested): a
// model's inspection — I/O, format, labels, preprocessing and its source, gradient support,
// operators, layers grouped by module — with the Attribute and Set Active actions. One nonce'd
// script (dist/onnxEditor.js) wires the buttons and the layer filter; no inline script or style.
import * as path from 'path';
import type { ModelInspection } from '../../engine';
import { layerDetail, layerDisplayNames } from '../../shared/layerNames';
import { type ModuleNode, buildModuleTree, countLayers } from '../moduleTree';
import { escapeHtml, newNonce } from '../panel/panelDocument';

/** Folders of the extension the editor's webview may load from. */
export const ONNX_EDITOR_RESOURCE_DIRS: readonly string[] = ['dist'];

/** vscode.l10n.t's shape: `{0}` placeholders. */
export type Translate = (message: string, ...args: Array<string | number>) => string;
const english: Translate = (m, ...args) => m.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)]));

export interface OnnxEditorPageOptions {
  /** `webview.cspSource` */
  cspSource: string;
  /** webview URI of a file of the extension, from its path relative to the extension's folder */
  resourceUri: (relativePath: string) => string;
  lang: string;
  title: string;
  /** the page's content: inspectionBody, restrictedBody or errorBody */
  body: string;
  nonce?: string;
}

export function onnxEditorPage(o: OnnxEditorPageOptions): string {
  const n = o.nonce ?? newNonce();
  // the script adopts its stylesheet (constructable: no inline style); nothing else is loaded
  const csp = ["default-src 'none'", `style-src ${o.cspSource}`, `img-src ${o.cspSource}`, `font-src ${o.cspSource}`, `script-src 'nonce-${n}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="${escapeHtml(o.lang)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
${o.body}
<script nonce="${n}" src="${escapeHtml(o.resourceUri('dist/onnxEditor.js'))}"></script>
</body>
</html>`;
}

const e = escapeHtml;

function button(action: string, label: string, opts: { secondary?: boolean; disabled?: boolean; title?: string } = {}): string {
  return `<button type="button" data-action="${action}"${opts.secondary ? ' class="secondary"' : ''}${opts.disabled ? ' disabled' : ''}${opts.title ? ` title="${e(opts.title)}"` : ''}>${e(label)}</button>`;
}

/** `[1, 3, 224, 224]` with symbolic axes by name and unknown ones as `?`. */
function dimsText(dims: ReadonlyArray<number | string | null>): string {
  return `[${dims.map((d) => (d === null ? '?' : d)).join(', ')}]`;
}

/** The first image input's preprocessing and where it came from (guessed: how to set it). */
export function preprocessingText(ins: ModelInspection, t: Translate = english): { text: string; source?: string; guessed: boolean } {
  if (ins.preprocessingError) return { text: t('cannot be used: {0}', ins.preprocessingError), guessed: false };
  const p = ins.preprocessing?.config;
  if (!p) return { text: t('no image input'), guessed: false };
  const text = `${p.layout} ${p.channels} ${p.size[0]}×${p.size[1]} ${p.resize}, ×${Number(p.scale.toFixed(8))}, mean [${p.mean.join(', ')}], std [${p.std.join(', ')}]`;
  return { text, source: p.source === 'guessed' ? t('guessed') + (p.note ? ` (${p.note})` : '') : p.source + (p.note ? ` (${p.note})` : ''), guessed: p.source === 'guessed' };
}

export interface InspectionBodyOptions {
  /** the model's path relative to its workspace folder, shown under the title */
  displayPath: string;
  active: boolean;
  t?: Translate;
}

const MAX_LAYER_ROWS = 2000;

/** The inspection page's body. */
export function inspectionBody(file: string, ins: ModelInspection, o: InspectionBodyOptions): string {
  const t = o.t ?? english;
  const io = (list: ModelInspection['inputs'], role: string) => `<table class="io" data-role="${role}">
<thead><tr><th>${e(t('name'))}</th><th>${e(t('shape'))}</th><th>${e(t('type'))}</th></tr></thead>
<tbody>${list.map((x) => `<tr data-name="${e(x.name)}"><td><code>${e(x.name)}</code></td><td>${e(dimsText(x.dims))}</td><td>${e(x.dtype ?? '')}${'note' in x && x.note ? ` <span class="muted">${e(String(x.note))}</span>` : ''}</td></tr>`).join('')}</tbody>
</table>`;
  const pre = preprocessingText(ins, t);
  const grad = ins.gradients.supported
    ? `<span data-testid="gradients">${e(t('supported: every method can run'))}</span>`
    : `<span data-testid="gradients" class="warn">${e(t('not available ({0}); perturbation methods still work',
      ins.gradients.unsupportedOps.length ? t('no gradient rule for {0}', ins.gradients.unsupportedOps.join(', ')) : ins.gradients.message ?? t('unknown reason')))}</span>`;
  const labels = ins.labels?.length
    ? `${ins.labels.length}${ins.labelSource ? ` <span class="muted">(${e(t('from {0}', ins.labelSource))})</span>` : ''}: ${e(ins.labels.slice(0, 20).join(', '))}${ins.labels.length > 20 ? ', …' : ''}`
    : e(t('none (add labels.txt beside the model)'));
  const ops = Object.entries(ins.opCounts).sort((a, b) => b[1] - a[1]);
  return `<main id="inspection" data-file="${e(file)}">
<header>
<h1>${e(path.basename(file))}${o.active ? ` <span class="badge" data-testid="active">${e(t('active'))}</span>` : ''}</h1>
<p class="muted">${e(o.displayPath)}</p>
<div class="actions">
${ins.preprocessing || ins.preprocessingError
    ? button('attribute', t('Attribute Prediction…'), { title: t('Pick an image and explain this model\'s prediction for it') })
    : button('attribute', t('Attribute Prediction…'), { disabled: true, title: t('This model takes no image: select text in an editor and run Attribute Prediction for Selection') })}
${button('setActive', o.active ? t('Active Model') : t('Set Active Model'), { secondary: true, disabled: o.active, title: t('Use this model for images in this folder without asking') })}
</div>
</header>
<section>
<dl>
<dt>${e(t('Format'))}</dt><dd data-testid="format">IR ${ins.irVersion} · opset ${ins.opset} · ${e(ins.producer || t('unknown producer'))} · ${e(ins.batchable ? t('batches') : t('batch 1 only'))}</dd>
<dt>${e(t('Gradients'))}</dt><dd>${grad}</dd>
<dt>${e(t('Labels'))}</dt><dd data-testid="labels">${labels}</dd>
<dt>${e(t('Preprocessing'))}</dt><dd data-testid="preprocessing">${e(pre.text)}${pre.source ? ` <span class="${pre.guessed ? 'warn' : 'muted'}" data-testid="preprocessing-source">${e(pre.guessed ? pre.source : t('from {0}', pre.source))}</span>` : ''}</dd>
</dl>
</section>
<section><h2>${e(t('Inputs'))}</h2>${io(ins.inputs, 'inputs')}</section>
<section><h2>${e(t('Outputs'))}</h2>${io(ins.outputs, 'outputs')}</section>
<section><h2>${e(t('Operators'))} <span class="count">${ops.reduce((s, [, n]) => s + n, 0)}</span></h2>
<p class="ops">${ops.map(([op, n]) => `<span class="chip">${e(op)} ×${n}</span>`).join(' ')}</p></section>
<section id="layers"><h2>${e(t('Layers'))} <span class="count" data-testid="layer-count">${ins.layers.length}</span></h2>
${ins.layers.length ? `<input type="search" id="layer-filter" placeholder="${e(t('Filter layers by name, op or shape'))}" aria-label="${e(t('Filter layers'))}">` : `<p class="muted">${e(t('no layers found (the model could not be probed)'))}</p>`}
${layersHtml(ins, t)}
</section>
</main>`;
}

/** Layers grouped by module path (nested <details>), each row its display name, op, shape and tensor name. */
function layersHtml(ins: ModelInspection, t: Translate): string {
  const shown = ins.layers.slice(0, MAX_LAYER_ROWS);
  const names = layerDisplayNames(ins.layers);
  const row = (l: ModuleNode['layers'][number]) => `<tr class="layer" data-name="${e(l.name)}"><td class="display">${e(names.get(l.name) ?? l.name)}</td><td>${e(layerDetail(l))}</td><td class="tensor muted" title="${e(t('tensor name'))}"><code>${e(l.name)}</code></td></tr>`;
  const table = (rows: string[]) => (rows.length ? `<table class="layers"><tbody>${rows.join('')}</tbody></table>` : '');
  // a module of one layer and no submodules is a row of its parent, not a group of its own
  const single = (n: ModuleNode) => n.children.length === 0 && n.layers.length === 1;
  const contents = (node: ModuleNode, depth: number): string => {
    let out = '';
    let rows: string[] = [];
    for (const c of node.children) {
      if (single(c)) rows.push(row(c.layers[0]));
      else {
        out += table(rows) + group(c, depth);
        rows = [];
      }
    }
    return out + table([...rows, ...node.layers.map(row)]);
  };
  const group = (node: ModuleNode, depth: number): string => {
    const n = countLayers(node);
    return `<details class="module"${depth < 2 ? ' open' : ''} data-module="${e(node.path.join('/'))}"><summary><span class="segment">${e(node.segment)}</span> <span class="muted">${e(n === 1 ? t('1 layer') : t('{0} layers', n))}</span></summary>
${contents(node, depth + 1)}</details>`;
  };
  const root = buildModuleTree(shown);
  const more = ins.layers.length > shown.length ? `<p class="muted">${e(t('the first {0} of {1} layers', shown.length, ins.layers.length))}</p>` : '';
  return `<div class="tree">${contents(root, 0)}</div>${more}`;
}

export function restrictedBody(reason: string, t: Translate = english): string {
  return `<main id="restricted">
<h1>${e(t('Restricted Mode'))}</h1>
<p data-testid="restricted">${e(reason)}</p>
<div class="actions">${button('manageTrust', t('Manage Workspace Trust'))}</div>
</main>`;
}

export function errorBody(file: string, message: string, t: Translate = english): string {
  return `<main id="error">
<h1>${e(path.basename(file))}</h1>
<p class="error" data-testid="error">${e(message)}</p>
<div class="actions">${button('reload', t('Inspect Again'))}</div>
</main>`;
}

export function loadingBody(file: string, t: Translate = english): string {
  return `<main id="loading"><h1>${e(path.basename(file))}</h1><p class="muted">${e(t('Inspecting {0}…', path.basename(file)))}</p></main>`;
}
