// Open Attribution Panel, Compare Methods, Export Attribution…, and the Runs view's commands.
import * as vscode from 'vscode';
import type { Deps } from '../deps';
import type { ExportFormat } from '../exportFormats';
import { comparableMethods, compareSet } from '../../shared/compare';
import { activeImage } from '../modelPicker';
import { attributeImage } from './attributeImage';

export async function openPanel(deps: Deps): Promise<void> {
  deps.panel.show();
  const image = activeImage();
  const model = image ? deps.models.active(image) : undefined;
  if (!deps.panel.context && image && model) await deps.panel.load(model, image);
}

/**
 * Runs `attributionLens.compareMethods` on the panel's image (asking for one first when there is
 * none). The pick starts from that setting, and a changed pick is written back to it, so the
 * panel's checkboxes and the palette always name the same methods.
 */
export async function compareMethods(deps: Deps): Promise<void> {
  if (!deps.panel.context) {
    const image = activeImage();
    await attributeImage(deps, image);
    if (!deps.panel.context) return;
  }
  const methods = await deps.models.methods();
  const config = vscode.workspace.getConfiguration('attributionLens');
  const wanted = compareSet(methods, config.get<string[]>('compareMethods') ?? []);
  // the current set first, in its order: with 40-odd methods the others would hide it below the fold
  const rank = (id: string) => (wanted.includes(id) ? wanted.indexOf(id) : wanted.length);
  const listed = comparableMethods(methods).map((m, i) => ({ m, i })).sort((a, b) => rank(a.m.id) - rank(b.m.id) || a.i - b.i).map(({ m }) => m);
  const picks = await vscode.window.showQuickPick(
    listed.map((m) => ({ label: m.id, description: m.captumName, detail: m.description, picked: wanted.includes(m.id), id: m.id })),
    { canPickMany: true, title: vscode.l10n.t('Attribution Lens: {0}', vscode.l10n.t('Compare Methods')), placeHolder: vscode.l10n.t('methods to compare (attributionLens.compareMethods)'), matchOnDescription: true },
  );
  if (!picks || picks.length === 0) return;
  const chosen = compareSet(methods, picks.map((p) => p.id));
  if (chosen.join() !== wanted.join()) await deps.panel.setCompareMethods(chosen);
  deps.panel.show();
  await deps.panel.compare({ methods: chosen });
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
