import { attr, attrFloat } from '../../onnx/attributes';
import { GradRule, RuleContext } from '../types';

// Pointwise non-linearities: dX = dY * f'(X), written with standard ops.
const x0 = (ctx: RuleContext) => ctx.node.input[0];
const y0 = (ctx: RuleContext) => ctx.node.output[0];
const only = (g: string) => [g];

export const activationRules: Record<string, GradRule> = {
  Relu: {
    // strict X > 0 as PyTorch, read from Y (Y > 0 iff X > 0) so that Conv+Relu still fuse
    grad: (ctx) => {
      const { b } = ctx;
      const y = y0(ctx);
      const ys = ctx.shape(y);
      if (ys.length === 4 && ctx.dtype(y) === 'float32') {
        // On image tensors the mask is clip(2^127·Y, 0, 1), a depthwise 1x1 Conv with a fused Clip,
        // so that onnxruntime keeps the backward in its blocked (NCHWc) layout instead of reordering
        // around Greater/Where. It equals 1[Y > 0] except for denormal Y below 2^-127.
        const C = ys[1];
        const scale = b.constant({ dtype: 'float32', dims: [C, 1, 1, 1], data: new Float32Array(C).fill(2 ** 127) }, 'relu_mask_scale');
        const mask = b.op('Clip', [b.op('Conv', [y, scale], { group: attr.int(C), kernel_shape: attr.ints([1, 1]) }), b.f32(0), b.f32(1)]);
        return only(b.op('Mul', [ctx.dY0(), mask]));
      }
      return only(b.op('Where', [b.op('Greater', [y, b.f32(0)]), ctx.dY0(), b.f32(0)]));
    },
  },
  PRelu: {
    // LeakyRelu with a slope tensor (broadcast to X): dX = dY where X > 0, dY·slope elsewhere.
    grad: (ctx) => {
      const { b, node } = ctx;
      const [x, slope] = node.input;
      const pos = b.op('Greater', [x, b.f32(0)]);
      return [
        ctx.needs[0] ? b.op('Where', [pos, ctx.dY0(), b.op('Mul', [ctx.dY0(), slope])]) : undefined,
        ctx.needs[1] ? ctx.unbroadcast(b.op('Where', [pos, b.f32(0), b.op('Mul', [ctx.dY0(), x])]), slope, y0(ctx)) : undefined,
      ];
    },
  },
  LeakyRelu: {
    grad: (ctx) => {
      const { b } = ctx;
      const alpha = attrFloat(ctx.node, 'alpha', 0.01);
      return only(b.op('Where', [b.op('Greater', [x0(ctx), b.f32(0)]), ctx.dY0(), b.op('Mul', [ctx.dY0(), b.f32(alpha)])]));
    },
  },
  Elu: {
    grad: (ctx) => {
      const { b } = ctx;
      const alpha = attrFloat(ctx.node, 'alpha', 1);
      // for X <= 0: d/dx alpha*(e^x - 1) = Y + alpha
      const neg = b.op('Mul', [ctx.dY0(), b.op('Add', [y0(ctx), b.f32(alpha)])]);
      return only(b.op('Where', [b.op('Greater', [x0(ctx), b.f32(0)]), ctx.dY0(), neg]));
    },
  },
  Sigmoid: {
    grad: (ctx) => {
      const { b } = ctx;
      const y = y0(ctx);
      return only(b.op('Mul', [ctx.dY0(), b.op('Mul', [y, b.op('Sub', [b.f32(1), y])])]));
    },
  },
  Tanh: {
    grad: (ctx) => {
      const { b } = ctx;
      const y = y0(ctx);
      return only(b.op('Mul', [ctx.dY0(), b.op('Sub', [b.f32(1), b.op('Mul', [y, y])])]));
    },
  },
  Softplus: {
    grad: (ctx) => only(ctx.b.op('Mul', [ctx.dY0(), ctx.b.op('Sigmoid', [x0(ctx)])])),
  },
  HardSigmoid: {
    grad: (ctx) => {
      const { b, node } = ctx;
      const alpha = attrFloat(node, 'alpha', 0.2);
      const beta = attrFloat(node, 'beta', 0.5);
      const z = b.op('Add', [b.op('Mul', [x0(ctx), b.f32(alpha)]), b.f32(beta)]);
      const inside = b.op('And', [b.op('Greater', [z, b.f32(0)]), b.op('Less', [z, b.f32(1)])]);
      return only(b.op('Where', [inside, b.op('Mul', [ctx.dY0(), b.f32(alpha)]), b.f32(0)]));
    },
  },
  HardSwish: {
    // y = x * relu6(x + 3) / 6: slope x/3 + 1/2 inside (-3, 3), 1 above, 0 below (PyTorch's convention at the edges)
    grad: (ctx) => {
      const { b } = ctx;
      const x = x0(ctx);
      const slope = b.op('Add', [b.op('Div', [x, b.f32(3)]), b.f32(0.5)]);
      const inner = b.op('Where', [b.op('Less', [x, b.f32(-3)]), b.f32(0), slope]);
      const d = b.op('Where', [b.op('Greater', [x, b.f32(3)]), b.f32(1), inner]);
      return only(b.op('Mul', [ctx.dY0(), d]));
    },
  },
  Clip: {
    differentiable: () => [0],
    grad: (ctx) => {
      const { b, node } = ctx;
      const x = x0(ctx);
      let mask: string | undefined;
      const lo = node.input[1] || undefined;
      const hi = node.input[2] || undefined;
      if (lo) mask = b.op('Greater', [x, lo]);
      if (hi) {
        const m2 = b.op('Less', [x, hi]);
        mask = mask ? b.op('And', [mask, m2]) : m2;
      }
      return only(mask ? b.op('Where', [mask, ctx.dY0(), b.f32(0)]) : ctx.dY0());
    },
  },
  Erf: {
    grad: (ctx) => {
      const { b } = ctx;
      const x = x0(ctx);
      // (2/√π)·exp(−x²) as exp(ln(2/√π) − x²): onnxruntime's Neg and scalar Mul are slow on big tensors
      const e = b.op('Exp', [b.op('Sub', [b.f32(Math.log(2 / Math.sqrt(Math.PI))), b.op('Mul', [x, x])])]);
      return only(b.op('Mul', [ctx.dY0(), e]));
    },
  },
  Gelu: {
    grad: (ctx) => {
      const { b, node } = ctx;
      const x = x0(ctx);
      const approx = node.attribute?.find((a) => a.name === 'approximate');
      if (approx?.s && new TextDecoder().decode(approx.s) === 'tanh') {
        // y = 0.5x(1 + tanh(u)), u = c(x + 0.044715x^3)
        const c = Math.sqrt(2 / Math.PI);
        const x2 = b.op('Mul', [x, x]);
        const u = b.op('Mul', [b.op('Add', [x, b.op('Mul', [b.op('Mul', [x2, x]), b.f32(0.044715)])]), b.f32(c)]);
        const t = b.op('Tanh', [u]);
        const du = b.op('Mul', [b.op('Add', [b.f32(1), b.op('Mul', [x2, b.f32(3 * 0.044715)])]), b.f32(c)]);
        const sech2 = b.op('Sub', [b.f32(1), b.op('Mul', [t, t])]);
        const d = b.op('Add', [b.op('Mul', [b.f32(0.5), b.op('Add', [b.f32(1), t])]), b.op('Mul', [b.op('Mul', [b.f32(0.5), x]), b.op('Mul', [sech2, du])])]);
        return only(b.op('Mul', [ctx.dY0(), d]));
      }
      // y = x Phi(x): y' = Phi(x) + x phi(x)
      const phi = b.op('Mul', [b.op('Exp', [b.op('Mul', [b.op('Mul', [x, x]), b.f32(-0.5)])]), b.f32(1 / Math.sqrt(2 * Math.PI))]);
      const Phi = b.op('Mul', [b.op('Add', [b.f32(1), b.op('Erf', [b.op('Mul', [x, b.f32(Math.SQRT1_2)])])]), b.f32(0.5)]);
      return only(b.op('Mul', [ctx.dY0(), b.op('Add', [Phi, b.op('Mul', [x, phi])])]));
    },
  },
  Selu: {
    grad: (ctx) => {
      const { b, node } = ctx;
      const alpha = attrFloat(node, 'alpha', 1.67326319217681884765625);
      const gamma = attrFloat(node, 'gamma', 1.05070102214813232421875);
      const neg = b.op('Mul', [ctx.dY0(), b.op('Add', [y0(ctx), b.f32(alpha * gamma)])]);
      return only(b.op('Where', [b.op('Greater', [x0(ctx), b.f32(0)]), b.op('Mul', [ctx.dY0(), b.f32(gamma)]), neg]));
    },
  },
};
