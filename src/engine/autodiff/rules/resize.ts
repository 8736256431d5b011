import { attr, attrInt, attrInts, attrString, copyAttrs } from '../../onnx/attributes';
import { numbersOf } from '../../onnx/tensorProto';
import { GradRule, RuleContext } from '../types';
import { indexTensor, scatterFlat } from './indexMap';
import { unsupported } from './unsupported';

// Resize is linear in X. Nearest: the index trick (onnxruntime's own rounding decides the
// source pixel). Linear: separable, so per resized axis the forward is X ×_axis M with a
// static interpolation matrix M (out × in) and the backward is dY ×_axis Mᵀ.

/** Per-axis scale as onnxruntime uses it: the scales input, else output/input size. */
function axisScales(ctx: RuleContext, xs: number[], ys: number[]): number[] {
  const { node } = ctx;
  const r = xs.length;
  const axes = (attrInts(node, 'axes') ?? []).map((a) => (a < 0 ? a + r : a));
  const on = (k: number) => (axes.length ? axes[k] : k);
  const scales = ys.map((y, i) => y / xs[i]);
  const sc = node.input[2] ? ctx.constant(node.input[2]) : undefined;
  if (sc && sc.data.length > 0) {
    numbersOf(sc).forEach((s, k) => (scales[on(k)] = s));
    return scales;
  }
  const policy = attrString(node, 'keep_aspect_ratio_policy', 'stretch');
  const sizes = node.input[3] ? ctx.constant(node.input[3]) : undefined;
  if (policy !== 'stretch' && sizes) {
    const ratios = numbersOf(sizes).map((s, k) => s / xs[on(k)]);
    const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    ratios.forEach((_, k) => (scales[on(k)] = s));
  }
  return scales;
}

/** The source coordinate of output position o (onnxruntime's get_original_coordinate). */
function sourceCoord(ctx: RuleContext, mode: string, o: number, scale: number, inLen: number, outLen: number): number {
  switch (mode) {
    case 'half_pixel':
      return (o + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return outLen > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return outLen === 1 ? 0 : (o * (inLen - 1)) / (outLen - 1);
    case 'asymmetric':
      return o / scale;
    case 'tf_half_pixel_for_nearest':
      return (o + 0.5) / scale;
    case 'half_pixel_symmetric': {
      const adjustment = outLen / (scale * inLen);
      const offset = (inLen / 2) * (1 - adjustment);
      return offset + (o + 0.5) / scale - 0.5;
    }
    default:
      return unsupported(ctx, `Resize with coordinate_transformation_mode '${mode}'`);
  }
}

/** Linear interpolation matrix (out × in), row-major, with onnxruntime's edge clamping. */
function linearMatrix(ctx: RuleContext, mode: string, scale: number, inLen: number, outLen: number): Float32Array {
  const m = new Float64Array(outLen * inLen);
  for (let o = 0; o < outLen; o++) {
    let c = scale === 1 ? o : sourceCoord(ctx, mode, o, scale, inLen, outLen);
    c = Math.max(0, Math.min(c, inLen - 1));
    const x1 = Math.min(Math.floor(c), inLen - 1);
    const x2 = Math.min(x1 + 1, inLen - 1);
    if (x1 === x2) m[o * inLen + x1] += 1;
    else {
      m[o * inLen + x1] += x2 - c;
      m[o * inLen + x2] += c - x1;
    }
  }
  return Float32Array.from(m);
}

export const resizeRule: GradRule = {
  differentiable: () => [0],
  grad: (ctx) => {
    const { b, node } = ctx;
    const x = node.input[0], y = node.output[0];
    const mode = attrString(node, 'mode', 'nearest');
    const coordMode = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
    if (coordMode === 'tf_crop_and_resize') unsupported(ctx, "Resize with coordinate_transformation_mode 'tf_crop_and_resize'");
    if (mode === 'nearest') {
      // onnxruntime's Resize has no int64 kernel: int32 indices.
      const idx = indexTensor(ctx, x, true);
      const src = b.op('Resize', [idx, ...node.input.slice(1)], copyAttrs(node));
      return [scatterFlat(ctx, x, src, ctx.dY0(), true)];
    }
    if (mode !== 'linear') unsupported(ctx, `Resize with mode '${mode}'`);
    const xs = ctx.shape(x), ys = ctx.shape(y);
    const r = xs.length;
    const scales = axisScales(ctx, xs, ys);
    if (attrInt(node, 'antialias', 0) && scales.some((s) => s < 1)) unsupported(ctx, 'antialiased downsampling Resize');
    let g = ctx.dY0();
    for (let a = r - 1; a >= 0; a--) {
      if (xs[a] === ys[a] && scales[a] === 1) continue;
      if (ctx.isBatchAxis(x, a)) unsupported(ctx, 'Resize along the batch axis');
      const m = linearMatrix(ctx, coordMode, scales[a], xs[a], ys[a]);
      const M = b.constant({ dtype: 'float32', dims: [ys[a], xs[a]], data: m }, 'resize_matrix');
      if (a === r - 1) g = b.op('MatMul', [g, M]);
      else if (a === r - 2) g = b.op('MatMul', [b.op('Transpose', [M], { perm: attr.ints([1, 0]) }), g]);
      else {
        const perm = Array.from({ length: r }, (_, i) => i);
        [perm[a], perm[r - 1]] = [perm[r - 1], perm[a]];
        const moved = b.op('MatMul', [b.op('Transpose', [g], { perm: attr.ints(perm) }), M]);
        g = b.op('Transpose', [moved], { perm: attr.ints(perm) });
      }
    }
    return [g];
  },
};
