import { GradRule } from '../types';

// Captum changes the backward pass of Relu nodes only.
export const guidedRules: { guided: Record<string, GradRule>; deconvolution: Record<string, GradRule> } = {
  guided: {
    // Guided backprop: Relu(dY) where X > 0
    Relu: {
      grad: (ctx) => {
        const { b } = ctx;
        const pos = b.op('Greater', [ctx.node.input[0], b.f32(0)]);
        return [b.op('Where', [pos, b.op('Relu', [ctx.dY0()]), b.f32(0)])];
      },
    },
  },
  deconvolution: {
    // Deconvolution: Relu(dY), ignoring the forward input
    Relu: { grad: (ctx) => [ctx.b.op('Relu', [ctx.dY0()])] },
  },
};
