// Inspect Model and the Models view's context actions.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MethodInfo, ModelInspection } from '../../engine';
import type { ParamValues } from '../../shared/protocol';
import type { Deps } from '../deps';
import { activeImage, chooseImage, chooseModel } from '../modelPicker';
import { describeIO } from '../models';
import { moduleSegments } from '../moduleTree';
import { findModuleDefinition } from '../sourceLocator';
import { requireTrust } from '../trust';
import type { LayerNode, ModelsNode, ModuleTreeNode } from '../views/modelsView';
import { attributeImage } from './attributeImage';

export async function inspectModel(deps: Deps, node?: ModelsNode | vscode.Uri): Promise<void> {
  const file = node instanceof vscode.Uri ? node.fsPath : node && 'file' in node ? node.file : await chooseModel(deps.models, undefined, true);
  if (!file || !(await requireTrust())) return;
  const ins = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Inspecting {0}…', path.basename(file)) },
    () => deps.models.inspect(file),
  );
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: inspectionMarkdown(file, ins) });
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
}

const MAX_LAYER_ROWS = 500;

export function inspectionMarkdown(file: string, ins: ModelInspection): string {
  const io = (list: ModelInspection['inputs']) => list.map((x) => `| \`${x.name}\` | ${describeIO(x)} |`).join('\n');
  const ops = Object.entries(ins.opCounts).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ×${n}`).join(', ');
  return [
    `# ${path.basename(file)}`,
    '',
    `IR ${ins.irVersion} · opset ${ins.opset} · ${ins.producer || 'unknown producer'} · ${ins.batchable ? 'batches' : 'batch 1 only'}`,
    '',
    '| input | shape |',
    '| --- | --- |',
    io(ins.inputs),
    '',
    '| output | shape |',
    '| --- | --- |',
    io(ins.outputs),
    '',
    `**Labels:** ${ins.labels ? `${ins.labels.length}${ins.labelSource ? ` (from ${ins.labelSource})` : ''}: ${ins.labels.slice(0, 10).join(', ')}${ins.labels.length > 10 ? ', …' : ''}` : 'none (add labels.txt beside the model)'}`,
    '',
    `**Gradients:** ${ins.gradients.supported ? 'supported' : `not available (${ins.gradients.unsupportedOps.length ? `no rule for ${ins.gradients.unsupportedOps.join(', ')}` : ins.gradients.message ?? 'unknown reason'}); perturbation methods still work`}`,
    '',
    `**Preprocessing:** ${preprocessingLine(ins)}`,
    '',
    `**Operators:** ${ops}`,
    '',
    `**Layers:** ${ins.layers.length}${ins.layers.length > MAX_LAYER_ROWS ? ` (the first ${MAX_LAYER_ROWS} below)` : ''}`,
    '',
    '| layer | module | op | shape |',
    '| --- | --- | --- | --- |',
    ...ins.layers.slice(0, MAX_LAYER_ROWS).map((l) => `| \`${l.name}\` | ${l.module || '—'} | ${l.op} | [${l.dims.join(', ')}] |`),
    '',
  ].join('\n');
}

/** The first image input's preprocessing and where it came from (guessed: how to set it). */
function preprocessingLine(ins: ModelInspection): string {
  if (ins.preprocessingError) return `cannot be used: ${ins.preprocessingError}`;
  const p = ins.preprocessing?.config;
  if (!p) return 'no image input';
  const values = `${p.layout} ${p.channels} ${p.size[0]}×${p.size[1]} ${p.resize}, ×${Number(p.scale.toFixed(8))}, mean [${p.mean.join(', ')}], std [${p.std.join(', ')}]`;
  return `${values}: ${p.source === 'guessed' ? '**guessed**' : `from ${p.source}`}${p.note ? ` (${p.note})` : ''}`;
}

export async function setActiveModel(deps: Deps, node?: ModelsNode): Promise<void> {
  const file = node && 'file' in node ? node.file : await chooseModel(deps.models, undefined, true);
  if (file) await deps.models.setActive(file);
}

export async function revealModelFile(node?: ModelsNode): Promise<void> {
  if (node && 'file' in node) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(node.file));
}

export async function useLayerForCam(deps: Deps, node?: LayerNode): Promise<void> {
  if (node?.kind !== 'layer') return;
  await deps.panel.setCamLayer(node.file, node.layer.name);
  void vscode.window.showInformationMessage(vscode.l10n.t('CAM methods on {0} now use layer {1}.', path.basename(node.file), node.layer.name));
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
  const method = await pickMethod(deps, ['layer', 'cam'], vscode.l10n.t('Attribute the prediction to {0}', node.layer.name));
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
  const method = await pickMethod(deps, ['neuron'], vscode.l10n.t('Attribute {0} of {1} to the input', sel.label, node.layer.name));
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
