import { AttrLensError } from '../core/errors';
import { attr } from '../onnx/attributes';
import type { ShapeInfo } from '../model/loadedModel';
import { BATCH_DIM } from '../onnx/batch';
import { GraphBuilder, valueInfo } from '../onnx/builder';
import { InputEdge, isolateInput, isolatedShapes } from '../onnx/isolate';
import { OnnxModel, topoOrder } from '../onnx/model';
import { GraphProto, NodeProto } from '../onnx/proto';
import { upgradeOpset } from '../onnx/upgrade';
import { ONNX_CODE } from '../core/tensor';
import { baseRules, supportedOps } from './registry';
import { ruleSet, RuleSetName } from './ruleSets';
import { GradRule, RuleContext, RuleTable } from './types';
import { PHASE_IDENTITY } from './rules/conv';

export interface GradientRequest {
  /** the tensor whose seeded sum `sum(seed * output)` is differentiated */
  output: string;
  /** tensors to differentiate with respect to: graph inputs and/or intermediates */
  wrt: string[];
  /** intermediate tensors whose forward values become outputs too */
  expose?: string[];
  /** intermediate tensors that become graph inputs the caller supplies */
  cut?: string[];
  /**
   * one node's read of a tensor routed through its own copy, isolatedName(edge), which wrt and
   * cut may name: cutting it substitutes the tensor for that node alone
   */
  isolate?: InputEdge;
  ruleSet?: RuleSetName;
  /** LRP rule overrides by node output tensor name, for the 'lrp' rule set */
  lrpRules?: Record<string, unknown>;
  /** outputs of nodes that keep their ordinary gradient under the 'deeplift' rule set */
  plainRules?: string[];
  /**
   * the seed is computed in the graph, the one-hot of each row's first largest output value
   * (the predicted class), instead of fed: prediction and its gradient in one run (float32 outputs)
   */
  seedFromArgmax?: boolean;
}

export interface GradientProgram {
  model: OnnxModel;
  /** graph input holding the seed, shaped like `output` */
  seed: string;
  /** wrt tensor → graph output holding its gradient */
  grads: Record<string, string>;
  output: string;
}

export const SEED = 'attrlens_seed';
export const gradName = (t: string): string => `attrlens_grad/${t}`;

// Ops whose outputs carry no gradient (integer/boolean results or piecewise-constant maps).
const STOP_GRADIENT = new Set([
  'Shape', 'Size', 'ConstantOfShape', 'Range', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor',
  'NonZero', 'ArgMax', 'ArgMin', 'Floor', 'Ceil', 'Round', 'Sign', 'IsNaN', 'IsInf', 'RandomNormalLike', 'RandomUniformLike', 'EyeLike', 'OneHot', 'Constant',
]);

/**
 * Appends to a copy of `model` a backward subgraph of standard ONNX ops computing the gradient
 * of sum(seed * output) with respect to `wrt`. Contributions to a tensor with several
 * consumers are summed. `shapes` comes from a probe run of the same (batch-rewritten) model.
 */
