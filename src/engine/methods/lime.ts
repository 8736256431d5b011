import { Tensor } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, baselineOf, inputTensor, rngOf } from './base';
import { featureGroups } from './features';
import { fitLasso } from './linearModels';
import { ablate, evalPerturbed } from './perturbation';
import { Rng } from './rng';
import { MethodInfo } from './types';

type Row = Tensor['data'];

/** How a Lime-style method samples, weights and fits its interpretable surrogate. */
export interface Surrogate {
  /** fills the binary interpretable sample number `i` (1 = feature kept, 0 = set to the baseline) */
  sample(i: number, z: Uint8Array, rng: Rng): void;
  /** the sample's weight from the original row, the perturbed one and its interpretable sample */
  weight(x: Row, perturbed: Row, z: Uint8Array): number;
  fit(z: Uint8Array, n: number, m: number, y: Float64Array, w: Float64Array): Float64Array;
}

// Refitting for a streamed partial map is only worth it while the surrogate is small.
const PARTIAL_FIT_LIMIT = 4096;

/**
 * Captum's LimeBase with Lime's interpretable space: binary vectors over the features of
 * `featureMask`, mapped to the input by keeping a feature (1) or writing the baseline (0).
 * Every element gets its feature's coefficient (Captum's return_input_shape=True).
 */
export async function surrogateAttribution(ctx: MethodContext, s: Surrogate, phase: string): Promise<MethodOutput> {
  const x = inputTensor(ctx);
  const base = baselineOf(ctx);
  const { members } = featureGroups(ctx);
  const m = members.length;
  const n = ctx.params.nSamples as number;
  const rng = rngOf(ctx);
  // All samples are drawn first, so the result does not depend on perturbationsPerEval.
  const z = new Uint8Array(n * m);
  for (let i = 0; i < n; i++) s.sample(i, z.subarray(i * m, (i + 1) * m), rng);
  const y = new Float64Array(n);
  const w = new Float64Array(n);
  let done = 0;
  const toMap = (coefs: Float64Array): Tensor => {
    const attr = new Float32Array(x.data.length);
    for (let j = 0; j < m; j++) for (const i of members[j]) attr[i] = coefs[j];
    return { dtype: 'float32', dims: x.dims, data: attr };
  };
  await evalPerturbed(
    ctx,
    n,
    (i, row) => {
      for (let j = 0; j < m; j++) if (!z[i * m + j]) ablate(row, members[j], base);
      w[i] = s.weight(x.data, row, z.subarray(i * m, (i + 1) * m));
    },
    (start, scores) => {
      y.set(scores, start);
      done = start + scores.length;
    },
    { phase, partial: m <= PARTIAL_FIT_LIMIT ? () => toMap(done >= 2 ? s.fit(z.subarray(0, done * m), done, m, y.subarray(0, done), w.subarray(0, done)) : new Float64Array(m)) : undefined },
  );
  return { attributions: { [ctx.input]: toMap(s.fit(z, n, m, y, w)) } };
}

/** Captum's exponential kernel exp(−d² / (2·width²)) on the cosine or Euclidean distance of the flattened inputs. */
export function expKernel(mode: 'cosine' | 'euclidean', width: number) {
  return (a: Row, b: Row): number => {
    let d: number;
    if (mode === 'cosine') {
      let ab = 0, aa = 0, bb = 0;
      for (let i = 0; i < a.length; i++) {
        const p = Number(a[i]), q = Number(b[i]);
        ab += p * q;
        aa += p * p;
        bb += q * q;
      }
      // torch's CosineSimilarity: x·y / max(‖x‖·‖y‖, 1e-8)
      d = 1 - ab / Math.max(Math.sqrt(aa) * Math.sqrt(bb), 1e-8);
    } else {
      let ss = 0;
      for (let i = 0; i < a.length; i++) ss += (Number(a[i]) - Number(b[i])) ** 2;
      d = Math.sqrt(ss);
    }
    return Math.exp(-(d * d) / (2 * width * width));
  };
}

/** Ribeiro et al. 2016, https://arxiv.org/abs/1602.04938 (Captum's Lime). */
export class Lime extends Method {
  readonly info: MethodInfo = {
    id: 'lime',
    captumName: 'Lime',
    family: 'perturbation',
    description:
      'Fits a weighted sparse linear model (Lasso) to the target output on random on/off patterns of the features of featureMask; each feature gets its coefficient. Pass a featureMask (e.g. superpixels): with the default every element is a feature, which is slow and noisy.',
    needsGradients: false,
    params: [
      P.baselines(0),
      P.featureMask(),
      P.nSamples(25),
      P.perturbationsPerEval(),
      { name: 'alpha', kind: 'number', default: 0.01, min: 0, description: "L1 penalty of the Lasso surrogate (Captum's default SkLearnLasso(alpha=0.01)); 0 fits weighted least squares" },
      { name: 'kernelWidth', kind: 'number', default: 1.0, min: 1e-6, description: 'width of the exponential similarity kernel' },
      { name: 'distanceMode', kind: 'enum', default: 'cosine', values: ['cosine', 'euclidean'], description: 'distance between the input and a perturbed input used by the similarity kernel' },
      P.seed(),
    ],
  };

  run(ctx: MethodContext): Promise<MethodOutput> {
    const alpha = ctx.params.alpha as number;
    return surrogateAttribution(
      ctx,
      {
        // Captum's default_perturb_func: each feature on with probability 0.5
        sample: (_, z, rng) => {
          for (let j = 0; j < z.length; j++) z[j] = rng.next() < 0.5 ? 1 : 0;
        },
        weight: expKernel(ctx.params.distanceMode as 'cosine' | 'euclidean', ctx.params.kernelWidth as number),
        fit: (z, n, m, y, w) => fitLasso(z, n, m, y, w, alpha),
      },
      'sampling',
    );
  }
}
