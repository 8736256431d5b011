import { Method, MethodContext, MethodOutput, P } from './base';
import { layerTensor, layerValue } from './layerTarget';
import { MethodInfo } from './types';

/** Captum's LayerActivation: the layer's own values for the input. */
export class LayerActivation extends Method {
  readonly info: MethodInfo = {
    id: 'layer-activation',
    captumName: 'LayerActivation',
    family: 'layer',
    description: "The layer's activations for the input (no target: the same for every class).",
    needsGradients: false,
    layerShaped: true,
    params: [P.layer(true), P.attributeToLayerInput()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const layer = await layerTensor(ctx, ctx.params.attributeToLayerInput as boolean);
    const v = await layerValue(ctx, layer.name);
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: v.dims, data: Float32Array.from(v.data as Float32Array) } }, layer: layer.name };
  }
}
