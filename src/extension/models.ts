// The workspace's ONNX models: discovery, cached inspections, and the active model per folder.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { MethodInfo, ModelInspection } from '../engine';
import type { EngineClient } from './engine/engineClient';
import { isTrusted } from './trust';

const ACTIVE_KEY = 'attributionLens.activeModel';
export const MODEL_GLOB = '**/*.onnx';
export const EXCLUDE_GLOB = '**/{node_modules,.git,.venv,venv,.e2e}/**';

export class ModelService implements vscode.Disposable {
  private readonly inspections = new Map<string, { key: string; value: Promise<ModelInspection> }>();
  private methodsCache: Promise<MethodInfo[]> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when models appear, change, disappear or the active one changes. */
  readonly onDidChange = this.changed.event;
  private readonly watcher: vscode.FileSystemWatcher;

  constructor(readonly engine: EngineClient, private readonly state: vscode.Memento) {
    this.watcher = vscode.workspace.createFileSystemWatcher(MODEL_GLOB);
    const refresh = (uri: vscode.Uri): void => {
      this.inspections.delete(uri.fsPath);
      this.changed.fire();
    };
    this.watcher.onDidCreate(refresh);
    this.watcher.onDidChange(refresh);
    this.watcher.onDidDelete(refresh);
  }

  async list(): Promise<vscode.Uri[]> {
    const uris = await vscode.workspace.findFiles(MODEL_GLOB, EXCLUDE_GLOB, 500);
    return uris.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  }

  /** Inspection of a model, cached by path, size and mtime. Rejects in Restricted Mode. */
  inspect(file: string): Promise<ModelInspection> {
    if (!isTrusted()) return Promise.reject(new Error(vscode.l10n.t('Restricted Mode: models are not inspected')));
    let key: string;
    try {
      const st = fs.statSync(file);
      key = `${st.size}|${st.mtimeMs}`;
    } catch {
      return Promise.reject(new Error(vscode.l10n.t('cannot read {0}: no such file', file)));
    }
    const hit = this.inspections.get(file);
    if (hit && hit.key === key) return hit.value;
    const value = this.engine.call('inspect', { file }).promise;
    this.inspections.set(file, { key, value });
    value.catch(() => {
      if (this.inspections.get(file)?.value === value) this.inspections.delete(file);
    });
    return value;
  }

  methods(): Promise<MethodInfo[]> {
    if (!this.methodsCache) {
      this.methodsCache = this.engine.call('methods', {}).promise;
      this.methodsCache.catch(() => (this.methodsCache = undefined));
    }
    return this.methodsCache;
  }

  /** The model used last (or set active) for the folder that holds `resource`. */
  active(resource?: vscode.Uri): string | undefined {
    const map = this.state.get<Record<string, string>>(ACTIVE_KEY, {});
    const file = map[folderKey(resource)];
    return file && fs.existsSync(file) ? file : undefined;
  }

  async setActive(file: string, resource?: vscode.Uri): Promise<void> {
    const map = { ...this.state.get<Record<string, string>>(ACTIVE_KEY, {}) };
    map[folderKey(resource ?? vscode.Uri.file(file))] = file;
    await this.state.update(ACTIVE_KEY, map);
    this.changed.fire();
  }

  isActive(file: string): boolean {
    return this.active(vscode.Uri.file(file)) === file;
  }

  dispose(): void {
    this.watcher.dispose();
    this.changed.dispose();
  }
}

function folderKey(resource?: vscode.Uri): string {
  const folder = resource ? vscode.workspace.getWorkspaceFolder(resource) : vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.toString() ?? '';
}

/** `[1, 3, 224, 224] float32` */
export function describeIO(io: { dims: Array<number | string | null>; dtype?: string }): string {
  return `[${io.dims.map((d) => (d === null ? '?' : d)).join(', ')}]${io.dtype ? ` ${io.dtype}` : ''}`;
}

export function displayName(file: string): string {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
  return folder ? path.relative(folder.uri.fsPath, file) : path.basename(file);
}
