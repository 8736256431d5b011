// Inspect Model and the Models view's context actions.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MethodInfo } from '../../engine';
import { isSpatialLayer } from '../../shared/layerNames';
import type { ParamValues } from '../../shared/protocol';
import type { Deps } from '../deps';
import { activeImage, chooseImage, chooseModel } from '../modelPicker';
import { moduleSegments } from '../moduleTree';
import { findModuleDefinition } from '../sourceLocator';
import { ONNX_EDITOR_VIEW_TYPE } from '../editors/onnxEditorProvider';
import { requireTrust } from '../trust';
import type { LayerNode, ModelsNode, ModuleTreeNode } from '../views/modelsView';
import { attributeImage } from './attributeImage';

/** Opens the model's read-only inspection: the .onnx editor, never an unsaved buffer. */
export async function inspectModel(deps: Deps, node?: ModelsNode | vscode.Uri): Promise<void> {
  const file = node instanceof vscode.Uri ? node.fsPath : node && 'file' in node ? node.file : await chooseModel(deps.models, undefined, true);
  if (!file || !(await requireTrust())) return;
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), ONNX_EDITOR_VIEW_TYPE, { viewColumn: vscode.ViewColumn.Beside, preview: true });
}

/** From the Models view, the Explorer (a `.onnx` file) or the palette. */
export async function setActiveModel(deps: Deps, node?: ModelsNode | vscode.Uri): Promise<void> {
  const file = node instanceof vscode.Uri ? node.fsPath : node && 'file' in node ? node.file : await chooseModel(deps.models, undefined, true);
  if (file) await deps.models.setActive(file);
}

export async function revealModelFile(node?: ModelsNode): Promise<void> {
  if (node && 'file' in node) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(node.file));
}

export async function useLayerForCam(deps: Deps, node?: LayerNode): Promise<void> {
  if (node?.kind !== 'layer') return;
  if (!isSpatialLayer(node.layer)) {
    void vscode.window.showWarningMessage(vscode.l10n.t('CAM methods need a spatial layer (1, C, H, W with H and W > 1, or ViT tokens); {0} is [{1}].', node.display, node.layer.dims.join(', ')));
    return;
  }
  await deps.panel.setCamLayer(node.file, node.layer.name);
  void vscode.window.showInformationMessage(vscode.l10n.t('CAM methods on {0} now use layer {1}.', path.basename(node.file), node.display));
}

/** Opens the Python line that defines the module (`self.layer4 = ...`) beside the panel. */
export async function goToSource(deps: Deps, node?: LayerNode | ModuleTreeNode): Promise<void> {
  if (!node) return;
  const segments = node.kind === 'layer' ? moduleSegments(node.layer.module) : node.node.path;
  if (segments.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('This layer has no module path in its node name, so its source cannot be found.'));
    return;
  }
  const uris = await vscode.workspace.findFiles('**/*.py', '**/{node_modules,.git,.venv,venv,site-packages,.e2e}/**', 2000);
  const files = await Promise.all(
    uris.map(async (u) => ({ path: u.fsPath, text: await fs.promises.readFile(u.fsPath, 'utf8').catch(() => '') })),
  );
  const hit = findModuleDefinition(segments, files);
  if (!hit) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No Python file in the workspace defines {0} (looked for self.{1} = …).', segments.join('.'), segments[segments.length - 1]));
    return;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(hit.path));
  const pos = new vscode.Position(hit.line, hit.column);
  const column = deps.panel.viewColumn;
  await vscode.window.showTextDocument(doc, {
    viewColumn: column ? (column > 1 ? column - 1 : column + 1) : vscode.ViewColumn.Beside,
    selection: new vscode.Range(pos, pos.translate(0, hit.name.length)),
    preserveFocus: false,
  });
}

