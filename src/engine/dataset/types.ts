// The contract between the dataset run (engine), `attrlens dataset` (CLI) and the dataset view
// (extension). JSON-serialisable: the report is written to disk, merged, and posted to a webview.
import type { PreprocessConfig } from '../inputs/preprocess';

/** Where one shard of the work is: item i belongs to shard (i mod count) after a stable sort by path. */
export interface Shard {
  index: number;
  count: number;
}

export interface DatasetOptions {
  /** the .onnx model */
  model: string;
  /** a folder (ImageFolder: DIR/<label>/*.png) or a manifest file (.csv or .jsonl: path,label) */
  data: string;
  /** attribution method for the chosen items; none when absent */
  method?: string;
  params?: Record<string, unknown>;
  /** report.json, report.html, thumbnails and maps go here; resumable when given */
  outDir?: string;
  shard?: Shard;
  /** how many items get attributions (misclassified first, then least confident); default 16 */
  attributeTop?: number;
  /** images per forward pass; 0 or absent: 32 where the model batches, else 1 */
  batchSize?: number;
  /** preprocessing keys over the model's own (the extension's `attributionLens.preprocessing`), as loadInputs takes them */
  preprocess?: Partial<PreprocessConfig>;
}

export interface DatasetItem {
  /** path relative to the data folder (or as the manifest gives it) */
  path: string;
  /** true label (null when the item has none) */
  label: string | null;
  /** predicted label and its index in `classes` */
  predicted: string | null;
  predictedIndex: number | null;
  /** probability of the predicted class */
  probability: number | null;
  /** probability of the true class, and the cross-entropy loss -log p(true) */
  trueProbability: number | null;
  loss: number | null;
  correct: boolean | null;
  /** one line when the item could not be used (unreadable, unknown label, missing file) */
  error?: string;
  /** files written for this item, relative to outDir */
  attribution?: { method: string; npy: string; png?: string; /** the explained class (the predicted one) */ target?: string };
  /** what kind of problem `error` is: missing, outside, empty, manifest, label, unreadable, failed */
  errorKind?: string;
  /** the image as the model saw it (after preprocessing), relative to outDir */
  thumb?: string;
  /** why the attribution of a chosen item failed (its prediction stands) */
  attributionError?: string;
}

export interface ClassMetrics {
  label: string;
  precision: number | null;
  recall: number | null;
  support: number;
}

export interface DatasetReport {
  model: string;
  data: string;
  classes: string[];
  /** correct / items with a usable label and prediction; null when none */
  accuracy: number | null;
  /** confusion[true][predicted], indices into `classes` */
  confusion: number[][];
  perClass: ClassMetrics[];
  /** misclassified first (most confident mistakes first), then correct by rising confidence, then errors */
  items: DatasetItem[];
  /** one summary line: counts of items, errors by kind */
  summary: string;
  method?: string;
  shard?: Shard;
  /** sha256 of the model's bytes: shards of one run must agree on it to be merged */
  modelHash?: string;
  /** counts behind `summary` */
  counts?: DatasetCounts;
  /** a merged report: the shards it was made of */
  mergedShards?: Shard[];
}

export interface DatasetCounts {
  items: number;
  predicted: number;
  /** predictions taken from an earlier run's journal */
  resumed: number;
  /** errors by kind (DatasetItem.errorKind) */
  errors: Record<string, number>;
  attributed: number;
  attributedResumed: number;
}

export type DatasetProgress = (done: number, total: number, phase?: string) => void;
