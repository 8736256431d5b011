import { expKernel } from '../../methods/lime';
import { fitLasso } from '../../methods/linearModels';
import { PerturbationMethod } from './types';

/**
 * Captum's Lime under LLMAttribution: random on/off patterns of the prompt features (each on
 * with probability 0.5), weighted by the exponential kernel on the cosine distance to all-on,
 * and a Lasso fit of the continuation's log-probability; a feature's score is its coefficient.
 * Like Captum, it gives the sequence attribution only (no token matrix).
 */
export const lime: PerturbationMethod = {
  kind: 'perturbation',
  info: {
    id: 'lime',
    captumName: 'Lime',
    perToken: false,
    defaults: { nSamples: 25, alpha: 0.01, kernelWidth: 1.0, seed: 0 },
    description: 'Lasso surrogate of log p(continuation) on random on/off patterns of the prompt features (sequence attribution only)',
  },
  async run(ctx) {
    const m = ctx.features;
    const n = Number(ctx.params.nSamples);
    const z = new Uint8Array(n * m);
    for (let i = 0; i < n * m; i++) z[i] = ctx.rng.next() < 0.5 ? 1 : 0;
    const vectors = Array.from({ length: n }, (_, i) => z.subarray(i * m, (i + 1) * m));
    const y = Float64Array.from(await ctx.evaluate(vectors), (o) => o[0]);
    const kernel = expKernel('cosine', Number(ctx.params.kernelWidth));
    const ones = new Float32Array(m).fill(1);
    const w = Float64Array.from(vectors, (v) => kernel(ones, v));
    return [fitLasso(z, n, m, y, w, Number(ctx.params.alpha))];
  },
};
