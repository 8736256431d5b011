import { Tensor } from '../core/tensor';
import { Method, MethodContext, MethodOutput, gradientsAt } from './base';
import { camLayer, requireSpatial, toSpatial } from './layers';
import { layerTensor } from './layerTarget';

/**
 * Gradient-weighted CAM family (pytorch-grad-cam's BaseCAM): one forward/backward pass gives the
 * layer's activations A and gradients G as (N, C, h, w); a method only combines them.
 */
export abstract class GradientCam extends Method {
  protected abstract combine(a: Float32Array, g: Float32Array, c: number, hw: number, ctx: MethodContext): Float32Array;

  async run(ctx: MethodContext): Promise<MethodOutput> {
    let layer = await camLayer(ctx);
    // Captum's attribute_to_layer_input (LayerGradCam): the input of the node producing the layer
    if (ctx.params.attributeToLayerInput) layer = (await layerTensor({ ...ctx, params: { ...ctx.params, layer } }, true)).name;
    const res = await gradientsAt(ctx, undefined, { wrt: [layer], expose: [layer] });
    const a = requireSpatial(toSpatial(res.values[layer]), layer, this.info.id);
    const g = requireSpatial(toSpatial(res.grads[layer]), layer, this.info.id);
    const [, c, h, w] = a.dims;
    const map = this.combine(a.data as Float32Array, g.data as Float32Array, c, h * w, ctx);
    if (ctx.params.reluAttributions) for (let i = 0; i < map.length; i++) map[i] = Math.max(0, map[i]);
    const out: Tensor = { dtype: 'float32', dims: [1, 1, h, w], data: map };
    return { attributions: { [ctx.input]: out }, layer };
  }
}

/** sum_c weight_c * A_c over channels, (h·w). */
export function weightedSum(a: Float32Array, weights: ArrayLike<number>, c: number, hw: number): Float32Array {
  const out = new Float32Array(hw);
  for (let ch = 0; ch < c; ch++) {
    const wc = weights[ch];
    const off = ch * hw;
    for (let p = 0; p < hw; p++) out[p] += wc * a[off + p];
  }
  return out;
}
