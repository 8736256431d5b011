import { LoadedModel } from '../model/loadedModel';
import { OutputActivation, outputActivation } from '../onnx/outputKind';
import { Tensor } from '../core/tensor';

const activations = new WeakMap<LoadedModel, Map<string, OutputActivation>>();

/** The activation `output` ends in (read from the graph once per model and output). */
export function activationOf(lm: LoadedModel, output: string): OutputActivation {
  let byOutput = activations.get(lm);
  if (!byOutput) activations.set(lm, (byOutput = new Map()));
  let a = byOutput.get(output);
  if (a === undefined) byOutput.set(output, (a = outputActivation(lm.model, output)));
  return a;
}

/** A view of the model whose chosen output holds probabilities (a softmax unless the model already ends in one). */
export function probabilityModel(lm: LoadedModel, output: string): LoadedModel {
  const view = Object.create(lm) as LoadedModel;
  const activation = activationOf(lm, output);
  view.forward = async (feeds, outputs, opts) => {
    const res = await lm.forward(feeds, outputs, opts);
    const t = res[output];
    if (t) res[output] = { ...t, data: softmaxRows(t, activation) };
    return res;
  };
  return view;
}

/**
 * Probabilities per row over the last axis. Softmax and sigmoid outputs are probabilities
 * already (a sigmoid's are independent: they stay as they are, as Captum explains them);
 * log-softmax outputs are exponentiated. Only for an output the graph says nothing about is
 * the value checked: rows in [0, 1] summing to 1 stay, other rows are softmaxed.
 */
export function softmaxRows(t: Tensor, activation: OutputActivation = 'none'): Float32Array {
  const src = t.data as Float32Array;
  if (activation === 'softmax' || activation === 'sigmoid') return Float32Array.from(src);
  if (activation === 'logsoftmax') return Float32Array.from(src, Math.exp);
  const k = t.dims[t.dims.length - 1] ?? 1;
  const out = new Float32Array(src.length);
  if (k <= 1) return Float32Array.from(src);
  for (let r = 0; r < src.length / k; r++) {
    const row = src.subarray(r * k, (r + 1) * k);
    if (looksLikeProbabilities(row)) {
      out.set(row, r * k);
      continue;
    }
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let z = 0;
    for (let j = 0; j < k; j++) z += out[r * k + j] = Math.exp(row[j] - max);
    for (let j = 0; j < k; j++) out[r * k + j] /= z;
  }
  return out;
}

/** The value-based guess for outputs of unknown activation: every value in [0, 1], summing to 1. */
export function looksLikeProbabilities(row: ArrayLike<number>): boolean {
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const v = Number(row[i]);
    if (!(v >= 0 && v <= 1)) return false;
    sum += v;
  }
  return Math.abs(sum - 1) < 1e-3;
}
