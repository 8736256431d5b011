// Captum's `visualize_image_attr` (captum/attr/_utils/visualization.py) in plain TypeScript, for
// Node and the browser: channel sum, Captum's cumulative-sum outlier threshold, sign handling,
// and the five views, rendered into RGBA bytes instead of a matplotlib figure.
import { colormapFor, getColormap, lutIndex, type Colormap } from './colormaps';
import type { ColormapName, ViewSettings, VisualizeMethod, VisualizeSign } from './protocol';

export type { ColormapName, VisualizeMethod, VisualizeSign };

export const VISUALIZE_METHODS: readonly VisualizeMethod[] = ['heat_map', 'blended_heat_map', 'masked_image', 'alpha_scaling', 'original_image'];
export const VISUALIZE_SIGNS: readonly VisualizeSign[] = ['absolute_value', 'positive', 'negative', 'all'];
export const COLORMAPS: readonly ColormapName[] = ['auto', 'viridis', 'inferno', 'jet', 'gray'];

/** The views a setting changes: the others draw the same whatever it is. */
export const VIEWS_USING = {
  colormap: ['heat_map', 'blended_heat_map'],
  alphaOverlay: ['blended_heat_map'],
  blendOver: ['blended_heat_map'],
  sign: ['heat_map', 'blended_heat_map', 'masked_image', 'alpha_scaling'],
  outlierPerc: ['heat_map', 'blended_heat_map', 'masked_image', 'alpha_scaling'],
} as const satisfies Record<string, readonly VisualizeMethod[]>;

/** Captum's defaults: blended heat map, absolute value, 2 % outliers, overlay 0.5. */
export const DEFAULT_VIEW: ViewSettings = {
  method: 'blended_heat_map',
  sign: 'absolute_value',
  outlierPerc: 2,
  alphaOverlay: 0.5,
  colormap: 'auto',
};

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row-major RGBA */
  data: Uint8Array | Uint8ClampedArray;
}

export interface VisualizeOptions {
  method?: VisualizeMethod;
  sign?: VisualizeSign;
  outlierPerc?: number;
  alphaOverlay?: number;
  colormap?: ColormapName;
  /** use this scale factor instead of computing one (a shared scale across several maps) */
  threshold?: number;
  /** how a map smaller than the image is enlarged (GradCAM maps); default bilinear */
  upsample?: 'bilinear' | 'nearest';
  /** channel layout of 4-D maps; `auto` detects (1,H,W,C) when it matches the image */
  layout?: 'auto' | 'nchw' | 'nhwc';
  /** what blended_heat_map blends over: Captum's greyscale (default) or the colour image */
  blendOver?: 'grayscale' | 'color';
}

export interface Visualization {
  width: number;
  height: number;
  rgba: Uint8ClampedArray<ArrayBuffer>;
  /**
   * Captum's scale factor: the raw (channel-summed) value that saturates the colour scale.
   * Negative for sign `negative`, as in Captum. 0 when the map is all zero.
   */
  threshold: number;
  /** raw range of the channel-summed map at image size */
  min: number;
  max: number;
  /** the channel-summed map at image size (what the colours are made from), row-major */
  map: Float32Array;
  /** the map after Captum's normalisation: [-1, 1] for `all`, else [0, 1] */
  normalized: Float32Array;
  /** colormap used (heat map views) */
  colormap?: string;
  vmin: number;
  vmax: number;
}

export class VisualizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VisualizeError';
  }
}

