import { Approximation, integrationPoints } from './approximation';
import { Method, MethodContext, MethodOutput, P, baselineOf, gradientsAt, inputTensor, requireFloatInput, pathRows, stackRows, targetScores } from './base';
import { layerTensor } from './layerTarget';
import { MethodInfo } from './types';

/**
 * Dhamdhere et al. 2018, https://arxiv.org/abs/1805.12233 (Captum's LayerConductance): along
 * nSteps + 1 input path points, the layer gradient at each point times the change of the
 * layer's value to the next point, summed — the chain-rule form of the input path integral.
 */
export class LayerConductance extends Method {
  readonly info: MethodInfo = {
    id: 'layer-conductance',
    captumName: 'LayerConductance',
    family: 'layer',
    description: "Total conductance of each layer neuron: the path integral of the target's gradient times the neuron's change along the input path from the baseline.",
    needsGradients: true,
    layerShaped: true,
    params: [
      P.layer(true),
      P.baselines(0),
      P.nSteps(50),
      P.igMethod(),
      P.internalBatchSize(),
      { name: 'returnConvergenceDelta', kind: 'boolean', default: false, description: 'report sum(attributions) - (f(input) - f(baseline))' },
      P.attributeToLayerInput(),
    ],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'layer-conductance');
    const layer = await layerTensor(ctx, ctx.params.attributeToLayerInput as boolean);
    const xt = inputTensor(ctx);
    const x = xt.data as Float32Array;
    const base = baselineOf(ctx);
    const n = ctx.params.nSteps as number;
    // Captum takes the alphas of the method for nSteps + 1 points (its step weights are unused)
    const { alphas } = integrationPoints(ctx.params.method as Approximation, n + 1);
    const rows = pathRows(xt.dims, x, base, alphas);
    const res = await gradientsAt(ctx, rows, { wrt: [layer.name], batchSize: ctx.params.internalBatchSize as number | undefined, phase: 'integrating' });
    const g = res.grads[layer.name].data as Float32Array;
    const per = g.length / (n + 1);
    // a graph input other than the attributed one does not change along the path
    const a = (res.values[layer.name] ?? (layer.name === ctx.input ? rows : undefined))?.data as Float32Array | undefined ?? new Float32Array(g.length);
    const attr = new Float32Array(per);
    let total = 0;
    for (let i = 0; i < per; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += g[k * per + i] * (a[(k + 1) * per + i] - a[k * per + i]);
      total += attr[i] = s;
    }
    const out: MethodOutput = { attributions: { [ctx.input]: { dtype: 'float32', dims: layer.dims, data: attr } }, layer: layer.name };
    if (ctx.params.returnConvergenceDelta) {
      const f = await targetScores(ctx, stackRows(xt.dims, 2, (i, row) => row.set(i === 0 ? x : base)));
      out.delta = total - (f[0] - f[1]);
    }
    return out;
  }
}
