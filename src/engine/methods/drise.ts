import { AttrLensError } from '../core/errors';
import { Tensor } from '../core/tensor';
import { boxDetails, decodeRow, detectionRows } from '../targets/box';
import { Candidate, iou } from '../targets/detections';
import { Method, MethodContext, MethodOutput } from './base';
import { maskParams, maskedSaliency } from './rise';
import { MethodInfo } from './types';

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * D-RISE's similarity of a detection to the target box: IoU × cosine of the class-probability
 * vectors × objectness. Heads without objectness (YOLOv8) use the detection's confidence (its
 * best class score) in its place, and post-NMS outputs, which give no probability vector, a
 * one-hot one (the cosine is 1 for the same class, else 0).
 */
export function similarity(target: Candidate, targetProbs: Float32Array | undefined, d: Candidate): number {
  const overlap = iou(target.box, d.box);
  if (overlap <= 0) return 0;
  const cos = targetProbs && d.probs ? cosine(targetProbs, d.probs) : d.class === target.class ? 1 : 0;
  return overlap * cos * (d.objectness ?? d.score);
}

/**
 * Petsiuk et al. 2021, https://arxiv.org/abs/2006.03204: D-RISE explains one detection. The
 * input is shown through random smooth masks (as RISE); each masked input's detections are
 * compared with the target box (IoU × cosine of class probabilities × objectness) and the
 * largest similarity weighs its mask: Σ_i w_i · M_i / (N · probability).
 */
export class DRise extends Method {
  readonly info: MethodInfo = {
    id: 'd-rise',
    captumName: 'D-RISE',
    family: 'perturbation',
    description:
      "Detector randomised input sampling (for box:K targets): random smooth masks weighted by how well the masked input's detections still match box K (IoU × cosine of class probabilities × objectness, best match). One (1, 1, H, W) map; one model run per mask.",
    needsGradients: false,
    layerShaped: true,
    params: maskParams({ nMasks: 1000, masksNote: 'the paper uses 5000', gridSize: 16, gridNote: 'the paper uses 16' }),
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const box = boxDetails(ctx.spec);
    if (!box) {
      throw new AttrLensError(`d-rise explains one detection of a detector: give --target box:K on a detection output (output '${ctx.output}' is explained ${ctx.spec ? `with a ${ctx.spec.kind} target` : 'as a class index'}); for other outputs use rise`);
    }
    // a masked input's weight: its best detection's similarity to box K (every candidate of a raw head)
    const weigh = (outs: Record<string, Tensor>): Float64Array => {
      const rows = detectionRows(box.setup, outs);
      const w = new Float64Array(rows);
      for (let r = 0; r < rows; r++) for (const d of decodeRow(box.setup, outs, r, true)) w[r] = Math.max(w[r], similarity(box.detection, box.probs, d));
      return w;
    };
    return maskedSaliency(ctx, 'd-rise', { ...ctx, spec: { ...ctx.spec!, score: weigh } });
  }
}