/** Resizes an h×w map to H×W. Bilinear uses half-pixel centres (PyTorch align_corners=False, cv2). */
export function resizeMap(map: Float32Array, h: number, w: number, H: number, W: number, mode: 'bilinear' | 'nearest' = 'bilinear'): Float32Array {
  if (h === H && w === W) return map.slice();
  const out = new Float32Array(H * W);
  if (mode === 'nearest') {
    // PyTorch's 'nearest': src = floor(dst * in / out)
    for (let y = 0; y < H; y++) {
      const sy = Math.min(h - 1, Math.floor((y * h) / H));
      for (let x = 0; x < W; x++) out[y * W + x] = map[sy * w + Math.min(w - 1, Math.floor((x * w) / W))];
    }
    return out;
  }
  const sx = w / W;
  const sy = h / H;
  for (let y = 0; y < H; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(h - 1, Math.floor(fy));
    const y1 = Math.min(h - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
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

/**
 * Sums the channels of an attribution and brings it to the image size.
 * Accepts (N,C,h,w) (first item), (C,h,w), (h,w), and (1,H,W,C) for channels-last models.
 */
export function reduceToMap(
  attr: ArrayLike<number>,
  dims: readonly number[],
  width: number,
  height: number,
  opts: Pick<VisualizeOptions, 'upsample' | 'layout'> = {},
): Float32Array {
  let n = 1;
  for (const d of dims) n *= d;
  if (n !== attr.length) throw new VisualizeError(`attribution has ${attr.length} values but dims [${dims.join(', ')}] need ${n}`);
  let c: number, h: number, w: number, channelsLast = false;
  if (dims.length === 4) {
    const nhwc = opts.layout === 'nhwc' ||
      (opts.layout !== 'nchw' && dims[1] === height && dims[2] === width && dims[3] <= 4 && !(dims[2] === height && dims[3] === width));
    if (nhwc) [h, w, c, channelsLast] = [dims[1], dims[2], dims[3], true];
    else [c, h, w] = [dims[1], dims[2], dims[3]];
  } else if (dims.length === 3) [c, h, w] = [dims[0], dims[1], dims[2]];
  else if (dims.length === 2) [c, h, w] = [1, dims[0], dims[1]];
  else throw new VisualizeError(`cannot draw an attribution of shape [${dims.join(', ')}] as an image: expected (1,C,H,W), (C,H,W) or (H,W)`);
  if (h < 1 || w < 1 || c < 1) throw new VisualizeError(`cannot draw an empty attribution of shape [${dims.join(', ')}]`);

  const plane = h * w;
  const summed = new Float32Array(plane);
  if (channelsLast) {
    for (let p = 0; p < plane; p++) {
      let s = 0;
      for (let k = 0; k < c; k++) s += attr[p * c + k];
      summed[p] = s;
    }
  } else {
    for (let k = 0; k < c; k++) for (let p = 0; p < plane; p++) summed[p] += attr[k * plane + p];
  }
  return resizeMap(summed, h, w, height, width, opts.upsample ?? 'bilinear');
}

/** The raw values behind one image pixel: the map cell it comes from and that cell's channels. */
export interface PixelValues {
  /** the cell of the (possibly smaller) map the pixel falls in */
  cell: { x: number; y: number; width: number; height: number };
  /** the raw attribution of each channel at that cell (one entry for single-channel maps) */
  channels: number[];
}

/**
 * What the attribution holds at image pixel (x, y): the map cell under it (nearest, as the
 * pixel's centre falls) and the cell's per-channel raw values. Shapes as reduceToMap takes them.
 */
export function valuesAt(
  attr: ArrayLike<number>,
  dims: readonly number[],
  width: number,
  height: number,
  x: number,
  y: number,
  opts: Pick<VisualizeOptions, 'layout'> = {},
): PixelValues {
  let c: number, h: number, w: number, channelsLast = false;
  if (dims.length === 4) {
    const nhwc = opts.layout === 'nhwc' ||
      (opts.layout !== 'nchw' && dims[1] === height && dims[2] === width && dims[3] <= 4 && !(dims[2] === height && dims[3] === width));
    if (nhwc) [h, w, c, channelsLast] = [dims[1], dims[2], dims[3], true];
    else [c, h, w] = [dims[1], dims[2], dims[3]];
  } else if (dims.length === 3) [c, h, w] = [dims[0], dims[1], dims[2]];
  else if (dims.length === 2) [c, h, w] = [1, dims[0], dims[1]];
  else throw new VisualizeError(`cannot read an attribution of shape [${dims.join(', ')}] as an image`);
  const mx = Math.min(w - 1, Math.max(0, Math.floor(((x + 0.5) * w) / width)));
  const my = Math.min(h - 1, Math.max(0, Math.floor(((y + 0.5) * h) / height)));
  const p = my * w + mx;
  const channels: number[] = [];
  for (let k = 0; k < c; k++) channels.push(channelsLast ? attr[p * c + k] : attr[k * h * w + p]);
  return { cell: { x: mx, y: my, width: w, height: h }, channels };
}

/**
 * Captum's `_cumulative_sum_threshold`: sort the values, take the first one at which the running
 * sum reaches `percentile` % of the total.
 */
export function cumulativeSumThreshold(values: ArrayLike<number>, percentile: number): number {
  if (!(percentile >= 0 && percentile <= 100)) throw new VisualizeError(`percentile must be within [0, 100], got ${percentile}`);
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (let i = 0; i < sorted.length; i++) total += sorted[i];
  const goal = total * 0.01 * percentile;
  let cum = 0;
  for (let i = 0; i < sorted.length; i++) {
    cum += sorted[i];
    if (cum >= goal) return sorted[i];
  }
  return sorted[sorted.length - 1]; // rounding left the goal just above the total
}

/** The values Captum keeps for a sign: |v|, max(v, 0) or min(v, 0). */
export function signedValues(map: ArrayLike<number>, sign: VisualizeSign): Float32Array {
  const out = new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    out[i] = sign === 'positive' ? (v > 0 ? v : 0) : sign === 'negative' ? (v < 0 ? v : 0) : sign === 'absolute_value' ? Math.abs(v) : v;
  }
  return out;
}

/** Captum's scale factor for one map (or the concatenation of several, for a shared scale). */
export function signThreshold(maps: ArrayLike<number> | ArrayLike<number>[], sign: VisualizeSign, outlierPerc = 2): number {
  const list = isList(maps) ? maps : [maps];
  let n = 0;
  for (const m of list) n += m.length;
  const mags = new Float32Array(n);
  let o = 0;
  for (const m of list) for (let i = 0; i < m.length; i++) {
    const v = m[i];
    // all / absolute_value: |v|; positive: max(v,0); negative: |min(v,0)|
    mags[o++] = sign === 'positive' ? (v > 0 ? v : 0) : sign === 'negative' ? (v < 0 ? -v : 0) : Math.abs(v);
  }
  const t = cumulativeSumThreshold(mags, 100 - outlierPerc);
  return sign === 'negative' ? -t : t;
}

function isList(m: ArrayLike<number> | ArrayLike<number>[]): m is ArrayLike<number>[] {
  return Array.isArray(m) && (m.length === 0 || typeof m[0] !== 'number');
}

/** Captum's `_normalize_attr` on a channel-summed map: keep the sign's values, divide, clip. */
export function normalizeAttr(map: ArrayLike<number>, sign: VisualizeSign, outlierPerc = 2, threshold?: number): { normalized: Float32Array; threshold: number } {
  const t = threshold ?? signThreshold(map, sign, outlierPerc);
  const kept = signedValues(map, sign);
  const lo = sign === 'all' ? -1 : 0;
  for (let i = 0; i < kept.length; i++) {
    // Captum asserts on a zero scale; an all-zero map simply draws as zero here
    const v = t === 0 ? 0 : kept[i] / t;
    kept[i] = v <= lo ? lo : v > 1 ? 1 : v; // `<=` also turns -0 into 0
  }
  return { normalized: kept, threshold: t };
}

/** matplotlib's imshow(mean(image, axis=2), cmap='gray'): min-max stretched grey levels. */
export function grayscale(image: RgbaImage): Uint8Array {
  const n = image.width * image.height;
  const mean = new Float32Array(n);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const m = (image.data[i * 4] + image.data[i * 4 + 1] + image.data[i * 4 + 2]) / 3;
    mean[i] = m;
    if (m < lo) lo = m;
    if (m > hi) hi = m;
  }
  const out = new Uint8Array(n);
  const gray = getColormap('gray');
  for (let i = 0; i < n; i++) out[i] = hi > lo ? gray.lut[lutIndex(mean[i], lo, hi) * 3] : 0;
  return out;
}

/**
 * Captum's `visualize_image_attr`: returns the picture as RGBA bytes plus the scale used.
 * `attr` is the raw attribution with its dims; `image` the input as the model saw it.
 */
export function visualizeImageAttr(attr: ArrayLike<number>, dims: readonly number[], image: RgbaImage, options: VisualizeOptions = {}): Visualization {
  const method = options.method ?? DEFAULT_VIEW.method;
  const sign = options.sign ?? DEFAULT_VIEW.sign;
  const outlierPerc = options.outlierPerc ?? DEFAULT_VIEW.outlierPerc;
  const alpha = options.alphaOverlay ?? DEFAULT_VIEW.alphaOverlay;
  const { width, height } = image;
  if (image.data.length !== width * height * 4) throw new VisualizeError(`image has ${image.data.length} bytes, ${width}×${height} RGBA needs ${width * height * 4}`);
  if (!(outlierPerc >= 0 && outlierPerc <= 100)) throw new VisualizeError(`outlier percentage must be within [0, 100], got ${outlierPerc}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new VisualizeError(`overlay opacity must be within [0, 1], got ${alpha}`);
  if ((method === 'masked_image' || method === 'alpha_scaling') && sign === 'all') {
    throw new VisualizeError(`${method} cannot show positive and negative attributions together: pick sign positive, negative or absolute_value`);
  }

  const map = reduceToMap(attr, dims, width, height, options);
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < map.length; i++) {
    if (map[i] < min) min = map[i];
    if (map[i] > max) max = map[i];
  }
  const { normalized, threshold } = normalizeAttr(map, sign, outlierPerc, options.threshold);
  const vmin = sign === 'all' ? -1 : 0;
  const vmax = 1;
  const n = width * height;
  const src = image.data;
  const rgba = new Uint8ClampedArray(n * 4);
  let cm: Colormap | undefined;

  switch (method) {
    case 'original_image':
      for (let i = 0; i < n; i++) {
        rgba[i * 4] = src[i * 4]; rgba[i * 4 + 1] = src[i * 4 + 1]; rgba[i * 4 + 2] = src[i * 4 + 2]; rgba[i * 4 + 3] = 255;
      }
      break;
    case 'masked_image':
      // image * norm, truncated to integers like Captum's _prepare_image
      for (let i = 0; i < n; i++) {
        const a = normalized[i];
        for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.trunc(src[i * 4 + c] * a);
        rgba[i * 4 + 3] = 255;
      }
      break;
    case 'alpha_scaling':
      for (let i = 0; i < n; i++) {
        rgba[i * 4] = src[i * 4]; rgba[i * 4 + 1] = src[i * 4 + 1]; rgba[i * 4 + 2] = src[i * 4 + 2];
        rgba[i * 4 + 3] = Math.trunc(normalized[i] * 255);
      }
      break;
    case 'heat_map':
    case 'blended_heat_map': {
      cm = colormapFor(sign, options.colormap ?? 'auto');
      const lut = cm.lut;
      const blend = method === 'blended_heat_map';
      const gray = blend && options.blendOver !== 'color' ? grayscale(image) : undefined;
      for (let i = 0; i < n; i++) {
        const k = lutIndex(normalized[i], vmin, vmax) * 3;
        if (gray) {
          const g = gray[i] * (1 - alpha);
          for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round(lut[k + c] * alpha + g);
        } else if (blend) {
          for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round(lut[k + c] * alpha + src[i * 4 + c] * (1 - alpha));
        } else {
          rgba[i * 4] = lut[k]; rgba[i * 4 + 1] = lut[k + 1]; rgba[i * 4 + 2] = lut[k + 2];
        }
        rgba[i * 4 + 3] = 255;
      }
      break;
    }
    default:
      throw new VisualizeError(`unknown visualisation method "${String(method)}": use one of ${VISUALIZE_METHODS.join(', ')}`);
  }
  return { width, height, rgba, threshold, min, max, map, normalized, colormap: cm?.name, vmin, vmax };
}
