import { LoadedModel } from '../loaded';
import { Tensor } from '../tensor';

/** A view of the model whose chosen output is a softmax over its last axis (kept when it already holds probabilities). */
export function probabilityModel(lm: LoadedModel, output: string): LoadedModel {
  const view = Object.create(lm) as LoadedModel;
  view.forward = async (feeds, outputs, opts) => {
    const res = await lm.forward(feeds, outputs, opts);
    const t = res[output];
    if (t) res[output] = { ...t, data: softmaxRows(t) };
    return res;
  };
  return view;
}

/** Softmax over the last axis per row; rows that already are probabilities, and single-value outputs, stay as they are. */
export function softmaxRows(t: Tensor): Float32Array {
  const k = t.dims[t.dims.length - 1] ?? 1;
  const src = t.data as Float32Array;
  const out = new Float32Array(src.length);
  if (k <= 1) return Float32Array.from(src);
  for (let r = 0; r < src.length / k; r++) {
    const row = src.subarray(r * k, (r + 1) * k);
    let sum = 0, max = -Infinity, inUnit = true;
    for (const v of row) {
      sum += v;
      max = Math.max(max, v);
      inUnit &&= v >= 0 && v <= 1;
    }
    if (inUnit && Math.abs(sum - 1) < 1e-3) {
      out.set(row, r * k);
      continue;
    }
    let z = 0;
    for (let j = 0; j < k; j++) z += out[r * k + j] = Math.exp(row[j] - max);
    for (let j = 0; j < k; j++) out[r * k + j] /= z;
  }
  return out;
}
