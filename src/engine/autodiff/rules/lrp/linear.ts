import { NodeProto } from '../../../onnx/proto';
import { RuleContext } from '../../types';
import { LayerParams, modifiedNode, stabilised } from './zRule';
import { LrpRuleSpec } from './spec';

// Linear layers (Captum: Conv2d, Linear): epsilon by default; gamma and alpha1beta0 change the weight.
const WEIGHT_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/** What the layer helpers read of a rule's context: the graph and its constants. */
export type GraphView = Pick<RuleContext, 'model' | 'constant'>;

const isConstant = (ctx: GraphView, t: string) => !!t && ctx.constant(t) !== undefined;

/** Where a linear node keeps its weight and bias; undefined when it is not a layer (a MatMul of two activations). */
export function linearParams(ctx: GraphView, node: NodeProto): LayerParams | undefined {
  if (!WEIGHT_OPS.has(node.opType)) return undefined;
  if (node.opType === 'MatMul') {
    const [a, w] = node.input;
    if (isConstant(ctx, w) && !isConstant(ctx, a)) return { weight: 1 };
    if (isConstant(ctx, a) && !isConstant(ctx, w)) return { weight: 0 };
    return undefined;
  }
  return { weight: 1, bias: 2 };
}

// Forward nodes only: the backward builder's own nodes are named under /grad/.
const forwardConsumers = (ctx: GraphView, t: string) => ctx.model.graph.node.filter((n) => !(n.name ?? '').startsWith('/grad/') && n.input.includes(t));

/**
 * A Linear exported as MatMul + Add (or a Conv with its bias in a separate Add): the Add of a
 * constant to a linear node's only use. Returns the linear node and which Add input is the bias.
 */
export function biasAddOf(ctx: GraphView, add: NodeProto): { layer: NodeProto; bias: number } | undefined {
  if (add.opType !== 'Add') return undefined;
  for (const bias of [1, 0]) {
    const data = add.input[1 - bias];
    if (!isConstant(ctx, add.input[bias]) || isConstant(ctx, data)) continue;
    const layer = ctx.model.graph.node.find((n) => n.output[0] === data);
    if (layer && linearParams(ctx, layer) && forwardConsumers(ctx, data).length === 1) return { layer, bias };
  }
  return undefined;
}

/** The bias Add that finishes `layer`, if any. */
export function biasAddAfter(ctx: GraphView, layer: NodeProto): NodeProto | undefined {
  const users = forwardConsumers(ctx, layer.output[0]);
  if (users.length !== 1) return undefined;
  const found = biasAddOf(ctx, users[0]);
  return found && found.layer === layer ? users[0] : undefined;
}

/**
 * The bias Add of a MatMul + Add layer divides the relevance by the layer's whole output (with
 * the rule's weights and bias) and passes the quotient to the MatMul, which sends it back
 * through its weights and multiplies by its input.
 */
export function biasAddRule(ctx: RuleContext, spec: LrpRuleSpec, found: { layer: NodeProto; bias: number }): Array<string | undefined> {
  const { b, node } = ctx;
  const dataIdx = 1 - found.bias;
  const out: Array<string | undefined> = [undefined, undefined];
  if (!ctx.needs[dataIdx]) return out;
  if (spec.rule === 'identity') {
    out[dataIdx] = ctx.dY0();
    return out;
  }
  const alias = new Map<string, string>();
  const layerOut = modifiedNode(ctx, found.layer, spec, linearParams(ctx, found.layer)!, alias).output[0];
  const zeroBias = spec.setBiasToZero && spec.rule !== 'epsilon';
  const z = layerOut === found.layer.output[0] && !zeroBias ? node.output[0] : zeroBias ? layerOut : b.op('Add', [layerOut, node.input[found.bias]]);
  out[dataIdx] = b.op('Div', [ctx.dY0(), stabilised(ctx, z, spec.epsilon)]);
  return out;
}
