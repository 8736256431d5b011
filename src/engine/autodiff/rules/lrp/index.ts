import { NodeProto } from '../../../onnx/proto';
import { GradRule, RuleContext, RuleTable } from '../../types';
import { PASS_THROUGH_OPS } from './activation';
import { biasAddAfter, biasAddOf, biasAddRule, linearParams } from './linear';
import { normParams } from './norm';
import { POOL_OPS } from './pool';
import { DEFAULT_RULE, LrpRuleSpec, parseLrpRules } from './spec';
import { LayerParams, passThrough, zRule } from './zRule';

export { parseLrpRule, parseLrpRules } from './spec';
export type { LrpRuleName, LrpRuleSpec } from './spec';

/** The parameters of a node Captum gives a rule by default (Conv, Linear, pooling, BatchNorm); undefined for other ops. */
function layerParams(ctx: RuleContext, node: NodeProto): LayerParams | undefined {
  if (POOL_OPS.has(node.opType)) return {};
  return linearParams(ctx, node) ?? normParams(node);
}

/**
 * LRP as Captum computes it (captum/attr/_core/lrp.py), as backward rules: every op's
 * "gradient" carries relevance. Layers with a rule (default epsilon; `overrides` by the output
 * tensor name of the node, or of a Linear's bias Add) apply the z-rule; Relu, Tanh and Dropout
 * pass relevance through; every other op (reshapes, concatenations, functional adds) uses its
 * ordinary gradient, as Captum's autograd does for functional ops. The seed is one-hot on the
 * target, so relevances come out normalised by the target's output (the method multiplies).
 */
export function lrpRules(overrides: Record<string, unknown>, base: RuleTable): Record<string, GradRule> {
  const given = parseLrpRules(overrides);
  const specOf = (...nodes: NodeProto[]): LrpRuleSpec | undefined => {
    for (const n of nodes) for (const o of n.output) if (given.has(o)) return given.get(o);
    return undefined;
  };
  const out: Record<string, GradRule> = {};
  for (const [op, rule] of base) {
    out[op] = {
      differentiable: PASS_THROUGH_OPS.has(op) ? passThrough.differentiable : rule.differentiable,
      grad: (ctx) => {
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
        if (PASS_THROUGH_OPS.has(op)) return passThrough.grad(ctx);
        return rule.grad(ctx);
      },
    };
  }
  return out;
}
