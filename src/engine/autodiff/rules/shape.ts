import { GradRule, RuleContext } from '../types';

// Pure data movement: each rule moves dY back to where X's elements came from.
const reshapeBack: GradRule = {
  differentiable: () => [0],
  grad: (ctx: RuleContext) => [ctx.b.reshape(ctx.dY0(), ctx.b.shape(ctx.node.input[0]))],
};

export const shapeRules: Record<string, GradRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
};
