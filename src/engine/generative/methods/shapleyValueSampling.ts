import { PerturbationMethod } from './types';

/**
 * Captum's ShapleyValueSampling under LLMAttribution (Castro et al. 2009): for each random
 * order of the features, start from all baselines, add the features one at a time and credit
 * each with the change of every output; average over the orders.
 */
export const shapleyValueSampling: PerturbationMethod = {
  kind: 'perturbation',
  info: {
    id: 'shapley-value-sampling',
    captumName: 'ShapleyValueSampling',
    perToken: true,
    defaults: { nSamples: 25, seed: 0 },
    description: 'Shapley values from random feature orders (1 + nSamples × features model runs, batched)',
  },
  async run(ctx) {
    const m = ctx.features;
    const n = Number(ctx.params.nSamples);
    const perms = Array.from({ length: n }, () => ctx.rng.permutation(m));
    // vector 0: all baselines; vector 1 + p·m + k: the first k + 1 features of order p present
    const vectors = [new Uint8Array(m)];
    for (const perm of perms) {
      const v = new Uint8Array(m);
      for (const f of perm) {
        v[f] = 1;
        vectors.push(v.slice());
      }
    }
    const outs = await ctx.evaluate(vectors);
    const R = outs[0].length;
    const rows = Array.from({ length: R }, () => new Float64Array(m));
    perms.forEach((perm, p) => {
      perm.forEach((f, k) => {
        const after = outs[1 + p * m + k];
        const before = k === 0 ? outs[0] : outs[p * m + k];
        for (let r = 0; r < R; r++) rows[r][f] += (after[r] - before[r]) / n;
      });
    });
    return rows;
  },
};
