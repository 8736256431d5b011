import { AttrLensError } from '../core/errors';
import { Tensor } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, inputTensor } from './base';
import { weightedSum } from './camBase';
import { camLayer, requireSpatial, toSpatial } from './layers';
import { evalPerturbed } from './perturbation';
import { elementIndex, imageLayout, resizeBilinear } from './spatial';
import { MethodInfo } from './types';

/** relu(Σ_c weight_c · A_c) as a (1, 1, h, w) map. */
export function reluCam(a: Float32Array, weights: ArrayLike<number>, c: number, h: number, w: number): Tensor {
  const map = weightedSum(a, weights, c, h * w);
  for (let i = 0; i < map.length; i++) map[i] = Math.max(0, map[i]);
  return { dtype: 'float32', dims: [1, 1, h, w], data: map };
}

/**
 * Wang et al. 2020, https://arxiv.org/abs/1910.01279 (pytorch-grad-cam's ScoreCAM): each
 * channel of the layer, upsampled to the input (bilinear, corners aligned) and scaled to
 * [0, 1], masks the input; the target's score on the masked input, softmaxed over channels,
 * weighs the channel.
 */
export class ScoreCam extends Method {
  readonly info: MethodInfo = {
    id: 'score-cam',
    captumName: 'ScoreCAM',
    family: 'cam',
    description:
      "Masks the input with each upsampled, [0, 1]-scaled channel of the layer; the channels' target scores (softmaxed over channels) weigh the activations. Gradient-free; one model run per channel; map at layer resolution.",
    needsGradients: false,
    layerShaped: true,
    params: [P.layer(), P.perturbationsPerEval()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const x = inputTensor(ctx);
    if (x.dtype !== 'float32') throw new AttrLensError(`score-cam masks pixels, but input '${ctx.input}' is ${x.dtype}: use it on float image inputs`);
    const img = imageLayout(x.dims, 'score-cam');
    const layer = await camLayer(ctx);
    const act = requireSpatial(toSpatial((await ctx.lm.intermediates(ctx.feeds, [layer]))[layer]), layer, 'score-cam');
    const [, c, h, w] = act.dims;
    const a = act.data as Float32Array;
    const hw = img.h * img.w;
    const scores = new Float64Array(c);
    let done = 0;
    const weights = (upto: number) => {
      let max = -Infinity;
      for (let k = 0; k < upto; k++) max = Math.max(max, scores[k]);
      const e = new Float64Array(c);
      let sum = 0;
      for (let k = 0; k < upto; k++) sum += e[k] = Math.exp(scores[k] - max);
      for (let k = 0; k < upto; k++) e[k] /= sum;
      return e;
    };
    await evalPerturbed(
      ctx,
      c,
      (ch, row) => {
        const up = resizeBilinear(a.subarray(ch * h * w, (ch + 1) * h * w), h, w, img.h, img.w, true);
        let lo = Infinity, hi = -Infinity;
        for (let p = 0; p < hw; p++) {
          lo = Math.min(lo, up[p]);
          hi = Math.max(hi, up[p]);
        }
        const r = row as Float32Array;
        for (let p = 0; p < hw; p++) {
          const m = (up[p] - lo) / (hi - lo + 1e-8);
          for (let k = 0; k < img.c; k++) r[elementIndex(img, k, p)] *= m;
        }
      },
      (start, s) => {
        scores.set(s, start);
        done = start + s.length;
      },
      { phase: 'masking', partial: () => reluCam(a, weights(done), c, h, w) },
    );
    return { attributions: { [ctx.input]: reluCam(a, weights(c), c, h, w) }, layer };
  }
}
