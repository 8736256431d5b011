import { AttrLensError } from '../core/errors';
import type { LoadedModel } from '../model/loadedModel';
import { InputEdge } from '../onnx/isolate';
import { Tensor, sizeOf } from '../core/tensor';
import { GradOptions, MethodContext, checkLayer, gradientsAt } from './base';
import { ParamSpec } from './types';

export interface LayerRef {
  name: string;
  /** dims at batch 1 */
  dims: number[];
  /**
   * With `toInput`, when other nodes (a residual skip) or graph outputs read the layer input too:
   * the layer node's own read of it. A method that substitutes the layer's value (ablation,
   * permutation, an integration path) replaces this edge only, as Captum's forward pre-hook
   * does; gradients still are with respect to the tensor itself, every reader included.
   */
  edge?: InputEdge;
}

/**
 * The tensor a layer or neuron method works on: the `layer` parameter, or with `toInput`
 * (Captum's attribute_to_layer_input) the first float data input of the node producing it.
 */
export async function layerTensor(ctx: Pick<MethodContext, 'lm' | 'feeds' | 'params'>, toInput: boolean, flag = 'attributeToLayerInput'): Promise<LayerRef> {
  const layer = ctx.params.layer as string;
  const dims = await checkLayer(ctx, layer);
  if (!toInput) return { name: layer, dims };
  const g = ctx.lm.forwardModel.graph;
  const producer = g.node.find((n) => n.output.includes(layer));
  if (!producer) throw new AttrLensError(`'${layer}' is a graph input, not the output of a node, so it has no layer input: turn ${flag} off`);
  const shapes = await ctx.lm.shapes(ctx.feeds);
  const inits = new Set(g.initializer.map((t) => t.name));
  const name = producer.input.find((i) => i && !inits.has(i) && shapes.dtype.get(i) === 'float32');
  if (!name) throw new AttrLensError(`the node producing '${layer}' (${producer.opType}) has no float data input: turn ${flag} off`);
  const inDims = shapes.dims.get(name)!;
  // a node with subgraphs may read the tensor from an outer scope: isolate to be safe
  const shared =
    g.node.some((n) => n !== producer && (n.input.includes(name) || (n.attribute ?? []).some((a) => a.g || a.graphs?.length))) || g.output.some((o) => o.name === name);
  return shared ? { name, dims: inDims, edge: { reader: layer, input: name } } : { name, dims: inDims };
}

/** Forward value of a layer tensor (a graph input is its feed). */
export async function layerValue(ctx: Pick<MethodContext, 'lm' | 'feeds' | 'signal'>, name: string, feeds: Record<string, Tensor> = ctx.feeds): Promise<Tensor> {
  if (feeds[name]) return feeds[name];
  return (await ctx.lm.intermediates(feeds, [name], { signal: ctx.signal }))[name];
}

/**
 * The most active neuron of `layer` (with `toInput`, of the layer's input) for these feeds: the
 * argmax of its activation, as Captum's tuple (one index per axis, batch axis left out). The
 * panel proposes it for a neuron method left without a neuronSelector.
 */
export async function mostActiveNeuron(lm: LoadedModel, feeds: Record<string, Tensor>, layer: string, toInput = false, signal?: AbortSignal): Promise<{ selector: number[]; value: number }> {
  const ctx = { lm, feeds, params: { layer }, signal };
  const t = await layerTensor(ctx, toInput, 'attributeToNeuronInput');
  const v = (await layerValue(ctx, t.name)).data as Float32Array;
  const shape = t.dims.slice(1);
  let best = 0;
  for (let i = 1; i < sizeOf(shape); i++) if (v[i] > v[best]) best = i;
  const selector = shape.map(() => 0);
  for (let a = shape.length - 1, rest = best; a >= 0; a--) {
    selector[a] = rest % shape[a];
    rest = Math.floor(rest / shape[a]);
  }
  return { selector, value: v[best] };
}

export const multiplyByInputs = (what: string): ParamSpec => ({ name: 'multiplyByInputs', kind: 'boolean', default: true, description: `multiply the gradients by ${what} (false: the gradients alone)` });

export const attributeToNeuronInput = (): ParamSpec => ({
  name: 'attributeToNeuronInput',
  kind: 'boolean',
  default: false,
  description: 'select the neuron in the input of the layer instead of its output (only when the layer tensor is a node output)',
});

/**
 * Flat index (without the batch axis) of the neuron `sel` in a layer of batch-1 dims `dims`:
 * a list with one index per non-batch axis, or a single flat index.
 */
export function neuronIndex(sel: unknown, dims: number[], layer: string): number {
  const shape = dims.slice(1);
  const per = sizeOf(shape);
  const list = typeof sel === 'number' ? [sel] : (sel as number[]);
  if (!Array.isArray(list) || !list.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new AttrLensError(`neuronSelector must be a list of whole numbers >= 0, one per axis of '${layer}' [${shape}]`);
  }
  if (list.length === 1 && shape.length !== 1) {
    if (list[0] >= per) throw new AttrLensError(`neuronSelector ${list[0]} is outside '${layer}', which has ${per} neurons (shape [${shape}] without the batch axis)`);
    return list[0];
  }
  if (list.length !== shape.length) {
    throw new AttrLensError(`neuronSelector [${list}] has ${list.length} indices but '${layer}' has ${shape.length} axes besides the batch ([${shape}]): give one index per axis`);
  }
  let flat = 0;
  list.forEach((v, i) => {
    if (v >= shape[i]) throw new AttrLensError(`neuronSelector [${list}] is outside '${layer}' [${shape}]: index ${i} must be below ${shape[i]}`);
    flat = flat * shape[i] + v;
  });
  return flat;
}

/** Gradients of one neuron of `layer` (a flat index) with respect to the attributed input, per row. */
export async function neuronGradients(ctx: MethodContext, layer: string, neuron: number, rows: Tensor | undefined, o: GradOptions = {}) {
  const isInput = ctx.lm.inputs.some((i) => i.name === layer);
  // the layer becomes the differentiated output; it must be a graph output of the backward model
  return gradientsAt({ ...ctx, output: layer, target: neuron, spec: undefined }, rows, { ...o, expose: isInput ? o.expose : [...(o.expose ?? []), layer] });
}
