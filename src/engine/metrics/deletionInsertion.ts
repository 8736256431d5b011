import { AttrLensError } from '../core/errors';
import { LoadedModel } from '../model/loadedModel';
import { elementIndex } from '../methods/spatial';
import { Tensor, asFloat32 } from '../core/tensor';
import { MetricTarget, pixelMap, resolveIO, rowsFrom, targetOf } from './common';

export interface DeletionInsertionOptions extends MetricTarget {
  /** curve points after the start: the k-th removes/adds round(k/steps · pixels) pixels */
  steps?: number;
  /** what deleted pixels become and what insertion starts from: a number or a Gaussian blur of the input */
  baseline?: number | 'blur';
  /** 'probability' (softmax, as in the RISE paper) or the raw 'logit' */
  score?: 'probability' | 'logit';
  layout?: 'NCHW' | 'NHWC';
}

export interface Curve {
  /** fraction of pixels deleted / inserted, 0..1 */
  fractions: number[];
  scores: number[];
  /** trapezoid area under the curve over the fraction 0..1 */
  auc: number;
}

export interface DeletionInsertionResult {
  /** lower is better: the target falls fast when the top pixels go */
  deletion: Curve;
  /** higher is better: the target rises fast when the top pixels come */
  insertion: Curve;
}

export function trapezoid(xs: readonly number[], ys: readonly number[]): number {
  let a = 0;
  for (let i = 1; i < xs.length; i++) a += ((xs[i] - xs[i - 1]) * (ys[i] + ys[i - 1])) / 2;
  return a;
}

/** Separable Gaussian blur per channel (RISE's insertion baseline: kernel 11, sigma 5; edges clamped). */
export function gaussianBlur(x: Float32Array, c: number, h: number, w: number, at: (k: number, p: number) => number, size = 11, sigma = 5): Float32Array {
  const half = Math.floor(size / 2);
  const k = Array.from({ length: size }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  const out = new Float32Array(x.length);
  const tmp = new Float64Array(h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let acc = 0;
        for (let i = 0; i < size; i++) acc += k[i] * x[at(ch, y * w + Math.min(w - 1, Math.max(0, xx + i - half)))];
        tmp[y * w + xx] = acc / ks;
      }
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let acc = 0;
        for (let i = 0; i < size; i++) acc += k[i] * tmp[Math.min(h - 1, Math.max(0, y + i - half)) * w + xx];
        out[at(ch, y * w + xx)] = acc / ks;
      }
  }
  return out;
}

/**
 * Petsiuk et al. 2018, https://arxiv.org/abs/1806.07421: the causal deletion and insertion
 * curves. Pixels are ranked by the channel-summed attribution (maps smaller than the input
 * are resized to it); deletion sets the top pixels to the baseline, insertion copies them
 * from the input onto the baseline.
 */
export async function deletionInsertion(lm: LoadedModel, feeds: Record<string, Tensor>, attribution: Tensor, o: DeletionInsertionOptions): Promise<DeletionInsertionResult> {
  const io = resolveIO(lm, feeds, o, 'deletion/insertion');
  const steps = o.steps ?? 20;
  if (!Number.isInteger(steps) || steps < 1) throw new AttrLensError(`deletion/insertion: steps must be a whole number ≥ 1, got ${steps}`);
  const { map, image } = pixelMap(attribution, io.x.dims, o.layout);
  const hw = image.h * image.w;
  // most attributed first; ties keep pixel order so the ranking is deterministic
  const order = Int32Array.from({ length: hw }, (_, i) => i).sort((a, b) => map[b] - map[a] || a - b);
  const x = asFloat32(io.x);
  const at = (k: number, p: number) => elementIndex(image, k, p);
  const b = o.baseline ?? 0;
  const base = b === 'blur' ? gaussianBlur(x, image.c, image.h, image.w, at) : new Float32Array(x.length).fill(b);
  const counts = Array.from({ length: steps + 1 }, (_, k) => Math.round((k / steps) * hw));
  const fractions = counts.map((n) => n / hw);
  const build = (from: Float32Array, to: Float32Array) =>
    rowsFrom(io.x, steps + 1, (k, row) => {
      row.set(from);
      for (let r = 0; r < counts[k]; r++) for (let ch = 0; ch < image.c; ch++) row[at(ch, order[r])] = to[at(ch, order[r])];
    });
  const prob = (o.score ?? 'probability') === 'probability';
  const del = Array.from(await targetOf(lm, feeds, io, build(x, base), o, prob));
  const ins = Array.from(await targetOf(lm, feeds, io, build(base, x), o, prob));
  return {
    deletion: { fractions, scores: del, auc: trapezoid(fractions, del) },
    insertion: { fractions, scores: ins, auc: trapezoid(fractions, ins) },
  };
}
