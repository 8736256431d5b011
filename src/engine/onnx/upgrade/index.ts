import { AttrLensError } from '../../core/errors';
import { attrTensor } from '../attributes';
import { GraphBuilder } from '../builder';
import { OnnxModel } from '../model';
import { GRADIENT_FREE_METHODS, reexportAdvice } from '../origin';
import { GraphProto, NodeProto, num } from '../proto';
import { numbersOf, tensorFromProto } from '../tensorProto';
import { adapters } from './registry';
import { UpgradeContext } from './types';

/** The opset every backward graph is built at (ScatterElements' `reduction="add"` needs 16). */
export const GRADIENT_OPSET = 16;
/** The oldest opset the adapters start from (Upsample, BatchNormalization and Dropout as of 7). */
export const OLDEST_UPGRADABLE_OPSET = 7;
/** IR version 8 came with opset 16 (ONNX 1.11). */
const GRADIENT_IR = 8;

/**
 * Raises a model's default-domain opset to GRADIENT_OPSET, rewriting every node whose signature
 * or meaning changed in between (one adapter per op type in ./registry, checked against onnx's
 * version_converter): attributes that became inputs, Upsample and Resize-10 as Resize,
 * Scatter as ScatterElements, the pre-13 Softmax family, old BatchNormalization/Dropout
 * attributes and outputs. Mutates and returns `model`; subgraphs are copied before rewriting,
 * so a clone's upgrade leaves the original intact. Refuses, in one line, what it cannot rewrite.
 */
export function upgradeOpset(model: OnnxModel): OnnxModel {
  const from = model.opset('');
  if (from >= GRADIENT_OPSET) return model;
  const advice = () => `${reexportAdvice(model)}; gradient-free methods (${GRADIENT_FREE_METHODS}) still work on it as it is`;
  if (from < OLDEST_UPGRADABLE_OPSET) {
    throw new AttrLensError(`${model.name} uses ONNX opset ${from}; gradients need opset ${OLDEST_UPGRADABLE_OPSET} or newer: ${advice()}`, 'EOPSET');
  }
  const irVersion = num(model.proto.irVersion);
  if (irVersion < 4) {
    // IR 3 lists every initializer as a graph input as well; from IR 4 that would make them
    // overridable inputs, which onnxruntime may not fold into Conv and friends.
    const inits = new Set(model.graph.initializer.map((t) => t.name));
    model.graph.input = model.graph.input.filter((i) => !inits.has(i.name));
  }
  if (irVersion < GRADIENT_IR) model.proto.irVersion = GRADIENT_IR;
  model.setOpset(GRADIENT_OPSET);
  const b = new GraphBuilder(model, 'upgrade');
  const reads = new Set<string>(model.graph.output.map((o) => o.name ?? ''));
  collectReads(model.graph, reads);
  const types = declaredTypes(model.graph);
  const fail = (n: NodeProto) => (why: string): never => {
    throw new AttrLensError(`${model.name}: node '${n.name || n.output[0]}' (${n.opType}, opset ${from}) cannot be raised to opset ${GRADIENT_OPSET} for gradients: ${why}; ${advice()}`, 'EOPSET');
  };
  const constants = constantsOf(model);
  const ctxFor = (node: NodeProto): UpgradeContext => ({ b, node, from, used: (t) => reads.has(t), constant: constants, elemType: (t) => types.get(t), fail: fail(node) });
  model.graph.node = rewriteGraph(model.graph, b, ctxFor);
  return model;
}

function rewriteGraph(g: GraphProto, b: GraphBuilder, ctxFor: (n: NodeProto) => UpgradeContext): NodeProto[] {
  const out: NodeProto[] = [];
  for (let n of g.node) {
    if (n.attribute?.some((a) => a.g || a.graphs?.length)) {
      // Copies: the subgraph objects are shared with the model this one was cloned from.
      n = {
        ...n,
        attribute: n.attribute.map((a) => ({
          ...a,
          g: a.g ? { ...a.g, node: rewriteGraph(a.g, b, ctxFor) } : a.g,
          graphs: a.graphs?.map((sg) => ({ ...sg, node: rewriteGraph(sg, b, ctxFor) })),
        })),
      };
    }
    if ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx') {
      out.push(n);
      continue;
    }
    // Removed at opset 6 from every op that had it; harmless to drop.
    if (n.attribute?.some((a) => a.name === 'consumed_inputs')) n = { ...n, attribute: n.attribute.filter((a) => a.name !== 'consumed_inputs') };
    const adapt = adapters.get(n.opType);
    if (!adapt) {
      out.push(n);
      continue;
    }
    // The builder appends helper nodes to the main graph: collect them here, in order, so that
    // they land in the graph (or subgraph) of the node they serve.
    const main = b.model.graph;
    const saved = main.node;
    const helpers: NodeProto[] = [];
    main.node = helpers;
    let replaced: NodeProto[];
    try {
      replaced = adapt(ctxFor(n));
    } finally {
      main.node = saved;
    }
    out.push(...helpers, ...replaced);
  }
  return out;
}

/** Every tensor a node reads, subgraphs included (outer-scope names too). */
function collectReads(g: GraphProto, into: Set<string>): void {
  for (const n of g.node) {
    for (const i of n.input) if (i) into.add(i);
    for (const a of n.attribute ?? []) {
      if (a.g) collectSubgraph(a.g, into);
      for (const sg of a.graphs ?? []) collectSubgraph(sg, into);
    }
  }
}

function collectSubgraph(g: GraphProto, into: Set<string>): void {
  for (const o of g.output) into.add(o.name ?? '');
  collectReads(g, into);
}

/** Looks constants up in the graph as it was before the rewrite (which swaps the node list). */
function constantsOf(model: OnnxModel): (name: string) => number[] | undefined {
  const inits = model.initializerMap();
  const nodes = new Map(model.graph.node.filter((n) => n.opType === 'Constant').map((n) => [n.output[0], n]));
  return (name) => {
    const init = inits.get(name);
    const t = init ?? (nodes.has(name) ? attrTensor(nodes.get(name)!, 'value') : undefined);
    if (!t) return undefined;
    const v = tensorFromProto(t);
    return v.dtype === 'float32' || v.dtype === 'float64' || v.dtype === 'int64' || v.dtype === 'int32' ? numbersOf(v) : undefined;
  };
}

function declaredTypes(g: GraphProto): Map<string, number> {
  const types = new Map<string, number>();
  for (const v of [...g.input, ...g.output, ...(g.valueInfo ?? [])]) {
    const t = v.type?.tensorType?.elemType;
    if (t) types.set(v.name ?? '', t);
  }
  for (const t of g.initializer) if (t.dataType) types.set(t.name ?? '', t.dataType);
  return types;
}
