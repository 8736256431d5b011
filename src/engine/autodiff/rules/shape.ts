import { attr, attrInt, attrInts, copyAttrs } from '../../onnx/attributes';
import { GradRule, RuleContext } from '../types';
import { indexTensor, scatterFlat, zerosLikeT } from './indexMap';
import { resizeRule } from './resize';

// Pure data movement: each rule moves dY back to where X's elements came from.
const reshapeBack: GradRule = {
  differentiable: () => [0],
  grad: (ctx: RuleContext) => [ctx.b.reshape(ctx.dY0(), ctx.b.shape(ctx.node.input[0]))],
};

const axisOf = (ctx: RuleContext, t: string, dflt: number) => {
  const a = attrInt(ctx.node, 'axis', dflt);
  return a < 0 ? a + ctx.shape(t).length : a;
};

/** Runs the forward op (same attributes, other inputs unchanged) on X's index tensor and scatters dY back. */
function viaIndices(add: boolean, int32 = false): GradRule {
  return {
    differentiable: () => [0],
    grad: (ctx) => {
      const { b, node } = ctx;
      const x = node.input[0];
      const idx = indexTensor(ctx, x, int32);
      const moved = b.op(node.opType, [idx, ...node.input.slice(1)], copyAttrs(node));
      return [scatterFlat(ctx, x, moved, ctx.dY0(), add)];
    },
  };
}

export const shapeRules: Record<string, GradRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: {
    grad: (ctx) => {
      const r = ctx.shape(ctx.node.input[0]).length;
      const perm = attrInts(ctx.node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
      const inv = new Array<number>(r);
      perm.forEach((p, i) => (inv[p] = i));
      return [ctx.b.op('Transpose', [ctx.dY0()], { perm: attr.ints(inv) })];
    },
  },
  Concat: {
    grad: (ctx) => {
      const { b, node } = ctx;
      const ins = node.input;
      const axis = axisOf(ctx, ins[0], 0);
      const dy = ctx.dY0();
      if (!ins.some((t) => ctx.isBatchAxis(t, axis))) {
        const pieces = b.split(dy, ins.map((t) => ctx.shape(t)[axis]), axis);
        return ins.map((_, i) => (ctx.needs[i] ? pieces[i] : undefined));
      }
      // Along the batch axis the sizes are known only at run time: slice at offsets from Shape.
      const out: Array<string | undefined> = [];
      let start = b.i64([0]);
      const ax = b.i64([axis]);
      for (let i = 0; i < ins.length; i++) {
        const end = b.op('Add', [start, b.op('Slice', [b.shape(ins[i]), ax, b.i64([axis + 1])])]);
        out.push(ctx.needs[i] ? b.op('Slice', [dy, start, end, ax]) : undefined);
        start = end;
      }
      return out;
    },
  },
  Split: {
    differentiable: () => [0],
    // Concat of the pieces; outputs without gradient contribute zeros.
    grad: (ctx) => {
      const { node } = ctx;
      const axis = axisOf(ctx, node.input[0], 0);
      const parts = node.output.map((o, i) => ctx.dY[i] ?? zerosLikeT(ctx, o));
      return [parts.length === 1 ? parts[0] : ctx.b.op('Concat', parts, { axis: attr.int(axis) })];
    },
  },
  // Slice indices are unique: assignment suffices. Gather/GatherElements/GatherND/Tile/Pad can repeat.
  Slice: viaIndices(false),
  Gather: viaIndices(true),
  GatherElements: viaIndices(true),
  GatherND: viaIndices(true),
  Tile: viaIndices(true),
  Pad: {
    differentiable: () => [0],
    grad: (ctx) => {
      const { b, node } = ctx;
      const x = node.input[0];
      // Padded positions read index -1 (constant mode); they get no gradient.
      const ins = [indexTensor(ctx, x), node.input[1], b.i64([-1], []), ...node.input.slice(3)];
      const src = b.op('Pad', ins, copyAttrs(node));
      const valid = b.op('GreaterOrEqual', [src, b.i64([0], [])]);
      const where = b.op('Where', [valid, src, b.i64([0], [])]);
      const vals = b.op('Where', [valid, ctx.dY0(), zerosLikeT(ctx, node.output[0])]);
      return [scatterFlat(ctx, x, where, vals, true)];
    },
  },
  Expand: {
    differentiable: () => [0],
    grad: (ctx) => [ctx.unbroadcast(ctx.dY0(), ctx.node.input[0], ctx.node.output[0])],
  },
  Resize: resizeRule,
};
