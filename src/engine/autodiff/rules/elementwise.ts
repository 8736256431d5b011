import { attr } from '../../onnx/attributes';
import { GradRule, RuleContext } from '../types';

// Arithmetic with NumPy broadcasting: the pointwise rule, then sum over broadcast axes.
const A = (ctx: RuleContext) => ctx.node.input[0];
const B = (ctx: RuleContext) => ctx.node.input[1];
const Y = (ctx: RuleContext) => ctx.node.output[0];

function binary(ctx: RuleContext, da: () => string, db: () => string): Array<string | undefined> {
  return [
    ctx.needs[0] ? ctx.unbroadcast(da(), A(ctx), Y(ctx)) : undefined,
    ctx.needs[1] ? ctx.unbroadcast(db(), B(ctx), Y(ctx)) : undefined,
  ];
}

const unary = (f: (ctx: RuleContext, dy: string) => string): GradRule => ({ grad: (ctx) => [f(ctx, ctx.dY0())] });

export const elementwiseRules: Record<string, GradRule> = {
  Add: { grad: (ctx) => binary(ctx, () => ctx.dY0(), () => ctx.dY0()) },
  Sub: { grad: (ctx) => binary(ctx, () => ctx.dY0(), () => ctx.b.op('Neg', [ctx.dY0()])) },
  Mul: {
    grad: (ctx) => binary(ctx, () => ctx.b.op('Mul', [ctx.dY0(), B(ctx)]), () => ctx.b.op('Mul', [ctx.dY0(), A(ctx)])),
  },
  Div: {
    grad: (ctx) =>
      binary(
        ctx,
        () => ctx.b.op('Div', [ctx.dY0(), B(ctx)]),
        // d(a/b)/db = -y/b
        () => ctx.b.op('Neg', [ctx.b.op('Div', [ctx.b.op('Mul', [ctx.dY0(), Y(ctx)]), B(ctx)])]),
      ),
  },
  Pow: {
    // The exponent is a stop-gradient edge (as onnxruntime's gradient builder).
    differentiable: () => [0],
    grad: (ctx) => {
      const { b } = ctx;
      // d(a^p)/da = p * a^(p-1)
      const pm1 = b.op('Sub', [B(ctx), b.f32(1)]);
      const d = b.op('Mul', [b.op('Mul', [ctx.dY0(), B(ctx)]), b.op('Pow', [A(ctx), pm1])]);
      return [ctx.unbroadcast(d, A(ctx), Y(ctx))];
    },
  },
  Sqrt: unary((ctx, dy) => ctx.b.op('Div', [dy, ctx.b.op('Mul', [Y(ctx), ctx.b.f32(2)])])),
  Exp: unary((ctx, dy) => ctx.b.op('Mul', [dy, Y(ctx)])),
  Log: unary((ctx, dy) => ctx.b.op('Div', [dy, A(ctx)])),
  Neg: unary((ctx, dy) => ctx.b.op('Neg', [dy])),
  Abs: unary((ctx, dy) => ctx.b.op('Mul', [dy, ctx.b.op('Sign', [A(ctx)])])),
  Reciprocal: unary((ctx, dy) => ctx.b.op('Neg', [ctx.b.op('Mul', [dy, ctx.b.op('Mul', [Y(ctx), Y(ctx)])])])),
  Identity: unary((_ctx, dy) => dy),
  Dropout: { differentiable: () => [0], grad: (ctx) => [ctx.dY0()] },
  Cast: {
    // Only float-to-float casts carry gradient (integer outputs are not on any gradient path).
    grad: (ctx) => [ctx.b.op('Cast', [ctx.dY0()], { to: attr.int(castCode(ctx)) })],
  },
  Where: {
    differentiable: () => [1, 2],
    grad: (ctx) => {
      const { b, node } = ctx;
      const c = node.input[0];
      const zero = b.f32(0);
      return [
        undefined,
        ctx.needs[1] ? ctx.unbroadcast(b.op('Where', [c, ctx.dY0(), zero]), node.input[1], Y(ctx)) : undefined,
        ctx.needs[2] ? ctx.unbroadcast(b.op('Where', [c, zero, ctx.dY0()]), node.input[2], Y(ctx)) : undefined,
      ];
    },
  },
  Sum: {
    grad: (ctx) => ctx.node.input.map((inp, i) => (ctx.needs[i] ? ctx.unbroadcast(ctx.dY0(), inp, Y(ctx)) : undefined)),
  },
  Max: { grad: (ctx) => minmax(ctx) },
  Min: { grad: (ctx) => minmax(ctx) },
};

/** Gradient goes to the inputs equal to the result (shared on ties). */
function minmax(ctx: RuleContext): Array<string | undefined> {
  const { b, node } = ctx;
  return node.input.map((inp, i) => {
    if (!ctx.needs[i]) return undefined;
    const mask = b.op('Equal', [inp, Y(ctx)]);
    return ctx.unbroadcast(b.op('Where', [mask, ctx.dY0(), b.f32(0)]), inp, Y(ctx));
  });
}

// Cast's gradient goes back to the input's float type.
function castCode(ctx: RuleContext): number {
  const dt = ctx.dtype(A(ctx));
  return dt === 'float64' ? 11 : dt === 'float16' ? 10 : 1;
}
