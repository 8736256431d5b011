import { AttrLensError } from '../core/errors';
import { repeatRows } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, baselineOf, gradientsAt, inputTensor, requireFloatInput, stackRows, targetScores } from './base';
import { MAXPOOL_RULE, baselineSet } from './deeplift';
import { layerTensor, multiplyByInputs } from './layerTarget';
import { MethodInfo } from './types';

/**
 * DeepLift multipliers at a layer, times the layer's difference from its value for each
 * baseline, averaged over the baselines. One batch [x × K; baselines] so the rescale rule sees
 * input and baseline together.
 */
async function layerDeepLift(ctx: MethodContext, id: string, bases: Float32Array[]): Promise<MethodOutput & { total: number }> {
  requireFloatInput(ctx, id);
  if (ctx.lm.maxBatch < 2) throw new AttrLensError(`${id} runs each input together with its baseline in one batch, and ${ctx.lm.label} does not batch: use layer-integrated-gradients`);
  const layer = await layerTensor(ctx, ctx.params.attributeToLayerInput as boolean);
  const xt = inputTensor(ctx);
  const x = xt.data as Float32Array;
  const k = bases.length;
  const rows = stackRows(xt.dims, 2 * k, (i, row) => row.set(i < k ? x : bases[i - k]));
  const ruleSet = ctx.params.maxPoolRule === 'rescale' ? 'deeplift-maxpool' : 'deeplift';
  // attributing to the layer's input, Captum differentiates a clone made after the layer module's
  // own hook, so that module (the node producing the layer) keeps its plain gradient
  const plainRules = ctx.params.attributeToLayerInput ? [ctx.params.layer as string] : undefined;
  const res = await gradientsAt(ctx, rows, { wrt: [layer.name], ruleSet, batchSize: 2 * k, plainRules });
  const g = res.grads[layer.name].data as Float32Array;
  // (2K, ...layer): the layer's values for the inputs, then for the baselines
  // a graph input other than the attributed one keeps its feed in every row (no difference)
  const av = res.values[layer.name] ?? (layer.name === ctx.input ? rows : ctx.feeds[layer.name] && repeatRows(ctx.feeds[layer.name], 2 * k));
  if (!av) throw new AttrLensError(`internal: ${id} got no values of layer '${layer.name}' from the gradient run`);
  const a = av.data as Float32Array;
  const per = g.length / (2 * k);
  const mult = ctx.params.multiplyByInputs as boolean;
  const attr = new Float32Array(per);
  let total = 0;
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < per; i++) {
      const m = g[j * per + i];
      attr[i] += (mult ? (a[j * per + i] - a[(k + j) * per + i]) * m : m) / k;
    }
  }
  for (let i = 0; i < per; i++) total += attr[i];
  return { attributions: { [ctx.input]: { dtype: 'float32', dims: layer.dims, data: attr } }, layer: layer.name, total };
}

/** Captum's LayerDeepLift: DeepLift (https://arxiv.org/abs/1704.02685) attributed to a layer's neurons. */
export class LayerDeepLift extends Method {
  readonly info: MethodInfo = {
    id: 'layer-deeplift',
    captumName: 'LayerDeepLift',
    family: 'layer',
    description: "DeepLift multipliers at a layer times the layer's difference from its baseline value: each layer neuron's share of f(input) - f(baseline).",
    needsGradients: true,
    layerShaped: true,
    params: [
      P.layer(true),
      P.baselines(0),
      multiplyByInputs("(layer(input) - layer(baseline))"),
      MAXPOOL_RULE,
      { name: 'returnConvergenceDelta', kind: 'boolean', default: false, description: 'report sum(attributions) - (f(input) - f(baseline))' },
      P.attributeToLayerInput(),
    ],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const base = baselineOf(ctx);
    const { total, ...out } = await layerDeepLift(ctx, this.info.id, [base]);
    if (ctx.params.returnConvergenceDelta) {
      const xt = inputTensor(ctx);
      const f = await targetScores(ctx, stackRows(xt.dims, 2, (i, row) => row.set(i === 0 ? (xt.data as Float32Array) : base)));
      out.delta = total - (f[0] - f[1]);
    }
    return out;
  }
}

/** Captum's LayerDeepLiftShap: LayerDeepLift averaged over a distribution of baselines. */
export class LayerDeepLiftShap extends Method {
  readonly info: MethodInfo = {
    id: 'layer-deeplift-shap',
    captumName: 'LayerDeepLiftShap',
    family: 'layer',
    description: 'LayerDeepLift averaged over a set of baselines (SHAP values of the layer neurons).',
    needsGradients: true,
    layerShaped: true,
    params: [
      P.layer(true),
      { name: 'baselines', kind: 'baseline', default: 0, description: 'baseline distribution: a (K, ...input) tensor (.npy), or a number' },
      multiplyByInputs("(layer(input) - layer(baseline))"),
      MAXPOOL_RULE,
      P.attributeToLayerInput(),
    ],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const { total: _total, ...out } = await layerDeepLift(ctx, this.info.id, baselineSet(ctx));
    return out;
  }
}
