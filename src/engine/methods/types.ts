import type { Progress } from '../model/loadedModel';
import type { Tensor } from '../core/tensor';

/** How a parameter is entered and validated; the UI renders these generically. */
export type ParamKind = 'int' | 'number' | 'boolean' | 'enum' | 'string' | 'layer' | 'shape' | 'tensor' | 'baseline' | 'json';

export interface ParamSpec {
  /** Captum's parameter name in camelCase, e.g. `nSteps` */
  name: string;
  kind: ParamKind;
  default?: unknown;
  /** allowed values for `enum` */
  values?: readonly string[];
  min?: number;
  max?: number;
  description: string;
  /** true when the method cannot run without it */
  required?: boolean;
}

export type MethodFamily = 'gradient' | 'perturbation' | 'layer' | 'neuron' | 'cam';

export interface MethodInfo {
  /** kebab-case id, e.g. `integrated-gradients` */
  id: string;
  /** Captum's (or pytorch-grad-cam's) class name, e.g. `IntegratedGradients` */
  captumName: string;
  family: MethodFamily;
  description: string;
  params: readonly ParamSpec[];
  /** true when the method needs gradients (backward graph) */
  needsGradients: boolean;
  /** true when the attribution has the layer's shape rather than the input's */
  layerShaped?: boolean;
}

export interface Prediction {
  index: number;
  label?: string;
  probability: number;
  /** the output's own value: what a target explains */
  logit: number;
  /** the model ends in a sigmoid: each class's probability stands alone (they need not sum to 1) */
  independent?: boolean;
}

export interface AttributeRequest {
  method: string;
  /** graph input to attribute to (default: the first float input, else the first input) */
  input?: string;
  /** graph output to explain (default: the first) */
  output?: string;
  /** folder that relative `.npy` parameter paths are read from (default: the working directory) */
  baseDir?: string;
  /** output index, a label name, or a structured target: `region:CLASS[@x0,y0,x1,y1]`, `step:T[=CLASS]`, `box:K` (src/engine/targets) */
  target?: number | string;
  params?: Record<string, unknown>;
}

export interface AttributeProgress extends Progress {
  /** partial attribution map so far (perturbation methods), same shape as the final one */
  partial?: Tensor;
  phase?: string;
}

export interface AttributeOptions {
  onProgress?: (p: AttributeProgress) => void;
  signal?: AbortSignal;
}

export interface AttributionResult {
  method: string;
  /** the explained output index (a structured target: the class it is about) */
  target: number;
  targetLabel?: string;
  /** the explained target as text (`region:1@0,0,8,8`, `step:3=12`, or the index) and its kind */
  targetSpec?: { text: string; kind: string; info?: Record<string, unknown> };
  /** what the output is: classification, dense, sequence, detection, other */
  outputKind?: string;
  /** what can be targeted, for dense, sequence and detection outputs: regions, steps, detections */
  targets?: Record<string, Array<Record<string, unknown> & { target: string }>>;
  /** the attribution, in the shape Captum returns (one tensor per attributed input) */
  attributions: Record<string, Tensor>;
  /** top-5 predictions for the (first) input */
  predictions: Prediction[];
  /** Captum's convergence delta, where the method defines one */
  delta?: number;
  /** Captum's per-sample deltas (GradientShap and its layer and neuron variants); `delta` is their mean */
  deltas?: number[];
  /** name of the layer for layer methods */
  layer?: string;
  seconds: number;
  params: Record<string, unknown>;
}
