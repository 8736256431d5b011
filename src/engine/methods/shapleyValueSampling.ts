import { Method, MethodContext, MethodOutput, P, baselineOf, inputTensor, rngOf } from './base';
import { featureGroups } from './features';
import { ablate, evalPerturbed } from './perturbation';
import { MethodInfo } from './types';

/**
 * Castro et al. 2009, https://doi.org/10.1016/j.cor.2008.04.004 (Captum's ShapleyValueSampling):
 * for each random feature order, start from the baseline, add the input's features one at a
 * time and credit each with the change in the target; average over the orders.
 */
export class ShapleyValueSampling extends Method {
  readonly info: MethodInfo = {
    id: 'shapley-value-sampling',
    captumName: 'ShapleyValueSampling',
    family: 'perturbation',
    description:
      'Shapley values estimated from random feature orders: each feature of featureMask is credited with the change in the target when it is added to the features before it (1 + nSamples × features model runs).',
    needsGradients: false,
    params: [P.baselines(0), P.featureMask(), P.nSamples(25), P.perturbationsPerEval(), P.seed()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const x = inputTensor(ctx);
    const base = baselineOf(ctx);
    const { members } = featureGroups(ctx);
    const m = members.length;
    const n = ctx.params.nSamples as number;
    const rng = rngOf(ctx);
    const perms = Array.from({ length: n }, () => rng.permutation(m));
    const total = new Float64Array(m);
    const counts = new Float64Array(m);
    let prev = 0;
    let fBase = 0;
    // evaluation 0 is the baseline; evaluation 1 + p·m + k has the first k + 1 features of order p
    const orderAt = (e: number) => ({ p: Math.floor((e - 1) / m), k: (e - 1) % m });
    const snapshot = () => {
      const attr = new Float32Array(x.data.length);
      for (let j = 0; j < m; j++) if (counts[j]) for (const i of members[j]) attr[i] = total[j] / counts[j];
      return { dtype: 'float32' as const, dims: x.dims, data: attr };
    };
    await evalPerturbed(
      ctx,
      1 + n * m,
      (e, row) => {
        if (e === 0) {
          for (const g of members) ablate(row, g, base);
          return;
        }
        const { p, k } = orderAt(e);
        for (let q = k + 1; q < m; q++) ablate(row, members[perms[p][q]], base);
      },
      (start, scores) => {
        for (let j = 0; j < scores.length; j++) {
          const e = start + j;
          if (e === 0) {
            fBase = scores[j];
            continue;
          }
          const { p, k } = orderAt(e);
          const before = k === 0 ? fBase : prev;
          const f = perms[p][k];
          total[f] += scores[j] - before;
          counts[f] += 1;
          prev = scores[j];
        }
      },
      { phase: 'sampling orders', partial: snapshot },
    );
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: x.dims, data: snapshot().data } } };
  }
}
