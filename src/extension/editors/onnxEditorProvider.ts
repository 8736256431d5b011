// The .onnx editor: opening a model shows its inspection (read-only, never dirty) with Attribute
// Prediction… and Set Active Model. Inspect Model opens the same view. In Restricted Mode the model
// is not read: the page says why and offers to manage trust.
import * as fs from 'fs';
import * as vscode from 'vscode';
import { isFromOnnxEditor } from '../../shared/onnxEditorProtocol';
import { attributeImage } from '../commands/attributeImage';
import type { Deps } from '../deps';
import { chooseImage } from '../modelPicker';
import { displayName } from '../models';
import { errorMessage } from '../panel/attributionPanel';
import { requireTrust, trustState } from '../trust';
import { ONNX_EDITOR_RESOURCE_DIRS, type Translate, errorBody, inspectionBody, loadingBody, onnxEditorPage, restrictedBody } from './onnxEditorDocument';

export const ONNX_EDITOR_VIEW_TYPE = 'attributionLens.onnxModel';

const t: Translate = (message, ...args) => vscode.l10n.t(message, ...args);

export class OnnxEditorProvider implements vscode.CustomReadonlyEditorProvider {
  static register(deps: Deps): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(ONNX_EDITOR_VIEW_TYPE, new OnnxEditorProvider(deps), {
      supportsMultipleEditorsPerDocument: true,
    });
  }

  private constructor(private readonly deps: Deps) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const file = document.uri.fsPath;
    const ext = this.deps.context.extensionUri;
    panel.webview.options = {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: ONNX_EDITOR_RESOURCE_DIRS.map((d) => vscode.Uri.joinPath(ext, d)),
    };
    const page = (body: string): string => onnxEditorPage({
      cspSource: panel.webview.cspSource,
      resourceUri: (rel) => panel.webview.asWebviewUri(vscode.Uri.joinPath(ext, ...rel.split('/'))).toString(),
      lang: vscode.env.language,
      title: displayName(file),
      body,
    });
    let seq = 0;
    const render = async (): Promise<void> => {
      const mine = ++seq;
      const trust = trustState();
      if (trust.restricted) {
        panel.webview.html = page(restrictedBody(trust.reason, t));
        return;
      }
      if (!panel.webview.html) panel.webview.html = page(loadingBody(file, t));
      let body: string;
      try {
        const ins = await this.deps.models.inspect(file);
        body = inspectionBody(file, ins, { displayPath: displayName(file), active: this.deps.models.isActive(file), t });
      } catch (e) {
        this.deps.log(`inspect ${file}: ${(e as Error)?.stack ?? e}`);
        body = errorBody(file, errorMessage(e), t);
      }
      if (mine === seq) panel.webview.html = page(body);
    };
    const subs = [
      // a changed file or a new active model re-renders; the inspection is cached by mtime
      this.deps.models.onDidChange(() => void render()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void render()),
      panel.webview.onDidReceiveMessage(async (raw: unknown) => {
        if (!isFromOnnxEditor(raw)) {
          this.deps.log(`ignored a malformed message from the .onnx editor: ${JSON.stringify(raw)?.slice(0, 200)}`);
          return;
        }
        try {
          switch (raw.type) {
            case 'attribute': {
              if (!(await requireTrust())) return;
              const image = await chooseImage();
              if (image) await attributeImage(this.deps, image, { model: file });
              return;
            }
            case 'setActive':
              if (!fs.existsSync(file)) throw new Error(vscode.l10n.t('cannot read {0}: no such file', file));
              await this.deps.models.setActive(file);
              return;
            case 'manageTrust':
              await vscode.commands.executeCommand('workbench.trust.manage');
              return;
            case 'reload':
              await render();
              return;
          }
        } catch (e) {
          this.deps.log(`.onnx editor ${raw.type}: ${(e as Error)?.stack ?? e}`);
          void vscode.window.showErrorMessage(errorMessage(e));
        }
      }),
    ];
    panel.onDidDispose(() => subs.forEach((s) => s.dispose()));
    void render();
  }
}
