import { BATCH_DIM } from '../onnx/batch';
import { InputEdge, isolateInput, isolatedName, isolatedShapes } from '../onnx/isolate';
import { OnnxModel, pruneTo } from '../onnx/model';
import { ShapeInfo } from '../model/loadedModel';
import { ONNX_CODE, Tensor } from '../core/tensor';
import { MethodContext, scoreOutputs, scoredOutputs } from './base';

/**
 * The forward model with `layer` turned into a graph input (its producer writes elsewhere) and
 * everything the output no longer needs pruned away, so rows fed to the layer cost only the
 * rest of the network. Graphs with subgraphs (If, Loop) are cut but not pruned.
 * With `edge` (the layer is a node's input), only that node's read is cut: the graph input is
 * isolatedName(edge), and every other reader of the tensor keeps its computed value.
 */
export function cutForwardModel(model: OnnxModel, layer: string, output: string | string[], shapes: ShapeInfo, edge?: InputEdge): OnnxModel {
  const outputs = typeof output === 'string' ? [output] : output;
  const m = model.clone();
  const g = m.graph;
  if (edge) {
    layer = isolateInput(g, edge);
    shapes = isolatedShapes(shapes, edge);
  }
  for (const n of g.node) n.output = n.output.map((o) => (o === layer ? `${layer}__uncut` : o));
  const batchable = !!shapes.dims2;
  const dims = (shapes.dims.get(layer) ?? []).map((d, i) => (batchable && shapes.dims2!.get(layer)?.[i] !== d ? { dimParam: BATCH_DIM } : { dimValue: d }));
  g.input = g.input.filter((i) => i.name !== layer);
  g.input.push({ name: layer, type: { tensorType: { elemType: ONNX_CODE[shapes.dtype.get(layer) ?? 'float32'], shape: { dim: dims } } } });
  g.output = g.output.filter((o) => outputs.includes(o.name ?? ''));
  const hasSubgraphs = g.node.some((n) => (n.attribute ?? []).some((a) => a.g || a.graphs?.length));
  if (hasSubgraphs) return m;

  const needed = pruneTo(g, outputs, model.name);
  const inits = new Set(g.initializer.map((t) => t.name));
  g.input = g.input.filter((i) => needed.has(i.name ?? '') || inits.has(i.name));
  const produced = new Set(g.node.flatMap((n) => n.output));
  g.valueInfo = (g.valueInfo ?? []).filter((v) => produced.has(v.name ?? '') && v.name !== layer);
  return m;
}

/**
 * The target's score (output[:, target] for a class) of the model for a batch of `layer` values
 * (N, ...layer dims), forward only. With `edge`, the rows replace the layer (edge.input) only
 * where the node writing edge.reader reads it.
 */
export async function scoresFromLayer(ctx: MethodContext, layer: string, rows: Tensor, batchSize?: number, edge?: InputEdge): Promise<Float64Array> {
  const shapes = await ctx.lm.shapes(ctx.feeds);
  const outputs = scoredOutputs(ctx);
  const fed = edge ? isolatedName(edge) : layer;
  const session = await ctx.lm.session(`cut-forward|${outputs.join(',')}|${fed}|${(shapes.dims.get(layer) ?? []).join(',')}`, () => cutForwardModel(ctx.lm.forwardModel, layer, outputs, shapes, edge));
  const feeds: Record<string, Tensor> = { [fed]: rows };
  for (const name of session.inputNames) if (name !== fed) feeds[name] = ctx.feeds[name];
  const res = await ctx.lm.runChunked(session, feeds, outputs, { signal: ctx.signal, batchSize });
  return scoreOutputs(ctx, res);
}
