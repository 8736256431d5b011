import { Method, MethodContext, MethodOutput, P, baselineOf, inputTensor } from './base';
import { featureGroups } from './features';
import { ablate, baseScore, evalPerturbed } from './perturbation';
import { MethodInfo } from './types';

/** Replaces each feature group with the baseline in turn and records the drop in the target. */
export class FeatureAblation extends Method {
  readonly info: MethodInfo = {
    id: 'feature-ablation',
    captumName: 'FeatureAblation',
    family: 'perturbation',
    description: 'Ablates each feature (group of input elements given by featureMask) to the baseline and records the drop in the target output.',
    needsGradients: false,
    params: [P.baselines(0), P.featureMask(), P.perturbationsPerEval()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const x = inputTensor(ctx);
    const base = baselineOf(ctx);
    const { members } = featureGroups(ctx);
    const f0 = await baseScore(ctx);
    const attr = new Float32Array(x.data.length);
    await evalPerturbed(
      ctx,
      members.length,
      (k, row) => ablate(row, members[k], base),
      (start, scores) => {
        for (let j = 0; j < scores.length; j++) {
          const d = f0 - scores[j];
          for (const i of members[start + j]) attr[i] = d;
        }
      },
      { phase: 'ablating', partial: () => ({ dtype: 'float32', dims: x.dims, data: attr.slice() }) },
    );
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: x.dims, data: attr } } };
  }
}
