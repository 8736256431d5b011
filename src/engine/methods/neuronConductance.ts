import { Approximation, integrationPoints } from './approximation';
import { Method, MethodContext, MethodOutput, P, baselineOf, gradientsAt, inputTensor, requireFloatInput, pathRows } from './base';
import { attributeToNeuronInput, layerTensor, multiplyByInputs, neuronGradients, neuronIndex } from './layerTarget';
import { MethodInfo } from './types';

/**
 * Dhamdhere et al. 2018, https://arxiv.org/abs/1805.12233 (Captum's NeuronConductance): along the
 * input path, the target's gradient with respect to the neuron times the neuron's gradient with
 * respect to each input element, integrated (Captum's step sizes), times (input - baseline).
 */
export class NeuronConductance extends Method {
  readonly info: MethodInfo = {
    id: 'neuron-conductance',
    captumName: 'NeuronConductance',
    family: 'neuron',
    description: "Conductance of one neuron of a layer: how much of the target's change from the baseline flows through that neuron, per input element.",
    needsGradients: true,
    params: [
      P.layer(true),
      P.neuron(),
      P.baselines(0),
      P.nSteps(50),
      // Captum's NeuronConductance integrates with the trapezoid rule by default
      { ...P.igMethod(), default: 'riemann_trapezoid' },
      P.internalBatchSize(),
      multiplyByInputs('(input - baseline)'),
      attributeToNeuronInput(),
    ],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'neuron-conductance');
    const layer = await layerTensor(ctx, ctx.params.attributeToNeuronInput as boolean, 'attributeToNeuronInput');
    const neuron = neuronIndex(ctx.params.neuronSelector, layer.dims, layer.name);
    const xt = inputTensor(ctx);
    const x = xt.data as Float32Array;
    const base = baselineOf(ctx);
    const n = ctx.params.nSteps as number;
    const { alphas, weights } = integrationPoints(ctx.params.method as Approximation, n);
    // (nSteps, ...input) path points
    const rows = pathRows(xt.dims, x, base, alphas);
    const batchSize = ctx.params.internalBatchSize as number | undefined;
    // d target / d neuron at each step
    const layerGrad = (await gradientsAt(ctx, rows, { wrt: [layer.name], batchSize, phase: 'integrating' })).grads[layer.name].data as Float32Array;
    const perLayer = layerGrad.length / n;
    // d neuron / d input at each step
    const g = (await neuronGradients(ctx, layer.name, neuron, rows, { batchSize, phase: 'integrating' })).grads[ctx.input].data as Float32Array;
    const per = x.length;
    const mult = ctx.params.multiplyByInputs as boolean;
    const acc = new Float64Array(per);
    for (let k = 0; k < n; k++) {
      const w = weights[k] * layerGrad[k * perLayer + neuron];
      for (let i = 0; i < per; i++) acc[i] += w * g[k * per + i];
    }
    const attr = Float32Array.from(acc, (v, i) => (mult ? v * (x[i] - base[i]) : v));
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: xt.dims, data: attr } }, layer: layer.name };
  }
}
