import { Method, MethodContext, MethodOutput, P, gradientsAt, inputTensor, requireFloatInput } from './base';
import { GradCam } from './gradcam';
import { upsampleNearest } from './layers';
import { MethodInfo } from './types';

/** Selvaraju et al. 2017: guided backprop times GradCAM (ReLU'd) upsampled to the input by nearest neighbour. */
export class GuidedGradCam extends Method {
  private readonly cam = new GradCam();
  readonly info: MethodInfo = {
    id: 'guided-gradcam',
    captumName: 'GuidedGradCam',
    family: 'cam',
    description: 'Guided backprop multiplied by the ReLU of GradCAM upsampled to the input size.',
    needsGradients: true,
    params: [P.layer()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'guided-gradcam');
    const camOut = await this.cam.run({ ...ctx, params: { ...ctx.params, reluAttributions: true } });
    const cam = camOut.attributions[ctx.input];
    const x = inputTensor(ctx);
    const [, c, H, W] = x.dims;
    const up = upsampleNearest(cam, H, W);
    const gb = (await gradientsAt(ctx, undefined, { ruleSet: 'guided-backprop' })).grads[ctx.input];
    const d = gb.data as Float32Array;
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < H * W; p++) d[ch * H * W + p] *= up[p];
    return { attributions: { [ctx.input]: gb }, layer: camOut.layer };
  }
}
