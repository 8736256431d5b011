import { AttrLensError } from '../core/errors';

/** Where the pixels of an image tensor (batch 1) live: channel count, size and channel order. */
export interface ImageLayout {
  c: number;
  h: number;
  w: number;
  channelsLast: boolean;
}

/**
 * The image layout of input dims (with batch): (1, C, H, W), or (1, H, W, C) when the last
 * axis looks like colour channels (≤ 4) and the second like an image side (> 4); (1, H, W) is
 * one channel.
 */
export function imageLayout(dims: readonly number[], what: string, layout?: 'NCHW' | 'NHWC'): ImageLayout {
  if (dims.length === 4) {
    const nhwc = layout === 'NHWC' || (layout !== 'NCHW' && dims[3] <= 4 && dims[1] > 4);
    return nhwc ? { c: dims[3], h: dims[1], w: dims[2], channelsLast: true } : { c: dims[1], h: dims[2], w: dims[3], channelsLast: false };
  }
  if (dims.length === 3) return { c: 1, h: dims[1], w: dims[2], channelsLast: false };
  throw new AttrLensError(`${what} needs an image input (1, C, H, W), (1, H, W, C) or (1, H, W), but the input has shape [${dims}]`);
}

/** Flat index of channel `k` at pixel `p` (= y·W + x) within one sample. */
export function elementIndex(l: ImageLayout, k: number, p: number): number {
  return l.channelsLast ? p * l.c + k : k * l.h * l.w + p;
}

/** The per-pixel sum over channels of one sample, (H·W). */
export function channelSum(data: ArrayLike<number>, l: ImageLayout): Float64Array {
  const hw = l.h * l.w;
  const out = new Float64Array(hw);
  for (let k = 0; k < l.c; k++) for (let p = 0; p < hw; p++) out[p] += data[elementIndex(l, k, p)];
  return out;
}

/**
 * Bilinear resize of an h×w map to H×W. `alignCorners` true matches torch's
 * UpsamplingBilinear2d (corner pixels aligned); false matches F.interpolate / cv2.resize
 * (half-pixel centres).
 */
export function resizeBilinear(map: ArrayLike<number>, h: number, w: number, H: number, W: number, alignCorners = false): Float64Array {
  const out = new Float64Array(H * W);
  const src = (o: number, n: number, N: number) => (alignCorners ? (N > 1 ? (o * (n - 1)) / (N - 1) : 0) : Math.max(0, ((o + 0.5) * n) / N - 0.5));
  for (let y = 0; y < H; y++) {
    const fy = src(y, h, H);
    const y0 = Math.min(h - 1, Math.floor(fy));
    const y1 = Math.min(h - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = src(x, w, W);
      const x0 = Math.min(w - 1, Math.floor(fx));
      const x1 = Math.min(w - 1, x0 + 1);
      const wx = fx - x0;
      const top = map[y0 * w + x0] * (1 - wx) + map[y0 * w + x1] * wx;
      const bottom = map[y1 * w + x0] * (1 - wx) + map[y1 * w + x1] * wx;
      out[y * W + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}
