import { buildGradient, GradientRequest, SEED } from '../autodiff/builder';
import { LoadedModel, RunOptions, ShapeInfo } from '../model/loadedModel';
import { Tensor, sizeOf, sliceRows } from '../core/tensor';

export interface GradientResult {
  /** the differentiated output's forward value, (N, ...) */
  output: Tensor;
  /** gradient per wrt tensor, each shaped like that tensor with N rows */
  grads: Record<string, Tensor>;
  /** forward values of exposed (and intermediate wrt) tensors */
  values: Record<string, Tensor>;
}

/** A one-hot seed selecting output[:, target] for each of `rows` samples. */
export function oneHotSeed(outputDims: number[], rows: number, target: number): Tensor {
  const per = sizeOf(outputDims.slice(1));
  const data = new Float32Array(rows * per);
  for (let r = 0; r < rows; r++) data[r * per + target] = 1;
  return { dtype: 'float32', dims: [rows, ...outputDims.slice(1)], data };
}

/**
 * Gradients of sum(seed * output) for a batch of samples, through a backward graph built once
 * per (model, request) and run in chunks the model can batch.
 * `seed` may have one row (shared by every sample) or one row per sample; none with
 * `req.seedFromArgmax` (the graph seeds each row's predicted class).
 */
export async function runGradients(lm: LoadedModel, feeds: Record<string, Tensor>, req: GradientRequest, seed: Tensor | ((rows: number, outputDims: number[]) => Tensor) | undefined, opts: RunOptions = {}): Promise<GradientResult> {
  const probeFeeds: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) probeFeeds[k] = sliceRows(t, 0, 1);
  const shapes = await lm.shapes(onlyGraphInputs(lm, probeFeeds, req));
  const session = await lm.session(gradientSessionKey(req, probeFeeds), () => buildGradient(lm.forwardModel, req, shapes).model, true);
  const rows = Math.max(...Object.values(feeds).map((t) => t.dims[0]));
  const outDims = shapes.dims.get(req.output)!;
  const seedTensor = typeof seed === 'function' ? seed(rows, outDims) : seed;
  if (!seedTensor !== !!req.seedFromArgmax) throw new Error('runGradients: a seed is fed exactly when the graph does not compute it');
  const gradOutputs = req.wrt.map((t) => `attrlens_grad/${t}`);
  const cut = new Set(req.cut ?? []);
  const valueNames = [...new Set([...(req.expose ?? []), ...req.wrt.filter((t) => !lm.inputs.some((i) => i.name === t))])].filter((t) => !cut.has(t));
  const outputs = [req.output, ...gradOutputs, ...valueNames.filter((v) => v !== req.output)];
  const batchSize = opts.batchSize ?? defaultGradientBatch(lm, shapes);
  const res = await lm.runChunked(session, { ...feeds, ...(seedTensor && { [SEED]: seedTensor }) }, outputs, { ...opts, batchSize });
  const grads: Record<string, Tensor> = {};
  req.wrt.forEach((t, i) => (grads[t] = res[gradOutputs[i]]));
  const values: Record<string, Tensor> = {};
  for (const v of valueNames) values[v] = res[v];
  return { output: res[req.output], grads, values };
}

/** Memory a backward run may use for activations; bounds the default batch. */
export const GRADIENT_BATCH_BUDGET = 640 << 20;

/**
 * Samples per backward run when the caller does not say: the forward activations (kept for the
 * backward pass) plus gradients of one sample, about three times the activations' size, fit
 * in GRADIENT_BATCH_BUDGET; larger batches add memory without speed on a CPU.
 */
export function defaultGradientBatch(lm: LoadedModel, shapes: ShapeInfo): number {
  const inits = new Set(lm.model.graph.initializer.map((t) => t.name));
  let floats = 0;
  for (const [name, dims] of shapes.dims) {
    if (inits.has(name) || shapes.dtype.get(name) !== 'float32') continue;
    floats += sizeOf(dims);
  }
  const perSample = Math.max(1, floats * 4 * 3);
  return Math.max(1, Math.min(64, Math.floor(GRADIENT_BATCH_BUDGET / perSample)));
}

/** Cache key of the backward-graph session for a request and feeds of these shapes. */
export function gradientSessionKey(req: GradientRequest, feeds: Record<string, Tensor>): string {
  return `grad|${JSON.stringify(req)}|${shapeSignature(feeds)}`;
}

function shapeSignature(feeds: Record<string, Tensor>): string {
  return Object.entries(feeds).map(([k, t]) => `${k}:${t.dims.slice(1)}`).join(',');
}

// Cut tensors are fed by the caller but are not inputs of the forward model used for probing.
function onlyGraphInputs(lm: LoadedModel, feeds: Record<string, Tensor>, req: GradientRequest): Record<string, Tensor> {
  const cut = new Set(req.cut ?? []);
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) if (!cut.has(k)) out[k] = t;
  for (const i of lm.inputs) if (!out[i.name] && cut.size > 0) throw new Error(`input '${i.name}' must be fed even in cut mode`);
  return out;
}
