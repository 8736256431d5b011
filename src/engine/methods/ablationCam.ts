import { throwIfAborted } from '../core/errors';
import { Tensor, sizeOf } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, stackRows } from './base';
import { camLayer, requireSpatial, toSpatial } from './layers';
import { scoresFromLayer } from './cutForward';
import { baseScore, perturbationsPerEval } from './perturbation';
import { reluCam } from './scoreCam';
import { MethodInfo } from './types';

/**
 * Desai & Ramaswamy 2020, https://openaccess.thecvf.com/content_WACV_2020/html/Desai_Ablation-CAM_Visual_Explanations_for_Deep_Convolutional_Network_via_Gradient-free_Localization_WACV_2020_paper.html
 * (pytorch-grad-cam's AblationCAM): weight_c = (y − y with channel c of the layer zeroed) / y.
 * The graph is cut at the layer and the ablated activations are fed in its place, so only
 * the rest of the network runs per channel.
 */
export class AblationCam extends Method {
  readonly info: MethodInfo = {
    id: 'ablation-cam',
    captumName: 'AblationCAM',
    family: 'cam',
    description:
      'Zeroes each channel of the layer in turn; the relative drop of the target score, (y − y_c) / y, weighs the channel (ReLU of the weighted sum, layer resolution). Gradient-free; one run of the layers after it per channel.',
    needsGradients: false,
    layerShaped: true,
    params: [P.layer(), P.perturbationsPerEval()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const layer = await camLayer(ctx);
    const raw = (await ctx.lm.intermediates(ctx.feeds, [layer]))[layer];
    const act = requireSpatial(toSpatial(raw), layer, 'ablation-cam');
    const [, c, h, w] = act.dims;
    const a = act.data as Float32Array;
    const src = raw.data as Float32Array;
    const per = sizeOf(raw.dims.slice(1));
    // channels sit on axis 1 of (N, C, H, W) and on the last axis of ViT tokens (N, T, C)
    const tokens = raw.dims.length === 3;
    const channelOf = (i: number) => (tokens ? i % c : Math.floor(i / (per / c)));
    const members: Int32Array[] = Array.from({ length: c }, () => new Int32Array(per / c));
    const fill = new Int32Array(c);
    for (let i = 0; i < per; i++) {
      const ch = channelOf(i);
      members[ch][fill[ch]++] = i;
    }

    const y = await baseScore(ctx);
    const perEval = perturbationsPerEval(ctx);
    const weights = new Float64Array(c);
    // pytorch-grad-cam divides by y as it is; a zero score would give infinite weights
    const denom = y !== 0 ? y : 1;
    for (let start = 0; start < c; start += perEval) {
      throwIfAborted(ctx.signal);
      const n = Math.min(perEval, c - start);
      const rows = stackRows(raw.dims, n, (k, row) => {
        row.set(src);
        for (const i of members[start + k]) row[i] = 0;
      });
      const scores = await scoresFromLayer(ctx, layer, rows, perEval);
      for (let k = 0; k < n; k++) weights[start + k] = (y - scores[k]) / denom;
      const partial: Tensor = reluCam(a, weights, c, h, w);
      ctx.progress({ done: start + n, total: c, phase: 'ablating channels', partial });
    }
    return { attributions: { [ctx.input]: reluCam(a, weights, c, h, w) }, layer };
  }
}
