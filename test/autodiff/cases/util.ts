import { GraphBuilder } from '../../../src/engine/onnx/builder';
import { sizeOf } from '../../../src/engine/core/tensor';
import { rng } from '../fd';

export { attr } from '../../../src/engine/onnx/attributes';

/** A float32 initializer of uniform values in [lo, hi], deterministic per `seed`. */
export function randConst(b: GraphBuilder, dims: number[], seed: string, lo = -1, hi = 1): string {
  const r = rng(seed);
  const data = Array.from({ length: sizeOf(dims) }, () => lo + (hi - lo) * r());
  return b.f32(data, dims);
}
