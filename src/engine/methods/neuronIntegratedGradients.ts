import { Approximation, integrationPoints } from './approximation';
import { Method, MethodContext, MethodOutput, P, baselineOf, inputTensor, requireFloatInput, pathRows } from './base';
import { attributeToNeuronInput, layerTensor, multiplyByInputs, neuronGradients, neuronIndex } from './layerTarget';
import { MethodInfo } from './types';

/** Captum's NeuronIntegratedGradients (https://arxiv.org/abs/1703.01365 for one neuron). */
export class NeuronIntegratedGradients extends Method {
  readonly info: MethodInfo = {
    id: 'neuron-integrated-gradients',
    captumName: 'NeuronIntegratedGradients',
    family: 'neuron',
    description: "Integrated gradients of one neuron of a layer (not the model output) along the path from the baseline to the input.",
    needsGradients: true,
    params: [P.layer(true), P.neuron(), P.baselines(0), P.nSteps(50), P.igMethod(), P.internalBatchSize(), multiplyByInputs('(input - baseline)'), attributeToNeuronInput()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'neuron-integrated-gradients');
    const layer = await layerTensor(ctx, ctx.params.attributeToNeuronInput as boolean, 'attributeToNeuronInput');
    const neuron = neuronIndex(ctx.params.neuronSelector, layer.dims, layer.name);
    const xt = inputTensor(ctx);
    const x = xt.data as Float32Array;
    const base = baselineOf(ctx);
    const n = ctx.params.nSteps as number;
    const { alphas, weights } = integrationPoints(ctx.params.method as Approximation, n);
    const rows = pathRows(xt.dims, x, base, alphas);
    const res = await neuronGradients(ctx, layer.name, neuron, rows, { batchSize: ctx.params.internalBatchSize as number | undefined, phase: 'integrating' });
    const g = res.grads[ctx.input].data as Float32Array;
    const per = x.length;
    const mult = ctx.params.multiplyByInputs as boolean;
    const attr = new Float32Array(per);
    for (let i = 0; i < per; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += weights[k] * g[k * per + i];
      attr[i] = mult ? s * (x[i] - base[i]) : s;
    }
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: xt.dims, data: attr } }, layer: layer.name };
  }
}
