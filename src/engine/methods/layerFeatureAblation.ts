import { Tensor } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, broadcastTo, tensorParam } from './base';
import { scoresFromLayer } from './cutForward';
import { featureGroups } from './features';
import { layerTensor, layerValue } from './layerTarget';
import { ablate, baseScore, evalBatches, perturbationsPerEval } from './perturbation';
import { MethodInfo } from './types';

/**
 * Captum's LayerFeatureAblation: each feature of the layer (a group of its elements given by
 * layerMask) is set to the layer baseline in turn, the rest of the network is run from the
 * layer (the graph is cut there), and the drop in the target is the feature's attribution.
 */
export class LayerFeatureAblation extends Method {
  readonly info: MethodInfo = {
    id: 'layer-feature-ablation',
    captumName: 'LayerFeatureAblation',
    family: 'layer',
    description: "Ablates each feature of a layer (groups of its elements given by layerMask) to the layer baseline and records the drop in the target.",
    needsGradients: false,
    layerShaped: true,
    params: [
      P.layer(true),
      { name: 'layerBaselines', kind: 'baseline', default: 0, description: "the layer's reference value: a number, an array broadcast to the layer, or a .npy file" },
      { name: 'layerMask', kind: 'tensor', description: 'integer tensor grouping layer elements into features (broadcast to the layer); default: every element its own feature' },
      P.attributeToLayerInput(),
      P.perturbationsPerEval(),
    ],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const layer = await layerTensor(ctx, ctx.params.attributeToLayerInput as boolean);
    const a = (await layerValue(ctx, layer.name)).data as Float32Array;
    const value: Tensor = { dtype: 'float32', dims: layer.dims, data: a };
    const base = broadcastTo(tensorParam(ctx, 'layerBaselines', ctx.params.layerBaselines ?? 0)!, layer.dims, "parameter 'layerBaselines'");
    // the layer plays the input's part for the mask: it is broadcast to the layer's shape
    const { members } = featureGroups({ ...ctx, input: layer.name, feeds: { ...ctx.feeds, [layer.name]: value }, params: { ...ctx.params, featureMask: ctx.params.layerMask } });
    const f0 = await baseScore(ctx);
    const per = a.length;
    const perEval = Math.min(perturbationsPerEval({ ...ctx, input: layer.name, feeds: { [layer.name]: value } }), members.length);
    const batch = new Float32Array(per * perEval);
    const attr = new Float32Array(per);
    await evalBatches(
      ctx,
      members.length,
      perEval,
      (start, n) => {
        for (let k = 0; k < n; k++) {
          const row = batch.subarray(k * per, (k + 1) * per);
          row.set(a);
          ablate(row, members[start + k], base);
        }
        return scoresFromLayer(ctx, layer.name, { dtype: 'float32', dims: [n, ...layer.dims.slice(1)], data: batch.subarray(0, n * per) }, perEval, layer.edge);
      },
      (start, scores) => {
        for (let j = 0; j < scores.length; j++) for (const i of members[start + j]) attr[i] = f0 - scores[j];
      },
      { phase: 'ablating', partial: () => ({ dtype: 'float32', dims: layer.dims, data: attr.slice() }) },
    );
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: layer.dims, data: attr } }, layer: layer.name };
  }
}
