import { Method, MethodContext, MethodOutput, P, gradientsAt, requireFloatInput } from './base';
import { sampleDeltas, shapParams, shapSamples } from './gradientShap';
import { layerTensor, multiplyByInputs } from './layerTarget';
import { MethodInfo } from './types';

/**
 * Captum's LayerGradientShap: GradientShap's samples (random baseline, alpha and noisy input) with
 * the gradient taken at a layer and multiplied by the layer's difference between the noisy input
 * and the baseline, averaged over samples.
 */
export class LayerGradientShap extends Method {
  readonly info: MethodInfo = {
    id: 'layer-gradient-shap',
    captumName: 'LayerGradientShap',
    family: 'layer',
    description: "GradientShap in a layer's space: expected layer gradients between random baselines and the (noisy) input, times the layer's difference.",
    needsGradients: true,
    layerShaped: true,
    params: [
      P.layer(true),
      ...shapParams(),
      multiplyByInputs("(layer(input) - layer(baseline))"),
      { name: 'returnConvergenceDelta', kind: 'boolean', default: false, description: 'report sum(attributions) - (f(input) - f(baseline)) per sample, as Captum does (and their mean)' },
      P.attributeToLayerInput(),
      P.seed(),
    ],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'layer-gradient-shap');
    const layer = await layerTensor(ctx, ctx.params.attributeToLayerInput as boolean);
    const samples = shapSamples(ctx);
    const n = samples.n;
    const g = (await gradientsAt(ctx, samples.scaled, { wrt: [layer.name], phase: 'samples' })).grads[layer.name].data as Float32Array;
    const per = g.length / n;
    // (2n, ...layer): the layer at the noisy inputs, then at their baselines
    const ends = samples.ends();
    const a = (layer.name === ctx.input ? ends : (await ctx.lm.intermediates({ ...ctx.feeds, [ctx.input]: ends }, [layer.name], { signal: ctx.signal }))[layer.name]).data as Float32Array;
    const mult = ctx.params.multiplyByInputs as boolean;
    const acc = new Float64Array(per);
    const sums = new Float64Array(n);
    for (let s = 0; s < n; s++) {
      for (let i = 0; i < per; i++) {
        const gi = g[s * per + i];
        const v = gi * (a[s * per + i] - a[(n + s) * per + i]);
        sums[s] += v;
        acc[i] += mult ? v : gi;
      }
    }
    const out: MethodOutput = { attributions: { [ctx.input]: { dtype: 'float32', dims: layer.dims, data: Float32Array.from(acc, (v) => v / n) } }, layer: layer.name };
    if (ctx.params.returnConvergenceDelta) {
      out.deltas = await sampleDeltas(ctx, samples, sums);
      out.delta = out.deltas.reduce((s, d) => s + d, 0) / n;
    }
    return out;
  }
}
