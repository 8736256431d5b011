import { attr, attrFloat, attrInt } from '../../onnx/attributes';
import { GradRule, RuleContext } from '../types';

/** Swaps the last two axes of a tensor of rank r >= 2. */
function swapLast(ctx: RuleContext, t: string, r: number): string {
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return ctx.b.op('Transpose', [t], { perm: attr.ints(perm) });
}

export const matmulRules: Record<string, GradRule> = {
  MatMul: {
    // dA = dY @ B^T, dB = A^T @ dY (last two axes), then sum over broadcast batch axes.
    grad: (ctx) => {
      const { b, node } = ctx;
      let [a, bb] = node.input;
      const ra = ctx.shape(a).length, rb = ctx.shape(bb).length;
      let dy = ctx.dY0();
      // 1-D operands are promoted as NumPy does; undo the promotion on the way back.
      if (ra === 1) {
        a = b.unsqueeze(a, [0]);
        dy = b.unsqueeze(dy, [-2 + (rb === 1 ? 1 : 0)]);
      }
      if (rb === 1) {
        bb = b.unsqueeze(bb, [1]);
        dy = b.unsqueeze(dy, [-1]);
      }
      const rA = Math.max(ra, 2), rB = Math.max(rb, 2);
      const out: Array<string | undefined> = [undefined, undefined];
      if (ctx.needs[0]) {
        const da = b.op('MatMul', [dy, swapLast(ctx, bb, rB)]);
        out[0] = reduceTo(ctx, da, node.input[0], Math.max(rA, rB));
      }
      if (ctx.needs[1]) {
        const sb = ctx.shape(node.input[1]);
        if (rb === 2 && ra >= 3) {
          // Common weight case: one big GEMM over all leading axes instead of a batched one and a sum.
          const k = sb[0], n = sb[1];
          const a2 = b.reshape(a, [-1, k]);
          const dy2 = b.reshape(dy, [-1, n]);
          out[1] = b.op('MatMul', [swapLast(ctx, a2, 2), dy2]);
        } else {
          const db = b.op('MatMul', [swapLast(ctx, a, rA), dy]);
          out[1] = reduceTo(ctx, db, node.input[1], Math.max(rA, rB));
        }
      }
      return out;
    },
  },
  Gemm: {
    grad: (ctx) => {
      const { b, node } = ctx;
      const [a, bb, c] = node.input;
      const alpha = attrFloat(node, 'alpha', 1);
      const beta = attrFloat(node, 'beta', 1);
      const tA = attrInt(node, 'transA', 0), tB = attrInt(node, 'transB', 0);
      const dy = ctx.dY0();
      const gemm = (x: string, y: string, ta: number, tb: number) =>
        b.op('Gemm', [x, y], { alpha: attr.float(alpha), transA: attr.int(ta), transB: attr.int(tb) });
      const out: Array<string | undefined> = [undefined, undefined, undefined];
      if (ctx.needs[0]) out[0] = tA ? gemm(bb, dy, tB, 1) : gemm(dy, bb, 0, tB ? 0 : 1);
      if (ctx.needs[1]) out[1] = tB ? gemm(dy, a, 1, tA) : gemm(a, dy, tA ? 0 : 1, 0);
      if (c && ctx.needs[2]) {
        const g = beta === 1 ? dy : b.op('Mul', [dy, b.f32(beta)]);
        out[2] = ctx.unbroadcast(g, c, node.output[0]);
      }
      return out;
    },
  },
};

/** Sums a batched-matmul gradient over the batch axes its operand broadcast along. */
/** `gr` is the gradient's rank: that of the output after NumPy's promotion of 1-D operands. */
function reduceTo(ctx: RuleContext, grad: string, operand: string, gr: number): string {
  const { b } = ctx;
  const target = ctx.shape(operand);
  const tr = Math.max(target.length, 2);
  const lead = gr - tr;
  const axes: number[] = [];
  for (let i = 0; i < gr - 2; i++) {
    if (i < lead) axes.push(i);
    else {
      const td = target[i - lead];
      const y = ctx.node.output[0];
      if (td === 1 && (ctx.shape(y)[i] !== 1 || (ctx.isBatchAxis(y, i) && !ctx.isBatchAxis(operand, i - lead)))) axes.push(i);
    }
  }
  let g = b.reduceSum(grad, axes, true);
  if (axes.length > 0 || target.length < 2) g = b.reshape(g, b.shape(operand));
  return g;
}
