import { Method, MethodContext, MethodOutput, P } from './base';
import { surrogateAttribution } from './lime';
import { fitLeastSquares } from './linearModels';
import { Rng } from './rng';
import { MethodInfo } from './types';

/**
 * Captum's kernel_shap_perturb_generator: all features on, all off, then coalitions whose size
 * k in 1..m−1 is drawn with probability ∝ (m − 1) / (k·(m − k)) (the Shapley kernel) and whose
 * members are a uniform subset of that size. The kernel is in the sampling, so the weights are
 * 1 but for the two ends (shapleyKernelWeight).
 */
export function shapleyCoalition(i: number, z: Uint8Array, rng: Rng, cdf: Float64Array): void {
  const m = z.length;
  if (i === 0 || (m < 2 && i % 2 === 0)) return void z.fill(1);
  if (i === 1 || m < 2) return void z.fill(0);
  const u = rng.next();
  let k = 1;
  while (k < m - 1 && cdf[k] <= u) k++;
  z.fill(0);
  const perm = rng.permutation(m);
  for (let j = 0; j < k; j++) z[perm[j]] = 1;
}

/**
 * Captum's kernel_shap_similarity_kernel: the all-on and all-off coalitions weigh 1e6 (in theory
 * infinitely), so that the fit meets the ends: the attributions sum to f(x) − f(baseline).
 */
export function shapleyKernelWeight(z: Uint8Array): number {
  let on = 0;
  for (const v of z) on += v;
  return on === 0 || on === z.length ? 1e6 : 1;
}

/** Cumulative distribution of the coalition size k = 1..m−1 (index k). */
export function coalitionSizeCdf(m: number): Float64Array {
  const cdf = new Float64Array(Math.max(m, 1));
  let total = 0;
  for (let k = 1; k < m; k++) total += (m - 1) / (k * (m - k));
  let acc = 0;
  for (let k = 1; k < m; k++) cdf[k] = acc += (m - 1) / (k * (m - k)) / total;
  return cdf;
}

/** Lundberg & Lee 2017, https://arxiv.org/abs/1705.07874 (Captum's KernelShap). */
export class KernelShap extends Method {
  readonly info: MethodInfo = {
    id: 'kernel-shap',
    captumName: 'KernelShap',
    family: 'perturbation',
    description:
      'Shapley values estimated by a linear regression on coalitions of the features of featureMask drawn with the Shapley kernel (Lime with the Shapley kernel). Pass a featureMask: with the default every element is a feature.',
    needsGradients: false,
    params: [P.baselines(0), P.featureMask(), P.nSamples(25), P.perturbationsPerEval(), P.seed()],
  };

  run(ctx: MethodContext): Promise<MethodOutput> {
    let cdf: Float64Array | undefined;
    return surrogateAttribution(
      ctx,
      {
        sample: (i, z, rng) => shapleyCoalition(i, z, rng, (cdf ??= coalitionSizeCdf(z.length))),
        weight: (_x, _p, z) => shapleyKernelWeight(z),
        fit: fitLeastSquares,
      },
      'sampling coalitions',
    );
  }
}
