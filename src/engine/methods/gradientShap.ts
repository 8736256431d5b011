import { sizeOf } from '../tensor';
import { Method, MethodContext, MethodOutput, P, gradientsAt, inputTensor, requireFloatInput, rngOf, stackRows, targetScores } from './base';
import { baselineSet } from './deeplift';
import { multiplyByInputs } from './layerTarget';
import { noisyInputs } from './noiseTunnel';
import { MethodInfo } from './types';

/**
 * Lundberg & Lee 2017, https://arxiv.org/abs/1705.07874 (Captum's GradientShap): per sample a
 * random baseline b from the distribution, a uniform alpha and a noisy input x'; the attribution
 * grad(b + alpha (x' - b)) * (x' - b), averaged over samples. All samples go through one
 * batched gradient run.
 */
export class GradientShap extends Method {
  readonly info: MethodInfo = {
    id: 'gradient-shap',
    captumName: 'GradientShap',
    family: 'gradient',
    description: 'Expected gradients between random baselines from a distribution and the (noisy) input, times (input - baseline): an approximation of SHAP values.',
    needsGradients: true,
    params: [
      { name: 'baselines', kind: 'baseline', default: 0, description: 'baseline distribution: a (K, ...input) tensor (.npy), or a number' },
      P.nSamples(5),
      P.stdevs(0.0),
      multiplyByInputs('(input - baseline)'),
      { name: 'returnConvergenceDelta', kind: 'boolean', default: false, description: 'report the mean over samples of sum(attributions) - (f(input) - f(baseline))' },
      P.seed(),
    ],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'gradient-shap');
    const x = inputTensor(ctx);
    const bases = baselineSet(ctx);
    const n = ctx.params.nSamples as number;
    const rng = rngOf(ctx);
    // drawn in Captum's order: noise for every sample, then baselines, then alphas
    const noisy = noisyInputs(x, n, ctx.params.stdevs as number, rng);
    const pick = Array.from({ length: n }, () => rng.int(bases.length));
    const alpha = Array.from({ length: n }, () => rng.next());
    const per = sizeOf(x.dims.slice(1));
    const xn = noisy.data as Float32Array;
    const scaled = stackRows(x.dims, n, (s, row) => {
      const b = bases[pick[s]], a = alpha[s];
      for (let i = 0; i < per; i++) row[i] = b[i] + a * (xn[s * per + i] - b[i]);
    });
    const g = (await gradientsAt(ctx, scaled, { phase: 'samples' })).grads[ctx.input].data as Float32Array;
    const mult = ctx.params.multiplyByInputs as boolean;
    const acc = new Float64Array(per);
    const sums = new Float64Array(n);
    for (let s = 0; s < n; s++) {
      const b = bases[pick[s]];
      for (let i = 0; i < per; i++) {
        const gi = g[s * per + i];
        // Captum multiplies in float32 per sample, then averages
        const v = Math.fround(gi * (xn[s * per + i] - b[i]));
        sums[s] += v;
        acc[i] += mult ? v : gi;
      }
    }
    const attr = new Float32Array(per);
    for (let i = 0; i < per; i++) attr[i] = acc[i] / n;
    const out: MethodOutput = { attributions: { [ctx.input]: { dtype: 'float32', dims: x.dims, data: attr } } };
    if (ctx.params.returnConvergenceDelta) {
      const ends = stackRows(x.dims, 2 * n, (r, row) => row.set(r < n ? xn.subarray(r * per, (r + 1) * per) : bases[pick[r - n]]));
      const f = await targetScores(ctx, ends);
      let d = 0;
      for (let s = 0; s < n; s++) d += sums[s] - (f[s] - f[n + s]);
      out.delta = d / n;
    }
    return out;
  }
}
