import { P } from './base';
import { GradientCam, weightedSum } from './camBase';
import { MethodInfo } from './types';

/** Selvaraju et al. 2017, https://arxiv.org/abs/1610.02391 (Captum's LayerGradCam). */
export class GradCam extends GradientCam {
  readonly info: MethodInfo = {
    id: 'gradcam',
    captumName: 'LayerGradCam',
    family: 'cam',
    description: 'Layer activations weighted by their spatially averaged gradients, summed over channels (layer resolution).',
    needsGradients: true,
    layerShaped: true,
    params: [P.layer(), P.reluAttributions(), P.attributeToLayerInput()],
  };
  protected combine(a: Float32Array, g: Float32Array, c: number, hw: number): Float32Array {
    const weights = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let p = 0; p < hw; p++) s += g[ch * hw + p];
      weights[ch] = s / hw;
    }
    return weightedSum(a, weights, c, hw);
  }
}
