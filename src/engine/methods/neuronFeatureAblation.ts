import { Method, MethodContext, MethodOutput, P, baselineOf, inputTensor } from './base';
import { featureGroups } from './features';
import { attributeToNeuronInput, layerTensor, neuronIndex } from './layerTarget';
import { ablate, evalBatches, perturbationsPerEval } from './perturbation';
import { MethodInfo } from './types';

/**
 * Captum's NeuronFeatureAblation: feature ablation where the explained value is one neuron of a
 * layer instead of the model output: each feature of the input is set to the baseline in turn
 * and the drop in the neuron is its attribution.
 */
export class NeuronFeatureAblation extends Method {
  readonly info: MethodInfo = {
    id: 'neuron-feature-ablation',
    captumName: 'NeuronFeatureAblation',
    family: 'neuron',
    description: 'Ablates each input feature (featureMask groups) to the baseline and records the drop in one neuron of a layer.',
    needsGradients: false,
    params: [P.layer(true), P.neuron(), P.baselines(0), P.featureMask(), attributeToNeuronInput(), P.perturbationsPerEval()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const layer = await layerTensor(ctx, ctx.params.attributeToNeuronInput as boolean, 'attributeToNeuronInput');
    const neuron = neuronIndex(ctx.params.neuronSelector, layer.dims, layer.name);
    const xt = inputTensor(ctx);
    const x = xt.data as Float32Array;
    const base = baselineOf(ctx);
    const { members } = featureGroups(ctx);
    const per = x.length;
    const perLayer = layer.dims.slice(1).reduce((p, d) => p * d, 1);
    const neuronOf = async (rows: Float32Array, n: number): Promise<Float64Array> => {
      const feeds = { ...ctx.feeds, [ctx.input]: { dtype: 'float32' as const, dims: [n, ...xt.dims.slice(1)], data: rows } };
      const v = (layer.name === ctx.input ? feeds[ctx.input] : (await ctx.lm.intermediates(feeds, [layer.name], { signal: ctx.signal }))[layer.name]).data as Float32Array;
      return Float64Array.from({ length: n }, (_, r) => v[r * perLayer + neuron]);
    };
    const n0 = (await neuronOf(x, 1))[0];
    const perEval = Math.min(perturbationsPerEval(ctx), members.length);
    const batch = new Float32Array(per * perEval);
    const attr = new Float32Array(per);
    await evalBatches(
      ctx,
      members.length,
      perEval,
      (start, n) => {
        for (let k = 0; k < n; k++) {
          const row = batch.subarray(k * per, (k + 1) * per);
          row.set(x);
          ablate(row, members[start + k], base);
        }
        return neuronOf(batch.subarray(0, n * per), n);
      },
      (start, values) => {
        for (let j = 0; j < values.length; j++) for (const i of members[start + j]) attr[i] = n0 - values[j];
      },
      { phase: 'ablating', partial: () => ({ dtype: 'float32', dims: xt.dims, data: attr.slice() }) },
    );
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: xt.dims, data: attr } }, layer: layer.name };
  }
}
