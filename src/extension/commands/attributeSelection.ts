// Attribute Prediction for Selection: the selected text (or text typed into an input box)
// explained by a text model of the workspace, shown in the Attribution panel's text mode.
import * as path from 'path';
import * as vscode from 'vscode';
import { readSettings } from '../config';
import type { Deps } from '../deps';
import { displayName } from '../models';
import { isTrusted, requireTrust } from '../trust';

const LAST_TEXT_MODEL_KEY = 'attributionLens.activeTextModel';
/** Longer selections are cut: text models read a few hundred tokens at most. */
const MAX_TEXT = 20_000;

export async function attributeSelection(deps: Deps): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
  const text = selected.trim() ? selected : await askForText();
  if (!text?.trim()) return;
  if (!isTrusted()) {
    // The panel says why nothing runs; the notification offers to manage trust.
    deps.panel.show();
    void requireTrust();
    return;
  }
  const source = selected.trim() && editor?.document.uri.scheme === 'file' ? editor.document.uri.fsPath : undefined;
  const model = await chooseTextModel(deps, editor?.document.uri);
  if (!model) return;
  deps.panel.show();
  if (!(await deps.panel.loadText(model, text.slice(0, MAX_TEXT), source))) return;
  await deps.panel.text.run();
}

function askForText(): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Attribute Prediction for Text'),
    prompt: vscode.l10n.t('The text to explain with a text model of the workspace'),
    placeHolder: vscode.l10n.t('e.g. The movie was great.'),
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Type the text to explain')),
  });
}

/**
 * The text model: the workspace's .onnx files that take token ids; the only one, the one used
 * last for this folder, or a pick.
 */
async function chooseTextModel(deps: Deps, resource?: vscode.Uri): Promise<string | undefined> {
  const uris = await deps.models.list();
  const checks = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Attribution Lens: looking for text models') },
    () => Promise.all(uris.map(async (u) => {
      try {
        const r = await deps.models.engine.call('textModel', { model: { file: u.fsPath, runtime: readSettings(u).runtime } }).promise;
        return { file: u.fsPath, reason: r.text ? undefined : r.reason };
      } catch (e) {
        return { file: u.fsPath, reason: (e as Error).message };
      }
    })),
  );
  const text = checks.filter((c) => !c.reason).map((c) => c.file);
  if (text.length === 0) {
    const why = checks.length ? ` ${vscode.l10n.t('Checked: {0}', checks.map((c) => `${displayName(c.file)} (${c.reason})`).join('; ').slice(0, 400))}` : '';
    void vscode.window.showErrorMessage(
      vscode.l10n.t('No text model in this workspace: add an .onnx classifier with an input_ids input and its tokenizer.json beside it.') + why,
    );
    return undefined;
  }
  const key = folderKey(resource);
  const remembered = deps.context.workspaceState.get<Record<string, string>>(LAST_TEXT_MODEL_KEY, {});
  let file: string | undefined;
  if (text.length === 1) file = text[0];
  else if (remembered[key] && text.includes(remembered[key])) file = remembered[key];
  else {
    const pick = await vscode.window.showQuickPick(
      text.map((f) => ({ label: path.basename(f), description: path.dirname(displayName(f)) === '.' ? '' : path.dirname(displayName(f)), file: f })),
      { title: vscode.l10n.t('Attribution Lens: choose the text model'), placeHolder: vscode.l10n.t('Model to explain the prediction with') },
    );
    file = pick?.file;
  }
  if (file) await deps.context.workspaceState.update(LAST_TEXT_MODEL_KEY, { ...remembered, [key]: file });
  return file;
}

function folderKey(resource?: vscode.Uri): string {
  const folder = resource ? vscode.workspace.getWorkspaceFolder(resource) : vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.toString() ?? '';
}
