import { coalitionSizeCdf, shapleyCoalition, shapleyKernelWeight } from '../../methods/kernelShap';
import { fitLeastSquares } from '../../methods/linearModels';
import { PerturbationMethod } from './types';

/**
 * Captum's KernelShap under LLMAttribution: coalitions of prompt features drawn with the
 * Shapley kernel (all on, all off, then sizes ∝ (m−1)/(k(m−k))), and a least-squares fit of
 * the continuation's log-probability with the two ends weighing 1e6. Sequence attribution only, as in Captum.
 */
export const kernelShap: PerturbationMethod = {
  kind: 'perturbation',
  info: {
    id: 'kernel-shap',
    captumName: 'KernelShap',
    perToken: false,
    defaults: { nSamples: 25, seed: 0 },
    description: 'Shapley values by a linear regression on Shapley-kernel coalitions of the prompt features (sequence attribution only)',
  },
  async run(ctx) {
    const m = ctx.features;
    const n = Number(ctx.params.nSamples);
    const cdf = coalitionSizeCdf(m);
    const z = new Uint8Array(n * m);
    for (let i = 0; i < n; i++) shapleyCoalition(i, z.subarray(i * m, (i + 1) * m), ctx.rng, cdf);
    const vectors = Array.from({ length: n }, (_, i) => z.subarray(i * m, (i + 1) * m));
    const y = Float64Array.from(await ctx.evaluate(vectors), (o) => o[0]);
    return [fitLeastSquares(z, n, m, y, Float64Array.from(vectors, shapleyKernelWeight))];
  },
};
