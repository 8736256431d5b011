import { attr, attrInt, attrInts, copyAttrs } from '../../onnx/attributes';
import { GradRule, RuleContext } from '../types';
import { castLike } from './indexMap';
import { unsupported } from './unsupported';

// Reductions: bring dY back to the keepdims shape (Unsqueeze at the reduced axes), then
// broadcast it over X with the op's local derivative.

interface Reduced {
  /** int64 axes tensor (the node's own input, or a constant); undefined = identity (noop_with_empty_axes) */
  axes?: string;
  /** dY with the reduced axes kept (size 1) */
  dy: string;
  /** Y with the reduced axes kept */
  y: string;
}

function reduced(ctx: RuleContext): Reduced {
  const { b, node } = ctx;
  const x = node.input[0];
  const r = ctx.shape(x).length;
  // ReduceSum took axes as an input from 13, the others from 18.
  const asInput = node.opType === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
  let axes: string | undefined;
  let count: number;
  if (asInput) {
    axes = node.input[1] || undefined;
    const c = axes ? ctx.constant(axes) : undefined;
    count = axes ? (c ? c.data.length : -1) : 0;
  } else {
    const list = attrInts(node, 'axes') ?? [];
    axes = list.length ? b.i64(list) : undefined;
    count = list.length;
  }
  if (count === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0)) return { dy: ctx.dY0(), y: node.output[0] };
    axes = b.i64(Array.from({ length: r }, (_, i) => i));
  }
  const keep = attrInt(node, 'keepdims', 1) === 1;
  const restore = (t: string) => (keep ? t : b.op('Unsqueeze', [t, axes!]));
  return { axes, dy: restore(ctx.dY0()), y: restore(node.output[0]) };
}

const expandTo = (ctx: RuleContext, t: string) => ctx.b.op('Expand', [t, ctx.b.shape(ctx.node.input[0])]);

/** A reduction rule from dX = dYk * f(ctx, reduced), broadcast over X. */
function rule(local: (ctx: RuleContext, red: Reduced) => string, noopOk = true): GradRule {
  return {
    differentiable: () => [0],
    grad: (ctx) => {
      const red = reduced(ctx);
      if (!red.axes) {
        if (!noopOk) unsupported(ctx, `${ctx.node.opType} with noop_with_empty_axes=1 and no axes`);
        return [ctx.dY0()];
      }
      return [local(ctx, red)];
    },
  };
}

/** max/min: the gradient goes to the elements equal to the result, shared evenly on ties (as torch.amax). */
const extremum = rule((ctx, red) => {
  const { b, node } = ctx;
  const x = node.input[0];
  const mask = castLike(ctx, b.op('Equal', [x, red.y]), x);
  const ties = b.op('ReduceSum', [mask, red.axes!], { keepdims: attr.int(1) });
  return b.op('Mul', [mask, b.op('Div', [red.dy, ties])]);
});

export const reduceRules: Record<string, GradRule> = {
  ReduceSum: rule((ctx, red) => expandTo(ctx, red.dy)),
  ReduceMean: rule((ctx, red) => {
    const { b, node } = ctx;
    // n = |X| / |Y| at run time: exact also when the batch axis is reduced.
    const n = b.op('Div', [b.op('Size', [node.input[0]]), b.op('Size', [node.output[0]])]);
    return expandTo(ctx, b.op('Div', [red.dy, castLike(ctx, n, node.input[0])]));
  }),
  ReduceMax: extremum,
  ReduceMin: extremum,
  ReduceL1: rule((ctx, red) => ctx.b.op('Mul', [red.dy, ctx.b.op('Sign', [ctx.node.input[0]])]), false),
  ReduceL2: rule((ctx, red) => {
    const { b, node } = ctx;
    // x / ||x||, with 0 where the norm is 0 (then x is 0 too)
    const safe = b.op('Where', [b.op('Equal', [red.y, b.f32(0)]), b.f32(1), red.y]);
    return b.op('Mul', [red.dy, b.op('Div', [node.input[0], safe])]);
  }, false),
  ReduceSumSquare: rule((ctx, red) => ctx.b.op('Mul', [red.dy, ctx.b.op('Mul', [ctx.node.input[0], ctx.b.f32(2)])]), false),
  ReduceLogSum: rule((ctx, red) => expandTo(ctx, ctx.b.op('Div', [red.dy, ctx.b.op('Exp', [red.y])])), false),
  ReduceProd: rule((ctx, red) => {
    const { b, node } = ctx;
    // ∂y/∂x_j = product of the others, exact with zeros: none → y/x_j; one → the product of the
    // non-zeros at that element, 0 elsewhere; more → 0 everywhere.
    const x = node.input[0];
    const zero = b.op('Equal', [x, b.f32(0)]);
    const safeX = b.op('Where', [zero, b.f32(1), x]);
    const prodNonZero = b.op('ReduceProd', [safeX, ...node.input.slice(1)], copyAttrs(node, [], { keepdims: attr.int(1) }));
    const zeros = b.op('ReduceSum', [castLike(ctx, zero, x), red.axes!], { keepdims: attr.int(1) });
    const atNonZero = b.op('Where', [b.op('Equal', [zeros, b.f32(0)]), b.op('Div', [prodNonZero, safeX]), b.f32(0)]);
    const atZero = b.op('Where', [b.op('Equal', [zeros, b.f32(1)]), prodNonZero, b.f32(0)]);
    return b.op('Mul', [red.dy, b.op('Where', [zero, atZero, atNonZero])]);
  }),
  ReduceLogSumExp: rule((ctx, red) => ctx.b.op('Mul', [red.dy, ctx.b.op('Exp', [ctx.b.op('Sub', [ctx.node.input[0], red.y])])]), false),
};
