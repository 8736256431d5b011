import { AttrLensError } from '../core/errors';
import { Tensor, asFloat32, sizeOf } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, inputTensor, rngOf, tensorParam } from './base';
import { scoresFromLayer } from './cutForward';
import { featureGroups } from './features';
import { layerTensor } from './layerTarget';
import { ablate, baseScore, evalBatches, perturbationsPerEval } from './perturbation';
import { MethodInfo } from './types';

/**
 * Captum's LayerFeaturePermutation: FeaturePermutation in a layer's space. The batch is this
 * input followed by `batchExamples`; each layer feature (layerMask group) of this input's layer
 * value is replaced by the one of the example a random non-identity permutation of the batch
 * puts there, the network runs on from the layer, and the drop in the target is the feature's
 * attribution (this input's row of Captum's result).
 */
export class LayerFeaturePermutation extends Method {
  readonly info: MethodInfo = {
    id: 'layer-feature-permutation',
    captumName: 'LayerFeaturePermutation',
    family: 'layer',
    description:
      "Permutes each feature of a layer (layerMask groups) across a batch (this input plus batchExamples) and records the drop in the target. Without batchExamples every attribution is 0 (Captum refuses batch size 1).",
    needsGradients: false,
    layerShaped: true,
    params: [
      P.layer(true),
      { name: 'layerMask', kind: 'tensor', description: 'integer tensor grouping layer elements into features (broadcast to the layer); default: every element its own feature' },
      { name: 'batchExamples', kind: 'tensor', description: 'other examples (K, ...input dims without batch) forming the batch with this input, e.g. a .npy of K inputs' },
      P.attributeToLayerInput(),
      P.perturbationsPerEval(),
      P.seed(),
    ],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const layer = await layerTensor(ctx, ctx.params.attributeToLayerInput as boolean);
    const x = inputTensor(ctx);
    const perIn = sizeOf(x.dims.slice(1));
    const raw = tensorParam(ctx, 'batchExamples', ctx.params.batchExamples);
    let others: Float32Array = new Float32Array(0);
    if (raw !== undefined) {
      if (typeof raw === 'number' || raw.data.length % perIn !== 0 || sizeOf(raw.dims.slice(-x.dims.length + 1)) !== perIn) {
        throw new AttrLensError(`batchExamples must have shape (K, ${x.dims.slice(1).join(', ')}) like the input without its batch axis`);
      }
      others = asFloat32(raw as Tensor);
    }
    const batch = 1 + others.length / perIn;
    // (batch, ...layer): the layer for this input, then for each example
    const rows: Tensor = { dtype: 'float32', dims: [batch, ...x.dims.slice(1)], data: Float32Array.from([...(x.data as Float32Array), ...others]) };
    const values = (layer.name === ctx.input ? rows : (await ctx.lm.intermediates({ ...ctx.feeds, [ctx.input]: rows }, [layer.name], { signal: ctx.signal }))[layer.name]).data as Float32Array;
    const per = sizeOf(layer.dims.slice(1));
    const a = values.subarray(0, per);
    const value: Tensor = { dtype: 'float32', dims: layer.dims, data: a };
    const { members } = featureGroups({ ...ctx, input: layer.name, feeds: { ...ctx.feeds, [layer.name]: value }, params: { ...ctx.params, featureMask: ctx.params.layerMask } });
    const attr = new Float32Array(per);
    if (batch === 1) return { attributions: { [ctx.input]: { dtype: 'float32', dims: layer.dims, data: attr } }, layer: layer.name };
    const rng = rngOf(ctx);
    // as FeaturePermutation: a random permutation of the batch other than the identity; this
    // input's row receives the feature of row perm[0]
    const source = members.map(() => {
      let perm: number[];
      do perm = rng.permutation(batch);
      while (perm.every((v, i) => v === i));
      return perm[0];
    });
    const f0 = await baseScore(ctx);
    const perEval = Math.min(perturbationsPerEval({ ...ctx, input: layer.name, feeds: { [layer.name]: value } }), members.length);
    const buf = new Float32Array(per * perEval);
    await evalBatches(
      ctx,
      members.length,
      perEval,
      (start, n) => {
        for (let k = 0; k < n; k++) {
          const row = buf.subarray(k * per, (k + 1) * per);
          row.set(a);
          const src = source[start + k];
          if (src > 0) ablate(row, members[start + k], values.subarray(src * per, (src + 1) * per));
        }
        return scoresFromLayer(ctx, layer.name, { dtype: 'float32', dims: [n, ...layer.dims.slice(1)], data: buf.subarray(0, n * per) }, perEval, layer.edge);
      },
      (start, scores) => {
        for (let j = 0; j < scores.length; j++) for (const i of members[start + j]) attr[i] = f0 - scores[j];
      },
      { phase: 'permuting', partial: () => ({ dtype: 'float32', dims: layer.dims, data: attr.slice() }) },
    );
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: layer.dims, data: attr } }, layer: layer.name };
  }
}
