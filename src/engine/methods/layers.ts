import { AttrLensError } from '../core/errors';
import { defaultCamLayer, tokenGrid } from '../../shared/layerNames';
import { Tensor } from '../core/tensor';
import { MethodContext, checkLayer } from './base';

/**
 * The layer for CAM methods: the given tensor, else the last 4-D (N, C, H, W) activation with
 * H·W > 1 (the one before global pooling) or the last ViT-style token tensor (N, 1+h·w, C)
 * before the last attention Softmax, whichever comes later (defaultCamLayer).
 */
export async function camLayer(ctx: MethodContext): Promise<string> {
  const given = ctx.params.layer as string | undefined;
  if (given) {
    await checkLayer(ctx, given);
    return given;
  }
  // the same choice the panel's layer picker shows as the default
  const pick = defaultCamLayer(await ctx.lm.layers(ctx.feeds));
  if (pick) return pick;
  throw new AttrLensError(`${ctx.lm.label} has no spatial (N, C, H, W) or token (N, 1+H·W, C) activation to use for CAM; pass 'layer' (attrlens inspect lists the layers)`);
}

/**
 * A layer tensor as (N, C, h, w): 4-D stays; (N, T, C) token tensors drop the class token and
 * fold the patches onto their grid. Returns undefined for other ranks.
 */
export function toSpatial(t: Tensor): Tensor | undefined {
  if (t.dims.length === 4) return t;
  if (t.dims.length !== 3) return undefined;
  const [n, tokens, c] = t.dims;
  const g = tokenGrid(tokens);
  if (!g) return undefined;
  const src = t.data as Float32Array;
  const hw = g.h * g.w;
  const out = new Float32Array(n * c * hw);
  for (let b = 0; b < n; b++)
    for (let p = 0; p < hw; p++)
      for (let ch = 0; ch < c; ch++) out[(b * c + ch) * hw + p] = src[(b * tokens + p + g.cls) * c + ch];
  return { dtype: 'float32', dims: [n, c, g.h, g.w], data: out };
}

export function requireSpatial(t: Tensor | undefined, layer: string, method: string): Tensor {
  if (!t) throw new AttrLensError(`${method} needs a spatial layer (N, C, H, W) or ViT tokens (N, 1+H·W, C); '${layer}' is neither: choose another layer`);
  return t;
}

/** Nearest-neighbour upsampling of (N, 1, h, w) to (N, 1, H, W), as torch's F.interpolate(mode='nearest'). */
export function upsampleNearest(t: Tensor, H: number, W: number): Float32Array {
  const [n, c, h, w] = t.dims;
  const src = t.data as Float32Array;
  const out = new Float32Array(n * c * H * W);
  for (let b = 0; b < n * c; b++)
    for (let y = 0; y < H; y++) {
      const sy = Math.min(h - 1, Math.floor((y * h) / H));
      for (let x = 0; x < W; x++) out[(b * H + y) * W + x] = src[(b * h + sy) * w + Math.min(w - 1, Math.floor((x * w) / W))];
    }
  return out;
}
