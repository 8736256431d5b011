/** A dense tensor in row-major order, the engine's common currency. */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool' | 'float16';

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Uint16Array;

export interface Tensor {
  dtype: DType;
  dims: number[];
  data: TensorData;
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function floatTensor(dims: number[], data?: Float32Array): Tensor & { data: Float32Array } {
  const n = sizeOf(dims);
  if (data && data.length !== n) throw new Error(`tensor data has ${data.length} values, dims [${dims}] need ${n}`);
  return { dtype: 'float32', dims, data: data ?? new Float32Array(n) };
}

export function asFloat32(t: Tensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  const out = new Float32Array(t.data.length);
  if (t.data instanceof BigInt64Array) for (let i = 0; i < out.length; i++) out[i] = Number(t.data[i]);
  else for (let i = 0; i < out.length; i++) out[i] = Number(t.data[i]);
  return out;
}

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<number, DType | undefined> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64',
};
export const ONNX_CODE: Record<DType, number> = {
  float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11,
};
export const ONNX_DTYPE_NAME: Record<number, string> = {
  0: 'undefined', 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};

export function isFloatCode(code: number): boolean {
  return code === 1 || code === 10 || code === 11 || code === 16;
}

/** Index of the largest values, largest first. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b] - values[a]);
  return idx.slice(0, k);
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

function typedCtor(t: Tensor): new (n: number) => Tensor['data'] {
  return t.data.constructor as new (n: number) => Tensor['data'];
}

/** Rows [start, end) along dimension 0, as a view (no copy). */
export function sliceRows(t: Tensor, start: number, end: number): Tensor {
  const row = sizeOf(t.dims.slice(1));
  return { dtype: t.dtype, dims: [end - start, ...t.dims.slice(1)], data: t.data.subarray(start * row, end * row) as Tensor['data'] };
}

/** Concatenates along dimension 0. */
export function concatRows(parts: Tensor[]): Tensor {
  if (parts.length === 1) return parts[0];
  const total = parts.reduce((s, p) => s + p.data.length, 0);
  const data = new (typedCtor(parts[0]))(total);
  let off = 0;
  for (const p of parts) {
    (data as Float32Array).set(p.data as Float32Array, off);
    off += p.data.length;
  }
  return { dtype: parts[0].dtype, dims: [parts.reduce((s, p) => s + p.dims[0], 0), ...parts[0].dims.slice(1)], data };
}

/** `count` copies of a batch-1 tensor stacked along dimension 0. */
export function repeatRows(t: Tensor, count: number): Tensor {
  const data = new (typedCtor(t))(t.data.length * count);
  for (let i = 0; i < count; i++) (data as Float32Array).set(t.data as Float32Array, i * t.data.length);
  return { dtype: t.dtype, dims: [t.dims[0] * count, ...t.dims.slice(1)], data };
}
