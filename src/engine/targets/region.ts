import { AttrLensError } from '../core/errors';
import { inferLayout } from '../inputs/preprocess';
import { asFloat32 } from '../core/tensor';
import { denseShape } from './outputs';
import { linearScore } from './reduce';
import { badTarget } from './registry';
import { TargetEnv, TargetItem, TargetKind } from './types';

export interface RegionArg {
  cls: number;
  /** [x0, y0, x1, y1] in input pixels, x1 and y1 exclusive */
  box?: [number, number, number, number];
}

interface Mask {
  /** 1 where the class is predicted, over one channel (H × W) */
  mask: Uint8Array;
  pixels: number;
}

/** A mask's run-length encoding (the shape src/shared/regionMask.ts decodes). */
export interface RegionMaskRle {
  width: number;
  height: number;
  /** alternating off/on run lengths over the row-major mask, starting with off */
  runs: number[];
  /** each cell covers factor × factor map cells (present when the mask was downsampled) */
  factor?: number;
}

/** At most this many runs a mask (as src/shared/regionMask.ts MAX_MASK_RUNS): larger masks are downsampled. */
export const MAX_MASK_RUNS = 8000;

function rle(mask: Uint8Array): number[] {
  const runs: number[] = [];
  let cur = 0, n = 0;
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i] ? 1 : 0;
    if (v === cur) n++;
    else {
      runs.push(n);
      cur = v;
      n = 1;
    }
  }
  runs.push(n);
  return runs;
}

/**
 * The mask (h × w, row-major) run-length encoded; when that takes more than MAX_MASK_RUNS runs,
 * downsampled by the smallest integer factor that fits (a cell is on when any cell it covers is).
 */
export function encodeMask(mask: Uint8Array, w: number, h: number): RegionMaskRle {
  let runs = rle(mask);
  if (runs.length <= MAX_MASK_RUNS) return { width: w, height: h, runs };
  for (let f = 2; ; f++) {
    const sw = Math.ceil(w / f), sh = Math.ceil(h / f);
    const small = new Uint8Array(sw * sh);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (mask[y * w + x]) small[Math.floor(y / f) * sw + Math.floor(x / f)] = 1;
    runs = rle(small);
    if (runs.length <= MAX_MASK_RUNS || (sw === 1 && sh === 1)) return { width: sw, height: sh, runs, factor: f };
  }
}

/** Input [height, width] of an image-shaped input, else the map's own size. */
function inputSize(env: TargetEnv, h: number, w: number): [number, number] {
  const d = env.inputDims;
  if (d.length !== 4) return [h, w];
  return inferLayout(d) === 'NHWC' ? [d[1], d[2]] : [d[2], d[3]];
}

/** The value above which a one-channel map's pixel is in the region: the setting, else 0.5 (0 for a logit map). */
export function regionThreshold(env: TargetEnv): number {
  if (env.kind.settings.threshold !== undefined) return env.kind.settings.threshold;
  const act = env.kind.activation;
  if (act === 'sigmoid' || act === 'softmax') return 0.5;
  if (act === 'logsoftmax') return Math.log(0.5);
  const o = asFloat32(env.clean[env.output]);
  for (let i = 0; i < o.length; i++) if (o[i] < 0 || o[i] > 1) return 0;
  return 0.5;
}

/** Where class `cls` is predicted in the clean output: argmax over channels, or above the threshold for one channel. */
function classMask(env: TargetEnv, cls: number): Mask {
  const [c, h, w] = denseShape(env.kind.dims);
  const o = asFloat32(env.clean[env.output]);
  const hw = h * w;
  const mask = new Uint8Array(hw);
  let pixels = 0;
  if (c === 1) {
    const t = regionThreshold(env);
    for (let i = 0; i < hw; i++) {
      if (o[i] <= t) continue;
      mask[i] = 1;
      pixels++;
    }
  } else {
    for (let i = 0; i < hw; i++) {
      let best = 0;
      for (let k = 1; k < c; k++) if (o[k * hw + i] > o[best * hw + i]) best = k;
      if (best !== cls) continue;
      mask[i] = 1;
      pixels++;
    }
  }
  return { mask, pixels };
}

/** Output-map cells [x0, y0, x1, y1) covering a box in input pixels. */
function boxCells(env: TargetEnv, box: [number, number, number, number]): [number, number, number, number] {
  const [, h, w] = denseShape(env.kind.dims);
  const [ih, iw] = inputSize(env, h, w);
  const sx = w / iw, sy = h / ih;
  const clamp = (v: number, hi: number) => Math.max(0, Math.min(hi, v));
  return [clamp(Math.floor(box[0] * sx), w), clamp(Math.floor(box[1] * sy), h), clamp(Math.ceil(box[2] * sx), w), clamp(Math.ceil(box[3] * sy), h)];
}