async function pickMethod(deps: Deps, families: readonly string[], title: string): Promise<MethodInfo | undefined> {
  const methods = (await deps.models.methods()).filter((m) => families.includes(m.family) && m.params.some((p) => p.kind === 'layer'));
  if (methods.length === 0) {
    void vscode.window.showWarningMessage(vscode.l10n.t('The engine has no {0} methods yet.', families.join('/')));
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    methods.map((m) => ({ label: m.id, description: m.captumName, detail: m.description, m })),
    // the panel beside may take focus while it loads; the pick should stay open
    { title, matchOnDescription: true, ignoreFocusOut: true },
  );
  return pick?.m;
}

/** The image to run on: the panel's (for the same model), the active image editor's, or a pick. */
async function imageFor(deps: Deps, modelFile: string): Promise<vscode.Uri | undefined> {
  const ctx = deps.panel.context;
  if (ctx?.modelFile === modelFile) return vscode.Uri.file(ctx.imageFile);
  return activeImage() ?? (await chooseImage());
}

/** Layer methods (LayerGradCam, LayerConductance, ...) for this layer. */
export async function attributeToLayer(deps: Deps, node?: LayerNode): Promise<void> {
  if (node?.kind !== 'layer') return;
  // CAM methods only for a layer they can draw
  const method = await pickMethod(deps, isSpatialLayer(node.layer) ? ['layer', 'cam'] : ['layer'], vscode.l10n.t('Attribute the prediction to {0}', node.display));
  if (!method) return;
  const image = await imageFor(deps, node.file);
  if (!image) return;
  const params: ParamValues = {};
  for (const p of method.params) if (p.kind === 'layer') params[p.name] = node.layer.name;
  await attributeImage(deps, image, { model: node.file, method: method.id, params });
}

/** Neuron methods (NeuronGradient, ...) for one channel or unit of this layer. */
export async function attributeNeuron(deps: Deps, node?: LayerNode): Promise<void> {
  if (node?.kind !== 'layer') return;
  const sel = await pickNeuron(node.layer.dims);
  if (!sel) return;
  const method = await pickMethod(deps, ['neuron'], vscode.l10n.t('Attribute {0} of {1} to the input', sel.label, node.display));
  if (!method) return;
  const image = await imageFor(deps, node.file);
  if (!image) return;
  const params: ParamValues = {};
  for (const p of method.params) {
    if (p.kind === 'layer') params[p.name] = node.layer.name;
    // Captum's neuron_selector: an index per axis ('shape') or a flat index ('int')
    else if (/^neuron/i.test(p.name) && (p.kind === 'shape' || p.kind === 'int')) params[p.name] = p.kind === 'int' ? sel.flat : sel.coords;
  }
  await attributeImage(deps, image, { model: node.file, method: method.id, params });
}

interface NeuronChoice {
  label: string;
  /** index per non-batch dimension */
  coords: number[];
  /** row-major index within one example */
  flat: number;
}

/**
 * Channels of a (1,C,H,W) layer (the neuron at the channel's centre) or units of a (1,N) layer;
 * for (1,T,D) token layers, units of the first token.
 */
export async function pickNeuron(dims: readonly number[]): Promise<NeuronChoice | undefined> {
  const shape = dims.slice(1);
  if (shape.length === 0) return undefined;
  const unitAxis = shape.length === 2 ? 1 : 0;
  const count = shape[unitAxis];
  const centre = shape.map((d, i) => (i === unitAxis ? 0 : shape.length === 2 ? 0 : Math.floor(d / 2)));
  const kind = shape.length >= 3 ? vscode.l10n.t('channel') : vscode.l10n.t('unit');
  const items = Array.from({ length: Math.min(count, 4096) }, (_, i) => {
    const coords = centre.map((c, a) => (a === unitAxis ? i : c));
    let flat = 0;
    for (let a = 0; a < shape.length; a++) flat = flat * shape[a] + coords[a];
    return { label: `${kind} ${i}`, description: `(${coords.join(', ')})`, coords, flat };
  });
  const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Which {0}? ({1} in all)', kind, count), matchOnDescription: true, ignoreFocusOut: true });
  return pick && { label: pick.label, coords: pick.coords, flat: pick.flat };
}
