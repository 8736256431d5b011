import { Approximation, integrationPoints } from './approximation';
import { Method, MethodContext, MethodOutput, P, baselineOf, gradientsAt, inputTensor, requireFloatInput, pathRows } from './base';
import { layerTensor } from './layerTarget';
import { MethodInfo } from './types';

/** Leino et al. 2018, https://arxiv.org/abs/1802.03788 (Captum's InternalInfluence). */
export class InternalInfluence extends Method {
  readonly info: MethodInfo = {
    id: 'internal-influence',
    captumName: 'InternalInfluence',
    family: 'layer',
    description: 'Gradients of the target with respect to the layer, integrated along the straight input path from the baseline to the input.',
    needsGradients: true,
    layerShaped: true,
    params: [P.layer(true), P.baselines(0), P.nSteps(50), P.igMethod(), P.internalBatchSize(), P.attributeToLayerInput()],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'internal-influence');
    const layer = await layerTensor(ctx, ctx.params.attributeToLayerInput as boolean);
    const x = inputTensor(ctx).data as Float32Array;
    const base = baselineOf(ctx);
    const n = ctx.params.nSteps as number;
    const { alphas, weights } = integrationPoints(ctx.params.method as Approximation, n);
    const rows = pathRows(inputTensor(ctx).dims, x, base, alphas);
    const res = await gradientsAt(ctx, rows, { wrt: [layer.name], batchSize: ctx.params.internalBatchSize as number | undefined, phase: 'integrating' });
    const g = res.grads[layer.name].data as Float32Array;
    const per = g.length / n;
    const acc = new Float64Array(per);
    for (let k = 0; k < n; k++) for (let i = 0; i < per; i++) acc[i] += weights[k] * g[k * per + i];
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: layer.dims, data: Float32Array.from(acc) } }, layer: layer.name };
  }
}
