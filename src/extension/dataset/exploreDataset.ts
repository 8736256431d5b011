// Explore Dataset: a folder from the Explorer (or picked from the palette) evaluated by a model in
// the dataset view. The model: the folder's only .onnx, else the workspace's only one, else a pick.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { chooseModel } from '../modelPicker';
import { EXCLUDE_GLOB, displayName } from '../models';
import { isTrusted, requireTrust, workspaceTrust } from '../trust';
import { hasImages } from './datasetFiles';
import type { DatasetPanels } from './datasetPanel';

export async function exploreDataset(deps: Deps, panels: DatasetPanels, uri?: vscode.Uri): Promise<void> {
  const folder = uri instanceof vscode.Uri ? uri : await chooseFolder();
  if (!folder) return;
  if (folder.scheme !== 'file' || !isDirectory(folder.fsPath)) {
    throw new Error(vscode.l10n.t('{0} is not a folder: Explore Dataset needs a folder of images, one sub-folder per label', displayName(folder.fsPath)));
  }
  if (!isTrusted()) {
    // the view says why nothing runs; the notification offers to manage trust
    panels.message(folder, workspaceTrust.reason());
    void requireTrust();
    return;
  }
  if (!hasImages(folder.fsPath)) {
    panels.message(folder, vscode.l10n.t('No images in {0}: a dataset folder holds one sub-folder of images per label ({1}/<label>/*.png).', displayName(folder.fsPath), path.basename(folder.fsPath)));
    return;
  }
  const model = await modelFor(deps, folder);
  if (!model) return;
  panels.show(folder, model);
}

async function modelFor(deps: Deps, folder: vscode.Uri): Promise<string | undefined> {
  const inFolder = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/*.onnx'), EXCLUDE_GLOB, 2);
  if (inFolder.length === 1) return inFolder[0].fsPath;
  // several in the workspace: always asked (a dataset is often run against more than one model)
  return chooseModel(deps.models, folder, true);
}

async function chooseFolder(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    openLabel: vscode.l10n.t('Explore Dataset'),
    title: vscode.l10n.t('Attribution Lens: a folder of images, one sub-folder per label'),
  });
  return picked?.[0];
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
