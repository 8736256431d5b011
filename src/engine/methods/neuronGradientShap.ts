import { sizeOf } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, inputTensor, requireFloatInput } from './base';
import { shapParams, shapSamples } from './gradientShap';
import { attributeToNeuronInput, layerTensor, multiplyByInputs, neuronGradients, neuronIndex } from './layerTarget';
import { MethodInfo } from './types';

/** Captum's NeuronGradientShap: GradientShap with the gradient of one neuron of a layer instead of the target. */
export class NeuronGradientShap extends Method {
  readonly info: MethodInfo = {
    id: 'neuron-gradient-shap',
    captumName: 'NeuronGradientShap',
    family: 'neuron',
    description: "GradientShap of one neuron of a layer (not the model output): expected gradients of the neuron between random baselines and the (noisy) input, times (input - baseline).",
    needsGradients: true,
    params: [P.layer(true), P.neuron(), ...shapParams(), multiplyByInputs('(input - baseline)'), attributeToNeuronInput(), P.seed()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'neuron-gradient-shap');
    const layer = await layerTensor(ctx, ctx.params.attributeToNeuronInput as boolean, 'attributeToNeuronInput');
    const neuron = neuronIndex(ctx.params.neuronSelector, layer.dims, layer.name);
    const x = inputTensor(ctx);
    const samples = shapSamples(ctx);
    const { n, noisy } = samples;
    const g = (await neuronGradients(ctx, layer.name, neuron, samples.scaled, { phase: 'samples' })).grads[ctx.input].data as Float32Array;
    const per = sizeOf(x.dims.slice(1));
    const mult = ctx.params.multiplyByInputs as boolean;
    const acc = new Float64Array(per);
    for (let s = 0; s < n; s++) {
      const b = samples.base(s);
      for (let i = 0; i < per; i++) acc[i] += mult ? g[s * per + i] * (noisy[s * per + i] - b[i]) : g[s * per + i];
    }
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: x.dims, data: Float32Array.from(acc, (v) => v / n) } }, layer: layer.name };
  }
}
