import { AttrLensError } from '../core/errors';
import { Method, MethodContext, MethodOutput, P, baselineOf, inputTensor, requireFloatInput, stackRows } from './base';
import { MAXPOOL_RULE, baselineSet } from './deeplift';
import { attributeToNeuronInput, layerTensor, multiplyByInputs, neuronGradients, neuronIndex } from './layerTarget';
import { MethodInfo } from './types';

/**
 * DeepLift (https://arxiv.org/abs/1704.02685) of one neuron of a layer, averaged over the
 * baselines: each (input, baseline) pair runs in one batch [x × K; baselines] so the rescale
 * rule sees both, seeded on the neuron in every row as Captum does.
 */
async function neuronDeepLift(ctx: MethodContext, id: string, bases: Float32Array[]): Promise<MethodOutput> {
  requireFloatInput(ctx, id);
  if (ctx.lm.maxBatch < 2) throw new AttrLensError(`${id} runs each input together with its baseline in one batch, and ${ctx.lm.label} does not batch: use neuron-integrated-gradients`);
  const layer = await layerTensor(ctx, ctx.params.attributeToNeuronInput as boolean, 'attributeToNeuronInput');
  const neuron = neuronIndex(ctx.params.neuronSelector, layer.dims, layer.name);
  const xt = inputTensor(ctx);
  const x = xt.data as Float32Array;
  const k = bases.length;
  const rows = stackRows(xt.dims, 2 * k, (i, row) => row.set(i < k ? x : bases[i - k]));
  const ruleSet = ctx.params.maxPoolRule === 'rescale' ? 'deeplift-maxpool' : 'deeplift';
  const g = (await neuronGradients(ctx, layer.name, neuron, rows, { ruleSet, batchSize: 2 * k })).grads[ctx.input].data as Float32Array;
  const mult = ctx.params.multiplyByInputs as boolean;
  const attr = new Float32Array(x.length);
  for (let j = 0; j < k; j++) {
    const b = bases[j];
    for (let i = 0; i < x.length; i++) {
      const m = g[j * x.length + i];
      attr[i] += (mult ? (x[i] - b[i]) * m : m) / k;
    }
  }
  return { attributions: { [ctx.input]: { dtype: 'float32', dims: xt.dims, data: attr } }, layer: layer.name };
}

/** Captum's NeuronDeepLift: DeepLift's rescale rule from one neuron of a layer to the input. */
export class NeuronDeepLift extends Method {
  readonly info: MethodInfo = {
    id: 'neuron-deeplift',
    captumName: 'NeuronDeepLift',
    family: 'neuron',
    description: "DeepLift from one neuron of a layer (not the model output): the neuron's difference from its baseline value, propagated back with the rescale rule.",
    needsGradients: true,
    params: [P.layer(true), P.neuron(), P.baselines(0), multiplyByInputs('(input - baseline)'), MAXPOOL_RULE, attributeToNeuronInput()],
  };
  run(ctx: MethodContext): Promise<MethodOutput> {
    return neuronDeepLift(ctx, this.info.id, [baselineOf(ctx)]);
  }
}

/** Captum's NeuronDeepLiftShap: NeuronDeepLift averaged over a distribution of baselines. */
export class NeuronDeepLiftShap extends Method {
  readonly info: MethodInfo = {
    id: 'neuron-deeplift-shap',
    captumName: 'NeuronDeepLiftShap',
    family: 'neuron',
    description: 'NeuronDeepLift averaged over a set of baselines (SHAP values of one neuron).',
    needsGradients: true,
    params: [
      P.layer(true),
      P.neuron(),
      { name: 'baselines', kind: 'baseline', default: 0, description: 'baseline distribution: a (K, ...input) tensor (.npy), or a number' },
      multiplyByInputs('(input - baseline)'),
      MAXPOOL_RULE,
      attributeToNeuronInput(),
    ],
  };
  run(ctx: MethodContext): Promise<MethodOutput> {
    return neuronDeepLift(ctx, this.info.id, baselineSet(ctx));
  }
}
