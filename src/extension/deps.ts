// What commands share: the services activate() creates.
import type * as vscode from 'vscode';
import type { ModelService } from './models';
import type { AttributionPanel } from './panel/attributionPanel';
import type { RunStore } from './runs';

export interface Deps {
  context: vscode.ExtensionContext;
  models: ModelService;
  panel: AttributionPanel;
  runs: RunStore;
  log: (line: string) => void;
}
