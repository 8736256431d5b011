import { Method, MethodContext, MethodOutput, gradientsAt, requireFloatInput } from './base';
import { MethodInfo } from './types';

/** Springenberg et al. 2014, https://arxiv.org/abs/1412.6806: only positive gradients pass Relu nodes. */
export class GuidedBackprop extends Method {
  readonly info: MethodInfo = {
    id: 'guided-backprop',
    captumName: 'GuidedBackprop',
    family: 'gradient',
    description: 'Gradient where Relu nodes pass back only positive gradients of positive inputs.',
    needsGradients: true,
    params: [],
  };
  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'guided-backprop');
    return { attributions: { [ctx.input]: (await gradientsAt(ctx, undefined, { ruleSet: 'guided-backprop' })).grads[ctx.input] } };
  }
}

/** Zeiler & Fergus 2014, https://arxiv.org/abs/1311.2901: Relu nodes pass back Relu(gradient). */
export class Deconvolution extends Method {
  readonly info: MethodInfo = {
    id: 'deconvolution',
    captumName: 'Deconvolution',
    family: 'gradient',
    description: 'Gradient where Relu nodes pass back the positive part of the gradient, ignoring the forward input.',
    needsGradients: true,
    params: [],
  };
  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'deconvolution');
    return { attributions: { [ctx.input]: (await gradientsAt(ctx, undefined, { ruleSet: 'deconvolution' })).grads[ctx.input] } };
  }
}
