import { attr } from '../../onnx/attributes';
import { ONNX_CODE } from '../../core/tensor';
import { RuleContext } from '../types';

// The "index trick" for data-movement ops: run the forward op on a tensor holding each
// element's flat index in X; the result says where every output element came from, and the
// gradient is dY scattered back there. Exact for any attribute combination the op supports,
// and fully dynamic in the batch size.

const BYTES: Record<string, number> = { float32: 4, float64: 8, float16: 2 };

/** ONNX type code of a tensor's float type (float32 when unknown). */
export function floatCode(ctx: RuleContext, t: string): number {
  const dt = ctx.dtype(t);
  return dt === 'float64' || dt === 'float16' ? ONNX_CODE[dt] : 1;
}

/** Zeros of the float type of `like`, with a runtime shape tensor. */
export function zerosOfShape(ctx: RuleContext, shape: string, like: string): string {
  const code = floatCode(ctx, like);
  const bytes = BYTES[code === 11 ? 'float64' : code === 10 ? 'float16' : 'float32'];
  return ctx.b.op('ConstantOfShape', [shape], { value: attr.tensor({ dims: [1], dataType: code, rawData: new Uint8Array(bytes) }) });
}

/** Zeros shaped and typed like `t`. */
export function zerosLikeT(ctx: RuleContext, t: string): string {
  return zerosOfShape(ctx, ctx.b.shape(t), t);
}

/** Flat element index of every element of `x`, shaped like x (int64, or int32 for ops lacking int64 kernels). */
export function indexTensor(ctx: RuleContext, x: string, int32 = false): string {
  const { b } = ctx;
  let size = b.op('Size', [x]);
  let start = b.i64([0], []), step = b.i64([1], []);
  if (int32) {
    size = b.op('Cast', [size], { to: attr.int(6) });
    start = b.constant({ dtype: 'int32', dims: [], data: Int32Array.from([0]) }, 'i32');
    step = b.constant({ dtype: 'int32', dims: [], data: Int32Array.from([1]) }, 'i32');
  }
  return b.reshape(b.op('Range', [start, size, step]), b.shape(x));
}

/**
 * Scatters `values` into zeros shaped like `x` at the flat indices `where` (same shape as
 * values). `add` sums repeated indices; without it every index must occur at most once.
 */
export function scatterFlat(ctx: RuleContext, x: string, where: string, values: string, add: boolean): string {
  const { b } = ctx;
  const zeros = zerosOfShape(ctx, b.reshape(b.op('Size', [x]), [1]), values);
  const flat = b.op('ScatterElements', [zeros, b.reshape(where, [-1]), b.reshape(values, [-1])], {
    axis: attr.int(0),
    ...(add ? { reduction: attr.str('add') } : {}),
  });
  return b.reshape(flat, b.shape(x));
}

/** Casts `t` to the float type of `like`. */
export function castLike(ctx: RuleContext, t: string, like: string): string {
  return ctx.b.op('Cast', [t], { to: attr.int(floatCode(ctx, like)) });
}
