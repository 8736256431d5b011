import { lrpMultiplies, parseLrpRules } from '../autodiff/rules/lrp';
import { AttrLensError, closest } from '../core/errors';
import { Tensor } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, gradientsAt, inputTensor, pick, requireFloatInput, targetScores } from './base';
import { layerTensor } from './layerTarget';
import { MethodInfo, ParamSpec } from './types';

const RULES: ParamSpec = {
  name: 'rules',
  kind: 'json',
  description:
    'rule per layer, by the output tensor name of its node: epsilon (default for Conv, Linear, pooling, BatchNorm), gamma, alpha1beta0 or identity, e.g. {"/conv1/Conv_output_0": "gamma"} or {"/fc/Gemm_output_0": {"rule": "epsilon", "epsilon": 0.25}}',
};

const DELTA: ParamSpec = { name: 'returnConvergenceDelta', kind: 'boolean', default: false, description: 'report f(input) - sum(relevances) (0 when relevance is conserved)' };

/** The `rules` parameter checked against the graph: every key a node's output, every value a rule. */
function lrpRulesOf(ctx: MethodContext): Record<string, unknown> | undefined {
  const rules = ctx.params.rules as Record<string, unknown> | undefined;
  if (!rules || Object.keys(rules).length === 0) return undefined;
  parseLrpRules(rules);
  const outputs = new Set(ctx.lm.forwardModel.graph.node.flatMap((n) => n.output));
  for (const k of Object.keys(rules)) {
    if (!outputs.has(k)) throw new AttrLensError(`rules: '${k}' is not the output of a node of ${ctx.lm.label}; closest: ${closest(k, outputs).join(', ')} (attrlens inspect lists the layers)`);
  }
  return rules;
}

/**
 * Relevances at `wrt` (normalised: the seed is one-hot on the target) times the target's output,
 * as Captum scales them; with the delta f(x) - sum(relevances) when asked.
 */
async function relevances(ctx: MethodContext, wrt: string): Promise<{ r: Tensor; delta?: number }> {
  const rules = lrpRulesOf(ctx);
  const res = await gradientsAt(ctx, undefined, { wrt: [wrt], ruleSet: 'lrp', lrpRules: rules });
  const f = ctx.spec ? (await targetScores(ctx, inputTensor(ctx)))[0] : pick(res.output, ctx.target)[0];
  const g = res.grads[wrt];
  // where the backward pass stops, the tensor's own hook is still to apply: times its value if it feeds a layer
  const value = lrpMultiplies(ctx.lm.forwardModel, wrt, rules ?? {}) ? ((ctx.feeds[wrt] ?? res.values[wrt]).data as Float32Array) : undefined;
  const data = Float32Array.from(g.data as Float32Array, (v, i) => v * f * (value ? value[i] : 1));
  let total = 0;
  for (const v of data) total += v;
  return { r: { dtype: 'float32', dims: g.dims, data }, ...(ctx.params.returnConvergenceDelta ? { delta: f - total } : {}) };
}

/**
 * Bach et al. 2015, https://doi.org/10.1371/journal.pone.0130140 (Captum's LRP): the target's
 * output is decomposed layer by layer into relevances of the input, by each layer's rule.
 */
export class Lrp extends Method {
  readonly info: MethodInfo = {
    id: 'lrp',
    captumName: 'LRP',
    family: 'gradient',
    description: "Layer-wise relevance propagation: the target's output split back over the input by per-layer rules (epsilon by default; Relu, Tanh and Dropout pass relevance through).",
    needsGradients: true,
    params: [RULES, DELTA],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'lrp');
    const { r, delta } = await relevances(ctx, ctx.input);
    return { attributions: { [ctx.input]: r }, ...(delta !== undefined ? { delta } : {}) };
  }
}

/** Captum's LayerLRP: the relevance reaching a layer's output (or input) during LRP. */
export class LayerLrp extends Method {
  readonly info: MethodInfo = {
    id: 'layer-lrp',
    captumName: 'LayerLRP',
    family: 'layer',
    description: "Layer-wise relevance propagation stopped at a layer: each of its neurons' share of the target's output.",
    needsGradients: true,
    layerShaped: true,
    params: [P.layer(true), RULES, DELTA, P.attributeToLayerInput()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const layer = await layerTensor(ctx, ctx.params.attributeToLayerInput as boolean);
    const { r, delta } = await relevances(ctx, layer.name);
    return { attributions: { [ctx.input]: r }, layer: layer.name, ...(delta !== undefined ? { delta } : {}) };
  }
}
