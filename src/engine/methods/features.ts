import { AttrLensError } from '../core/errors';
import { Tensor, asFloat32 } from '../core/tensor';
import { MethodContext, broadcastTo, inputTensor, tensorParam } from './base';
import { GRID_MASK } from './params';

function gridMask(text: string, dims: number[]): Int32Array {
  const [, r, c] = GRID_MASK.exec(text.trim())!.map(Number);
  if (dims.length !== 4 || r < 1 || c < 1) throw new AttrLensError(`featureMask '${text}' needs an image input (N, C, H, W) or (N, H, W, C) and at least 1 row and column; the input is [${dims}]`);
  const nhwc = dims[3] <= 4 && dims[1] > 4;
  const [ch, h, w] = nhwc ? [dims[3], dims[1], dims[2]] : [dims[1], dims[2], dims[3]];
  const mask = new Int32Array(dims.reduce((a, b) => a * b, 1));
  for (let n = 0; n < dims[0]; n++) {
    for (let k = 0; k < ch; k++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = nhwc ? ((n * h + y) * w + x) * ch + k : ((n * ch + k) * h + y) * w + x;
          mask[i] = Math.min(r - 1, Math.floor((y * r) / h)) * c + Math.min(c - 1, Math.floor((x * c) / w));
        }
      }
    }
  }
  return mask;
}

/** Feature groups from `featureMask` (broadcast to the input): element indices per feature id. */
export function featureGroups(ctx: MethodContext): { ids: number[]; members: Int32Array[]; mask: Int32Array } {
  const x = inputTensor(ctx);
  const grid = typeof ctx.params.featureMask === 'string' && GRID_MASK.test(ctx.params.featureMask.trim());
  const raw = grid ? undefined : tensorParam(ctx, 'featureMask', ctx.params.featureMask);
  let mask: Int32Array;
  if (grid) {
    mask = gridMask(ctx.params.featureMask as string, x.dims);
  } else if (raw === undefined) {
    mask = Int32Array.from({ length: x.data.length }, (_, i) => i);
  } else {
    const f = typeof raw === 'number' ? new Float32Array(x.data.length).fill(raw) : broadcastTo({ ...(raw as Tensor), data: asFloat32(raw as Tensor) }, x.dims, 'featureMask');
    mask = Int32Array.from(f);
    for (let i = 0; i < f.length; i++) if (!Number.isInteger(f[i])) throw new AttrLensError('featureMask must hold whole numbers (feature ids)');
  }
  const counts = new Map<number, number>();
  for (const v of mask) counts.set(v, (counts.get(v) ?? 0) + 1);
  const ids = [...counts.keys()].sort((a, b) => a - b);
  const pos = new Map(ids.map((id, k) => [id, k]));
  const members = ids.map((id) => new Int32Array(counts.get(id)!));
  const fillAt = new Int32Array(ids.length);
  for (let i = 0; i < mask.length; i++) {
    const k = pos.get(mask[i])!;
    members[k][fillAt[k]++] = i;
  }
  return { ids, members, mask };
}
