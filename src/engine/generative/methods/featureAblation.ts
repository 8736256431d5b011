import { PerturbationMethod } from './types';

/**
 * Captum's FeatureAblation under LLMAttribution: each feature alone is replaced by its
 * baseline; its score for every output (the sequence log-probability and each target token's)
 * is the output with everything present minus the output with it ablated.
 */
export const featureAblation: PerturbationMethod = {
  kind: 'perturbation',
  info: {
    id: 'feature-ablation',
    captumName: 'FeatureAblation',
    perToken: true,
    defaults: {},
    description: 'log p drop when one prompt feature is replaced by its baseline (1 + features model runs, batched)',
  },
  async run(ctx) {
    const m = ctx.features;
    const vectors = [new Uint8Array(m).fill(1)];
    for (let f = 0; f < m; f++) {
      const v = new Uint8Array(m).fill(1);
      v[f] = 0;
      vectors.push(v);
    }
    const [full, ...ablated] = await ctx.evaluate(vectors);
    return Array.from({ length: full.length }, (_, r) => Float64Array.from(ablated, (a) => full[r] - a[r]));
  },
};
