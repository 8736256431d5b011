import { Method, MethodContext, MethodOutput, P, requireFloatInput } from './base';
import { attributeToNeuronInput, layerTensor, neuronGradients, neuronIndex } from './layerTarget';
import { MethodInfo } from './types';

/** Captum's NeuronGradient: the gradient of one neuron of a layer with respect to the input. */
export class NeuronGradient extends Method {
  readonly info: MethodInfo = {
    id: 'neuron-gradient',
    captumName: 'NeuronGradient',
    family: 'neuron',
    description: 'Gradient of one neuron of a layer (not the model output) with respect to the input.',
    needsGradients: true,
    params: [P.layer(true), P.neuron(), attributeToNeuronInput()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'neuron-gradient');
    const layer = await layerTensor(ctx, ctx.params.attributeToNeuronInput as boolean, 'attributeToNeuronInput');
    const neuron = neuronIndex(ctx.params.neuronSelector, layer.dims, layer.name);
    const g = (await neuronGradients(ctx, layer.name, neuron, undefined)).grads[ctx.input];
    return { attributions: { [ctx.input]: g }, layer: layer.name };
  }
}
