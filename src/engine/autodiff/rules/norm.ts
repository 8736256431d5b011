import { attr, attrFloat, attrInt } from '../../onnx/attributes';
import { GradRule, RuleContext } from '../types';
import { unsupported } from './unsupported';

/** [C, 1, ...] so a per-channel vector broadcasts over an (N, C, ...) tensor of rank r. */
const perChannel = (ctx: RuleContext, t: string, r: number) => (r > 2 ? ctx.b.reshape(t, [-1, ...new Array(r - 2).fill(1)]) : t);

/**
 * dX of y = scale * x̂ + bias with x̂ = (X - mean) * rstd over `axes` (statistics of X itself):
 * rstd * (g - mean(g) - x̂ * mean(g * x̂)), g = dY * scale. Also returns x̂ for parameter gradients.
 */
function normalisedGrad(ctx: RuleContext, axes: number[], scale: string | undefined, eps: number): { dx: string; xhat: string } {
  const { b, node } = ctx;
  const x = node.input[0];
  const mean = (t: string) => b.reduce('ReduceMean', t, axes, true);
  const xc = b.op('Sub', [x, mean(x)]);
  const rstd = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [mean(b.op('Mul', [xc, xc])), b.f32(eps)])])]);
  const xhat = b.op('Mul', [xc, rstd]);
  const g = scale ? b.op('Mul', [ctx.dY0(), scale]) : ctx.dY0();
  const inner = b.op('Sub', [b.op('Sub', [g, mean(g)]), b.op('Mul', [xhat, mean(b.op('Mul', [g, xhat]))])]);
  return { dx: b.op('Mul', [rstd, inner]), xhat };
}

function onlyFirstOutput(ctx: RuleContext): void {
  if (ctx.dY.slice(1).some((d) => d !== undefined)) unsupported(ctx, `the Mean/InvStdDev outputs of ${ctx.node.opType}`);
}

/**
 * Sum over a window of channels of an (N, C, ...) tensor, `before` channels below and `after`
 * above each one (zero beyond the edges): a Conv of ones over (N, 1, C, rest).
 */
function channelWindowSum(ctx: RuleContext, t: string, before: number, after: number): string {
  const { b } = ctx;
  const channels = ctx.shape(ctx.node.input[0])[1];
  const size = before + after + 1;
  const ones = b.constant({ dtype: 'float32', dims: [1, 1, size, 1], data: new Float32Array(size).fill(1) }, 'lrn_ones');
  const flat = b.reshape(t, [0, 1, channels, -1]); // (N, 1, C, D1*...*Dk)
  const summed = b.op('Conv', [flat, ones], { kernel_shape: attr.ints([size, 1]), pads: attr.ints([before, 0, after, 0]) });
  return b.reshape(summed, b.shape(t));
}

export const normRules: Record<string, GradRule> = {
  LRN: {
    // y = x * s^-β with s = bias + α/size · Σ_window x², the window running from c - lo to c + hi:
    // dX = dY · s^-β - (2αβ/size) · x · Σ_{c: j ∈ window(c)} dY_c x_c s_c^(-β-1), the adjoint window.
    grad: (ctx) => {
      const { b, node } = ctx;
      const x = node.input[0];
      if (ctx.dtype(x) !== undefined && ctx.dtype(x) !== 'float32') unsupported(ctx, `LRN on ${ctx.dtype(x)}`);
      const size = attrInt(node, 'size', 1);
      const alpha = attrFloat(node, 'alpha', 1e-4), beta = attrFloat(node, 'beta', 0.75), bias = attrFloat(node, 'bias', 1);
      const lo = Math.floor((size - 1) / 2), hi = Math.ceil((size - 1) / 2);
      const s = b.op('Add', [b.op('Mul', [channelWindowSum(ctx, b.op('Mul', [x, x]), lo, hi), b.f32(alpha / size)]), b.f32(bias)]);
      const direct = b.op('Mul', [ctx.dY0(), b.op('Pow', [s, b.f32(-beta)])]);
      const inner = b.op('Mul', [b.op('Mul', [ctx.dY0(), x]), b.op('Pow', [s, b.f32(-beta - 1)])]);
      const spread = b.op('Mul', [b.op('Mul', [channelWindowSum(ctx, inner, hi, lo), x]), b.f32((2 * alpha * beta) / size)]);
      return [b.op('Sub', [direct, spread])];
    },
  },
  BatchNormalization: {
    // Inference: a per-channel affine map, dX = dY * scale / sqrt(var + eps).
    grad: (ctx) => {
      const { b, node } = ctx;
      if (attrInt(node, 'training_mode', 0)) unsupported(ctx, 'BatchNormalization in training mode');
      if (ctx.needs.slice(1).some(Boolean)) unsupported(ctx, 'BatchNormalization parameters computed from the input');
      const [x, scale, , , variance] = node.input;
      const k = b.op('Div', [scale, b.op('Sqrt', [b.op('Add', [variance, b.f32(attrFloat(node, 'epsilon', 1e-5))])])]);
      return [b.op('Mul', [ctx.dY0(), perChannel(ctx, k, ctx.shape(x).length)])];
    },
  },
  LayerNormalization: {
    grad: (ctx) => {
      onlyFirstOutput(ctx);
      const { node } = ctx;
      const [x, scale, bias] = node.input;
      const r = ctx.shape(x).length;
      let axis = attrInt(node, 'axis', -1);
      if (axis < 0) axis += r;
      const axes = Array.from({ length: r - axis }, (_, i) => axis + i);
      const { dx, xhat } = normalisedGrad(ctx, axes, scale, attrFloat(node, 'epsilon', 1e-5));
      const y = node.output[0];
      return [
        ctx.needs[0] ? dx : undefined,
        ctx.needs[1] ? ctx.unbroadcast(ctx.b.op('Mul', [ctx.dY0(), xhat]), scale, y) : undefined,
        bias && ctx.needs[2] ? ctx.unbroadcast(ctx.dY0(), bias, y) : undefined,
      ];
    },
  },
  InstanceNormalization: {
    // Per (n, c) over the spatial axes.
    grad: (ctx) => {
      const { b, node } = ctx;
      const [x, scale] = node.input;
      const r = ctx.shape(x).length;
      const spatial = Array.from({ length: r - 2 }, (_, i) => i + 2);
      const { dx, xhat } = normalisedGrad(ctx, spatial, perChannel(ctx, scale, r), attrFloat(node, 'epsilon', 1e-5));
      const notC = [0, ...spatial];
      return [
        ctx.needs[0] ? dx : undefined,
        ctx.needs[1] ? b.reduceSum(b.op('Mul', [ctx.dY0(), xhat]), notC, false) : undefined,
        ctx.needs[2] ? b.reduceSum(ctx.dY0(), notC, false) : undefined,
      ];
    },
  },
};
