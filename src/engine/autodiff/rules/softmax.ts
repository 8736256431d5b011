import { attrInt } from '../../onnx/attributes';
import { GradRule, RuleContext } from '../types';

// Opset >= 13 semantics (one axis); the opset upgrade rewrote older nodes as Flatten/Softmax/Reshape.
const sumAxis = (ctx: RuleContext, t: string) => ctx.b.reduceSum(t, [attrInt(ctx.node, 'axis', -1)], true);

export const softmaxRules: Record<string, GradRule> = {
  Softmax: {
    // Y * (dY - sum(Y * dY))
    grad: (ctx) => {
      const { b } = ctx;
      const y = ctx.node.output[0], dy = ctx.dY0();
      return [b.op('Mul', [y, b.op('Sub', [dy, sumAxis(ctx, b.op('Mul', [y, dy]))])])];
    },
  },
  LogSoftmax: {
    // dY - exp(Y) * sum(dY)
    grad: (ctx) => {
      const { b } = ctx;
      const dy = ctx.dY0();
      return [b.op('Sub', [dy, b.op('Mul', [b.op('Exp', [ctx.node.output[0]]), sumAxis(ctx, dy)])])];
    },
  },
};
