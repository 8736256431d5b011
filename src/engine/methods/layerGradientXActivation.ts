import { Method, MethodContext, MethodOutput, P, gradientsAt } from './base';
import { layerTensor, multiplyByInputs } from './layerTarget';
import { MethodInfo } from './types';

/** Captum's LayerGradientXActivation (https://arxiv.org/abs/1605.01713 applied to a layer). */
export class LayerGradientXActivation extends Method {
  readonly info: MethodInfo = {
    id: 'layer-gradient-x-activation',
    captumName: 'LayerGradientXActivation',
    family: 'layer',
    description: "Gradient of the target with respect to the layer, times the layer's activations.",
    needsGradients: true,
    layerShaped: true,
    params: [P.layer(true), multiplyByInputs("the layer's activations"), P.attributeToLayerInput()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const layer = await layerTensor(ctx, ctx.params.attributeToLayerInput as boolean);
    const res = await gradientsAt(ctx, undefined, { wrt: [layer.name], expose: ctx.lm.inputs.some((i) => i.name === layer.name) ? [] : [layer.name] });
    const g = res.grads[layer.name];
    if (ctx.params.multiplyByInputs) {
      const a = (res.values[layer.name] ?? ctx.feeds[layer.name]).data as Float32Array;
      const d = g.data as Float32Array;
      for (let i = 0; i < d.length; i++) d[i] *= a[i];
    }
    return { attributions: { [ctx.input]: g }, layer: layer.name };
  }
}
