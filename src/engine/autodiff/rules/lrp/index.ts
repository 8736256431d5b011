import { OnnxModel } from '../../../onnx/model';
import { GraphProto, NodeProto } from '../../../onnx/proto';
import { GradRule, RuleContext, RuleTable } from '../../types';
import { PASS_THROUGH_OPS } from './activation';
import { GraphView, biasAddAfter, biasAddOf, biasAddRule, linearParams } from './linear';
import { normParams } from './norm';
import { POOL_OPS } from './pool';
import { DEFAULT_RULE, LrpRuleSpec, parseLrpRules } from './spec';
import { LayerParams, passThrough, zRule } from './zRule';

export { parseLrpRule, parseLrpRules } from './spec';
export type { LrpRuleName, LrpRuleSpec } from './spec';

/** The parameters of a node Captum gives a rule by default (Conv, Linear, pooling, BatchNorm); undefined for other ops. */
function layerParams(ctx: GraphView, node: NodeProto): LayerParams | undefined {
  if (POOL_OPS.has(node.opType)) return {};
  return linearParams(ctx, node) ?? normParams(node);
}

type SpecOf = (...nodes: NodeProto[]) => LrpRuleSpec | undefined;

function specLookup(given: Map<string, LrpRuleSpec>): SpecOf {
  return (...nodes) => {
    for (const n of nodes) for (const o of n.output) if (given.has(o)) return given.get(o);
    return undefined;
  };
}

/** The data inputs of `node` when it is a layer with a rule (Captum's modules with a `rule`). */
function layerInputs(ctx: GraphView, node: NodeProto, specOf: SpecOf): string[] {
  if (biasAddOf(ctx, node)) return []; // inside a Linear: not a module input
  const params = layerParams(ctx, node);
  const after = params && biasAddAfter(ctx, node);
  const spec = (after ? specOf(node, after) : specOf(node)) ?? (params ? DEFAULT_RULE : undefined);
  if (!spec || spec.rule === 'identity') return [];
  const fixed = new Set([params?.weight, params?.bias].filter((i): i is number => i !== undefined));
  return node.input.filter((t, i) => t && !fixed.has(i) && ctx.constant(t) === undefined);
}

const inputsCache = new WeakMap<GraphProto, Set<string>>();

/**
 * Tensors that feed a layer with a rule. Captum hooks such a tensor once: its whole gradient
 * (every consumer's share, e.g. a residual Add's too) is multiplied by its value.
 */
function multipliedTensors(ctx: GraphView, specOf: SpecOf): Set<string> {
  const g = ctx.model.graph;
  let set = inputsCache.get(g);
  if (!set) {
    set = new Set();
    // forward nodes only: the backward builder's own nodes are named under /grad/
    for (const n of g.node) if (!(n.name ?? '').startsWith('/grad/')) for (const t of layerInputs(ctx, n, specOf)) set.add(t);
    inputsCache.set(g, set);
  }
  return set;
}

/**
 * Whether LRP's relevance at `tensor` is its gradient times its value (it feeds a layer with a
 * rule), as the method must apply it where the backward pass stops (the input, a layer).
 */
export function lrpMultiplies(model: OnnxModel, tensor: string, overrides: Record<string, unknown>): boolean {
  const view: GraphView = { model, constant: (t) => model.constantValue(t) };
  return model.graph.node.some((n) => layerInputs(view, n, specLookup(parseLrpRules(overrides))).includes(tensor));
}

/**
 * LRP as Captum computes it (captum/attr/_core/lrp.py), as backward rules: every op's
 * "gradient" carries relevance. Layers with a rule (default epsilon; `overrides` by the output
 * tensor name of the node, or of a Linear's bias Add) apply the z-rule; Relu, Tanh and Dropout
 * pass relevance through; every other op (reshapes, concatenations, functional adds) uses its
 * ordinary gradient, as Captum's autograd does for functional ops. A tensor feeding a layer has
 * its total relevance multiplied by its value before its producer's rule runs (Captum's tensor
 * hook). The seed is one-hot on the target, so relevances come out normalised by the target's
 * output (the method multiplies).
 */
export function lrpRules(overrides: Record<string, unknown>, base: RuleTable): Record<string, GradRule> {
  const specOf = specLookup(parseLrpRules(overrides));
  const ruleOf = (ctx: RuleContext, rule: GradRule): Array<string | undefined> => {
    const { node } = ctx;
    const bias = biasAddOf(ctx, node);
    if (bias) return biasAddRule(ctx, specOf(bias.layer, node) ?? DEFAULT_RULE, bias);
    const params = layerParams(ctx, node);
    const after = params && biasAddAfter(ctx, node);
    if (after) return zRule(ctx, specOf(node, after) ?? DEFAULT_RULE, params, false);
    const spec = specOf(node);
    // a rule given for any other node (e.g. Captum's Addition_Module on an Add): the z-rule through its gradient
    if (spec) return zRule(ctx, spec, params ?? {});
    if (params) return zRule(ctx, DEFAULT_RULE, params);
    if (PASS_THROUGH_OPS.has(node.opType)) return passThrough.grad(ctx);
    return rule.grad(ctx);
  };
  const out: Record<string, GradRule> = {};
  for (const [op, rule] of base) {
    out[op] = {
      differentiable: PASS_THROUGH_OPS.has(op) ? passThrough.differentiable : rule.differentiable,
      grad: (ctx) => {
        const multiplied = multipliedTensors(ctx, specOf);
        const dY = ctx.node.output.map((o, i) => (ctx.dY[i] && multiplied.has(o) ? ctx.b.op('Mul', [o, ctx.dY[i]!]) : ctx.dY[i]));
        if (dY.every((d, i) => d === ctx.dY[i])) return ruleOf(ctx, rule);
        return ruleOf({ ...ctx, dY, dY0: () => dY[0] ?? ctx.dY0() }, rule);
      },
    };
  }
  return out;
}
