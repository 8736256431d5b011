// Which model to run: the only one, the one last used for the folder, or the user's pick.
import * as path from 'path';
import * as vscode from 'vscode';
import { ModelService, describeIO, displayName } from './models';

interface ModelPick extends vscode.QuickPickItem {
  file: string;
}

/** Resolves the model for `resource` (an input file); undefined when the user backs out. */
export async function chooseModel(models: ModelService, resource?: vscode.Uri, alwaysAsk = false): Promise<string | undefined> {
  const uris = await models.list();
  if (uris.length === 0) {
    void vscode.window.showErrorMessage(vscode.l10n.t('No .onnx model in this workspace: add one (for example with torch.onnx.export) and try again.'));
    return undefined;
  }
  if (uris.length === 1) return uris[0].fsPath;
  if (!alwaysAsk) {
    const last = models.active(resource);
    if (last) return last;
  }
  const file = await pickFromList(models, uris);
  if (file) await models.setActive(file, resource);
  return file;
}

/** A quick pick of the models; each row's detail fills in with its input shapes once inspected. */
async function pickFromList(models: ModelService, uris: vscode.Uri[]): Promise<string | undefined> {
  const qp = vscode.window.createQuickPick<ModelPick>();
  qp.title = vscode.l10n.t('Attribution Lens: choose the model');
  qp.placeholder = vscode.l10n.t('Model to explain the prediction with');
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  const items: ModelPick[] = uris.map((u) => ({
    file: u.fsPath,
    label: path.basename(u.fsPath),
    description: path.dirname(displayName(u.fsPath)) === '.' ? '' : path.dirname(displayName(u.fsPath)),
    detail: vscode.l10n.t('reading inputs…'),
  }));
  qp.items = items;
  qp.busy = true;
  let open = true;
  void Promise.allSettled(
    items.map(async (item) => {
      try {
        const ins = await models.inspect(item.file);
        item.detail = ins.inputs.map((i) => `${i.name} ${describeIO(i)}`).join(', ');
      } catch (e) {
        item.detail = `$(warning) ${(e as Error).message}`;
      }
      if (open) qp.items = [...items];
    }),
  ).then(() => {
    if (open) qp.busy = false;
  });
  const picked = await new Promise<ModelPick | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0]));
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  open = false;
  qp.dispose();
  return picked?.file;
}

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp', 'tif', 'tiff'];

export function isImage(uri: vscode.Uri): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(uri.fsPath).slice(1).toLowerCase());
}

/** The image to attribute: the active image editor's file, else a pick among workspace images. */
export async function chooseImage(): Promise<vscode.Uri | undefined> {
  const active = activeImage();
  const found = await vscode.workspace.findFiles(`**/*.{${IMAGE_EXTENSIONS.join(',')}}`, '**/{node_modules,.git,.e2e,out,dist}/**', 2000);
  type ImagePick = vscode.QuickPickItem & { uri?: vscode.Uri };
  const browse: ImagePick = { label: `$(folder-opened) ${vscode.l10n.t('Browse…')}` };
  const items: ImagePick[] = [
    ...found
      .sort((a, b) => (a.fsPath === active?.fsPath ? -1 : b.fsPath === active?.fsPath ? 1 : a.fsPath.localeCompare(b.fsPath)))
      .map((uri) => ({ uri, label: path.basename(uri.fsPath), description: path.dirname(displayName(uri.fsPath)) })),
    browse,
  ];
  const pick = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Attribution Lens: choose the image'), matchOnDescription: true });
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  const chosen = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { [vscode.l10n.t('Images')]: IMAGE_EXTENSIONS },
    openLabel: vscode.l10n.t('Attribute'),
  });
  return chosen?.[0];
}

/** The file of the active editor tab when it is an image (image preview or text). */
export function activeImage(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri && isImage(uri) ? uri : undefined;
}
