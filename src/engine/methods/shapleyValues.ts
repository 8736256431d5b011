import { AttrLensError } from '../core/errors';
import { Method, MethodContext, MethodOutput, P, baselineOf, inputTensor } from './base';
import { featureGroups } from './features';
import { ablate, evalPerturbed } from './perturbation';
import { MethodInfo } from './types';

/** Features beyond this make 2^m model runs impractical (Captum warns from 10). */
export const MAX_EXACT_FEATURES = 16;

/**
 * Captum's ShapleyValues: exact Shapley values over the features of featureMask. Captum walks
 * all m! orders; the same average is the weighted sum over the 2^m coalitions S of
 * s!(m-s-1)!/m! · (f(S ∪ {i}) - f(S)), so each coalition is evaluated once (features outside
 * S at the baseline).
 */
export class ShapleyValues extends Method {
  readonly info: MethodInfo = {
    id: 'shapley-values',
    captumName: 'ShapleyValues',
    family: 'perturbation',
    description: `Exact Shapley values of the features of featureMask (2^features model runs; at most ${MAX_EXACT_FEATURES} features).`,
    needsGradients: false,
    params: [P.baselines(0), P.featureMask(), P.perturbationsPerEval()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const x = inputTensor(ctx);
    const base = baselineOf(ctx);
    const { members } = featureGroups(ctx);
    const m = members.length;
    if (m > MAX_EXACT_FEATURES) {
      throw new AttrLensError(`shapley-values evaluates all 2^${m} coalitions of ${m} features; group the input into at most ${MAX_EXACT_FEATURES} features with featureMask, or use shapley-value-sampling`);
    }
    const count = 2 ** m;
    const f = new Float64Array(count);
    // coalition c: bit j set = feature j takes the input's values, else the baseline's
    await evalPerturbed(
      ctx,
      count,
      (c, row) => {
        for (let j = 0; j < m; j++) if (!(c & (1 << j))) ablate(row, members[j], base);
      },
      (start, scores) => f.set(scores, start),
      { phase: 'coalitions' },
    );
    // weight of a coalition of size s that lacks feature i: s! (m - s - 1)! / m!
    const fact = [1];
    for (let k = 1; k <= m; k++) fact.push(fact[k - 1] * k);
    const weight = Array.from({ length: m }, (_, s) => (fact[s] * fact[m - s - 1]) / fact[m]);
    const phi = new Float64Array(m);
    for (let c = 0; c < count; c++) {
      const s = popcount(c);
      for (let j = 0; j < m; j++) if (!(c & (1 << j))) phi[j] += weight[s] * (f[c | (1 << j)] - f[c]);
    }
    const attr = new Float32Array(x.data.length);
    members.forEach((g, j) => {
      for (const i of g) attr[i] = phi[j];
    });
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: x.dims, data: attr } } };
  }
}

function popcount(c: number): number {
  let n = 0;
  for (; c; c &= c - 1) n++;
  return n;
}
