import { isolatedName } from '../onnx/isolate';
import type { OnnxModel } from '../onnx/model';
import { sizeOf } from '../core/tensor';
import { Tensor } from '../core/tensor';
import { Approximation, integrationPoints } from './approximation';
import { Method, MethodContext, MethodOutput, P, gradientsAt, inputTensor, stackRows, targetScores, tensorParam, broadcastTo } from './base';
import { layerTensor } from './layerTarget';
import { MethodInfo } from './types';

/** Feeds with the attributed input replaced by the baseline (keeping its dtype: token ids stay ints). */
export function baselineFeeds(ctx: MethodContext): Record<string, Tensor> {
  const x = inputTensor(ctx);
  const v = tensorParam(ctx, 'baselines', ctx.params.baselines ?? 0)!;
  const f = broadcastTo(v, x.dims, "parameter 'baselines'");
  const data = x.data instanceof BigInt64Array ? BigInt64Array.from(f, (q) => BigInt(Math.round(q))) : x.data instanceof Int32Array ? Int32Array.from(f) : f;
  return { ...ctx.feeds, [ctx.input]: { dtype: x.dtype, dims: x.dims, data } };
}

/**
 * Captum's LayerIntegratedGradients: integrate gradients with respect to a layer's output along
 * the straight path between its values for the baseline and for the input; the graph is cut
 * at the layer so the path values are fed in place of the layer.
 */
export class LayerIntegratedGradients extends Method {
  readonly info: MethodInfo = {
    id: 'layer-integrated-gradients',
    captumName: 'LayerIntegratedGradients',
    family: 'layer',
    description: 'Integrated gradients in the space of a layer (e.g. the word embeddings), between its values for the baseline and the input.',
    needsGradients: true,
    layerShaped: true,
    params: [P.layer(true), P.baselines(0), P.nSteps(50), P.igMethod(), P.internalBatchSize(), { name: 'returnConvergenceDelta', kind: 'boolean', default: true, description: 'report sum(attributions) - (f(input) - f(baseline))' }, P.attributeToLayerInput()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    // with attributeToLayerInput, the path runs through the input of the node producing the layer,
    // fed to that node alone when other nodes read it too (Captum's pre-hook): a skip keeps its value
    const { name: layer, dims, edge } = await layerTensor(ctx, ctx.params.attributeToLayerInput as boolean);
    const bFeeds = baselineFeeds(ctx);
    const lookup = edge ? undefined : lookupRows(ctx.lm.model, layer, dims);
    const rows = lookup ? [lookup(ctx.feeds), lookup(bFeeds)] : [];
    const [a, a0] =
      rows[0] && rows[1]
        ? (rows as Float32Array[])
        : (await Promise.all([ctx.lm.intermediates(ctx.feeds, [layer]), ctx.lm.intermediates(bFeeds, [layer])])).map((v) => v[layer].data as Float32Array);
    const n = ctx.params.nSteps as number;
    const { alphas, weights } = integrationPoints(ctx.params.method as Approximation, n);
    // (nSteps, ...layer dims) path points fed in place of the layer
    const path = stackRows(dims, n, (k, row) => {
      for (let i = 0; i < row.length; i++) row[i] = a0[i] + alphas[k] * (a[i] - a0[i]);
    });
    const fed = edge ? isolatedName(edge) : layer;
    const res = await gradientsAt(ctx, undefined, { wrt: [fed], cut: [fed], isolate: edge, feeds: { [fed]: path }, batchSize: ctx.params.internalBatchSize as number | undefined, phase: 'integrating' });
    const g = res.grads[fed].data as Float32Array;
    const per = a.length;
    const attr = new Float32Array(per);
    let total = 0;
    for (let i = 0; i < per; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += weights[k] * g[k * per + i];
      total += attr[i] = acc * (a[i] - a0[i]);
    }
    const out: MethodOutput = { attributions: { [ctx.input]: { dtype: 'float32', dims, data: attr } }, layer };
    if (ctx.params.returnConvergenceDelta) {
      const fx = (await targetScores(ctx, inputTensor(ctx)))[0];
      const fb = (await targetScores({ ...ctx, feeds: bFeeds }, bFeeds[ctx.input]))[0];
      out.delta = total - (fx - fb);
    }
    return out;
  }
}

/**
 * The layer's value without running the model when it is an embedding lookup: Gather (axis 0)
 * of a float32 table initializer by a fed index tensor. Spares two forward passes and a session
 * holding a copy of the weights; undefined for any other layer (or an index out of range).
 */
export function lookupRows(model: OnnxModel, layer: string, dims: number[]): ((feeds: Record<string, Tensor>) => Float32Array | undefined) | undefined {
  const node = model.graph.node.find((n) => n.output[0] === layer);
  if (!node || node.opType !== 'Gather' || Number(node.attribute?.find((x) => x.name === 'axis')?.i ?? 0) !== 0) return undefined;
  const table = model.graph.initializer.find((t) => t.name === node.input[0]);
  const td = (table?.dims ?? []).map(Number);
  const raw = table?.rawData;
  if (!table || table.dataType !== 1 || td.length !== 2 || !raw || raw.byteLength !== td[0] * td[1] * 4) return undefined;
  const [V, D] = td;
  return (feeds) => {
    const ids = feeds[node.input[1]];
    if (!ids || (ids.dtype !== 'int64' && ids.dtype !== 'int32') || sizeOf(dims) !== ids.data.length * D) return undefined;
    const out = new Float32Array(ids.data.length * D);
    const bytes = new Uint8Array(out.buffer);
    for (let i = 0; i < ids.data.length; i++) {
      let k = Number(ids.data[i]);
      if (k < 0) k += V;
      if (!(k >= 0 && k < V)) return undefined;
      bytes.set(raw.subarray(k * D * 4, (k + 1) * D * 4), i * D * 4);
    }
    return out;
  };
}
