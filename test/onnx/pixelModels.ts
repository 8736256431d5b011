// Small TF-style pixel models for the integer-input tests: NHWC pixels, optionally integers
// cast to float inside the graph, normalised, then a tiny conv net.
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { Tensor } from '../../src/engine/core/tensor';

export const H = 5, W = 6, C = 3, K = 3;

export function rand(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const weights = (n: number, seed: number) => {
  const r = rand(seed);
  return Array.from({ length: n }, () => r() * 2 - 1);
};

/**
 * NHWC pixels → Transpose → (x − 127.5) / 64 → Conv 3×3 → Relu → GlobalAveragePool → Flatten →
 * Gemm = logits (N, 3). `cast` puts a Cast to that float type on the pixels first (as TF-style
 * exports do); `double` normalises in float64 and casts back.
 */
export function pixelModel(o: { elemType: number; cast?: boolean; double?: boolean; extraUse?: 'equal' | 'brightness' }): OnnxModel {
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 't');
  b.addInput('x', o.elemType, ['N', H, W, C]);
  let x = 'x';
  if (o.double) {
    const d = b.op('Cast', [x], { to: attr.int(11) });
    const scaled = b.op('Div', [b.op('Sub', [d, b.constant({ dtype: 'float64', dims: [], data: Float64Array.of(127.5) })]), b.constant({ dtype: 'float64', dims: [], data: Float64Array.of(64) })]);
    x = b.op('Cast', [scaled], { to: attr.int(1) });
  } else {
    if (o.cast) x = b.op('Cast', [x], { to: attr.int(1) });
    x = b.op('Div', [b.op('Sub', [x, b.f32(127.5)]), b.f32(64)]);
  }
  const nchw = b.op('Transpose', [x], { perm: attr.ints([0, 3, 1, 2]) });
  const conv = b.op('Conv', [nchw, b.f32(weights(4 * C * 9, 1), [4, C, 3, 3]), b.f32(weights(4, 2), [4])], { pads: attr.ints([1, 1, 1, 1]) });
  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [b.op('Relu', [conv])])], { axis: attr.int(1) });
  let logits = b.op('Gemm', [pooled, b.f32(weights(K * 4, 3), [K, 4]), b.f32(weights(K, 4), [K])], { transB: attr.int(1) });
  if (o.extraUse === 'brightness') {
    // a second Cast of the same pixels: mean brightness added to every logit
    const bright = b.op('ReduceMean', [b.op('Cast', ['x'], { to: attr.int(1) })], { axes: attr.ints([1, 2, 3]), keepdims: attr.int(1) });
    logits = b.op('Add', [logits, b.op('Mul', [b.op('Reshape', [bright, b.i64([-1, 1])]), b.f32(0.01)])]);
  }
  if (o.extraUse === 'equal') {
    // the raw integers compared: a use as integers, not as float pixels
    const zero = b.constant({ dtype: 'int32', dims: [], data: Int32Array.of(0) });
    const dark = b.op('ReduceMean', [b.op('Cast', [b.op('Equal', ['x', zero])], { to: attr.int(1) })], { axes: attr.ints([1, 2, 3]), keepdims: attr.int(0) });
    logits = b.op('Add', [logits, b.op('Reshape', [dark, b.i64([-1, 1])])]);
  }
  b.add('Identity', [logits], {}, ['logits']);
  b.addOutput('logits', 1);
  return m;
}

export function pixels(n: number, seed: number): { u8: Tensor; f: Tensor } {
  const r = rand(seed);
  const u8 = Uint8Array.from({ length: n * H * W * C }, () => Math.floor(r() * 256));
  return { u8: { dtype: 'uint8', dims: [n, H, W, C], data: u8 }, f: { dtype: 'float32', dims: [n, H, W, C], data: Float32Array.from(u8) } };
}
