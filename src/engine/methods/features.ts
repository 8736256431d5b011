import { AttrLensError } from '../core/errors';
import { Tensor, asFloat32 } from '../core/tensor';
import { MethodContext, broadcastTo, inputTensor, tensorParam } from './base';

/** Feature groups from `featureMask` (broadcast to the input): element indices per feature id. */
export function featureGroups(ctx: MethodContext): { ids: number[]; members: Int32Array[]; mask: Int32Array } {
  const x = inputTensor(ctx);
  const raw = tensorParam(ctx, 'featureMask', ctx.params.featureMask);
  let mask: Int32Array;
  if (raw === undefined) {
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
