import { P } from './base';
import { GradientCam, weightedSum } from './camBase';
import { MethodInfo, ParamSpec } from './types';

/** pytorch-grad-cam applies ReLU to every CAM before scaling it; these methods keep that default. */
export const camRelu = (): ParamSpec => ({ ...P.reluAttributions(), default: true, description: 'apply ReLU to the final map (on by default, as pytorch-grad-cam does)' });

const camInfo = (id: string, captumName: string, description: string): MethodInfo => ({
  id,
  captumName,
  family: 'cam',
  description: `${description} Layer resolution; ReLU of the map by default (pytorch-grad-cam), not scaled to [0, 1].`,
  needsGradients: true,
  layerShaped: true,
  params: [P.layer(), camRelu()],
});

/** Chattopadhyay et al. 2018, https://arxiv.org/abs/1710.11063 (pytorch-grad-cam's GradCAMPlusPlus, eq. 19). */
export class GradCamPlusPlus extends GradientCam {
  readonly info = camInfo('gradcam-plus-plus', 'GradCAMPlusPlus', 'Activations weighted by the positive gradients, each scaled by a second/third-order factor.');
  protected combine(a: Float32Array, g: Float32Array, c: number, hw: number): Float32Array {
    const weights = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      const off = ch * hw;
      let sumA = 0;
      for (let p = 0; p < hw; p++) sumA += a[off + p];
      let w = 0;
      for (let p = 0; p < hw; p++) {
        const gi = g[off + p];
        if (gi <= 0) continue; // relu(g) and the zero-gradient mask
        const g2 = gi * gi;
        w += gi * (g2 / (2 * g2 + sumA * g2 * gi + 1e-6));
      }
      weights[ch] = w;
    }
    return weightedSum(a, weights, c, hw);
  }
}

/** Draelos & Carin 2020, https://arxiv.org/abs/2011.08891 (pytorch-grad-cam's HiResCAM). */
export class HiResCam extends GradientCam {
  readonly info = camInfo('hires-cam', 'HiResCAM', 'Elementwise gradient times activation, summed over channels.');
  protected combine(a: Float32Array, g: Float32Array, c: number, hw: number): Float32Array {
    const out = new Float32Array(hw);
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) out[p] += g[ch * hw + p] * a[ch * hw + p];
    return out;
  }
}

/** Fu et al. 2020, https://arxiv.org/abs/2008.02312 (pytorch-grad-cam's XGradCAM). */
export class XGradCam extends GradientCam {
  readonly info = camInfo('xgrad-cam', 'XGradCAM', 'Activations weighted by sum(gradient * activation) / sum(activation) over space.');
  protected combine(a: Float32Array, g: Float32Array, c: number, hw: number): Float32Array {
    const weights = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      const off = ch * hw;
      let sumA = 0, sumGA = 0;
      for (let p = 0; p < hw; p++) {
        sumA += a[off + p];
        sumGA += g[off + p] * a[off + p];
      }
      weights[ch] = sumGA / (sumA + 1e-7);
    }
    return weightedSum(a, weights, c, hw);
  }
}

/** Jiang et al. 2021, https://ieeexplore.ieee.org/document/9462463 (pytorch-grad-cam's LayerCAM). */
export class LayerCam extends GradientCam {
  readonly info = camInfo('layer-cam', 'LayerCAM', 'Activations times their positive gradients, elementwise, summed over channels.');
  protected combine(a: Float32Array, g: Float32Array, c: number, hw: number): Float32Array {
    const out = new Float32Array(hw);
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) out[p] += Math.max(0, g[ch * hw + p]) * a[ch * hw + p];
    return out;
  }
}
