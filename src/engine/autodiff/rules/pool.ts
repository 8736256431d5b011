import { AttrLensError } from '../../core/errors';
import { attr, attrInt, attrInts } from '../../onnx/attributes';
import { GradRule, RuleContext } from '../types';
import { cropTo } from './conv';
import { windowOf } from '../../onnx/window';
import { transposeFit } from './convUtil';

/** Flat argmax indices of a MaxPool node: its own second output, or that of a second MaxPool. */
export function maxPoolIndices(ctx: RuleContext): string {
  const n = ctx.node;
  if (attrInt(n, 'storage_order', 0) !== 0) throw new AttrLensError(`node '${n.name}': MaxPool with storage_order=1 is not supported on the gradient path`);
  if (n.output[1]) return n.output[1];
  // A second MaxPool for the indices: with two outputs onnxruntime would run the forward one
  // in plain NCHW and the forward network around it could not stay in its blocked layout.
  const attrs = Object.fromEntries((n.attribute ?? []).map((a) => [a.name ?? '', a]));
  return ctx.b.add('MaxPool', [n.input[0]], attrs, 2)[1];
}

/** Scatters `values` (shaped like the pool output) into zeros shaped like `x` at flat `indices`, adding. */
export function scatterAddFlat(ctx: RuleContext, x: string, indices: string, values: string): string {
  const { b } = ctx;
  const size = b.reshape(b.op('Size', [x]), [1]);
  const zeros = b.op('ConstantOfShape', [size]);
  const flat = b.op('ScatterElements', [zeros, b.reshape(indices, [-1]), b.reshape(values, [-1])], { axis: attr.int(0), reduction: attr.str('add') });
  return b.reshape(flat, b.shape(x));
}

/** Spreads dY back over each pooling window (the adjoint of a sum pool), weighted by `scale`. */
function spreadWindows(ctx: RuleContext, dy: string, kernel: number[]): string {
  const { b, node } = ctx;
  const x = node.input[0];
  const xsFull = ctx.shape(x);
  const channels = xsFull[1];
  const xs = xsFull.slice(2);
  const ys = ctx.shape(node.output[0]).slice(2);
  const win = windowOf(node, xs, kernel);
  const fit = transposeFit(win, xs, ys);
  const ones = b.constant({ dtype: 'float32', dims: [channels, 1, ...kernel], data: new Float32Array(channels * kernel.reduce((a, c) => a * c, 1)).fill(1) }, 'pool_ones');
  let dx = b.op('ConvTranspose', [dy, ones], {
    strides: attr.ints(win.strides),
    dilations: attr.ints(win.dilations),
    pads: attr.ints(win.pads),
    group: attr.int(channels),
    kernel_shape: attr.ints(kernel),
    output_padding: attr.ints(fit.outputPadding),
  });
  if (fit.crop) dx = cropTo(ctx, dx, xs);
  return dx;
}

/** Number of window taps inside the unpadded input, per output position (all spatial dims). */
function validCounts(ctx: RuleContext, kernel: number[]): { data: Float32Array; dims: number[] } {
  const { node } = ctx;
  const xs = ctx.shape(node.input[0]).slice(2);
  const ys = ctx.shape(node.output[0]).slice(2);
  const win = windowOf(node, xs, kernel);
  const per = ys.map((y, i) =>
    Array.from({ length: y }, (_, o) => {
      let c = 0;
      for (let j = 0; j < kernel[i]; j++) {
        const p = o * win.strides[i] - win.pads[i] + j * win.dilations[i];
        if (p >= 0 && p < xs[i]) c++;
      }
      return c;
    }),
  );
  const total = ys.reduce((a, c) => a * c, 1);
  const data = new Float32Array(total);
  for (let f = 0; f < total; f++) {
    let rem = f, c = 1;
    for (let i = ys.length - 1; i >= 0; i--) {
      c *= per[i][rem % ys[i]];
      rem = Math.floor(rem / ys[i]);
    }
    data[f] = c;
  }
  return { data, dims: [1, 1, ...ys] };
}

export const poolRules: Record<string, GradRule> = {
  MaxPool: {
    // Gradient goes to each window's argmax (PyTorch's convention), through MaxPool's Indices output.
    grad: (ctx) => [scatterAddFlat(ctx, ctx.node.input[0], maxPoolIndices(ctx), ctx.dY0())],
  },
  AveragePool: {
    grad: (ctx) => {
      const { b, node } = ctx;
      const kernel = attrInts(node, 'kernel_shape')!;
      // onnxruntime's own divisor per output position: AveragePool(ones) = valid taps / divisor.
      const onesX = b.op('ConstantOfShape', [b.shape(node.input[0])], { value: attr.tensor({ dims: [1], dataType: 1, floatData: [1] }) });
      const ratio = b.op('AveragePool', [onesX], Object.fromEntries((node.attribute ?? []).map((a) => [a.name ?? '', a])));
      const counts = validCounts(ctx, kernel);
      const cnt = b.constant({ dtype: 'float32', dims: counts.dims, data: counts.data }, 'pool_counts');
      const scale = b.op('Div', [ratio, cnt]);
      return [spreadWindows(ctx, b.op('Mul', [ctx.dY0(), scale]), kernel)];
    },
  },
  GlobalAveragePool: {
    grad: (ctx) => {
      const { b, node } = ctx;
      const xs = ctx.shape(node.input[0]);
      const sp = xs.slice(2);
      const n = sp.reduce((a, c) => a * c, 1);
      if (sp.length === 2 && n <= 64 && ctx.dtype(node.input[0]) === 'float32') {
        // Small maps: a depthwise Conv spreads dY/n over the map (C·n² MACs), which keeps the
        // backward in onnxruntime's blocked layout from its first step; Expand would not.
        const C = xs[1];
        const w = b.f32(new Array(C * n).fill(1 / n), [C, 1, ...sp]);
        return [b.op('Conv', [ctx.dY0(), w], { group: attr.int(C), kernel_shape: attr.ints(sp), pads: attr.ints([sp[0] - 1, sp[1] - 1, sp[0] - 1, sp[1] - 1]) })];
      }
      return [b.op('Expand', [b.op('Div', [ctx.dY0(), b.f32(n)]), b.shape(node.input[0])])];
    },
  },
  GlobalMaxPool: {
    grad: (ctx) => {
      const { b, node } = ctx;
      const mask = b.op('Equal', [node.input[0], node.output[0]]);
      return [b.op('Where', [mask, b.op('Expand', [ctx.dY0(), b.shape(node.input[0])]), b.f32(0)])];
    },
  },
};
