import { AttrLensError } from '../../errors';
import { attr, attrInt, attrInts } from '../../onnx/attributes';
import { GradRule, RuleContext } from '../types';
import { Window, transposeFit, windowOf } from './convUtil';

function noWeightGrad(ctx: RuleContext): void {
  if (ctx.needs[1]) {
    throw new AttrLensError(`node '${ctx.node.name}' (${ctx.node.opType}): gradients through weights computed from the input are not supported; attribute to the input instead`);
  }
}

/** Crops a ConvTranspose result back to the forward input's spatial size (ceil_mode, ...). */
export function cropTo(ctx: RuleContext, t: string, xs: number[]): string {
  const r = xs.length;
  const axes = Array.from({ length: r }, (_, i) => i + 2);
  return ctx.b.slice(t, new Array(r).fill(0), xs, axes);
}

/**
 * dX of a convolution as a forward Conv, which onnxruntime runs 2-3x faster than ConvTranspose:
 * stride 1 correlates dY with the flipped, channel-transposed kernel; equal 2-D strides s > 1
 * use s² polyphase sub-kernels in one Conv and interleave them with DepthToSpace. The kernel
 * transforms act on the weight initializer, so onnxruntime folds them once at session start.
 * Returns undefined where neither applies (the caller falls back to ConvTranspose).
 */
function inputGradByConv(ctx: RuleContext, dy: string, w: string, win: Window, xs: number[], ys: number[], group: number): string | undefined {
  const { b } = ctx;
  const r = xs.length;
  const { strides: s, dilations: d, kernel: K } = win;
  const pb = win.pads.slice(0, r);
  const wShape = ctx.shape(w);
  const [M, Cg] = wShape;
  const C = Cg * group;
  const spatial = K.map((_, i) => i + 2);
  const flip = (t: string) => b.slice(t, K.map(() => -1), K.map(() => -Number.MAX_SAFE_INTEGER), spatial, K.map(() => -1));
  if (s.every((v) => v === 1)) {
    const begin = K.map((k, i) => d[i] * (k - 1) - pb[i]);
    const end = K.map((k, i) => xs[i] - ys[i] - begin[i] + d[i] * (k - 1));
    if ([...begin, ...end].some((v) => v < 0)) return undefined;
    // [M, C/g, K] → [g, M/g, C/g, K] → [g, C/g, M/g, K] → [C, M/g, K], flipped
    const wt = b.op('Transpose', [b.reshape(w, [group, M / group, Cg, ...K])], { perm: attr.ints([0, 2, 1, ...K.map((_, i) => i + 3)]) });
    const wb = flip(b.reshape(wt, [C, M / group, ...K]));
    return b.op('Conv', [dy, wb], {
      dilations: attr.ints(d),
      group: attr.int(group),
      kernel_shape: attr.ints(K),
      pads: attr.ints([...begin, ...end]),
      strides: attr.ints(K.map(() => 1)),
    });
  }
  if (r !== 2 || s[0] !== s[1] || d.some((v) => v !== 1)) return undefined;
  const st = s[0];
  if (K[0] === 1 && K[1] === 1 && pb.every((p) => p === 0)) {
    // 1x1 with stride: the transposed 1x1 conv at low resolution, then zeros between samples
    const wt = b.op('Transpose', [b.reshape(w, [group, M / group, Cg, 1, 1])], { perm: attr.ints([0, 2, 1, 3, 4]) });
    const z = b.op('Conv', [dy, b.reshape(wt, [C, M / group, 1, 1])], { group: attr.int(group), kernel_shape: attr.ints([1, 1]) });
    const z6 = b.unsqueeze(z, [3, 5]);
    const spread = b.pad(z6, [0, 0, 0, 0, 0, 0, 0, 0, 0, st - 1, 0, st - 1]);
    const full = b.reshape(spread, b.op('Mul', [b.shape(z), b.i64([1, 1, st, st])]));
    return b.slice(full, [0, 0], xs, [2, 3]);
  }
  const J = K.map((k) => Math.ceil(k / st));
  const Q = xs.map((x, i) => Math.floor((x - 1 + pb[i]) / st) + 1);
  // Phase (r0, r1) of dX takes taps W[r + st·j]: pad taps to J·st, split them into (j, r), put
  // phases with the channels as DepthToSpace (CRD) expects, flip the j taps.
  const wp = b.op('Pad', [w, b.i64([0, 0, 0, 0, 0, 0, J[0] * st - K[0], J[1] * st - K[1]])], { mode: attr.str('constant') });
  const w7 = b.reshape(wp, [group, M / group, Cg, J[0], st, J[1], st]);
  const wt = b.op('Transpose', [w7], { perm: attr.ints([0, 2, 4, 6, 1, 3, 5]) });
  const wb = flip(b.reshape(wt, [C * st * st, M / group, J[0], J[1]]));
  const endPad = Q.map((q, i) => q - ys[i]);
  let z = b.op('Conv', [dy, wb], {
    group: attr.int(group),
    kernel_shape: attr.ints(J),
    pads: attr.ints([J[0] - 1, J[1] - 1, Math.max(0, endPad[0]), Math.max(0, endPad[1])]),
    strides: attr.ints([1, 1]),
  });
  if (endPad.some((e) => e < 0)) z = b.slice(z, [0, 0], Q, [2, 3]);
  const u = b.op('DepthToSpace', [z], { blocksize: attr.int(st), mode: attr.str('CRD') });
  return b.slice(u, pb, pb.map((p, i) => p + xs[i]), [2, 3]);
}

