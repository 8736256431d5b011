// Which model to run: the only one, the one last used for the folder, or the user's pick.
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { isUnder, resolveOutputFolder } from './exportFormats';
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

/** Where exports go for `resource` (its workspace folder's `attributionLens.outputFolder`). */
export function outputFolder(resource?: vscode.Uri, fallbackDir = os.tmpdir()): string {
  const folder = resource ? vscode.workspace.getWorkspaceFolder(resource) : vscode.workspace.workspaceFolders?.[0];
  const setting = vscode.workspace.getConfiguration('attributionLens', folder?.uri ?? resource).get<string>('outputFolder');
  return resolveOutputFolder(setting, folder?.uri.fsPath, fallbackDir, os.homedir());
}

/** Every workspace folder's output folder. */
export function outputFolders(): string[] {
  return [...new Set((vscode.workspace.workspaceFolders ?? []).map((f) => outputFolder(f.uri)))];
}

/** An exported file (under an output folder): never an input. */
export function isExport(uri: vscode.Uri, folders = outputFolders()): boolean {
  return folders.some((f) => isUnder(uri.fsPath, f));
}

/** An image that may be attributed: an image file that is not one of our exports. */
export function isInputImage(uri: vscode.Uri): boolean {
  return isImage(uri) && !isExport(uri);
}

/**
 * Keeps the `attributionLens.exportFolders` context key (the output folders) current, so the
 * Explorer and editor menus leave exported images out (`resourceDirname not in …`).
 */
export function watchOutputFolders(): vscode.Disposable {
  const publish = () => void vscode.commands.executeCommand('setContext', 'attributionLens.exportFolders', outputFolders());
  publish();
  return vscode.Disposable.from(
    vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('attributionLens.outputFolder')) publish(); }),
    vscode.workspace.onDidChangeWorkspaceFolders(publish),
  );
}

/** The image to attribute: the active image editor's file, else a pick among workspace images. */
export async function chooseImage(): Promise<vscode.Uri | undefined> {
  const active = activeImage();
  const exports = outputFolders();
  const found = (await vscode.workspace.findFiles(`**/*.{${IMAGE_EXTENSIONS.join(',')}}`, '**/{node_modules,.git,.e2e,out,dist,.attribution-lens}/**', 2000))
    .filter((uri) => !isExport(uri, exports));
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
  return uri && isInputImage(uri) ? uri : undefined;
}
