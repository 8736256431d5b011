import { AttrLensError } from '../core/errors';
import { DType, ONNX_CODE, ONNX_DTYPE, ONNX_DTYPE_NAME, Tensor, sizeOf } from '../core/tensor';
import { TensorProto, num } from './proto';

/** Decodes a TensorProto's values (inline data only; external data is inlined at load). */
export function tensorFromProto(t: TensorProto): Tensor {
  const dims = (t.dims ?? []).map(num);
  const code = t.dataType ?? 0;
  const dtype = ONNX_DTYPE[code];
  if (!dtype) throw new AttrLensError(`tensor '${t.name}' has data type ${ONNX_DTYPE_NAME[code] ?? code}, which the engine does not read`);
  const n = sizeOf(dims);
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    // Copy to an aligned buffer: raw bytes inside a protobuf buffer are rarely aligned.
    // (Not raw.slice(): on a Node Buffer that is a view into the whole file.)
    const copy = new Uint8Array(raw.byteLength);
    copy.set(raw);
    const buf = copy.buffer;
    const data = makeArray(dtype, buf, n);
    if (data.length !== n) throw new AttrLensError(`tensor '${t.name}' holds ${raw.length} bytes, which does not fit dims [${dims}]`);
    return { dtype, dims, data };
  }
  switch (dtype) {
    case 'float32': return { dtype, dims, data: Float32Array.from(t.floatData ?? []) };
    case 'float64': return { dtype, dims, data: Float64Array.from(t.doubleData ?? []) };
    case 'int64': return { dtype, dims, data: BigInt64Array.from((t.int64Data ?? []).map((v) => BigInt(num(v)))) };
    case 'int32': return { dtype, dims, data: Int32Array.from(t.int32Data ?? []) };
    case 'uint8': case 'bool': return { dtype, dims, data: Uint8Array.from(t.int32Data ?? []) };
    case 'int8': return { dtype, dims, data: Int8Array.from(t.int32Data ?? []) };
    case 'float16': return { dtype, dims, data: Uint16Array.from(t.int32Data ?? []) };
  }
}

function makeArray(dtype: DType, buf: ArrayBufferLike, n: number) {
  switch (dtype) {
    case 'float32': return new Float32Array(buf, 0, Math.min(n, buf.byteLength / 4));
    case 'float64': return new Float64Array(buf, 0, Math.min(n, buf.byteLength / 8));
    case 'int64': return new BigInt64Array(buf, 0, Math.min(n, buf.byteLength / 8));
    case 'int32': return new Int32Array(buf, 0, Math.min(n, buf.byteLength / 4));
    case 'uint8': case 'bool': return new Uint8Array(buf, 0, Math.min(n, buf.byteLength));
    case 'int8': return new Int8Array(buf, 0, Math.min(n, buf.byteLength));
    case 'float16': return new Uint16Array(buf, 0, Math.min(n, buf.byteLength / 2));
  }
}

export function tensorToProto(name: string, t: Tensor): TensorProto {
  const d = t.data;
  return {
    name,
    dims: [...t.dims],
    dataType: ONNX_CODE[t.dtype],
    rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  };
}

export function numbersOf(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}
