// The Runs view: this window's attributions; clicking one shows it in the panel again.
import * as path from 'path';
import * as vscode from 'vscode';
import { RunRecord, RunStore, runTitle } from '../runs';

export class RunsView implements vscode.TreeDataProvider<RunRecord>, vscode.Disposable {
  static readonly id = 'attributionLens.runs';
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly runs: RunStore) {
    this.sub = runs.onDidChange(() => this.changed.fire());
  }

  getChildren(element?: RunRecord): RunRecord[] {
    return element ? [] : [...this.runs.all()];
  }

  getTreeItem(run: RunRecord): vscode.TreeItem {
    const item = new vscode.TreeItem(runTitle(run), vscode.TreeItemCollapsibleState.None);
    const time = new Date(run.createdAt).toLocaleTimeString();
    item.description = `${path.basename(run.imageFile)} · ${time}`;
    const seconds = run.results.reduce((s, r) => s + r.seconds, 0);
    item.tooltip = new vscode.MarkdownString(
      [
        `**${runTitle(run)}**`,
        `${vscode.l10n.t('Model')}: \`${path.basename(run.modelFile)}\``,
        `${vscode.l10n.t('Image')}: \`${path.basename(run.imageFile)}\``,
        `${vscode.l10n.t('Time')}: ${seconds.toFixed(2)} s`,
        ...(run.errors ?? []).map((e) => `$(error) ${e.method}: ${e.message}`),
      ].join('\n\n'),
      true,
    );
    item.iconPath = new vscode.ThemeIcon(run.kind === 'compare' ? 'split-horizontal' : 'flame');
    item.contextValue = 'run';
    item.command = { command: 'attributionLens.runs.open', title: vscode.l10n.t('Show in Attribution Panel'), arguments: [run.id] };
    return item;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
