import { AttrLensError } from '../../core/errors';
import { attr, attrInt, attrInts } from '../../onnx/attributes';
import { GradRule, RuleContext } from '../types';
import { Window, windowOf } from '../../onnx/window';
import { transposeFit } from './convUtil';

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

/** Name hint of keepBlocked's identity weights, by which the builder recognises its Conv. */
export const PHASE_IDENTITY = 'phase_identity';
const identities = new WeakMap<object, Map<number, string>>();

/**
 * DepthToSpace has no blocked (NCHWc) form in onnxruntime, so its output and everything summed
 * or multiplied with it downstream would stay in plain NCHW, with reorders around every backward
 * conv. A depthwise identity 1x1 Conv takes it back into the blocked layout once. Not for the
 * gradient of a graph input, which leaves the graph in NCHW anyway.
 */
function keepBlocked(ctx: RuleContext, t: string, C: number): string {
  if (C % 8 !== 0 || ctx.dtype(ctx.node.input[0]) !== 'float32' || ctx.model.graph.input.some((i) => i.name === ctx.node.input[0])) return t;
  let perC = identities.get(ctx.b);
  if (!perC) identities.set(ctx.b, (perC = new Map()));
  let one = perC.get(C);
  if (!one) perC.set(C, (one = ctx.b.constant({ dtype: 'float32', dims: [C, 1, 1, 1], data: new Float32Array(C).fill(1) }, PHASE_IDENTITY)));
  return ctx.b.op('Conv', [t, one], { group: attr.int(C), kernel_shape: attr.ints([1, 1]) });
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
  // [M, C/g, K] → [g, M/g, C/g, K] → [g, C/g, M/g, K] → [C, M/g, K]; onnxruntime folds each
  // step into a new copy of the weights at session start, so group 1 takes one Transpose
  const transposed = (t: string, k: number[]) =>
    group === 1
      ? b.op('Transpose', [t], { perm: attr.ints([1, 0, ...k.map((_, i) => i + 2)]) })
      : b.reshape(b.op('Transpose', [b.reshape(t, [group, M / group, Cg, ...k])], { perm: attr.ints([0, 2, 1, ...k.map((_, i) => i + 3)]) }), [C, M / group, ...k]);
  if (s.every((v) => v === 1)) {
    const begin = K.map((k, i) => d[i] * (k - 1) - pb[i]);
    const end = K.map((k, i) => xs[i] - ys[i] - begin[i] + d[i] * (k - 1));
    if ([...begin, ...end].some((v) => v < 0)) return undefined;
    const wb = flip(transposed(w, K));
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
  const Qn = xs.map((x) => Math.ceil(x / st));
  // Phase tensors are phase-major (DCR) where one Conv can write them so (group 1, or one Conv
  // per phase), channel-major (CRD) otherwise; the builder sums those of equal mode before one interleave.
  const fromPhases = (z: string, mode: 'DCR' | 'CRD'): string => {
    const u = b.op('DepthToSpace', [z], { blocksize: attr.int(st), mode: attr.str(mode) });
    const v = xs.some((x, i) => Qn[i] * st !== x) ? b.slice(u, [0, 0], xs, [2, 3]) : u;
    return keepBlocked(ctx, v, C);
  };
  if (K.every((k) => k === 1) && pb.every((p) => p === 0)) {
    // 1x1 with stride: the transposed 1x1 conv at low resolution is phase (0, 0); the other phases'
    // weights are zero, so its phases come out of a Conv as the 3x3 path's do and the builder sums
    // both before one DepthToSpace, in the blocked layout
    const dcr = group === 1;
    const wt = dcr ? b.op('Transpose', [b.reshape(w, [1, M, C])], { perm: attr.ints([0, 2, 1]) }) : b.op('Transpose', [b.reshape(w, [group, M / group, Cg, 1])], { perm: attr.ints([0, 2, 3, 1]) });
    const wp = b.op('Pad', [wt, b.i64(dcr ? [0, 0, 0, st * st - 1, 0, 0] : [0, 0, 0, 0, 0, 0, st * st - 1, 0])], { mode: attr.str('constant') });
    let z = b.op('Conv', [dy, b.reshape(wp, [C * st * st, M / group, 1, 1])], { group: attr.int(group), kernel_shape: attr.ints([1, 1]) });
    // end pads can make dY longer than ceil(x / st); those rows never reach dX
    if (ys.some((y, i) => y > Qn[i])) z = b.slice(z, [0, 0], Qn, [2, 3]);
    return fromPhases(z, dcr ? 'DCR' : 'CRD');
  }
  // Polyphase: dX[st·q + r] = sum_j W[st·j + rho_r] · dY[q + c_r - j] with rho_r = (r + pb) mod st and
  // c_r = floor((r + pb) / st). All st² phases share one Conv (kernel T, begin pad P); a Gather picks
  // each phase's taps from the weight (index kk = a zero tap), so onnxruntime folds it at session start.
  const axes = [0, 1].map((a) => {
    const phases = Array.from({ length: st }, (_, rr) => {
      const rho = (rr + pb[a]) % st;
      const c = Math.floor((rr + pb[a]) / st);
      const J = rho < K[a] ? Math.ceil((K[a] - rho) / st) : 0;
      return { rho, c, J };
    });
    const live = phases.filter((p) => p.J > 0);
    const P = Math.max(...live.map((p) => p.J - 1 - p.c));
    const T = Math.max(...live.map((p) => P + p.c)) + 1;
    return { phases, P, T };
  });
  const [A0, A1] = axes;
  // One Conv per phase with its exact sub-kernel (W[st·j + rho], flipped): no zero taps, where the
  // shared T×T kernel would have some (3x3 stride 2: 9 taps instead of 16). The phases are
  // concatenated phase-major, in the blocked layout where C allows.
  const exact = A0.phases.every((p) => p.J > 0 && p.J - 1 - p.c >= 0) && A1.phases.every((p) => p.J > 0 && p.J - 1 - p.c >= 0);
  const tapCount = (ax: typeof A0) => ax.phases.reduce((a, p) => a + p.J, 0);
  if (exact && C % 8 === 0 && tapCount(A0) * tapCount(A1) < st * st * A0.T * A1.T) {
    const zs: string[] = [];
    for (const p0 of A0.phases)
      for (const p1 of A1.phases) {
        const J = [p0.J, p1.J];
        const sub = b.slice(w, [p0.rho, p1.rho], K, [2, 3], [st, st]);
        const wb = b.slice(transposed(sub, J), [-1, -1], [-Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER], [2, 3], [-1, -1]);
        const pe = [p0, p1].map((p, i) => Qn[i] + p.c - ys[i]);
        let z = b.op('Conv', [dy, wb], {
          group: attr.int(group),
          kernel_shape: attr.ints(J),
          pads: attr.ints([p0.J - 1 - p0.c, p1.J - 1 - p1.c, Math.max(0, pe[0]), Math.max(0, pe[1])]),
        });
        if (pe.some((e) => e < 0)) z = b.slice(z, [0, 0], Qn, [2, 3]);
        zs.push(z);
      }
    return fromPhases(b.op('Concat', zs, { axis: attr.int(1) }), 'DCR');
  }
  if (axes.some((ax) => ax.P < 0)) return undefined;
  const kk = K[0] * K[1];
  const idx: number[] = [];
  for (let r0 = 0; r0 < st; r0++)
    for (let r1 = 0; r1 < st; r1++)
      for (let t0 = 0; t0 < A0.T; t0++)
        for (let t1 = 0; t1 < A1.T; t1++) {
          const p0 = A0.phases[r0], p1 = A1.phases[r1];
          const j0 = A0.P + p0.c - t0, j1 = A1.P + p1.c - t1;
          const ok = j0 >= 0 && j0 < p0.J && j1 >= 0 && j1 < p1.J;
          idx.push(ok ? (st * j0 + p0.rho) * K[1] + st * j1 + p1.rho : kk);
        }
  const wz = b.op('Pad', [b.reshape(w, [group, M / group, Cg, kk]), b.i64([0, 0, 0, 0, 0, 0, 0, 1])], { mode: attr.str('constant') });
  const taps = b.op('Gather', [wz, b.i64(idx)], { axis: attr.int(3) });
  const w7 = b.reshape(taps, [group, M / group, Cg, st, st, A0.T, A1.T]);
  const wt = b.op('Transpose', [w7], { perm: attr.ints(group === 1 ? [0, 3, 4, 2, 1, 5, 6] : [0, 2, 3, 4, 1, 5, 6]) });
  const wb = b.reshape(wt, [C * st * st, M / group, A0.T, A1.T]);
  const pe = axes.map((ax, i) => Qn[i] - ys[i] - ax.P + ax.T - 1);
  let z = b.op('Conv', [dy, wb], {
    group: attr.int(group),
    kernel_shape: attr.ints([A0.T, A1.T]),
    pads: attr.ints([A0.P, A1.P, Math.max(0, pe[0]), Math.max(0, pe[1])]),
    strides: attr.ints([1, 1]),
  });
  if (pe.some((e) => e < 0)) z = b.slice(z, [0, 0], Qn, [2, 3]);
  return fromPhases(z, group === 1 ? 'DCR' : 'CRD');
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
