// The Models view: every .onnx in the workspace → inputs, outputs, labels, layers by module.
import * as path from 'path';
import * as vscode from 'vscode';
import type { IOInfo, ModelInspection } from '../../engine';
import { LayerEntry, ModuleNode, buildModuleTree, countLayers } from '../moduleTree';
import { ModelService, describeIO, displayName } from '../models';
import { isSpatialLayer, layerDisplayNames } from '../../shared/layerNames';
import { isTrusted } from '../trust';

export type ModelsNode =
  | { kind: 'model'; file: string }
  | { kind: 'section'; file: string; section: 'inputs' | 'outputs' | 'labels' | 'layers' }
  | { kind: 'io'; file: string; role: 'input' | 'output'; io: IOInfo }
  | { kind: 'label'; file: string; index: number; label: string }
  | { kind: 'module'; file: string; node: ModuleNode }
  /** `display`: the layer's one name (src/shared/layerNames.ts), as the panel and the .onnx editor show it */
  | { kind: 'layer'; file: string; layer: LayerEntry; display: string }
  | { kind: 'message'; text: string; icon: string; tooltip?: string };

export type LayerNode = Extract<ModelsNode, { kind: 'layer' }>;
export type ModuleTreeNode = Extract<ModelsNode, { kind: 'module' }>;