export function buildGradient(model: OnnxModel, req: GradientRequest, probeShapes: ShapeInfo): GradientProgram {
  const m = upgradeOpset(model.clone());
  const g = m.graph;
  if (req.isolate) isolateInput(g, req.isolate);
  const shapes = req.isolate ? isolatedShapes(probeShapes, req.isolate) : probeShapes;
  const rules: RuleTable = ruleSet(req.ruleSet ?? 'default', baseRules, req);
  const b = new GraphBuilder(m, 'grad');
  const isFloat = (t: string) => {
    const d = shapes.dtype.get(t);
    return d === 'float32' || d === 'float64' || d === 'float16';
  };
  const batchable = !!shapes.dims2;
  const isBatchAxis = (t: string, axis: number) => !!shapes.dims2 && shapes.dims2.get(t)?.[axis] !== shapes.dims.get(t)?.[axis];
  const symbolicDims = (t: string) => (shapes.dims.get(t) ?? []).map((d, i) => (batchable && isBatchAxis(t, i) ? BATCH_DIM : d));

  const producers = new Map<string, NodeProto>();
  for (const n of g.node) for (const o of n.output) if (o) producers.set(o, n);

  for (const t of [...req.wrt, ...(req.expose ?? []), ...(req.cut ?? []), req.output]) {
    if (!shapes.dims.has(t)) throw new AttrLensError(`${model.name} has no tensor named '${t}'`);
  }
  // Cut: the chosen tensors become graph inputs; their producers write elsewhere.
  for (const t of req.cut ?? []) {
    const p = producers.get(t);
    if (p) p.output = p.output.map((o) => (o === t ? `${t}__uncut` : o));
    g.input.push({ name: t, type: { tensorType: { elemType: ONNX_CODE[shapes.dtype.get(t) ?? 'float32'], shape: { dim: symbolicDims(t).map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });
    producers.delete(t);
  }

  const order = topoOrder(g, model.name);
  const differentiable = (n: NodeProto, rule: GradRule | undefined): number[] =>
    (rule?.differentiable ? rule.differentiable(n) : n.input.map((_, i) => i)).filter((i) => n.input[i] && isFloat(n.input[i]));

  // Forward: tensors that depend on a wrt tensor through float values.
  const active = new Set(req.wrt);
  for (const n of order) {
    if (STOP_GRADIENT.has(n.opType)) continue;
    const rule = rules.get(n.opType);
    const ins = rule ? differentiable(n, rule) : n.input.map((_, i) => i).filter((i) => n.input[i] && isFloat(n.input[i]));
    if (ins.some((i) => active.has(n.input[i]))) for (const o of n.output) if (o && isFloat(o)) active.add(o);
  }
  if (!active.has(req.output)) {
    throw new AttrLensError(`${model.name}: output '${req.output}' does not depend on ${req.wrt.join(', ')} through float tensors, so it has no gradient there`);
  }
  // Backward: nodes on a path from wrt to output.
  const needed = new Set([req.output]);
  const onPath: NodeProto[] = [];
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k];
    if (!n.output.some((o) => needed.has(o) && active.has(o))) continue;
    if (STOP_GRADIENT.has(n.opType)) continue;
    const rule = rules.get(n.opType);
    if (!rule || ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx')) {
      const where = n.domain ? `${n.domain}.${n.opType}` : n.opType;
      throw new AttrLensError(
        `${model.name}: no gradient rule for op ${where} (node '${n.name || n.output[0]}') on the gradient path; supported: ${supportedOps().join(', ')}. Gradient-free methods (occlusion, feature-ablation, shapley-value-sampling, lime, kernel-shap) still work for this model`,
        'ENOGRADRULE',
      );
    }
    onPath.push(n);
    for (const i of differentiable(n, rule)) if (active.has(n.input[i])) needed.add(n.input[i]);
  }

  // Seed and reverse sweep.
  if (req.seedFromArgmax) argmaxSeed(b, req.output, symbolicDims(req.output));
  else b.addInput(SEED, ONNX_CODE[shapes.dtype.get(req.output) ?? 'float32'], symbolicDims(req.output));
  const contributions = new Map<string, string[]>([[req.output, [SEED]]]);
  // Gradients carry their forward tensor's shape (batch symbolic) as value_info: onnxruntime's
  // layout transformer needs provably equal shapes to keep Mul/Sum in its blocked layout.
  const index = new NodeIndex(g);
  const annotated = new Set<string>();
  const annotate = (gradTensor: string, like: string) => {
    if (annotated.has(gradTensor) || !shapes.dims.has(like)) return;
    annotated.add(gradTensor);
    g.valueInfo.push(valueInfo(gradTensor, ONNX_CODE[shapes.dtype.get(like) ?? 'float32'], symbolicDims(like)));
  };
  const total = (t: string): string | undefined => {
    const c = contributions.get(t);
    if (!c || c.length === 0) return undefined;
    if (c.length === 1) return c[0];
    const s = sumContributions(index, b, c);
    annotate(s, t);
    contributions.set(t, [s]);
    return s;
  };
  for (const n of onPath) {
    const dY = n.output.map((o) => (active.has(o) ? total(o) : undefined));
    if (dY.every((d) => d === undefined)) continue;
    const rule = rules.get(n.opType)!;
    const diff = new Set(differentiable(n, rule));
    const needs = n.input.map((inp, i) => diff.has(i) && needed.has(inp) && active.has(inp));
    const ctx = makeContext(b, m, n, dY, needs, shapes, isBatchAxis);
    const grads = rule.grad(ctx);
    grads.forEach((gi, i) => {
      if (!gi || !needs[i]) return;
      annotate(gi, n.input[i]);
      const list = contributions.get(n.input[i]) ?? [];
      list.push(gi);
      contributions.set(n.input[i], list);
    });
  }

  const grads: Record<string, string> = {};
  for (const t of req.wrt) {
    const out = gradName(t);
    const sum = total(t) ?? b.zerosLike(t);
    b.add('Identity', [sum], {}, [out]);
    b.addOutput(out, ONNX_CODE[shapes.dtype.get(t) ?? 'float32']);
    grads[t] = out;
  }
  const outputs = new Set(g.output.map((o) => o.name));
  for (const t of [...(req.expose ?? []), ...req.wrt.filter((t) => !g.input.some((i) => i.name === t))]) {
    if (!outputs.has(t)) {
      b.addOutput(t, ONNX_CODE[shapes.dtype.get(t) ?? 'float32']);
      outputs.add(t);
    }
  }
  index.dropRemoved();
  return { model: m, seed: SEED, grads, output: req.output };
}

// SEED = one-hot of argmax over each row of `output` flattened; ArgMax takes the first of equal
// values, as topK's stable sort does for the prediction. Nodes land after the forward ones.
function argmaxSeed(b: GraphBuilder, output: string, dims: Array<number | string>): void {
  const flat = b.op('Flatten', [output], { axis: attr.int(1) });
  const idx = b.op('ArgMax', [flat], { axis: attr.int(1), keepdims: attr.int(1) });
  const depth = b.slice(b.shape(flat), [1], [2], [0]);
  const values = b.constant({ dtype: 'float32', dims: [2], data: new Float32Array([0, 1]) }, 'onehot_values');
  const hot = b.op('OneHot', [idx, depth, values], { axis: attr.int(-1) });
  b.add('Reshape', [hot, b.shape(output)], {}, [SEED]);
  // the seed's shape, as a fed seed declares it: lets onnxruntime prove the shapes downstream equal
  b.model.graph.valueInfo.push(valueInfo(SEED, ONNX_CODE.float32, dims));
}

/**
 * Producers and use counts of a graph that only grows while the backward pass is built: nodes
 * appended since the last look are indexed then, so each node is seen once (a scan of the whole
 * graph per summed tensor was quadratic on wide models). Removed nodes leave the graph at the end.
 */
class NodeIndex {
  private seen = 0;
  private readonly producers = new Map<string, NodeProto>();
  private readonly uses = new Map<string, number>();
  private readonly removed = new Set<NodeProto>();

  constructor(private readonly g: GraphProto) {}

  private refresh(): void {
    for (; this.seen < this.g.node.length; this.seen++) {
      const n = this.g.node[this.seen];
      for (const o of n.output) if (o) this.producers.set(o, n);
      for (const i of n.input) if (i) this.uses.set(i, (this.uses.get(i) ?? 0) + 1);
    }
  }

  producer(t: string): NodeProto | undefined {
    this.refresh();
    return this.producers.get(t);
  }

  /** exactly one node reads `t` and it is not a graph output */
  uses1(t: string): boolean {
    this.refresh();
    return this.uses.get(t) === 1 && !this.g.output.some((o) => o.name === t);
  }

  /** no node reads `t` and it is not a graph output */
  unused(t: string): boolean {
    this.refresh();
    return !this.uses.get(t) && !this.g.output.some((o) => o.name === t);
  }

  remove(n: NodeProto): void {
    this.removed.add(n);
    for (const o of n.output) if (this.producers.get(o) === n) this.producers.delete(o);
    for (const i of n.input) if (i) this.uses.set(i, (this.uses.get(i) ?? 1) - 1);
  }

  dropRemoved(): void {
    if (this.removed.size) this.g.node = this.g.node.filter((n) => !this.removed.has(n));
    this.seen = this.g.node.length;
  }
}

/**
 * Sum of gradient contributions. When every one is a DepthToSpace of the same geometry (strided
 * convolutions' polyphase gradients, e.g. a ResNet block's 3x3 and 1x1 shortcut), it sums the
 * phase tensors and interleaves once (then crops and re-enters the blocked layout once).
 */
function sumContributions(index: NodeIndex, b: GraphBuilder, c: string[]): string {
  // Under each contribution: keepBlocked's identity Conv (rules/conv.ts), a crop, a DepthToSpace.
  const peel = (t: string) => {
    const id = index.producer(t);
    const top = id?.opType === 'Conv' && id.input[1]?.includes(PHASE_IDENTITY) && index.uses1(id.input[0]) ? id : undefined;
    const below = top ? top.input[0] : t;
    const s = index.producer(below);
    const crop = s?.opType === 'Slice' && index.uses1(s.input[0]) ? s : undefined;
    const d2s = index.producer(crop ? crop.input[0] : below);
    const key = d2s?.opType === 'DepthToSpace' ? JSON.stringify([d2s.attribute ?? [], crop?.input.slice(1), top?.input[1], top?.attribute]) : undefined;
    return { top, crop, d2s, key };
  };
  const parts = c.map(peel);
  const first = parts[0];
  if (first.key !== undefined && parts.every((p) => p.key === first.key) && c.every((t) => index.unused(t))) {
    for (const p of parts) [p.top, p.crop, p.d2s].forEach((n) => n && index.remove(n));
    const attrsOf = (n: NodeProto) => Object.fromEntries((n.attribute ?? []).map((a) => [a.name ?? '', a]));
    let out = b.op('DepthToSpace', [b.op('Sum', parts.map((p) => p.d2s!.input[0]))], attrsOf(first.d2s!));
    if (first.crop) out = b.op('Slice', [out, ...first.crop.input.slice(1)]);
    if (first.top) out = b.op('Conv', [out, first.top.input[1]], attrsOf(first.top));
    return out;
  }
  return b.op('Sum', c);
}

function makeContext(
  b: GraphBuilder,
  model: OnnxModel,
  node: NodeProto,
  dY: Array<string | undefined>,
  needs: boolean[],
  shapes: ShapeInfo,
  isBatchAxis: (t: string, axis: number) => boolean,
): RuleContext {
  const shape = (t: string) => {
    const d = shapes.dims.get(t);
    if (!d) throw new AttrLensError(`internal: no probed shape for tensor '${t}' (node '${node.name}')`);
    return d;
  };
  const ctx: RuleContext = {
    b,
    model,
    node,
    dY,
    needs,
    shape,
    dtype: (t) => shapes.dtype.get(t),
    isBatchAxis,
    constant: (t) => model.constantValue(t),
    opset: model.opset(''),
    unbroadcast(grad, to, from) {
      const ts = shape(to), fs = shape(from);
      const r = fs.length - ts.length;
      const axes: number[] = [];
      for (let i = 0; i < fs.length; i++) {
        if (i < r) axes.push(i);
        else if (ts[i - r] === 1 && (fs[i] !== 1 || (isBatchAxis(from, i) && !isBatchAxis(to, i - r)))) axes.push(i);
      }
      let out = b.reduceSum(grad, axes, true);
      if (r > 0 || (axes.length > 0 && ts.length !== fs.length)) out = b.reshape(out, b.shape(to));
      return out;
    },
    dY0() {
      return dY[0] ?? b.zerosLike(node.output[0]);
    },
  };
  return ctx;
}
