import { Method, MethodContext, MethodOutput, gradientsAt, inputTensor, requireFloatInput } from './base';
import { MethodInfo } from './types';

/** Shrikumar et al. 2016, https://arxiv.org/abs/1605.01713: input times gradient. */
export class InputXGradient extends Method {
  readonly info: MethodInfo = {
    id: 'input-x-gradient',
    captumName: 'InputXGradient',
    family: 'gradient',
    description: 'Input multiplied elementwise by the gradient of the target.',
    needsGradients: true,
    params: [],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'input-x-gradient');
    const g = (await gradientsAt(ctx, undefined)).grads[ctx.input];
    const x = inputTensor(ctx).data as Float32Array;
    const d = g.data as Float32Array;
    for (let i = 0; i < d.length; i++) d[i] *= x[i];
    return { attributions: { [ctx.input]: g } };
  }
}
