// Open Attribution Panel, Compare Methods, Export Attribution…, and the Runs view's commands.
import * as vscode from 'vscode';
import type { Deps } from '../deps';
import type { ExportFormat } from '../exportFormats';
import { activeImage } from '../modelPicker';
import { attributeImage } from './attributeImage';

export async function openPanel(deps: Deps): Promise<void> {
  deps.panel.show();
  const image = activeImage();
  const model = image ? deps.models.active(image) : undefined;
  if (!deps.panel.context && image && model) await deps.panel.load(model, image);
}

/** Runs several methods on the panel's image (asking for one first when there is none). */
export async function compareMethods(deps: Deps): Promise<void> {
  if (!deps.panel.context) {
    const image = activeImage();
    await attributeImage(deps, image);
    if (!deps.panel.context) return;
  }
  const methods = await deps.models.methods();
  const wanted = vscode.workspace.getConfiguration('attributionLens').get<string[]>('compareMethods') ?? [];
  const picks = await vscode.window.showQuickPick(
    methods
      // maps of the input (CAM maps are upsampled to it); layer and neuron methods need a layer
      .filter((m) => m.family !== 'layer' && m.family !== 'neuron')
      .map((m) => ({ label: m.id, description: m.captumName, detail: m.description, picked: wanted.includes(m.id), id: m.id })),
    { canPickMany: true, title: vscode.l10n.t('Attribution Lens: methods to compare'), matchOnDescription: true },
  );
  if (!picks || picks.length === 0) return;
  deps.panel.show();
  await deps.panel.compare({ methods: picks.map((p) => p.id).slice(0, 12) });
}

export async function exportAttribution(deps: Deps): Promise<void> {
  if (!deps.panel.lastRun) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Nothing to export yet: run an attribution first.'));
    return;
  }
  const items: Array<vscode.QuickPickItem & { format: ExportFormat }> = [
    { label: 'PNG', description: vscode.l10n.t('the view as the panel draws it'), format: 'png' },
    { label: 'NPY', description: vscode.l10n.t('raw attribution values for NumPy'), format: 'npy' },
    { label: 'JSON', description: vscode.l10n.t('values, shape, method, target, parameters and predictions'), format: 'json' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Export Attribution') });
  if (!pick) return;
  // PNG is drawn by the webview: it sends the canvas back and the panel's export takes it from there.
  if (pick.format === 'png') deps.panel.requestPngExport();
  else await deps.panel.export(pick.format);
}

export function openRun(deps: Deps, id: unknown): void {
  const run = typeof id === 'number' ? deps.runs.get(id) : undefined;
  if (run) deps.panel.showRun(run);
}
