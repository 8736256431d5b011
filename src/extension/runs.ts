// This window's attributions, newest first, so any of them can be reopened in the panel.
import * as vscode from 'vscode';
import type { AttributionPayload, ModelSummary, PanelImage, Prediction } from '../shared/protocol';

export interface RunRecord {
  id: number;
  createdAt: number;
  kind: 'single' | 'compare';
  modelFile: string;
  imageFile: string;
  target: number;
  targetLabel?: string;
  /** one payload for a single run, one per method for a comparison */
  results: AttributionPayload[];
  errors?: Array<{ method: string; message: string }>;
  sharedScale?: boolean;
  /** what the panel needs to show it again without re-running */
  summary: ModelSummary;
  image?: PanelImage;
  predictions: Prediction[];
}

/** Most runs kept; older ones are dropped (each holds its maps in memory). */
const MAX_RUNS = 50;

export class RunStore implements vscode.Disposable {
  private runs: RunRecord[] = [];
  private nextId = 1;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  add(run: Omit<RunRecord, 'id' | 'createdAt'>): RunRecord {
    const rec: RunRecord = { ...run, id: this.nextId++, createdAt: Date.now() };
    this.runs.unshift(rec);
    this.runs.length = Math.min(this.runs.length, MAX_RUNS);
    this.changed.fire();
    return rec;
  }

  get(id: number): RunRecord | undefined {
    return this.runs.find((r) => r.id === id);
  }

  all(): readonly RunRecord[] {
    return this.runs;
  }

  clear(): void {
    this.runs = [];
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function runTitle(run: RunRecord): string {
  const what = run.kind === 'compare' ? vscode.l10n.t('Compare {0} methods', run.results.length) : run.results[0]?.method ?? '';
  // a structured target (box, region, step) is named by its label already: "box 1 (yellow, 0.90)"
  const target = run.results[0]?.spec && run.targetLabel ? run.targetLabel : run.targetLabel ? `${run.targetLabel} (${run.target})` : `#${run.target}`;
  return `${what} → ${target}`;
}
