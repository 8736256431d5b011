/**
 * Targets: what an attribution explains, for any output kind.
 *
 * A target is written `KIND:ARG` (`region:1`, `region:1@10,20,60,80`, `step:3`, `step:3=k`,
 * `box:0`) or, as before, a bare class index or label (kind `class`). One registry
 * (registry.ts, filled from all.ts) maps the kind's name to a TargetKind, which
 *  - may recognise an output it owns from its shape, names and metadata (`recognise`),
 *  - says whether it fits the explained output's kind (`fits`),
 *  - parses its argument (`parse`, a malformed one throws an AttrLensError),
 *  - lists what can be targeted from the clean output (`list`: regions, steps, detections),
 *  - resolves the argument to a Target (`resolve`).
 * A Target is one scalar reduction of the model's outputs per input row:
 *  - gradient methods differentiate it: a linear reduction gives constant `weights` over the
 *    differentiated output (sum(weights · output)); a non-linear one gives `seedAt`, the
 *    reduction's gradient with respect to that output evaluated at a row's forward value
 *    (e.g. objectness × class score of a YOLOv5 box); either way the engine seeds the backward
 *    pass with it (runGradients), so CAMs and every gradient method use the target's gradient;
 *  - perturbation methods call `score` on each batch of perturbed outputs (the same reduction;
 *    a detection kind may re-decode the perturbed outputs and match the box by IoU).
 * A new kind (e.g. `box`) is one file exporting a TargetKind, imported in all.ts.
 */
import type { LoadedModel } from '../model/loadedModel';
import type { OutputActivation } from '../onnx/outputKind';
import type { Tensor } from '../core/tensor';

export type OutputKindName = 'classification' | 'dense' | 'sequence' | 'detection' | 'other';

/** The `output` key of `<model>.attrlens.json`: how to read the explained output. */
export interface OutputSettings {
  kind?: OutputKindName;
  /** dense maps with one channel: the probability (or logit, for logit maps) above which a pixel belongs to the region; default 0.5 (0 for logits); detection: the score threshold */
  threshold?: number;
  /** sequence: 'ctc' (blank removed, repeats collapsed) or 'argmax' (one class per step) */
  decode?: 'ctc' | 'argmax';
  /** sequence with CTC: the blank class (default 0) */
  blank?: number;
  /** sequence: dictionary file, relative to the model (PaddleOCR's: line k = class k+1) */
  dictionary?: string;
  /** detection: NMS IoU threshold */
  iou?: number;
  /** detection: the head's layout, e.g. 'yolov5' or 'yolov8' (kind-specific) */
  format?: string;
}

/** What the explained output is, with how it was recognised. */
export interface OutputKind {
  kind: OutputKindName;
  output: string;
  /** batch-1 dims of the output */
  dims: number[];
  activation: OutputActivation;
  /** how it was recognised: 'shape [1,1,H,W]', 'model.attrlens.json', ... */
  why: string;
  /** the `output` settings in force (config and defaults merged) */
  settings: OutputSettings;
}

/** Everything a kind may use to list and resolve targets. */
export interface TargetEnv {
  lm: LoadedModel;
  /** the attributed input and its dims (batch 1) */
  input: string;
  inputDims: number[];
  /** the explained output */
  output: string;
  kind: OutputKind;
  /** clean forward values (batch 1) of every graph output */
  clean: Record<string, Tensor>;
  /** class labels: the model's labels, or a recogniser's dictionary (index = class) */
  labels?: string[];
}

/** One thing that can be targeted, as `--json` lists it. */
export type TargetItem = Record<string, unknown> & { target: string };

/** A resolved target: a scalar reduction of the outputs per row. */
export interface Target {
  /** the kind's name: 'class', 'region', 'step', 'box' */
  kind: string;
  /** canonical text, parseable again: 'region:1@10,20,60,80' */
  text: string;
  /** the class the reduction is about (AttributionResult.target) */
  index: number;
  label?: string;
  /** the output differentiated by gradient methods */
  output: string;
  /** linear reduction: sum(weights · output row); weights are the output's per-row size */
  weights?: Float32Array;
  /** non-linear reduction: its gradient w.r.t. `output` at one row's forward value (per-row size) */
  seedAt?(row: Float32Array, dims: number[]): Float32Array;
  /** outputs `score` reads (default [output]) */
  reads?: string[];
  /** the reduction per row of a batch of outputs (each (N, ...)) */
  score(outs: Record<string, Tensor>): Float64Array;
  /** extra facts for `--json` (mask pixels, box, step's class ...) */
  info?: Record<string, unknown>;
}

export interface TargetKind<A = unknown> {
  /** prefix before ':'; 'class' is the bare index or label */
  name: string;
  /** the syntax, for messages: 'region:CLASS[@x0,y0,x1,y1]' */
  syntax: string;
  /** the `--json` list this kind fills: 'regions', 'steps', 'detections' */
  listKey?: string;
  /** claims an output it recognises (checked before the built-in shape rules), else undefined */
  recognise?(lm: LoadedModel, output: string, dims: number[], settings: OutputSettings): OutputKind | undefined;
  /** true when targets of this kind can be taken on the output */
  fits(kind: OutputKind): boolean;
  /** parses the text after 'name:'; throws an AttrLensError for a malformed one */
  parse(arg: string, env: TargetEnv): A;
  /** what can be targeted, from the clean output */
  list?(env: TargetEnv): TargetItem[];
  /** one short line per list, for messages: "regions: 0 background (1200 px), 1 text (300 px)" */
  summary?(env: TargetEnv): string;
  resolve(arg: A, env: TargetEnv): Target;
}
