// How alike two attribution maps are, as Adebayo et al. (2018, https://arxiv.org/abs/1810.03292)
// measure it: Spearman rank correlation (of absolute values and of signed values) and SSIM.
import { AttrLensError } from '../core/errors';
import { Tensor } from '../core/tensor';

/** A 2-D map (h × w, row-major) reduced from an attribution tensor. */
export interface Map2D {
  h: number;
  w: number;
  /** channel sum of the signed values */
  signed: Float64Array;
  /** channel sum of the absolute values (the magnitude at each position) */
  abs: Float64Array;
}

/**
 * Reduces an attribution to one value per position: (1,C,H,W) and (C,H,W) sum over C, (1,H,W,C)
 * with `channelsLast` over the last axis, (1,T,E) over E, (1,N) and (N) stay as they are.
 */
export function toMap2D(t: Tensor, channelsLast = false): Map2D {
  const d = t.dims[0] === 1 && t.dims.length > 2 ? t.dims.slice(1) : t.dims.length === 2 && t.dims[0] === 1 ? [t.dims[1]] : t.dims;
  const data = t.data as Float32Array;
  let c: number, h: number, w: number, last = false;
  if (d.length === 3 && channelsLast) [h, w, c, last] = [d[0], d[1], d[2], true];
  else if (d.length === 3) [c, h, w] = [d[0], d[1], d[2]];
  else if (d.length === 2) [h, w, c, last] = [1, d[0], d[1], true];
  else if (d.length === 1) [c, h, w] = [1, 1, d[0]];
  else throw new AttrLensError(`a sanity check compares maps of shape (C,H,W), (H,W,C), (T,E) or (N); this attribution has shape [${t.dims.join(', ')}]`);
  const plane = h * w;
  const signed = new Float64Array(plane);
  const abs = new Float64Array(plane);
  for (let p = 0; p < plane; p++) {
    for (let k = 0; k < c; k++) {
      const v = data[last ? p * c + k : k * plane + p];
      signed[p] += v;
      abs[p] += Math.abs(v);
    }
  }
  return { h, w, signed, abs };
}

/** Ranks 1..n, ties given the average of the ranks they span. */
export function ranks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

/**
 * Spearman's rank correlation: Pearson's correlation of the (tie-averaged) ranks. Null when `a`
 * (the original map) is constant, where no ranking exists to compare; 0 when only `b` is constant
 * (a flat map keeps none of the original's ranking).
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  if (a.length !== b.length) throw new AttrLensError(`cannot compare maps of ${a.length} and ${b.length} values`);
  const ra = ranks(a), rb = ranks(b);
  const n = a.length;
  const mean = (n + 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = ra[i] - mean, y = rb[i] - mean;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  if (saa === 0) return null;
  if (sbb === 0) return 0;
  return sab / Math.sqrt(saa * sbb);
}

/** Min-max scaling to [0, 1]; a constant map becomes all zeros. */
export function normalize01(x: ArrayLike<number>): Float64Array {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    lo = Math.min(lo, x[i]);
    hi = Math.max(hi, x[i]);
  }
  const out = new Float64Array(x.length);
  if (!(hi > lo)) return out;
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - lo) / (hi - lo);
  return out;
}

/** The SSIM window: 7 × 7 (smaller maps: their own size), as scikit-image's default. */
export const SSIM_WINDOW = 7;
const K1 = 0.01, K2 = 0.03;

/**
 * Mean SSIM (Wang et al. 2004) of two h × w maps already in [0, 1] (data range 1): a uniform
 * window of SSIM_WINDOW × SSIM_WINDOW (clipped to the map) slid one step at a time over every
 * position where it fits whole, sample (n − 1) variances and covariance, C1 = (0.01)²,
 * C2 = (0.03)² — scikit-image's `structural_similarity` defaults, which the paper used.
 */
export function ssim(x: ArrayLike<number>, y: ArrayLike<number>, h: number, w: number): number {
  if (x.length !== h * w || y.length !== h * w) throw new AttrLensError(`cannot compare maps of ${x.length} and ${y.length} values as ${h}×${w}`);
  const wh = Math.min(SSIM_WINDOW, h), ww = Math.min(SSIM_WINDOW, w);
  const n = wh * ww;
  const cov = n > 1 ? n / (n - 1) : 1;
  const c1 = K1 * K1, c2 = K2 * K2;
  let total = 0, count = 0;
  for (let i = 0; i + wh <= h; i++) {
    for (let j = 0; j + ww <= w; j++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let a = i; a < i + wh; a++) {
        for (let b = j; b < j + ww; b++) {
          const u = x[a * w + b], v = y[a * w + b];
          sx += u;
          sy += v;
          sxx += u * u;
          syy += v * v;
          sxy += u * v;
        }
      }
      const mx = sx / n, my = sy / n;
      const vx = cov * (sxx / n - mx * mx), vy = cov * (syy / n - my * my), vxy = cov * (sxy / n - mx * my);
      total += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      count++;
    }
  }
  return total / count;
}

/** The paper's three numbers for an original map and a map of the randomised model. */
export function compareMaps(original: Map2D, other: Map2D): { spearmanAbs: number | null; spearman: number | null; ssim: number } {
  if (original.h !== other.h || original.w !== other.w) throw new AttrLensError(`the randomised model's map is ${other.h}×${other.w}, the original's ${original.h}×${original.w}: they cannot be compared`);
  return {
    spearmanAbs: spearman(original.abs, other.abs),
    spearman: spearman(original.signed, other.signed),
    ssim: ssim(normalize01(original.abs), normalize01(other.abs), original.h, original.w),
  };
}
