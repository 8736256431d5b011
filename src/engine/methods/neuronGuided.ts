import { RuleSetName } from '../autodiff/ruleSets';
import { Method, MethodContext, MethodOutput, P, requireFloatInput } from './base';
import { attributeToNeuronInput, layerTensor, neuronGradients, neuronIndex } from './layerTarget';
import { MethodInfo } from './types';

/** The gradient of one neuron with respect to the input, through a method's Relu rule. */
async function neuronRuleGradient(ctx: MethodContext, id: string, ruleSet: RuleSetName): Promise<MethodOutput> {
  requireFloatInput(ctx, id);
  const layer = await layerTensor(ctx, ctx.params.attributeToNeuronInput as boolean, 'attributeToNeuronInput');
  const neuron = neuronIndex(ctx.params.neuronSelector, layer.dims, layer.name);
  const g = (await neuronGradients(ctx, layer.name, neuron, undefined, { ruleSet })).grads[ctx.input];
  return { attributions: { [ctx.input]: g }, layer: layer.name };
}

/** Captum's NeuronGuidedBackprop: guided backprop (https://arxiv.org/abs/1412.6806) from one neuron of a layer. */
export class NeuronGuidedBackprop extends Method {
  readonly info: MethodInfo = {
    id: 'neuron-guided-backprop',
    captumName: 'NeuronGuidedBackprop',
    family: 'neuron',
    description: 'Guided backprop from one neuron of a layer (not the model output): Relu nodes pass back only positive gradients of positive inputs.',
    needsGradients: true,
    params: [P.layer(true), P.neuron(), attributeToNeuronInput()],
  };
  run(ctx: MethodContext): Promise<MethodOutput> {
    return neuronRuleGradient(ctx, this.info.id, 'guided-backprop');
  }
}

/** Captum's NeuronDeconvolution: deconvolution (https://arxiv.org/abs/1311.2901) from one neuron of a layer. */
export class NeuronDeconvolution extends Method {
  readonly info: MethodInfo = {
    id: 'neuron-deconvolution',
    captumName: 'NeuronDeconvolution',
    family: 'neuron',
    description: 'Deconvolution from one neuron of a layer (not the model output): Relu nodes pass back the positive part of the gradient.',
    needsGradients: true,
    params: [P.layer(true), P.neuron(), attributeToNeuronInput()],
  };
  run(ctx: MethodContext): Promise<MethodOutput> {
    return neuronRuleGradient(ctx, this.info.id, 'deconvolution');
  }
}
