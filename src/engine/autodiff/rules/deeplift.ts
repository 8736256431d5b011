import { attr } from '../../onnx/attributes';
import { baseRules } from '../registry';
import { GradRule, RuleContext } from '../types';
import { maxPoolIndices, scatterAddFlat } from './pool';

// DeepLift's rescale rule (Shrikumar et al. 2017, https://arxiv.org/abs/1704.02685) as Captum
// applies it. The batch holds inputs in its first half and their baselines in the second.
const EPS = 1e-10;

/** t_in - t_ref for a batch [inputs; baselines], repeated for both halves: (2B, ...). */
function pairDelta(ctx: RuleContext, t: string): string {
  const { b } = ctx;
  const [xi, xr] = halves(ctx, t);
  const d = b.op('Sub', [xi, xr]);
  return b.op('Concat', [d, d], { axis: attr.int(0) });
}

function halves(ctx: RuleContext, t: string): [string, string] {
  const { b } = ctx;
  const n = b.op('Gather', [b.shape(t), b.i64([0])], { axis: attr.int(0) });
  const h = b.op('Div', [n, b.i64([2])]);
  const sizes = b.op('Concat', [h, h], { axis: attr.int(0) });
  const [a, c] = b.add('Split', [t, sizes], { axis: attr.int(0) }, 2);
  return [a, c];
}

/** Where |Δin| is tiny the ordinary gradient, else `numerator / Δin`. */
function rescaleOr(ctx: RuleContext, numerator: string, deltaIn: string): string {
  const { b } = ctx;
  const ordinary = baseRules.get(ctx.node.opType)!.grad(ctx)[0]!;
  const small = b.op('Less', [b.op('Abs', [deltaIn]), b.f32(EPS)]);
  const safe = b.op('Where', [small, b.f32(1), deltaIn]);
  return b.op('Where', [small, ordinary, b.op('Div', [numerator, safe])]);
}

const nonlinear: GradRule = {
  differentiable: () => [0],
  grad: (ctx) => {
    const { b } = ctx;
    const dIn = pairDelta(ctx, ctx.node.input[0]);
    const dOut = pairDelta(ctx, ctx.node.output[0]);
    return [rescaleOr(ctx, b.op('Mul', [ctx.dY0(), dOut]), dIn)];
  },
};

const softmax: GradRule = {
  // Captum: the rescaled gradient minus its mean over every element of the batch
  grad: (ctx) => {
    const { b } = ctx;
    const g = nonlinear.grad(ctx)[0]!;
    const mean = b.op('ReduceMean', [g], { keepdims: attr.int(1) });
    return [b.op('Sub', [g, mean])];
  },
};

// Captum's MaxPool rule: with xmax = max(out, out_ref), scatter dY*(xmax - out_ref) through the
// input's argmax and dY*(out - xmax) through the baseline's, add them, divide by Δin.
const captumMaxPool: GradRule = {
  grad: (ctx) => {
    const { b, node } = ctx;
    const x = node.input[0];
    const [out, ref] = halves(ctx, node.output[0]);
    const xmax = b.op('Max', [out, ref]);
    const deltaOut = b.op('Concat', [b.op('Sub', [xmax, ref]), b.op('Sub', [out, xmax])], { axis: attr.int(0) });
    const unpooled = scatterAddFlat(ctx, x, maxPoolIndices(ctx), b.op('Mul', [ctx.dY0(), deltaOut]));
    const [ui, ur] = halves(ctx, unpooled);
    const u = b.op('Add', [ui, ur]);
    return [rescaleOr(ctx, b.op('Concat', [u, u], { axis: attr.int(0) }), pairDelta(ctx, x))];
  },
};

// Ops whose Captum module gets DeepLift's backward hook.
const HOOKED = new Set(['Relu', 'Elu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softplus', 'Softmax', 'MaxPool']);

/**
 * MaxPool as Captum 0.8 computes it: its rule's result is lost when its input comes from a
 * hooked non-linearity (that module's hook captured the plain gradient first and rescales
 * that), so MaxPool passes plain gradients there. It takes effect when the input comes from
 * anything else — a Conv, a graph input, or the attributed layer itself (`unhooked`: Captum
 * leaves the layer of a layer method without hooks).
 */
function hookOrderMaxPool(unhooked: ReadonlySet<string>): GradRule {
  return {
    grad: (ctx) => {
      const x = ctx.node.input[0];
      const producer = unhooked.has(x) ? undefined : ctx.model.graph.node.find((n) => n.output.includes(x));
      if (producer && HOOKED.has(producer.opType)) return baseRules.get('MaxPool')!.grad(ctx);
      return captumMaxPool.grad(ctx);
    },
  };
}

const nonlinearRules: Record<string, GradRule> = {
  Relu: nonlinear,
  Elu: nonlinear,
  LeakyRelu: nonlinear,
  Sigmoid: nonlinear,
  Tanh: nonlinear,
  Softplus: nonlinear,
  Softmax: softmax,
};

/**
 * DeepLift as Captum 0.8 computes it; `wrt` are the tensors differentiated (a layer method's
 * layer). `plain` names the outputs of nodes that keep their ordinary gradient: a layer method
 * attributing to its layer's input takes the gradient at a clone Captum makes after the module's
 * own hook, so that module's rule never applies.
 */
export function deepliftRules(wrt: readonly string[], plain: readonly string[] = []): Record<string, GradRule> {
  const rules: Record<string, GradRule> = { ...nonlinearRules, MaxPool: hookOrderMaxPool(new Set(wrt)) };
  if (!plain.length) return rules;
  const skip = new Set(plain);
  return Object.fromEntries(
    Object.entries(rules).map(([op, r]) => [op, { ...r, grad: (ctx) => (ctx.node.output.some((o) => skip.has(o)) ? baseRules.get(op)!.grad(ctx) : r.grad(ctx)) }]),
  );
}

/** DeepLift with Captum's documented MaxPool rule everywhere (exact completeness). */
export const deepliftMaxPoolRules: Record<string, GradRule> = { ...nonlinearRules, MaxPool: captumMaxPool };
