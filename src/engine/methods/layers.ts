import { AttrLensError } from '../errors';
import { Tensor } from '../tensor';
import { MethodContext, checkLayer } from './base';

/**
 * The layer for CAM methods: the given tensor, else the last 4-D (N, C, H, W) activation with
 * H·W > 1 (the one before global pooling), else the last ViT-style token tensor (N, 1+h·w, C).
 */
export async function camLayer(ctx: MethodContext): Promise<string> {
  const given = ctx.params.layer as string | undefined;
  if (given) {
    await checkLayer(ctx, given);
    return given;
  }
  const layers = await ctx.lm.layers(ctx.feeds);
  // Layers come in graph order: whichever kind appears last is the one before pooling (a
  // ViT's patch-embedding Conv comes before its token layers).
  // For token layers, stop before the last attention Softmax: after it only the class token
  // reaches the output, so patch tokens get no gradient (pytorch-grad-cam's advice: the last
  // block's first norm).
  let lastSoftmax = layers.length;
  layers.forEach((l, i) => l.op === 'Softmax' && (lastSoftmax = i));
  let spatial = -1, tokens = -1;
  layers.forEach((l, i) => {
    // dimension 0 must be the batch (1 in the probe): attention heads also make (2, 17, 17)
    if (l.dims[0] !== 1) return;
    if (l.dims.length === 4 && l.dims[2] * l.dims[3] > 1) spatial = i;
    else if (l.dims.length === 3 && tokenGrid(l.dims[1]) !== undefined && i < lastSoftmax) tokens = i;
  });
  const pick = Math.max(spatial, tokens);
  if (pick >= 0) return layers[pick].name;
  throw new AttrLensError(`${ctx.lm.label} has no spatial (N, C, H, W) or token (N, 1+H·W, C) activation to use for CAM; pass 'layer' (attrlens inspect lists the layers)`);
}

/** Token count → patch grid (h, w) and whether a class token leads. */
export function tokenGrid(t: number): { h: number; w: number; cls: number } | undefined {
  for (const cls of [1, 0]) {
    const n = t - cls;
    const r = Math.round(Math.sqrt(n));
    if (n >= 4 && r * r === n) return { h: r, w: r, cls };
  }
  return undefined;
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
