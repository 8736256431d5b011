import { AttrLensError } from '../core/errors';
import { Tensor, sizeOf } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, baselineOf, broadcastTo, gradientsAt, inputTensor, requireFloatInput, stackRows, targetScores, tensorParam } from './base';
import { MethodInfo, ParamSpec } from './types';

/**
 * DeepLift multipliers for `count` (input, baseline) pairs: one run over the batch
 * [x × count; baselines], seeded on the target in both halves as Captum does.
 */
export async function deepliftMultipliers(ctx: MethodContext, x: Float32Array, baselines: Float32Array[]): Promise<Float32Array[]> {
  if (ctx.lm.maxBatch < 2) {
    throw new AttrLensError(`deeplift runs each input together with its baseline in one batch, and ${ctx.lm.label} does not batch: use integrated-gradients or occlusion`);
  }
  const k = baselines.length;
  const dims = inputTensor(ctx).dims;
  const rows = stackRows(dims, 2 * k, (i, row) => row.set(i < k ? x : baselines[i - k]));
  const ruleSet = ctx.params.maxPoolRule === 'rescale' ? 'deeplift-maxpool' : 'deeplift';
  const g = (await gradientsAt(ctx, rows, { ruleSet, batchSize: 2 * k })).grads[ctx.input].data as Float32Array;
  const per = x.length;
  return Array.from({ length: k }, (_, j) => g.subarray(j * per, (j + 1) * per));
}

export const MAXPOOL_RULE: ParamSpec = {
  name: 'maxPoolRule',
  kind: 'enum',
  default: 'gradient',
  values: ['gradient', 'rescale'],
  description: "MaxPool backward: 'gradient' reproduces Captum 0.8's numbers (its MaxPool rule is lost after a Relu/Sigmoid/... and applies elsewhere); 'rescale' applies Captum's documented MaxPool rule everywhere (exact completeness)",
};

/** Shrikumar et al. 2017, https://arxiv.org/abs/1704.02685 (rescale rule, Captum's MaxPool and Softmax rules). */
export class DeepLift extends Method {
  readonly info: MethodInfo = {
    id: 'deeplift',
    captumName: 'DeepLift',
    family: 'gradient',
    description: 'Differences from a baseline propagated with the rescale rule through Relu, Sigmoid, Tanh, Softmax and MaxPool.',
    needsGradients: true,
    params: [P.baselines(0), MAXPOOL_RULE, { name: 'returnConvergenceDelta', kind: 'boolean', default: true, description: 'report sum(attributions) - (f(input) - f(baseline))' }],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'deeplift');
    const xt = inputTensor(ctx);
    const x = xt.data as Float32Array;
    const base = baselineOf(ctx);
    const [m] = await deepliftMultipliers(ctx, x, [base]);
    const attr = new Float32Array(x.length);
    let total = 0;
    for (let i = 0; i < x.length; i++) total += attr[i] = (x[i] - base[i]) * m[i];
    const out: MethodOutput = { attributions: { [ctx.input]: { dtype: 'float32', dims: xt.dims, data: attr } } };
    if (ctx.params.returnConvergenceDelta) {
      const s = await targetScores(ctx, stackRows(xt.dims, 2, (i, row) => row.set(i === 0 ? x : base)));
      out.delta = total - (s[0] - s[1]);
    }
    return out;
  }
}

/** A set of baselines (the distribution DeepLiftShap and GradientShap draw from): (K, ...input dims). */
export function baselineSet(ctx: MethodContext, param = 'baselines'): Float32Array[] {
  const xt = inputTensor(ctx);
  const v = tensorParam(ctx, param, ctx.params[param] ?? 0)!;
  const per = sizeOf(xt.dims.slice(1));
  if (typeof v !== 'number' && v.dims.length === xt.dims.length && v.dims[0] > 1 && sizeOf(v.dims.slice(1)) === per) {
    const all = broadcastTo(v, v.dims, param);
    return Array.from({ length: v.dims[0] }, (_, j) => all.subarray(j * per, (j + 1) * per));
  }
  return [broadcastTo(v as Tensor | number, xt.dims, `parameter '${param}'`)];
}

/** Lundberg & Lee 2017: DeepLift averaged over a distribution of baselines. */
export class DeepLiftShap extends Method {
  readonly info: MethodInfo = {
    id: 'deeplift-shap',
    captumName: 'DeepLiftShap',
    family: 'gradient',
    description: 'DeepLift averaged over a set of baselines (SHAP values approximation).',
    needsGradients: true,
    params: [{ name: 'baselines', kind: 'baseline', default: 0, description: 'baseline distribution: a (K, ...input) tensor (.npy), or a number' }, MAXPOOL_RULE],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'deeplift-shap');
    const xt = inputTensor(ctx);
    const x = xt.data as Float32Array;
    const bases = baselineSet(ctx);
    const ms = await deepliftMultipliers(ctx, x, bases);
    const attr = new Float32Array(x.length);
    ms.forEach((m, j) => {
      const b = bases[j];
      for (let i = 0; i < x.length; i++) attr[i] += ((x[i] - b[i]) * m[i]) / bases.length;
    });
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: xt.dims, data: attr } } };
  }
}
