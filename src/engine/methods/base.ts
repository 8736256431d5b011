import * as path from 'path';
import { RuleSetName } from '../autodiff/ruleSets';
import { AttrLensError, closest, throwIfAborted } from '../core/errors';
import { oneHotSeed, runGradients } from '../gradients/run';
import { readNpy } from '../inputs/npy';
import { LoadedModel } from '../model/loadedModel';
import type { InputEdge } from '../onnx/isolate';
import { Tensor, asFloat32, repeatRows, sizeOf } from '../core/tensor';
import { Rng } from './rng';
import { targetSeed } from '../targets/reduce';
import type { Target } from '../targets/types';
import { AttributeProgress, MethodInfo, ParamSpec } from './types';

export interface MethodContext {
  lm: LoadedModel;
  /** batch-1 feeds for every graph input */
  feeds: Record<string, Tensor>;
  /** the attributed graph input */
  input: string;
  /** the explained output tensor */
  output: string;
  target: number;
  /** the resolved target when it is not a plain class index (region, step, box): seeds gradients and scores perturbations */
  spec?: Target;
  params: Record<string, unknown>;
  /** folder that relative `.npy` parameters are read from */
  baseDir: string;
  signal?: AbortSignal;
  progress(p: AttributeProgress): void;
  /** receives the value of output `name` for the unperturbed input when a method computes it anyway */
  sawOutput?(name: string, output: Tensor): void;
}

export interface MethodOutput {
  attributions: Record<string, Tensor>;
  delta?: number;
  /** one delta per sample where Captum returns one per sample (GradientShap and its variants); `delta` is their mean */
  deltas?: number[];
  layer?: string;
}

/** One attribution method: its Captum-style description and its maths. */
export abstract class Method {
  abstract readonly info: MethodInfo;
  abstract run(ctx: MethodContext): Promise<MethodOutput>;
}

// ---------- shared parameters ----------
export const P = {
  baselines: (dflt: unknown = 0): ParamSpec => ({ name: 'baselines', kind: 'baseline', default: dflt, description: 'reference input: a number, an array broadcast to the input, or a .npy file' }),
  seed: (): ParamSpec => ({ name: 'seed', kind: 'int', default: 0, min: 0, description: 'random seed: the same seed gives the same result' }),
  layer: (required = false): ParamSpec => ({ name: 'layer', kind: 'layer', required, description: 'ONNX tensor name of the layer (omit for CAM methods: the last spatial activation)' }),
  internalBatchSize: (): ParamSpec => ({ name: 'internalBatchSize', kind: 'int', min: 1, description: 'largest batch per run (bounds memory); default all at once' }),
  perturbationsPerEval: (): ParamSpec => ({ name: 'perturbationsPerEval', kind: 'int', min: 1, description: 'perturbed inputs per model run; default chosen from the model size' }),
  nSteps: (dflt = 50): ParamSpec => ({ name: 'nSteps', kind: 'int', default: dflt, min: 1, max: 10000, description: 'number of integration steps' }),
  igMethod: (): ParamSpec => ({ name: 'method', kind: 'enum', default: 'gausslegendre', values: ['gausslegendre', 'riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid'], description: 'integral approximation' }),
  featureMask: (): ParamSpec => ({ name: 'featureMask', kind: 'tensor', description: 'integer tensor grouping input elements into features (broadcast to the input); default: every element its own feature' }),
  nSamples: (dflt: number): ParamSpec => ({ name: 'nSamples', kind: 'int', default: dflt, min: 1, max: 100000, description: 'number of samples' }),
  stdevs: (dflt: number): ParamSpec => ({ name: 'stdevs', kind: 'number', default: dflt, min: 0, description: 'standard deviation of the Gaussian noise' }),
  neuron: (): ParamSpec => ({ name: 'neuronSelector', kind: 'shape', min: 0, required: true, description: 'index of the neuron in the layer output without the batch axis, e.g. [12, 3, 4] or [7]' }),
  attributeToLayerInput: (): ParamSpec => ({ name: 'attributeToLayerInput', kind: 'boolean', default: false, description: 'attribute to the input of the layer instead of its output (only when the layer tensor is a node output)' }),
  reluAttributions: (): ParamSpec => ({ name: 'reluAttributions', kind: 'boolean', default: false, description: 'apply ReLU to the final map' }),
};

// ---------- helpers every family uses ----------

export function inputTensor(ctx: MethodContext): Tensor {
  return ctx.feeds[ctx.input];
}

export function rngOf(ctx: MethodContext): Rng {
  return new Rng(Number(ctx.params.seed ?? 0));
}

