import { AttrLensError } from '../../errors';
import { attr, attrInt, attrInts } from '../../onnx/attributes';
import { GradRule, RuleContext } from '../types';
import { transposeFit, windowOf } from './convUtil';

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
      if (ctx.needs[0]) {
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
