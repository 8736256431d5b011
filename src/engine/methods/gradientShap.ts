import { Tensor, sizeOf } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, gradientsAt, inputTensor, requireFloatInput, rngOf, stackRows, targetScores } from './base';
import { baselineSet } from './deeplift';
import { multiplyByInputs } from './layerTarget';
import { noisyInputs } from './noiseTunnel';
import { MethodInfo, ParamSpec } from './types';

/** GradientShap's random draws: per sample a noisy input, a baseline from the set and an alpha. */
export interface ShapSamples {
  n: number;
  /** (n, ...input) noisy inputs x'_s */
  noisy: Float32Array;
  /** baseline of sample s */
  base: (s: number) => Float32Array;
  /** (n, ...input) points b_s + alpha_s (x'_s - b_s) */
  scaled: Tensor;
  /** (2n, ...input): the noisy inputs, then their baselines (for f(x'_s) - f(b_s)) */
  ends: () => Tensor;
}

export function shapSamples(ctx: MethodContext): ShapSamples {
  const x = inputTensor(ctx);
  const bases = baselineSet(ctx);
  const n = ctx.params.nSamples as number;
  const rng = rngOf(ctx);
  // drawn in Captum's order: noise for every sample, then baselines, then alphas
  const noisy = noisyInputs(x, n, ctx.params.stdevs as number, rng).data as Float32Array;
  const pick = Array.from({ length: n }, () => rng.int(bases.length));
  const alpha = Array.from({ length: n }, () => rng.next());
  const per = sizeOf(x.dims.slice(1));
  const base = (s: number) => bases[pick[s]];
  const scaled = stackRows(x.dims, n, (s, row) => {
    const b = base(s), a = alpha[s];
    for (let i = 0; i < per; i++) row[i] = b[i] + a * (noisy[s * per + i] - b[i]);
  });
  const ends = () => stackRows(x.dims, 2 * n, (r, row) => row.set(r < n ? noisy.subarray(r * per, (r + 1) * per) : base(r - n)));
  return { n, noisy, base, scaled, ends };
}

/** Per sample: sum of its attributions - (f(x'_s) - f(b_s)), as Captum returns GradientShap's delta. */
export async function sampleDeltas(ctx: MethodContext, samples: ShapSamples, sums: Float64Array): Promise<number[]> {
  const f = await targetScores(ctx, samples.ends());
  return Array.from(sums, (s, k) => s - (f[k] - f[samples.n + k]));
}

export const shapParams = (): ParamSpec[] => [
  { name: 'baselines', kind: 'baseline', default: 0, description: 'baseline distribution: a (K, ...input) tensor (.npy), or a number' },
  P.nSamples(5),
  P.stdevs(0.0),
];

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
      ...shapParams(),
      multiplyByInputs('(input - baseline)'),
      { name: 'returnConvergenceDelta', kind: 'boolean', default: false, description: "report sum(attributions) - (f(input) - f(baseline)) per sample, as Captum does (and their mean)" },
      P.seed(),
    ],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'gradient-shap');
    const x = inputTensor(ctx);
    const samples = shapSamples(ctx);
    const { n, noisy: xn } = samples;
    const per = sizeOf(x.dims.slice(1));
    const g = (await gradientsAt(ctx, samples.scaled, { phase: 'samples' })).grads[ctx.input].data as Float32Array;
    const mult = ctx.params.multiplyByInputs as boolean;
    const acc = new Float64Array(per);
    const sums = new Float64Array(n);
    for (let s = 0; s < n; s++) {
      const b = samples.base(s);
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
      out.deltas = await sampleDeltas(ctx, samples, sums);
      out.delta = out.deltas.reduce((s, d) => s + d, 0) / n;
    }
    return out;
  }
}
