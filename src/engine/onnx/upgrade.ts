import { AttrLensError } from '../errors';
import { attr, attrInt, attrInts, copyAttrs } from './attributes';
import { GraphBuilder } from './builder';
import { OnnxModel } from './model';
import { GraphProto, NodeProto } from './proto';

/** The opset every backward graph is built at (ScatterElements' `reduction="add"` needs 16). */
export const GRADIENT_OPSET = 16;

/**
 * Raises a model's default-domain opset to GRADIENT_OPSET, rewriting the nodes whose
 * signature or meaning changed since opset 11: attributes that became inputs (Squeeze,
 * Unsqueeze, ReduceSum, Split at 13; Dropout's ratio at 12) and Softmax-family nodes, which
 * before 13 flattened the input from `axis` on. Models older than opset 11 are refused.
 */
export function upgradeOpset(model: OnnxModel): OnnxModel {
  const from = model.opset('');
  if (from >= GRADIENT_OPSET) return model;
  if (from < 11) {
    throw new AttrLensError(`${model.name} uses ONNX opset ${from}; gradients need opset 11 or newer: re-export with torch.onnx.export(..., opset_version=17)`);
  }
  model.setOpset(GRADIENT_OPSET);
  const b = new GraphBuilder(model, 'upgrade');
  rewriteGraph(model.graph, b, from);
  return model;
}

function rewriteGraph(g: GraphProto, b: GraphBuilder, from: number): void {
  const out: NodeProto[] = [];
  for (const n of g.node) {
    for (const a of n.attribute ?? []) {
      if (a.g) rewriteGraph(a.g, b, from);
      for (const sg of a.graphs ?? []) rewriteGraph(sg, b, from);
    }
    if ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx') {
      out.push(n);
      continue;
    }
    // The builder appends helper nodes to the main graph: collect them here, in order.
    const main = b.model.graph;
    const saved = main.node;
    const helpers: NodeProto[] = [];
    main.node = helpers;
    let replaced: NodeProto[];
    try {
      replaced = rewriteNode(n, b, from);
    } finally {
      main.node = saved;
    }
    out.push(...helpers, ...replaced);
  }
  g.node = out;
}

function rewriteNode(n: NodeProto, b: GraphBuilder, from: number): NodeProto[] {
  const axesToInput = (key: string, inputIndex: number): NodeProto[] => {
    const axes = attrInts(n, key);
    if (axes === undefined) return [n];
    const ins = [...n.input];
    while (ins.length < inputIndex) ins.push('');
    ins[inputIndex] = b.i64(axes);
    return [{ ...n, input: ins, attribute: Object.entries(copyAttrs(n, [key])).map(([name, a]) => ({ ...a, name })) }];
  };
  if (from < 13) {
    switch (n.opType) {
      case 'Squeeze':
      case 'Unsqueeze':
        return axesToInput('axes', 1);
      case 'ReduceSum':
        return axesToInput('axes', 1);
      case 'Split':
        return axesToInput('split', 1);
      case 'Softmax':
      case 'LogSoftmax':
      case 'Hardmax': {
        // Old semantics: coerce to 2-D at `axis` (default 1), normalise rows, restore the shape.
        const axis = attrInt(n, 'axis', 1);
        const flat = b.op('Flatten', [n.input[0]], { axis: attr.int(axis) });
        const y = b.op(n.opType, [flat], { axis: attr.int(1) });
        const shape = b.shape(n.input[0]);
        return [{ opType: 'Reshape', domain: '', name: n.name, input: [y, shape], output: [n.output[0]], attribute: [] }];
      }
    }
  }
  if (from < 12 && n.opType === 'Dropout') {
    return [{ ...n, attribute: Object.entries(copyAttrs(n, ['ratio'])).map(([name, a]) => ({ ...a, name })) }];
  }
  if (['Upsample', 'Scatter'].includes(n.opType)) {
    throw new AttrLensError(`node '${n.name || n.opType}' uses ${n.opType}, deprecated before opset 11: re-export the model with opset_version=17`);
  }
  return [n];
}
