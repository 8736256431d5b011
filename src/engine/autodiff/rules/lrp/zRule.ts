import { AttrLensError } from '../../../core/errors';
import { NodeProto } from '../../../onnx/proto';
import { baseRules } from '../../registry';
import { GradRule, RuleContext } from '../../types';
import { LrpRuleSpec } from './spec';

/** Where a layer keeps its parameters: the inputs a rule may change (undefined = none). */
export interface LayerParams {
  weight?: number;
  bias?: number;
}

/**
 * A copy of `node` computing with the rule's weights (gamma: W + γ·max(W, 0); alpha1beta0:
 * max(W, 0); bias zeroed on request) on the same inputs, or the node itself when the rule
 * changes nothing. `alias` maps each new tensor to the original it stands for (shapes).
 */
export function modifiedNode(ctx: RuleContext, node: NodeProto, spec: LrpRuleSpec, params: LayerParams, alias: Map<string, string>): NodeProto {
  const { b } = ctx;
  const inputs = [...node.input];
  const change = (i: number | undefined, f: (t: string) => string) => {
    if (i === undefined || !inputs[i]) return false;
    const t = f(inputs[i]);
    alias.set(t, inputs[i]);
    inputs[i] = t;
    return true;
  };
  let changed = false;
  if (spec.rule === 'gamma') changed = change(params.weight, (w) => b.op('Add', [w, b.op('Mul', [b.op('Relu', [w]), b.f32(spec.gamma)])])) || changed;
  if (spec.rule === 'alpha1beta0') changed = change(params.weight, (w) => b.op('Relu', [w])) || changed;
  if (spec.setBiasToZero && (spec.rule === 'gamma' || spec.rule === 'alpha1beta0')) changed = change(params.bias, (t) => b.op('Mul', [t, b.f32(0)])) || changed;
  if (!changed) return node;
  const attrs = Object.fromEntries((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  const out = b.add(node.opType, inputs, attrs, 1, node.domain ?? '')[0];
  alias.set(out, node.output[0]);
  return { ...node, input: inputs, output: [out, ...node.output.slice(1)] };
}

/** v + ε·sign(v), with sign(0) = 1 as Captum's stabiliser. */
export function stabilised(ctx: RuleContext, v: string, epsilon: number): string {
  const { b } = ctx;
  const sign = b.op('Where', [b.op('Less', [v, b.f32(0)]), b.f32(-1), b.f32(1)]);
  return b.op('Add', [v, b.op('Mul', [sign, b.f32(epsilon)])]);
}

/** The ordinary backward of `node` (maybe a modified copy) applied to `dY`, for the wanted inputs. */
export function ordinaryBackward(ctx: RuleContext, node: NodeProto, dY: string, alias: Map<string, string>): Array<string | undefined> {
  const orig = (t: string) => alias.get(t) ?? t;
  const inner: RuleContext = {
    ...ctx,
    node,
    dY: [dY, ...ctx.dY.slice(1).map(() => undefined)],
    shape: (t) => ctx.shape(orig(t)),
    dtype: (t) => ctx.dtype(orig(t)),
    isBatchAxis: (t, axis) => ctx.isBatchAxis(orig(t), axis),
    dY0: () => dY,
  };
  return baseRules.get(node.opType)!.grad(inner);
}

/**
 * Captum's z-rule for a layer (https://doi.org/10.1371/journal.pone.0130140): the relevance
 * R reaching the output is divided by the output z of the layer with the rule's weights and
 * sent back through that layer's gradient: (∂z/∂in)ᵀ (R / (z + ε·sign z)). The product with
 * the input, R_in = in · that, is taken on the input tensor's total (see `multiplied` in
 * index.ts), as Captum's tensor hook does. `divide` false: the output's division is done by the
 * layer's bias Add downstream (a Linear exported as MatMul + Add).
 */
export function zRule(ctx: RuleContext, spec: LrpRuleSpec, params: LayerParams, divide = true): Array<string | undefined> {
  const { b, node } = ctx;
  if (spec.rule === 'identity') return identity(ctx);
  const alias = new Map<string, string>();
  const mod = modifiedNode(ctx, node, spec, params, alias);
  const s = divide ? b.op('Div', [ctx.dY0(), stabilised(ctx, mod.output[0], spec.epsilon)]) : ctx.dY0();
  const c = ordinaryBackward(ctx, mod, s, alias);
  return node.input.map((_, i) => (ctx.needs[i] ? c[i] : undefined));
}

/** Captum's IdentityRule: the relevance passes unchanged to an input of the same shape. */
export function identity(ctx: RuleContext): Array<string | undefined> {
  const out = ctx.node.output[0];
  return ctx.node.input.map((inp, i) => {
    if (!ctx.needs[i]) return undefined;
    const a = ctx.shape(inp), o = ctx.shape(out);
    if (a.length !== o.length || a.some((d, k) => d !== o[k])) {
      throw new AttrLensError(`the identity rule needs a layer whose input and output have the same shape; '${out}' (${ctx.node.opType}) maps [${a}] to [${o}]: use epsilon there`);
    }
    return ctx.dY0();
  });
}

/** A rule that lets relevance pass unchanged (Captum's ReLU, Tanh and Dropout). */
export const passThrough: GradRule = {
  differentiable: () => [0],
  grad: (ctx) => [ctx.dY0()],
};
