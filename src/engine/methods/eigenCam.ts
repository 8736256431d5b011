import { Method, MethodContext, MethodOutput, P } from './base';
import { camRelu } from './camVariants';
import { camLayer, requireSpatial, toSpatial } from './layers';
import { Rng } from './rng';
import { MethodInfo } from './types';

/** Top eigenvector and eigenvalue of a symmetric n×n matrix (power iteration to a small residual). */
function topEigen(k: Float64Array, n: number): { v: Float64Array; lambda: number } {
  const rng = new Rng(1);
  let v = Float64Array.from({ length: n }, () => rng.next() + 0.5);
  let lambda = 0;
  const kv = new Float64Array(n);
  for (let it = 0; it < 10000; it++) {
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    if (norm === 0) return { v, lambda: 0 };
    for (let i = 0; i < n; i++) v[i] /= norm;
    kv.fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) kv[i] += k[i * n + j] * v[j];
    lambda = 0;
    for (let i = 0; i < n; i++) lambda += v[i] * kv[i];
    let res = 0;
    for (let i = 0; i < n; i++) res += (kv[i] - lambda * v[i]) ** 2;
    if (Math.sqrt(res) <= 1e-9 * Math.abs(lambda) || lambda === 0) break;
    v = Float64Array.from(kv);
  }
  return { v, lambda };
}

/**
 * Projection of the centred activations (pixels × channels) on their first principal
 * direction, as pytorch-grad-cam's get_2d_projection (SVD): A·v1 = s1·u1, computed from the
 * smaller of the two Gram matrices.
 */
export function firstComponent(a: Float32Array, c: number, hw: number): Float32Array {
  const m = new Float64Array(hw * c); // row p, column ch
  for (let ch = 0; ch < c; ch++) {
    let mean = 0;
    for (let p = 0; p < hw; p++) mean += a[ch * hw + p];
    mean /= hw;
    for (let p = 0; p < hw; p++) m[p * c + ch] = a[ch * hw + p] - mean;
  }
  const proj = new Float64Array(hw);
  if (hw <= c) {
    const k = new Float64Array(hw * hw);
    for (let p = 0; p < hw; p++)
      for (let q = p; q < hw; q++) {
        let s = 0;
        for (let ch = 0; ch < c; ch++) s += m[p * c + ch] * m[q * c + ch];
        k[p * hw + q] = k[q * hw + p] = s;
      }
    const { v, lambda } = topEigen(k, hw);
    const sigma = Math.sqrt(Math.max(0, lambda));
    for (let p = 0; p < hw; p++) proj[p] = sigma * v[p];
  } else {
    const k = new Float64Array(c * c);
    for (let i = 0; i < c; i++)
      for (let j = i; j < c; j++) {
        let s = 0;
        for (let p = 0; p < hw; p++) s += m[p * c + i] * m[p * c + j];
        k[i * c + j] = k[j * c + i] = s;
      }
    const { v } = topEigen(k, c);
    for (let p = 0; p < hw; p++) for (let ch = 0; ch < c; ch++) proj[p] += m[p * c + ch] * v[ch];
  }
  // An SVD's sign is arbitrary: point the map where the activations are strong (positive
  // correlation with their channel sum), else make its largest magnitude positive.
  let corr = 0, peak = 0;
  for (let p = 0; p < hw; p++) {
    let s = 0;
    for (let ch = 0; ch < c; ch++) s += a[ch * hw + p];
    corr += s * proj[p];
    if (Math.abs(proj[p]) > Math.abs(peak)) peak = proj[p];
  }
  const flip = Math.abs(corr) > 1e-12 * hw ? corr < 0 : peak < 0;
  return Float32Array.from(proj, (x) => (flip ? -x : x));
}

/** Muhammad & Yeasin 2020, https://arxiv.org/abs/2008.00299 (pytorch-grad-cam's EigenCAM). */
export class EigenCam extends Method {
  readonly info: MethodInfo = {
    id: 'eigen-cam',
    captumName: 'EigenCAM',
    family: 'cam',
    description:
      'First principal component of the layer activations (no gradients, so the same map for every target); sign chosen to follow the activation strength. Layer resolution; ReLU of the map by default (pytorch-grad-cam).',
    needsGradients: false,
    layerShaped: true,
    params: [P.layer(), camRelu()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const layer = await camLayer(ctx);
    const values = await ctx.lm.intermediates(ctx.feeds, [layer], { signal: ctx.signal });
    const a = requireSpatial(toSpatial(values[layer]), layer, this.info.id);
    const [, c, h, w] = a.dims;
    const map = firstComponent(a.data as Float32Array, c, h * w);
    if (ctx.params.reluAttributions) for (let i = 0; i < map.length; i++) map[i] = Math.max(0, map[i]);
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: [1, 1, h, w], data: map } }, layer };
  }
}
