import { AttrLensError } from '../core/errors';
import { Tensor, asFloat32 } from '../core/tensor';
import { pixelMap } from './common';

export interface PointingResult {
  hit: boolean;
  /** the pixel (x, y) of the map's maximum, in input coordinates */
  point: { x: number; y: number };
}

/**
 * Zhang et al. 2016, https://arxiv.org/abs/1608.00507: a hit when the maximum of the
 * channel-summed attribution (maps resized to the input) lies inside the ground-truth mask,
 * or within `tolerance` pixels of it (the paper uses 15 at ImageNet size; default 0).
 * `mask` is H×W with non-zero = object, as a Tensor of dims [H, W] / [1, 1, H, W] or flat values.
 */
export function pointingGame(
  attribution: Tensor,
  mask: Tensor | ArrayLike<number | boolean>,
  opts: { inputDims?: readonly number[]; layout?: 'NCHW' | 'NHWC'; tolerance?: number } = {},
): PointingResult {
  const { map, image } = pixelMap(attribution, opts.inputDims ?? inputDimsFor(attribution, mask), opts.layout);
  const m = 'dims' in mask && 'data' in mask ? asFloat32(mask as Tensor) : Array.from(mask as ArrayLike<number | boolean>, Number);
  if (m.length !== image.h * image.w) throw new AttrLensError(`pointing game: the mask has ${m.length} pixels but the input is ${image.h}×${image.w}`);
  let best = 0;
  for (let p = 1; p < map.length; p++) if (map[p] > map[best]) best = p;
  const bx = best % image.w, by = Math.floor(best / image.w);
  const tol = opts.tolerance ?? 0;
  let hit = false;
  for (let y = Math.max(0, by - tol); y <= Math.min(image.h - 1, by + tol) && !hit; y++)
    for (let x = Math.max(0, bx - tol); x <= Math.min(image.w - 1, bx + tol); x++)
      if ((x - bx) ** 2 + (y - by) ** 2 <= tol * tol && m[y * image.w + x]) {
        hit = true;
        break;
      }
  return { hit, point: { x: bx, y: by } };
}

/** Without the input's dims: the attribution's own (input-shaped) dims when they match the mask, else a map at the mask's size. */
function inputDimsFor(attr: Tensor, mask: Tensor | ArrayLike<number | boolean>): readonly number[] {
  if (!('dims' in mask && 'data' in mask) || (mask as Tensor).dims.length < 2) return attr.dims;
  const md = (mask as Tensor).dims;
  const [H, W] = md.slice(-2);
  const d = attr.dims;
  if (d.length === 4 && ((d[2] === H && d[3] === W) || (d[1] === H && d[2] === W))) return d;
  return [1, 1, H, W];
}