/** The bounding box of a mask in input pixels [x0, y0, x1, y1), scaled up from the map. */
function maskBox(env: TargetEnv, mask: Uint8Array): [number, number, number, number] {
  const [, h, w] = denseShape(env.kind.dims);
  const [ih, iw] = inputSize(env, h, w);
  let x0 = w, y0 = h, x1 = 0, y1 = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x + 1);
      y1 = Math.max(y1, y + 1);
    }
  }
  return [Math.floor((x0 * iw) / w), Math.floor((y0 * ih) / h), Math.ceil((x1 * iw) / w), Math.ceil((y1 * ih) / h)];
}

function classes(env: TargetEnv): number {
  return denseShape(env.kind.dims)[0];
}

/**
 * `region:CLASS[@x0,y0,x1,y1]`: the sum of the class's output over the pixels where it is
 * predicted in the clean output (pytorch-grad-cam's SemanticSegmentationTarget: the mask is
 * fixed, the values vary), restricted to a box given in input pixels.
 */
export const regionKind: TargetKind<RegionArg> = {
  name: 'region',
  syntax: 'region:CLASS[@x0,y0,x1,y1]',
  listKey: 'regions',
  fits: (k) => k.kind === 'dense',
  parse(arg, env) {
    const m = /^([^@]+?)\s*(?:@\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?))?$/.exec(arg);
    if (!m) badTarget(env, `malformed target 'region:${arg}': write region:CLASS or region:CLASS@x0,y0,x1,y1 (input pixels)`);
    const c = classes(env);
    let cls: number;
    if (/^\d+$/.test(m[1])) cls = Number(m[1]);
    else {
      cls = env.labels?.findIndex((l) => l.toLowerCase() === m[1].toLowerCase()) ?? -1;
      if (cls < 0) badTarget(env, `'${m[1]}' in 'region:${arg}' is not a class index${env.labels ? ' or a label' : ''} of the map`);
    }
    if (cls >= c) badTarget(env, `region class ${cls} is outside the map's ${c} class${c > 1 ? 'es' : ''} (0..${c - 1})`);
    if (m[2] === undefined) return { cls };
    const box = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
    if (!(box[2] > box[0] && box[3] > box[1])) badTarget(env, `the box in 'region:${arg}' is empty: write @x0,y0,x1,y1 with x1 > x0 and y1 > y0`);
    return { cls, box };
  },
  list(env) {
    const out: TargetItem[] = [];
    for (let cls = 0; cls < classes(env); cls++) {
      const { mask, pixels } = classMask(env, cls);
      if (!pixels) continue;
      out.push({ target: `region:${cls}`, class: cls, ...(env.labels?.[cls] !== undefined ? { label: env.labels[cls] } : {}), pixels, box: maskBox(env, mask), mask: encodeMask(mask, denseShape(env.kind.dims)[2], denseShape(env.kind.dims)[1]) });
    }
    return out;
  },
  summary(env) {
    const items = this.list!(env);
    return `regions: ${items.length ? items.map((r) => `${r.class}${r.label !== undefined ? ` ${r.label}` : ''} (${r.pixels} px)`).join(', ') : 'none (no class is predicted anywhere)'}`;
  },
  resolve({ cls, box }, env) {
    const [, h, w] = denseShape(env.kind.dims);
    const { mask, pixels } = classMask(env, cls);
    const label = env.labels?.[cls];
    const name = `class ${cls}${label !== undefined ? ` (${label})` : ''}`;
    if (!pixels) badTarget(env, `region ${name} has no pixels: it is predicted nowhere in this output`);
    let cells: [number, number, number, number] | undefined;
    if (box) {
      cells = boxCells(env, box);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (x < cells[0] || x >= cells[2] || y < cells[1] || y >= cells[3]) mask[y * w + x] = 0;
    }
    let kept = 0;
    const weights = new Float32Array(classes(env) * h * w);
    const off = classes(env) === 1 ? 0 : cls * h * w;
    for (let i = 0; i < h * w; i++) {
      if (!mask[i]) continue;
      weights[off + i] = 1;
      kept++;
    }
    if (!kept) badTarget(env, `region ${name} has no pixels inside [${box}] (its pixels lie in [${maskBox(env, classMask(env, cls).mask)}])`);
    if (env.kind.dims.length !== 4 && env.kind.dims.length !== 3) throw new AttrLensError(`region targets need a dense map, not shape [${env.kind.dims}]`);
    return {
      kind: 'region',
      text: `region:${cls}${box ? `@${box.join(',')}` : ''}`,
      index: cls,
      label,
      output: env.output,
      weights,
      score: (outs) => linearScore(outs[env.output], weights),
      info: { pixels: kept, box: maskBox(env, mask), ...(cells ? { cells } : {}) },
    };
  },
};
