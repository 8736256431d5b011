import { AttrLensError } from '../core/errors';
import { Tensor, asFloat32, sizeOf } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, inputTensor, rngOf, tensorParam } from './base';
import { featureGroups } from './features';
import { ablate, baseScore, evalPerturbed } from './perturbation';
import { MethodInfo } from './types';

/**
 * Permutation feature importance (Breiman 2001; Captum's FeaturePermutation): each feature
 * group is permuted across the batch and the target change is its attribution. The engine
 * explains one example, so the batch is this input followed by `batchExamples`; the result is
 * Captum's attribution for the first row: f(x) − f(x with the feature taken from the example
 * the random permutation puts there).
 */
export class FeaturePermutation extends Method {
  readonly info: MethodInfo = {
    id: 'feature-permutation',
    captumName: 'FeaturePermutation',
    family: 'perturbation',
    description:
      'Permutes each feature of featureMask across a batch (this input plus batchExamples) and records the drop in the target output. Without batchExamples the batch is this one input, the permutation changes nothing and every attribution is 0 (Captum refuses batch size 1).',
    needsGradients: false,
    params: [
      P.featureMask(),
      { name: 'batchExamples', kind: 'tensor', description: 'other examples (K, ...input dims without batch) forming the batch with this input, e.g. a .npy of K inputs' },
      P.perturbationsPerEval(),
      P.seed(),
    ],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const x = inputTensor(ctx);
    const per = sizeOf(x.dims.slice(1));
    const raw = tensorParam(ctx, 'batchExamples', ctx.params.batchExamples);
    let others: Float32Array = new Float32Array(0);
    if (raw !== undefined) {
      if (typeof raw === 'number' || raw.data.length % per !== 0 || sizeOf(raw.dims) !== raw.data.length || sizeOf(raw.dims.slice(-x.dims.length + 1)) !== per) {
        throw new AttrLensError(`batchExamples must have shape (K, ${x.dims.slice(1).join(', ')}) like the input without its batch axis`);
      }
      others = asFloat32(raw as Tensor);
    }
    const batch = 1 + others.length / per;
    const { members } = featureGroups(ctx);
    const attr = new Float32Array(x.data.length);
    if (batch === 1) return { attributions: { [ctx.input]: { dtype: 'float32', dims: x.dims, data: attr } } };

    const rng = rngOf(ctx);
    // Captum's _permute_feature: a random permutation of the batch other than the identity;
    // row 0 receives the feature of row perm[0] (itself when perm[0] = 0).
    const source = members.map(() => {
      let perm: number[];
      do perm = rng.permutation(batch);
      while (perm.every((v, i) => v === i));
      return perm[0];
    });
    const f0 = await baseScore(ctx);
    await evalPerturbed(
      ctx,
      members.length,
      (k, row) => {
        const src = source[k];
        if (src > 0) ablate(row, members[k], others.subarray((src - 1) * per, src * per));
      },
      (start, scores) => {
        for (let j = 0; j < scores.length; j++) {
          const d = f0 - scores[j];
          for (const i of members[start + j]) attr[i] = d;
        }
      },
      { phase: 'permuting', partial: () => ({ dtype: 'float32', dims: x.dims, data: attr.slice() }) },
    );
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: x.dims, data: attr } } };
  }
}