/** Reads a tensor parameter: a Tensor, a number, a nested array, or a `.npy` path. */
export function tensorParam(ctx: MethodContext, name: string, value: unknown): Tensor | number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (!value.endsWith('.npy')) throw new AttrLensError(`parameter '${name}': '${value}' is not a number or a .npy file`);
    return readNpy(path.resolve(ctx.baseDir, value));
  }
  if (Array.isArray(value)) {
    const flat = (value as unknown[]).flat(Infinity as 1) as number[];
    const dims: number[] = [];
    let v: unknown = value;
    while (Array.isArray(v)) {
      dims.push(v.length);
      v = v[0];
    }
    return { dtype: 'float32', dims, data: Float32Array.from(flat) };
  }
  if (typeof value === 'object' && value && 'data' in value && 'dims' in value) return value as Tensor;
  throw new AttrLensError(`parameter '${name}' must be a number, an array or a .npy file`);
}

/** Broadcasts a number or tensor to `dims` (NumPy rules, right-aligned) as float32. */
export function broadcastTo(v: Tensor | number, dims: number[], what: string): Float32Array {
  const n = sizeOf(dims);
  if (typeof v === 'number') return new Float32Array(n).fill(v);
  const src = asFloat32(v);
  if (v.data.length === n && sizeOf(v.dims) === n) return Float32Array.from(src);
  const vd = v.dims;
  if (vd.length > dims.length || vd.some((d, i) => d !== 1 && d !== dims[dims.length - vd.length + i])) {
    throw new AttrLensError(`${what} has shape [${vd}], which does not broadcast to the input shape [${dims}]`);
  }
  const out = new Float32Array(n);
  const pad = dims.length - vd.length;
  const strides = new Array<number>(dims.length).fill(0);
  let s = 1;
  for (let i = vd.length - 1; i >= 0; i--) {
    strides[pad + i] = vd[i] === 1 ? 0 : s;
    s *= vd[i];
  }
  const idx = new Array<number>(dims.length).fill(0);
  for (let f = 0; f < n; f++) {
    let off = 0;
    for (let i = 0; i < dims.length; i++) off += idx[i] * strides[i];
    out[f] = src[off];
    for (let i = dims.length - 1; i >= 0; i--) {
      if (++idx[i] < dims[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** The baseline for the attributed input, shaped like it (batch 1), as float32. */
export function baselineOf(ctx: MethodContext, param = 'baselines'): Float32Array {
  const v = tensorParam(ctx, param, ctx.params[param] ?? 0)!;
  return broadcastTo(v, inputTensor(ctx).dims, `parameter '${param}'`);
}

/** Target scores output[:, target] of the forward model for a batch of attributed-input rows. */
export async function targetScores(ctx: MethodContext, rows: Tensor, batchSize?: number, onChunk?: (done: number, total: number) => void): Promise<Float64Array> {
  const feeds = { ...ctx.feeds, [ctx.input]: rows };
  const res = await ctx.lm.forward(feeds, scoredOutputs(ctx), { signal: ctx.signal, batchSize, onProgress: onChunk ? (p) => onChunk(p.done, p.total) : undefined });
  if (rows === ctx.feeds[ctx.input]) ctx.sawOutput?.(ctx.output, res[ctx.output]);
  return scoreOutputs(ctx, res);
}

/** The outputs the target's score reads: the explained output, or what a structured target reads. */
export function scoredOutputs(ctx: MethodContext): string[] {
  return ctx.spec?.reads ?? [ctx.output];
}

/** The target's score per row: output[:, target], or the structured target's reduction. */
export function scoreOutputs(ctx: MethodContext, res: Record<string, Tensor>): Float64Array {
  return ctx.spec ? ctx.spec.score(res) : pick(res[ctx.output], ctx.target);
}

/**
 * The backward seed as a function of the rows for linear targets (one-hot on ctx.target, or the
 * target's weights); undefined for a non-linear target, whose seed needs each row's output.
 */
export function linearSeed(ctx: MethodContext): ((rows: number, outDims: number[]) => Tensor) | undefined {
  const spec = ctx.spec;
  if (!spec) return (n, d) => oneHotSeed(d, n, ctx.target);
  if (spec.weights) return (n, d) => targetSeed(spec, n, d);
  return undefined;
}

/** output[:, target] of a (N, K, ...) output, flattened per row. */
export function pick(out: Tensor, target: number): Float64Array {
  const per = sizeOf(out.dims.slice(1));
  const rows = out.dims[0];
  const r = new Float64Array(rows);
  for (let i = 0; i < rows; i++) r[i] = Number(out.data[i * per + target]);
  return r;
}

export interface GradOptions {
  ruleSet?: RuleSetName;
  /** LRP rule overrides by tensor name, for the 'lrp' rule set */
  lrpRules?: Record<string, unknown>;
  /** outputs of nodes that keep their ordinary gradient under the 'deeplift' rule set */
  plainRules?: string[];
  batchSize?: number;
  /** intermediate tensors whose gradients are wanted instead of the input's */
  wrt?: string[];
  expose?: string[];
  cut?: string[];
  /** a node's read of a tensor given its own copy (isolatedName), for wrt and cut to name */
  isolate?: InputEdge;
  /** extra feeds replacing ctx.feeds entries (e.g. cut tensors) */
  feeds?: Record<string, Tensor>;
  /** custom seed builder; default one-hot on ctx.target for every row */
  seed?: (rows: number, outDims: number[]) => Tensor;
  phase?: string;
}

/** Gradients of output[:, target] for a batch of attributed-input rows (N, ...input dims). */
export async function gradientsAt(ctx: MethodContext, rows: Tensor | undefined, o: GradOptions = {}) {
  const feeds: Record<string, Tensor> = { ...ctx.feeds, ...(rows ? { [ctx.input]: rows } : {}), ...(o.feeds ?? {}) };
  for (const c of o.cut ?? []) if (!feeds[c]) throw new Error(`cut tensor '${c}' needs a feed`);
  const req = { output: ctx.output, wrt: o.wrt ?? [ctx.input], expose: o.expose, cut: o.cut, ...(o.isolate ? { isolate: o.isolate } : {}), ruleSet: o.ruleSet, ...(o.lrpRules ? { lrpRules: o.lrpRules } : {}), ...(o.plainRules?.length ? { plainRules: o.plainRules } : {}) };
  const run = (seed: Tensor | ((rows: number, outDims: number[]) => Tensor)) =>
    runGradients(ctx.lm, feeds, req, seed, {
      signal: ctx.signal,
      batchSize: o.batchSize,
      onProgress: (p) => ctx.progress({ done: p.done, total: p.total, phase: o.phase }),
    });
  let seed = o.seed ?? linearSeed(ctx);
  if (!seed) {
    // a non-linear target: its seed is its gradient at each row's output, from a first pass
    const spec = ctx.spec!;
    const first = await run((n, d) => ({ dtype: 'float32', dims: [1, ...d.slice(1)], data: new Float32Array(sizeOf(d.slice(1))) }));
    seed = (n, d) => targetSeed(spec, n, d, first.output);
  }
  const res = await run(seed);
  // the plain input with the ordinary output: its forward value is the prediction
  if (!rows && !o.cut?.length && !o.feeds && res.output.dims[0] === 1) ctx.sawOutput?.(ctx.output, res.output);
  return res;
}

/** Stacks `count` rows made by `fill(i, row)` into one (count, ...dims) float tensor. */
export function stackRows(dims: number[], count: number, fill: (i: number, row: Float32Array) => void): Tensor {
  const per = sizeOf(dims.slice(1));
  const data = new Float32Array(per * count);
  for (let i = 0; i < count; i++) fill(i, data.subarray(i * per, (i + 1) * per));
  return { dtype: 'float32', dims: [count, ...dims.slice(1)], data };
}

/** Points on the straight path from `base` to `x`, one row per alpha: (alphas.length, ...input). */
export function pathRows(dims: number[], x: Float32Array, base: Float32Array, alphas: ArrayLike<number>): Tensor {
  return stackRows(dims, alphas.length, (k, row) => {
    for (let i = 0; i < row.length; i++) row[i] = base[i] + alphas[k] * (x[i] - base[i]);
  });
}

export function requireFloatInput(ctx: MethodContext, method: string): void {
  const t = inputTensor(ctx);
  if (t.dtype !== 'float32') {
    throw new AttrLensError(
      `${method} needs gradients with respect to a float input, but '${ctx.input}' is ${t.dtype}: use layer-integrated-gradients on the embedding layer, or occlusion / feature-ablation`,
    );
  }
}

/** Checks a layer name, suggesting the closest tensor names when it does not exist. */
export async function checkLayer(ctx: Pick<MethodContext, 'lm' | 'feeds'>, layer: string): Promise<number[]> {
  const shapes = await ctx.lm.shapes(ctx.feeds);
  const dims = shapes.dims.get(layer);
  if (!dims || shapes.dtype.get(layer) !== 'float32') {
    const layers = (await ctx.lm.layers(ctx.feeds)).map((l) => l.name);
    throw new AttrLensError(`${ctx.lm.label} has no float layer tensor '${layer}'; closest: ${closest(layer, layers).join(', ')} (attrlens inspect lists them)`);
  }
  return dims;
}

export function throwIfCancelled(ctx: MethodContext): void {
  throwIfAborted(ctx.signal);
}

export { repeatRows };
