import { Tensor } from '../core/tensor';
import { Approximation, integrationPoints } from './approximation';
import { targetSeed } from '../targets/reduce';
import { runReducedGradients } from '../gradients/reduced';
import { Method, MethodContext, MethodOutput, P, baselineOf, inputTensor, linearSeed, requireFloatInput, pathRows, stackRows, targetScores } from './base';
import { MethodInfo } from './types';

/**
 * Path integral of gradients from the baseline to the input, weighted per point.
 * Returns sum_k w_k * grad(b + a_k (x - b)) accumulated in float64 (not yet times x - b).
 * The graph forms the points and sums the weighted gradients, chunk by chunk.
 */
export async function pathGradients(ctx: MethodContext, x: Float32Array, base: Float32Array, nSteps: number, approx: Approximation, batchSize?: number): Promise<Float64Array> {
  const { alphas, weights } = integrationPoints(approx, nSteps);
  const dims = inputTensor(ctx).dims;
  const row = (data: Float32Array): Tensor => ({ dtype: 'float32', dims, data });
  const seed = linearSeed(ctx) ?? (await pathSeed(ctx, x, base, alphas));
  const r = await runReducedGradients(ctx.lm, ctx.feeds, ctx.input, { output: ctx.output }, { path: { x: row(x), base: row(base), alphas }, weights, sums: ['sum'] }, seed, {
    signal: ctx.signal,
    batchSize,
    onProgress: (p) => ctx.progress({ done: p.done, total: p.total, phase: 'integrating' }),
  });
  return r.sum!;
}

/** A non-linear target's seed at each path point: its gradient at the point's forward output. */
async function pathSeed(ctx: MethodContext, x: Float32Array, base: Float32Array, alphas: ArrayLike<number>): Promise<(rows: number, outDims: number[]) => Tensor> {
  const dims = inputTensor(ctx).dims;
  const points = pathRows(dims, x, base, alphas);
  const out = (await ctx.lm.forward({ ...ctx.feeds, [ctx.input]: points }, [ctx.output], { signal: ctx.signal }))[ctx.output];
  return (n, d) => targetSeed(ctx.spec!, n, d, out);
}

/** Sundararajan et al. 2017, https://arxiv.org/abs/1703.01365 */
export class IntegratedGradients extends Method {
  readonly info: MethodInfo = {
    id: 'integrated-gradients',
    captumName: 'IntegratedGradients',
    family: 'gradient',
    description: 'Integral of gradients along the straight path from a baseline to the input, times (input - baseline).',
    needsGradients: true,
    params: [P.baselines(0), P.nSteps(50), P.igMethod(), P.internalBatchSize(), { name: 'returnConvergenceDelta', kind: 'boolean', default: true, description: 'report sum(attributions) - (f(input) - f(baseline))' }],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'integrated-gradients');
    const xt = inputTensor(ctx);
    const x = xt.data as Float32Array;
    const base = baselineOf(ctx);
    const acc = await pathGradients(ctx, x, base, ctx.params.nSteps as number, ctx.params.method as Approximation, ctx.params.internalBatchSize as number | undefined);
    const attr = new Float32Array(x.length);
    let total = 0;
    for (let i = 0; i < x.length; i++) {
      const v = acc[i] * (x[i] - base[i]);
      attr[i] = v;
      total += v;
    }
    const out: MethodOutput = { attributions: { [ctx.input]: { dtype: 'float32', dims: xt.dims, data: attr } } };
    if (ctx.params.returnConvergenceDelta) out.delta = await convergenceDelta(ctx, total, x, base);
    return out;
  }
}

/** Captum's convergence delta: sum of attributions minus (f(input) - f(baseline)). */
export async function convergenceDelta(ctx: MethodContext, total: number, x: Float32Array, base: Float32Array): Promise<number> {
  const dims = inputTensor(ctx).dims;
  const both: Tensor = stackRows(dims, 2, (i, row) => row.set(i === 0 ? x : base));
  const s = await targetScores(ctx, both);
  return total - (s[0] - s[1]);
}
