import { AttrLensError } from '../core/errors';
import { Tensor } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, baselineOf, inputTensor, rngOf } from './base';
import { evalPerturbed } from './perturbation';
import { probabilityModel } from './probability';
import { Rng } from './rng';
import { elementIndex, imageLayout, resizeBilinear } from './spatial';
import { MethodInfo, ParamSpec } from './types';

/** The random parts of one RISE mask: the coarse grid and the shift. */
export interface MaskDraw {
  grid: Float64Array;
  dy: number;
  dx: number;
}

export function drawMask(rng: Rng, gridSize: number, probability: number, H: number, W: number): MaskDraw {
  const grid = new Float64Array(gridSize * gridSize);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.next() < probability ? 1 : 0;
  return { grid, dy: rng.int(Math.ceil(H / gridSize)), dx: rng.int(Math.ceil(W / gridSize)) };
}

/**
 * One RISE mask for an H×W image: the gridSize² grid of kept cells upsampled bilinearly to
 * (gridSize + 1)·cell and cropped at the drawn shift (less than one cell).
 */
export function riseMask(d: MaskDraw, gridSize: number, H: number, W: number): Float32Array {
  const UH = (gridSize + 1) * Math.ceil(H / gridSize);
  const UW = (gridSize + 1) * Math.ceil(W / gridSize);
  const up = resizeBilinear(d.grid, gridSize, gridSize, UH, UW, false);
  const out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[y * W + x] = up[(y + d.dy) * UW + x + d.dx];
  return out;
}

/**
 * Petsiuk et al. 2018, https://arxiv.org/abs/1806.07421: the input is shown through many
 * random smooth masks and the saliency of a pixel is the mask-weighted average of the
 * target's probability: Σ_i p_i · M_i / (N · probability).
 */
export class Rise extends Method {
  readonly info: MethodInfo = {
    id: 'rise',
    captumName: 'RISE',
    family: 'perturbation',
    description:
      "Randomised input sampling: the target's softmax probability on the input seen through random smooth masks, averaged with the masks as weights. One (1, 1, H, W) map; one model run per mask.",
    needsGradients: false,
    layerShaped: true,
    params: maskParams({ nMasks: 500, masksNote: 'the paper uses 4000 for ImageNet models', gridSize: 7 }),
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    // a structured target (region, step, box) scores its own reduction of the raw outputs
    return maskedSaliency(ctx, 'rise', ctx.spec ? ctx : { ...ctx, lm: probabilityModel(ctx.lm, ctx.output) });
  }
}

/** The parameters of masked-saliency methods (RISE, D-RISE): their masks, baseline, batching and seed. */
export function maskParams(d: { nMasks: number; masksNote: string; gridSize: number; gridNote?: string }): ParamSpec[] {
  return [
    { name: 'nMasks', kind: 'int', default: d.nMasks, min: 1, max: 100000, description: `number of random masks (${d.masksNote})` },
    { name: 'gridSize', kind: 'int', default: d.gridSize, min: 1, max: 256, description: `cells per side of the coarse random grid${d.gridNote ? ` (${d.gridNote})` : ''}` },
    { name: 'probability', kind: 'number', default: 0.5, min: 1e-6, max: 1, description: 'probability that a grid cell is kept' },
    P.baselines(0),
    P.perturbationsPerEval(),
    P.seed(),
  ];
}

/**
 * RISE's estimate (Petsiuk et al. 2018): n random smooth masks, each masked input scored by
 * `scoring`'s target, the masks summed with their scores as weights and divided by n·p. D-RISE
 * shares it, scoring a masked input by its detections' similarity to box K.
 */
export async function maskedSaliency(ctx: MethodContext, method: string, scoring: MethodContext): Promise<MethodOutput> {
  const x = inputTensor(ctx);
  if (x.dtype !== 'float32') throw new AttrLensError(`${method} masks pixels, but input '${ctx.input}' is ${x.dtype}: use it on float image inputs`);
  const img = imageLayout(x.dims, method);
  const n = ctx.params.nMasks as number;
  const s = ctx.params.gridSize as number;
  const p = ctx.params.probability as number;
  if (s > Math.min(img.h, img.w)) throw new AttrLensError(`${method}: gridSize ${s} is larger than the image (${img.h}×${img.w}); use a smaller grid`);
  const base = baselineOf(ctx);
  const rng = rngOf(ctx);
  const hw = img.h * img.w;
  // every mask is drawn first (the result does not depend on perturbationsPerEval) and built when needed
  const draws = Array.from({ length: n }, () => drawMask(rng, s, p, img.h, img.w));
  const built = new Map<number, Float32Array>();
  const maskOf = (i: number) => {
    let m = built.get(i);
    if (!m) built.set(i, (m = riseMask(draws[i], s, img.h, img.w)));
    return m;
  };
  const sal = new Float64Array(hw);
  let done = 0;
  const toMap = (count: number): Tensor => {
    const out = new Float32Array(hw);
    const scale = count > 0 ? 1 / (count * p) : 0;
    for (let q = 0; q < hw; q++) out[q] = sal[q] * scale;
    return { dtype: 'float32', dims: [1, 1, img.h, img.w], data: out };
  };
  await evalPerturbed(
    scoring,
    n,
    (i, row) => {
      const m = maskOf(i);
      const r = row as Float32Array;
      for (let q = 0; q < hw; q++)
        for (let k = 0; k < img.c; k++) {
          const e = elementIndex(img, k, q);
          r[e] = m[q] * r[e] + (1 - m[q]) * base[e];
        }
    },
    (start, scores) => {
      for (let j = 0; j < scores.length; j++) {
        const m = maskOf(start + j);
        for (let q = 0; q < hw; q++) sal[q] += scores[j] * m[q];
        built.delete(start + j);
      }
      done = start + scores.length;
    },
    { phase: 'masking', partial: () => toMap(done) },
  );
  return { attributions: { [ctx.input]: toMap(n) } };
}
