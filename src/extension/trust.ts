// Workspace Trust: in Restricted Mode no model is loaded or run.
import * as vscode from 'vscode';
import type { WorkspaceTrust } from '../shared/protocol';

export function isTrusted(): boolean {
  return vscode.workspace.isTrusted;
}

export function trustState(): WorkspaceTrust {
  return isTrusted()
    ? { restricted: false }
    : { restricted: true, reason: vscode.l10n.t('This workspace is in Restricted Mode, so Attribution Lens does not run models from it. Trust the workspace to run attributions.') };
}

/** Shows why nothing runs and offers to manage trust; returns true when trusted. */
export async function requireTrust(): Promise<boolean> {
  const t = trustState();
  if (!t.restricted) return true;
  const manage = vscode.l10n.t('Manage Workspace Trust');
  const pick = await vscode.window.showWarningMessage(t.reason, manage);
  if (pick === manage) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
