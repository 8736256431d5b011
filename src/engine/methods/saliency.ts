import { Method, MethodContext, MethodOutput, gradientsAt, requireFloatInput } from './base';
import { MethodInfo } from './types';

/** Simonyan et al. 2013, https://arxiv.org/abs/1312.6034: the gradient (absolute by default). */
export class Saliency extends Method {
  readonly info: MethodInfo = {
    id: 'saliency',
    captumName: 'Saliency',
    family: 'gradient',
    description: 'Gradient of the target with respect to the input (absolute value by default).',
    needsGradients: true,
    params: [{ name: 'abs', kind: 'boolean', default: true, description: 'return the absolute value of the gradient' }],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'saliency');
    const g = (await gradientsAt(ctx, undefined)).grads[ctx.input];
    const data = g.data as Float32Array;
    if (ctx.params.abs) for (let i = 0; i < data.length; i++) data[i] = Math.abs(data[i]);
    return { attributions: { [ctx.input]: g } };
  }
}
