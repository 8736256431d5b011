// Typed access to the `attributionLens.*` settings.
import * as vscode from 'vscode';
import type { PreprocessConfig } from '../engine/inputs/preprocess';
import type { ParamValues, ViewSettings } from '../shared/protocol';
import type { RuntimeSettings } from './engine/engineProtocol';

const SECTION = 'attributionLens';

export interface Settings {
  defaultMethod: string;
  /** method id → parameter overrides */
  methodParams: Record<string, ParamValues>;
  compareMethods: string[];
  preprocessing: Partial<PreprocessConfig>;
  batchSize: number;
  runtime: RuntimeSettings;
  view: Partial<ViewSettings>;
}

export function readSettings(scope?: vscode.Uri): Settings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const obj = <T extends object>(key: string): T => {
    const v = c.get<unknown>(key);
    // Configuration values are read-only proxies: copy them so they can cross to the engine process.
    return (v && typeof v === 'object' && !Array.isArray(v) ? JSON.parse(JSON.stringify(v)) : {}) as T;
  };
  const view: Partial<ViewSettings> = {};
  const vm = c.get<ViewSettings['method']>('visualization.method');
  if (vm) view.method = vm;
  const vs = c.get<ViewSettings['sign']>('visualization.sign');
  if (vs) view.sign = vs;
  const vo = c.get<number>('visualization.outlierPerc');
  if (typeof vo === 'number') view.outlierPerc = vo;
  const va = c.get<number>('visualization.alphaOverlay');
  if (typeof va === 'number') view.alphaOverlay = va;
  const vc = c.get<ViewSettings['colormap']>('visualization.colormap');
  if (vc) view.colormap = vc;
  return {
    defaultMethod: c.get<string>('defaultMethod') || 'integrated-gradients',
    methodParams: obj<Record<string, ParamValues>>('methodParams'),
    compareMethods: [...(c.get<string[]>('compareMethods') ?? [])],
    preprocessing: obj<Partial<PreprocessConfig>>('preprocessing'),
    batchSize: Math.max(0, Math.floor(c.get<number>('batchSize') ?? 0)),
    runtime: {
      threads: Math.max(0, Math.floor(c.get<number>('threads') ?? 0)),
      executionProvider: c.get<string>('executionProvider') || 'cpu',
    },
    view,
  };
}

export function affectsSettings(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(SECTION);
}
