// Workspace Trust: in Restricted Mode no model is loaded or run (the rules live in trustGate.ts).
import * as vscode from 'vscode';
import type { WorkspaceTrust } from '../shared/protocol';
import { TrustGate, trustState as gateState } from './trustGate';

/** This window's trust, asked afresh each time (trust can be granted while the extension runs). */
export const workspaceTrust: TrustGate = {
  trusted: () => vscode.workspace.isTrusted,
  reason: () => vscode.l10n.t('This workspace is in Restricted Mode, so Attribution Lens does not run models from it. Trust the workspace to run attributions.'),
};

export function isTrusted(): boolean {
  return workspaceTrust.trusted();
}

export function trustState(): WorkspaceTrust {
  return gateState(workspaceTrust);
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
