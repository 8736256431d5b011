// The dataset view's host side: one webview panel per data folder. It runs the folder through the
// model in the engine process (progress streamed, Cancel aborts the engine-side run), posts the
// report, and opens the Attribution panel on an item the user clicks. Every webview message is
// checked (isFromDatasetView) and an item path must be one of the report's, inside the folder.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { type DatasetReport, type FromDatasetView, type ToDatasetView, isFromDatasetView } from '../../shared/datasetProtocol';
import { attributeImage } from '../commands/attributeImage';
import { readSettings } from '../config';
import type { Deps } from '../deps';
import { CallCancelledError, type EngineCall } from '../engine/engineClient';
import { displayName } from '../models';
import { errorMessage } from '../panel/attributionPanel';
import { trustState } from '../trust';
import { DATASET_RESOURCE_DIRS, datasetDocument } from './datasetDocument';
import { type SavedDatasetView, itemFile, restoredDatasetView, savedDatasetViews } from './datasetFiles';

export const DATASET_VIEW_TYPE = 'attributionLens.dataset';
/** folder → model of the views the host opened, newest first: what a window reload may reopen */
const VIEWS_KEY = 'attributionLens.datasetViews';
const MAX_SAVED_VIEWS = 20;

type State =
  | { kind: 'running'; done: number; total: number; phase?: string }
  | { kind: 'report'; report: DatasetReport; seconds: number }
  | { kind: 'cancelled'; done: number; total: number }
  | { kind: 'error'; message: string };

/** The open dataset views, one per folder. */
export class DatasetPanels implements vscode.Disposable {
  private readonly open = new Map<string, DatasetPanel>();

  constructor(private readonly deps: Deps) {}

  /** Shows the folder's view (reusing an open one) and evaluates the folder with `model`. */
  show(folder: vscode.Uri, model: string): DatasetPanel {
    const p = this.panelFor(folder);
    p.run(model);
    this.remember({ folder: folder.fsPath, model });
    return p;
  }

  /**
   * Takes over a view VS Code restored after a window reload (see the serializer) and runs its
   * folder again. The webview's state only names the view: the folder and model must be ones this
   * host recorded, so a forged state cannot open another folder.
   */
  restore(webviewPanel: vscode.WebviewPanel, state: unknown): void {
    const saved = restoredDatasetView(state, this.deps.context.workspaceState.get<unknown>(VIEWS_KEY));
    if (!saved || this.open.has(saved.folder)) {
      webviewPanel.dispose();
      return;
    }
    const p = new DatasetPanel(this.deps, vscode.Uri.file(saved.folder), () => this.open.delete(saved.folder), webviewPanel);
    this.open.set(saved.folder, p);
    if (fs.existsSync(saved.model)) p.run(saved.model);
    else p.fail(vscode.l10n.t('The model {0} is gone: run Explore Dataset on the folder again.', displayName(saved.model)));
  }

  private remember(view: SavedDatasetView): void {
    const rest = savedDatasetViews(this.deps.context.workspaceState.get<unknown>(VIEWS_KEY)).filter((v) => v.folder !== view.folder);
    void this.deps.context.workspaceState.update(VIEWS_KEY, [view, ...rest].slice(0, MAX_SAVED_VIEWS));
  }

  /** Shows the folder's view with a one-line message instead of a report. */
  message(folder: vscode.Uri, text: string): void {
    this.panelFor(folder).fail(text);
  }

  private panelFor(folder: vscode.Uri): DatasetPanel {
    const key = folder.fsPath;
    const open = this.open.get(key);
    if (open) {
      open.reveal();
      return open;
    }
    const p = new DatasetPanel(this.deps, folder, () => this.open.delete(key));
    this.open.set(key, p);
    return p;
  }

  /** The open view of a folder, if any (tests, diagnostics). */
  get(folder: vscode.Uri): DatasetPanel | undefined {
    return this.open.get(folder.fsPath);
  }

  dispose(): void {
    for (const p of [...this.open.values()]) p.dispose();
    this.open.clear();
  }
}

export class DatasetPanel implements vscode.Disposable {
  private readonly panel: vscode.WebviewPanel;
  private readonly subs: vscode.Disposable[] = [];
  private ready = false;
  private model: string | undefined;
  private state: State | undefined;
  private call: EngineCall<unknown> | undefined;
  private runSeq = 0;

