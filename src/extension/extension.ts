// Activation wires things up only; the work lives in the modules it registers.
import { BUNDLE_START, nativeModulesOnHost, now } from './activationClock';
import * as vscode from 'vscode';
import { attributeImage, attributePrediction } from './commands/attributeImage';
import { attributeSelection } from './commands/attributeSelection';
import {
  attributeNeuron, attributeToLayer, goToSource, inspectModel, revealModelFile, setActiveModel, useLayerForCam,
} from './commands/modelCommands';
import { compareMethods, exportAttribution, openPanel, openRun } from './commands/panelCommands';
import { DATASET_VIEW_TYPE, DatasetPanels } from './dataset/datasetPanel';
import { exploreDataset } from './dataset/exploreDataset';
import { explainGeneration } from './commands/explainGeneration';
import { GenerationPanel } from './generation/generationPanel';
import type { Deps } from './deps';
import { EngineClient } from './engine/engineClient';
import { OnnxEditorProvider } from './editors/onnxEditorProvider';
import { watchOutputFolders } from './modelPicker';
import { ModelService } from './models';
import { AttributionPanel, PANEL_VIEW_TYPE, errorMessage } from './panel/attributionPanel';
import { RunRecord, RunStore } from './runs';
import { ModelsView } from './views/modelsView';
import { workspaceTrust } from './trust';
import { RunsView } from './views/runsView';

const bundleMs = now() - BUNDLE_START;

/** What activate() returns: read-only access for the integration tests. */
export interface AttributionLensApi {
  runs(): readonly RunRecord[];
}

export function activate(context: vscode.ExtensionContext): AttributionLensApi {
  const started = now();
  const output = vscode.window.createOutputChannel('Attribution Lens', { log: true });
  const log = (line: string): void => output.appendLine(line);
  const engine = EngineClient.forExtension(context.extensionPath, log, workspaceTrust);
  const models = new ModelService(engine, context.workspaceState);
  const runs = new RunStore();
  const panel = new AttributionPanel(context, models, runs, log);
  const deps: Deps = { context, models, panel, runs, log };
  const modelsView = new ModelsView(models);
  const runsView = new RunsView(runs);
  const datasets = new DatasetPanels(deps);
  const generation = new GenerationPanel(deps);
  context.subscriptions.push(output, engine, models, runs, panel, modelsView, runsView, datasets, watchOutputFolders());
  context.subscriptions.push(generation);

  context.subscriptions.push(
    vscode.window.createTreeView(ModelsView.id, { treeDataProvider: modelsView, showCollapseAll: true }),
    vscode.window.createTreeView(RunsView.id, { treeDataProvider: runsView }),
    OnnxEditorProvider.register(deps),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (webviewPanel) => panel.restore(webviewPanel),
    }),
    vscode.window.registerWebviewPanelSerializer(DATASET_VIEW_TYPE, {
      deserializeWebviewPanel: async (webviewPanel, state: unknown) => datasets.restore(webviewPanel, state),
    }),
  );

  // Errors from commands surface once, as one line; details go to the output channel.
  const command = (id: string, run: (...args: never[]) => unknown): void => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          await run(...args);
        } catch (e) {
          log(`${id}: ${(e as Error)?.stack ?? e}`);
          void vscode.window.showErrorMessage(errorMessage(e));
        }
      }),
    );
  };
  command('attributionLens.attributeImage', (uri?: vscode.Uri) => attributeImage(deps, uri));
  command('attributionLens.attributePrediction', () => attributePrediction(deps));
  command('attributionLens.attributeSelection', () => attributeSelection(deps));
  command('attributionLens.inspectModel', (node?: never) => inspectModel(deps, node));
  command('attributionLens.compareMethods', () => compareMethods(deps));
  command('attributionLens.openPanel', () => openPanel(deps));
  command('attributionLens.exportAttribution', () => exportAttribution(deps));
  command('attributionLens.clearTextDecorations', () => panel.text.clearDecorations());
  command('attributionLens.models.refresh', () => modelsView.refresh());
  command('attributionLens.models.setActive', (node?: never) => setActiveModel(deps, node));
  command('attributionLens.models.revealFile', (node?: never) => revealModelFile(node));
  command('attributionLens.models.useLayerForCam', (node?: never) => useLayerForCam(deps, node));
  command('attributionLens.models.goToSource', (node?: never) => goToSource(deps, node));
  command('attributionLens.models.attributeToLayer', (node?: never) => attributeToLayer(deps, node));
  command('attributionLens.models.attributeNeuron', (node?: never) => attributeNeuron(deps, node));
  command('attributionLens.runs.open', (id?: never) => openRun(deps, id));
  command('attributionLens.runs.clear', () => runs.clear());
  command('attributionLens.exploreDataset', (uri?: vscode.Uri) => exploreDataset(deps, datasets, uri));
  command('attributionLens.explainGeneration', () => explainGeneration(deps, generation));
  const native = nativeModulesOnHost();
  const activateMs = now() - started;
  log(`activated in ${(bundleMs + activateMs).toFixed(1)} ms (bundle ${bundleMs.toFixed(1)} ms, activate ${activateMs.toFixed(1)} ms); engine modules on the extension host: ${native.length === 0 ? 'none' : native.join(', ')}`);
  return { runs: () => runs.all() };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions (the engine process is terminated there).
}
