// Feeds for checks and probes: batch-1 inputs of a size the model accepts.
import { AttrLensError } from '../core/errors';
import { configuredSize, inferLayout } from '../inputs/preprocess';
import { inputStride } from '../onnx/stride';
import { Tensor, sizeOf } from '../core/tensor';
import type { IOInfo } from './io';
import type { LoadedModel } from './loadedModel';

type ExampleSource = Pick<LoadedModel, 'inputs' | 'label' | 'model'> & Parameters<typeof configuredSize>[0];

/** Deterministic batch-1 feeds for checks: a smooth float pattern, ones for integers. */
export function exampleFeeds(lm: ExampleSource, variant: number): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const inp of lm.inputs) {
    const dims = exampleDims(lm, inp);
    const n = sizeOf(dims);
    if (inp.dtype === 'float32') {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37 * variant + variant) * 0.5;
      feeds[inp.name] = { dtype: 'float32', dims, data };
    } else if (inp.dtype === 'int64') {
      feeds[inp.name] = { dtype: 'int64', dims, data: new BigInt64Array(n).fill(BigInt(variant)) };
    } else if (inp.dtype === 'int32') {
      feeds[inp.name] = { dtype: 'int32', dims, data: new Int32Array(n).fill(variant) };
    } else if (inp.dtype === 'bool' || inp.dtype === 'uint8') {
      feeds[inp.name] = { dtype: inp.dtype, dims, data: new Uint8Array(n).fill(1) };
    } else {
      throw new AttrLensError(`${lm.label}: input '${inp.name}' has type ${inp.dtype ?? inp.elemType}, which the engine cannot feed`);
    }
  }
  return feeds;
}

/**
 * Dims to probe an input at: fixed dims as they are; symbolic height/width of an image input
 * at the size its preprocessing config gives, else at a small size the model accepts (twice
 * its stride: an FPN that merges 32x maps takes multiples of 32); other symbolic dims at 8.
 */
function exampleDims(lm: ExampleSource, inp: IOInfo): number[] {
  const dims = inp.dims.map((d, i) => (i === 0 ? 1 : typeof d === 'number' && d > 0 ? d : 8));
  if (inp.dims.length !== 4) return dims;
  const axes = inferLayout(inp.dims) === 'NCHW' ? [2, 3] : [1, 2];
  if (axes.every((a) => dims[a] === inp.dims[a])) return dims;
  const stride = inputStride(lm.model, inp.name);
  const size = configuredSize(lm, inp.name);
  axes.forEach((a, k) => {
    if (dims[a] !== inp.dims[a]) dims[a] = size?.[k] ?? Math.ceil(Math.max(8, 2 * stride[k]) / stride[k]) * stride[k];
  });
  return dims;
}
