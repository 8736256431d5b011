import { Tensor, asFloat32, sizeOf } from '../core/tensor';
import { Target } from './types';

/** The backward seed for `rows` samples: shared weights, or seedAt on each row's forward output. */
export function targetSeed(target: Target, rows: number, outDims: number[], outputs?: Tensor): Tensor {
  const per = sizeOf(outDims.slice(1));
  if (target.weights) {
    if (target.weights.length !== per) throw new Error(`target ${target.text}: weights have ${target.weights.length} values, the output ${per}`);
    const data = new Float32Array(rows * per);
    for (let r = 0; r < rows; r++) data.set(target.weights, r * per);
    return { dtype: 'float32', dims: [rows, ...outDims.slice(1)], data };
  }
  if (!target.seedAt) throw new Error(`target ${target.text} has neither weights nor seedAt`);
  if (!outputs || outputs.dims[0] !== rows) throw new Error(`target ${target.text}: a non-linear target needs each row's forward output`);
  const o = asFloat32(outputs);
  const data = new Float32Array(rows * per);
  for (let r = 0; r < rows; r++) data.set(target.seedAt(o.subarray(r * per, (r + 1) * per), outDims), r * per);
  return { dtype: 'float32', dims: [rows, ...outDims.slice(1)], data };
}

/** sum(weights · row) per row of a (N, ...) output: the score of a linear target. */
export function linearScore(out: Tensor, weights: Float32Array): Float64Array {
  const per = sizeOf(out.dims.slice(1));
  const o = asFloat32(out);
  const nz: number[] = [];
  for (let i = 0; i < per; i++) if (weights[i] !== 0) nz.push(i);
  const r = new Float64Array(out.dims[0]);
  for (let n = 0; n < r.length; n++) {
    let s = 0;
    for (const i of nz) s += weights[i] * o[n * per + i];
    r[n] = s;
  }
  return r;
}