export class ModelsView implements vscode.TreeDataProvider<ModelsNode>, vscode.Disposable {
  static readonly id = 'attributionLens.models';
  private readonly changed = new vscode.EventEmitter<ModelsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly trees = new Map<string, Tree>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly models: ModelService) {
    this.subs.push(
      models.onDidChange(() => this.refresh()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()),
    );
  }

  refresh(): void {
    this.trees.clear();
    this.changed.fire(undefined);
  }

  async getChildren(element?: ModelsNode): Promise<ModelsNode[]> {
    if (!element) return (await this.models.list()).map((u) => ({ kind: 'model', file: u.fsPath }));
    switch (element.kind) {
      case 'model':
        return this.modelChildren(element.file);
      case 'section':
        return this.sectionChildren(element);
      case 'module':
        return moduleChildren(element.file, element.node, (await this.load(element.file)).names);
      default:
        return [];
    }
  }

  private async load(file: string): Promise<Tree> {
    const ins = await this.models.inspect(file);
    let t = this.trees.get(file);
    if (!t || t.ins !== ins) {
      t = { ins, root: buildModuleTree(ins.layers), names: layerDisplayNames(ins.layers) };
      this.trees.set(file, t);
    }
    return t;
  }

  private async modelChildren(file: string): Promise<ModelsNode[]> {
    if (!isTrusted()) return [{ kind: 'message', icon: 'shield', text: vscode.l10n.t('Restricted Mode: trust the workspace to inspect this model') }];
    try {
      const { ins } = await this.load(file);
      const out: ModelsNode[] = [
        { kind: 'section', file, section: 'inputs' },
        { kind: 'section', file, section: 'outputs' },
      ];
      if (ins.labels?.length) out.push({ kind: 'section', file, section: 'labels' });
      out.push({ kind: 'section', file, section: 'layers' });
      if (!ins.gradients.supported) {
        out.push({
          kind: 'message',
          icon: 'warning',
          text: vscode.l10n.t('Gradient methods unavailable: no gradient rule for {0}', ins.gradients.unsupportedOps.join(', ')),
        });
      }
      return out;
    } catch (e) {
      const message = (e as Error).message;
      return [{ kind: 'message', icon: 'error', text: message, tooltip: message }];
    }
  }

  private async sectionChildren(n: Extract<ModelsNode, { kind: 'section' }>): Promise<ModelsNode[]> {
    const { ins, root, names } = await this.load(n.file);
    switch (n.section) {
      case 'inputs':
        return ins.inputs.map((io) => ({ kind: 'io', file: n.file, role: 'input', io }));
      case 'outputs':
        return ins.outputs.map((io) => ({ kind: 'io', file: n.file, role: 'output', io }));
      case 'labels':
        return (ins.labels ?? []).map((label, index) => ({ kind: 'label', file: n.file, index, label }));
      case 'layers':
        return moduleChildren(n.file, root, names);
    }
  }

  getTreeItem(n: ModelsNode): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (n.kind) {
      case 'model': {
        const active = this.models.isActive(n.file);
        const item = new vscode.TreeItem(path.basename(n.file), C.Collapsed);
        item.resourceUri = vscode.Uri.file(n.file);
        const dir = path.dirname(displayName(n.file));
        item.description = [active ? vscode.l10n.t('active') : '', dir === '.' ? '' : dir].filter(Boolean).join(' · ');
        item.iconPath = new vscode.ThemeIcon(active ? 'pass-filled' : 'circuit-board');
        item.tooltip = n.file;
        item.contextValue = active ? 'model.active' : 'model';
        item.id = `model:${n.file}`;
        return item;
      }
      case 'section': {
        const t = this.trees.get(n.file);
        const titles = {
          inputs: vscode.l10n.t('Inputs'),
          outputs: vscode.l10n.t('Outputs'),
          labels: vscode.l10n.t('Labels'),
          layers: vscode.l10n.t('Layers'),
        };
        const icons = { inputs: 'arrow-right', outputs: 'arrow-left', labels: 'tag', layers: 'layers' };
        const item = new vscode.TreeItem(titles[n.section], n.section === 'inputs' || n.section === 'outputs' ? C.Expanded : C.Collapsed);
        if (t) {
          const count = { inputs: t.ins.inputs.length, outputs: t.ins.outputs.length, labels: t.ins.labels?.length ?? 0, layers: t.ins.layers.length }[n.section];
          item.description = String(count);
          if (n.section === 'labels' && t.ins.labelSource) item.tooltip = vscode.l10n.t('from {0}', t.ins.labelSource);
        }
        item.iconPath = new vscode.ThemeIcon(icons[n.section]);
        item.id = `section:${n.file}:${n.section}`;
        return item;
      }
      case 'io': {
        const item = new vscode.TreeItem(n.io.name, C.None);
        item.description = describeIO(n.io);
        item.iconPath = new vscode.ThemeIcon(n.role === 'input' ? 'symbol-parameter' : 'symbol-event');
        item.contextValue = n.role;
        return item;
      }
      case 'label': {
        const item = new vscode.TreeItem(n.label, C.None);
        item.description = String(n.index);
        item.iconPath = new vscode.ThemeIcon('symbol-constant');
        item.contextValue = 'label';
        return item;
      }
      case 'module': {
        const item = new vscode.TreeItem(n.node.segment, C.Collapsed);
        const count = countLayers(n.node);
        item.description = count === 1 ? vscode.l10n.t('1 layer') : vscode.l10n.t('{0} layers', count);
        item.iconPath = new vscode.ThemeIcon('symbol-module');
        item.tooltip = n.node.path.join(' › ');
        item.contextValue = 'module';
        item.id = `module:${n.file}:${n.node.path.join('/')}`;
        return item;
      }
      case 'layer': {
        // the same name as the panel's pickers and summaries; the tensor name in the tooltip
        const item = new vscode.TreeItem(n.display, C.None);
        item.description = `${n.layer.op} [${n.layer.dims.join(', ')}]`;
        item.tooltip = new vscode.MarkdownString(`**${n.display}**\n\n${n.layer.op} → [${n.layer.dims.join(', ')}]\n\n${vscode.l10n.t('tensor')}: \`${n.layer.name}\``);
        item.iconPath = new vscode.ThemeIcon('symbol-field');
        // 'layer': a CAM can use it (Use This Layer for CAM Methods); 'layer.flat'/'layer.scalar': not
        item.contextValue = isSpatialLayer(n.layer) ? 'layer' : n.layer.dims.length >= 2 ? 'layer.flat' : 'layer.scalar';
        item.id = `layer:${n.file}:${n.layer.name}`;
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(n.text, C.None);
        item.iconPath = new vscode.ThemeIcon(n.icon);
        item.tooltip = n.tooltip ?? n.text;
        return item;
      }
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}

interface Tree {
  ins: ModelInspection;
  root: ModuleNode;
  /** tensor name → display name */
  names: Map<string, string>;
}

function moduleChildren(file: string, node: ModuleNode, names: Map<string, string>): ModelsNode[] {
  return [
    ...node.children.map((c): ModelsNode => ({ kind: 'module', file, node: c })),
    ...node.layers.map((layer): ModelsNode => ({ kind: 'layer', file, layer, display: names.get(layer.name) ?? layer.name })),
  ];
}