export const convRules: Record<string, GradRule> = {
  Conv: {
    grad: (ctx) => {
      noWeightGrad(ctx);
      const { b, node } = ctx;
      const [x, w, bias] = node.input;
      const xs = ctx.shape(x).slice(2);
      const ys = ctx.shape(node.output[0]).slice(2);
      const kernel = attrInts(node, 'kernel_shape') ?? ctx.shape(w).slice(2);
      const win = windowOf(node, xs, kernel);
      const group = attrInt(node, 'group', 1);
      const out: Array<string | undefined> = [undefined, undefined, undefined];
      const viaConv = ctx.needs[0] ? inputGradByConv(ctx, ctx.dY0(), w, win, xs, ys, group) : undefined;
      if (viaConv) out[0] = viaConv;
      else if (ctx.needs[0]) {
        // dX = ConvTranspose(dY, W): the adjoint of the convolution (explicit pads, no output_shape)
        const fit = transposeFit(win, xs, ys);
        let dx = b.op('ConvTranspose', [ctx.dY0(), w], {
          strides: attr.ints(win.strides),
          dilations: attr.ints(win.dilations),
          pads: attr.ints(win.pads),
          group: attr.int(group),
          kernel_shape: attr.ints(kernel),
          output_padding: attr.ints(fit.outputPadding),
        });
        if (fit.crop) dx = cropTo(ctx, dx, xs);
        out[0] = dx;
      }
      if (bias && ctx.needs[2]) out[2] = b.reduceSum(ctx.dY0(), [0, ...xs.map((_, i) => i + 2)], false);
      return out;
    },
  },
  ConvTranspose: {
    grad: (ctx) => {
      noWeightGrad(ctx);
      const { b, node } = ctx;
      const [x, w, bias] = node.input;
      const xs = ctx.shape(x).slice(2);
      const ys = ctx.shape(node.output[0]).slice(2);
      const kernel = attrInts(node, 'kernel_shape') ?? ctx.shape(w).slice(2);
      const r = xs.length;
      const strides = attrInts(node, 'strides') ?? new Array(r).fill(1);
      const dilations = attrInts(node, 'dilations') ?? new Array(r).fill(1);
      // Recover the begin pads from the static sizes: y = s(x-1) + op + d(k-1) + 1 - pb - pe.
      let pads = attrInts(node, 'pads');
      const explicit = pads && !node.attribute?.some((a) => a.name === 'output_shape' || (a.name === 'auto_pad' && a.s && new TextDecoder().decode(a.s) !== 'NOTSET'));
      if (!explicit) {
        const op = attrInts(node, 'output_padding') ?? new Array(r).fill(0);
        pads = new Array(2 * r).fill(0);
        for (let i = 0; i < r; i++) {
          const total = strides[i] * (xs[i] - 1) + op[i] + dilations[i] * (kernel[i] - 1) + 1 - ys[i];
          const upper = (node.attribute?.find((a) => a.name === 'auto_pad')?.s && new TextDecoder().decode(node.attribute.find((a) => a.name === 'auto_pad')!.s!)) === 'SAME_UPPER';
          pads[i] = upper ? Math.floor(total / 2) : total - Math.floor(total / 2);
          pads[i + r] = total - pads[i];
        }
      }
      const out: Array<string | undefined> = [undefined, undefined, undefined];
      if (ctx.needs[0]) {
        // The adjoint of a transposed convolution is the convolution with the same geometry.
        const padsBegin = pads!.slice(0, r);
        // Conv ignores rows that output_padding added at the end; pad the end so sizes meet.
        const need = xs.map((_, i) => strides[i] * (xs[i] - 1) + dilations[i] * (kernel[i] - 1) + 1 - ys[i] - padsBegin[i]);
        out[0] = b.op('Conv', [ctx.dY0(), w], {
          strides: attr.ints(strides),
          dilations: attr.ints(dilations),
          pads: attr.ints([...padsBegin, ...need.map((n) => Math.max(0, n))]),
          group: attr.int(attrInt(node, 'group', 1)),
          kernel_shape: attr.ints(kernel),
        });
        if (need.some((n) => n < 0)) out[0] = cropTo(ctx, out[0], xs);
      }
      if (bias && ctx.needs[2]) out[2] = b.reduceSum(ctx.dY0(), [0, ...ys.map((_, i) => i + 2)], false);
      return out;
    },
  },
};