  /** `restored`: the panel VS Code brought back after a window reload, instead of a new one */
  constructor(private readonly deps: Deps, private readonly folder: vscode.Uri, onDispose: () => void, restored?: vscode.WebviewPanel) {
    const ext = deps.context.extensionUri;
    const options = {
      enableScripts: true,
      enableCommandUris: false,
      // the extension's bundle, and the data folder for the thumbnails: nothing else
      localResourceRoots: [...DATASET_RESOURCE_DIRS.map((d) => vscode.Uri.joinPath(ext, d)), folder],
    };
    if (restored) {
      this.panel = restored;
      this.panel.webview.options = options;
    } else {
      this.panel = vscode.window.createWebviewPanel(
        DATASET_VIEW_TYPE,
        vscode.l10n.t('Dataset: {0}', path.basename(folder.fsPath)),
        { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
        options,
      );
    }
    this.panel.iconPath = vscode.Uri.joinPath(ext, 'media', 'attribution-lens.svg');
    this.panel.webview.html = datasetDocument({
      cspSource: this.panel.webview.cspSource,
      resourceUri: (rel) => this.panel.webview.asWebviewUri(vscode.Uri.joinPath(ext, ...rel.split('/'))).toString(),
      lang: vscode.env.language,
      title: this.panel.title,
    });
    this.subs.push(
      this.panel.webview.onDidReceiveMessage((m: unknown) => void this.receive(m)),
      // a hidden webview is torn down; it says `ready` again when shown and gets the state replayed
      this.panel.onDidChangeViewState(() => {
        if (!this.panel.visible) this.ready = false;
      }),
      this.panel.onDidDispose(() => {
        this.call?.cancel();
        this.call = undefined;
        this.subs.forEach((s) => s.dispose());
        onDispose();
      }),
    );
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  /** Evaluates the folder with `model`; a run already going is cancelled first. */
  run(model: string): void {
    this.model = model;
    this.call?.cancel();
    const seq = ++this.runSeq;
    const trust = trustState();
    if (trust.restricted) {
      this.setState({ kind: 'error', message: trust.reason });
      return;
    }
    this.setState({ kind: 'running', done: 0, total: 0 });
    const started = Date.now();
    const settings = readSettings(this.folder);
    const call = this.deps.models.engine.call(
      'dataset',
      // the preprocessing setting applies as in the Attribution panel (its InputRef.options)
      { model: { file: model, runtime: settings.runtime }, data: this.folder.fsPath, batchSize: settings.batchSize || undefined, preprocess: settings.preprocessing },
      (p) => {
        if (seq !== this.runSeq) return;
        this.state = { kind: 'running', done: p.done, total: p.total, phase: p.phase };
        this.post({ type: 'progress', done: p.done, total: p.total, phase: p.phase });
      },
    );
    this.call = call;
    call.promise.then(
      (report) => {
        if (seq !== this.runSeq) return;
        this.call = undefined;
        this.deps.log(`dataset ${this.folder.fsPath}: ${report.summary}`);
        this.setState({ kind: 'report', report, seconds: (Date.now() - started) / 1000 });
      },
      (e: unknown) => {
        if (seq !== this.runSeq) return;
        this.call = undefined;
        if (e instanceof CallCancelledError) {
          const s = this.state;
          const [done, total] = s?.kind === 'running' ? [s.done, s.total] : [0, 0];
          this.setState({ kind: 'cancelled', done, total });
          return;
        }
        this.deps.log(`dataset ${this.folder.fsPath}: ${(e as Error)?.stack ?? e}`);
        this.setState({ kind: 'error', message: errorMessage(e) });
      },
    );
  }

  /** Shows a one-line message instead of a report (a folder without images, no model). */
  fail(message: string): void {
    this.call?.cancel();
    this.runSeq++;
    this.setState({ kind: 'error', message });
  }

  private setState(s: State): void {
    this.state = s;
    this.postState();
  }

  private postState(): void {
    const s = this.state;
    if (!s) return;
    switch (s.kind) {
      case 'running':
        this.post({ type: 'progress', done: s.done, total: s.total, phase: s.phase });
        return;
      case 'report':
        this.post({ type: 'report', report: s.report, seconds: s.seconds });
        return;
      case 'cancelled':
        this.post({ type: 'cancelled', done: s.done, total: s.total });
        return;
      case 'error':
        this.post({ type: 'error', message: s.message });
        return;
    }
  }

  private post(msg: ToDatasetView): void {
    if (this.ready) void this.panel.webview.postMessage(msg);
  }

  private async receive(raw: unknown): Promise<void> {
    if (!isFromDatasetView(raw)) {
      this.deps.log(`ignored a malformed message from the dataset view: ${preview(raw)}`);
      return;
    }
    const msg: FromDatasetView = raw;
    try {
      switch (msg.type) {
        case 'ready':
          this.ready = true;
          this.post({
            type: 'init',
            folder: displayName(this.folder.fsPath),
            model: this.model ? displayName(this.model) : undefined,
            imageBase: this.panel.webview.asWebviewUri(this.folder).toString(),
            restoreKey: this.folder.fsPath,
          });
          this.postState();
          return;
        case 'cancel':
          this.call?.cancel();
          return;
        case 'rerun':
          // without a model (Restricted Mode, no images) the command starts over: trust, images, model
          if (this.model) this.run(this.model);
          else await vscode.commands.executeCommand('attributionLens.exploreDataset', this.folder);
          return;
        case 'openItem': {
          const report = this.state?.kind === 'report' ? this.state.report : undefined;
          const file = report ? itemFile(this.folder.fsPath, report.items, msg.path) : undefined;
          if (!file || !this.model) {
            this.deps.log(`refused to open '${msg.path.slice(0, 200)}' from the dataset view: not an item of its report`);
            return;
          }
          await attributeImage(this.deps, vscode.Uri.file(file), { model: this.model });
          return;
        }
      }
    } catch (e) {
      this.deps.log(`dataset view ${msg.type}: ${(e as Error)?.stack ?? e}`);
      void vscode.window.showErrorMessage(errorMessage(e));
    }
  }

  dispose(): void {
    this.panel.dispose();
  }
}

function preview(raw: unknown): string {
  try {
    return (JSON.stringify(raw) ?? String(raw)).slice(0, 200);
  } catch {
    return String(raw).slice(0, 200);
  }
}
