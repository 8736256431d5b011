// Explain Generation: the selected text (or text typed into an input box) as the prompt of a
// causal language model of the workspace; the generation view shows what it continues with and
// which prompt tokens made it say so.
import * as path from 'path';
import * as vscode from 'vscode';
import { readSettings } from '../config';
import type { Deps } from '../deps';
import type { GenerationPanel } from '../generation/generationPanel';
import { displayName } from '../models';
import { isTrusted, requireTrust } from '../trust';

const LAST_LM_KEY = 'attributionLens.activeLanguageModel';
/** Longer selections are cut: the engine refuses prompts longer than the model's positions anyway. */
const MAX_PROMPT = 20_000;

export async function explainGeneration(deps: Deps, panel: GenerationPanel): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
  const prompt = selected.trim() ? selected : await askForPrompt();
  if (!prompt?.trim()) return;
  if (!isTrusted()) {
    // the notification says why nothing runs and offers to manage trust
    void requireTrust();
    return;
  }
  const model = await chooseLanguageModel(deps, editor?.document.uri);
  if (!model) return;
  panel.show(model, prompt.slice(0, MAX_PROMPT));
}

function askForPrompt(): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Explain Generation'),
    prompt: vscode.l10n.t('The prompt a language model of the workspace should continue'),
    placeHolder: vscode.l10n.t('e.g. alice paris , bob rome ? bob'),
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : vscode.l10n.t('Type the prompt')),
  });
}

/** The workspace's causal LMs (input_ids → logits [batch, sequence, vocab]): the only one, the last used, or a pick. */
async function chooseLanguageModel(deps: Deps, resource?: vscode.Uri): Promise<string | undefined> {
  const uris = await deps.models.list();
  const checks = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Attribution Lens: looking for language models') },
    () => Promise.all(uris.map(async (u) => {
      try {
        const r = await deps.models.engine.call('lmModel', { model: { file: u.fsPath, runtime: readSettings(u).runtime } }).promise;
        return { file: u.fsPath, reason: r.lm ? undefined : r.reason };
      } catch (e) {
        return { file: u.fsPath, reason: (e as Error).message };
      }
    })),
  );
  const lms = checks.filter((c) => !c.reason).map((c) => c.file);
  if (lms.length === 0) {
    const why = checks.length ? ` ${vscode.l10n.t('Checked: {0}', checks.map((c) => `${displayName(c.file)} (${c.reason})`).join('; ').slice(0, 400))}` : '';
    void vscode.window.showErrorMessage(vscode.l10n.t('No causal language model in this workspace: add an .onnx decoder (input_ids → logits [batch, sequence, vocab], e.g. an optimum export) with its tokenizer.json beside it.') + why);
    return undefined;
  }
  const folder = resource ? vscode.workspace.getWorkspaceFolder(resource) : vscode.workspace.workspaceFolders?.[0];
  const key = folder?.uri.toString() ?? '';
  const remembered = deps.context.workspaceState.get<Record<string, string>>(LAST_LM_KEY, {});
  let file: string | undefined;
  if (lms.length === 1) file = lms[0];
  else if (remembered[key] && lms.includes(remembered[key])) file = remembered[key];
  else {
    const pick = await vscode.window.showQuickPick(
      lms.map((f) => ({ label: path.basename(f), description: path.dirname(displayName(f)) === '.' ? '' : path.dirname(displayName(f)), file: f })),
      { title: vscode.l10n.t('Attribution Lens: choose the language model'), placeHolder: vscode.l10n.t('Model to continue the prompt with') },
    );
    file = pick?.file;
  }
  if (file) await deps.context.workspaceState.update(LAST_LM_KEY, { ...remembered, [key]: file });
  return file;
}
