// Tiny hand-set models for the gradient-free method and metric tests.
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { close, feed, model, run, values } from './helpers';
import { Tensor } from '../../src/engine/core/tensor';

export { close, feed, model, run, values };

/** y = flatten(x) Wᵀ (+ bias), (N, K). */
export function gemm(b: GraphBuilder, x: string, w: number[][], bias?: number[], out = 'out'): string {
  const f = b.op('Flatten', [x], { axis: attr.int(1) });
  const ins = [f, b.f32(w.flat(), [w.length, w[0].length])];
  if (bias) ins.push(b.f32(bias, [bias.length]));
  return b.add('Gemm', ins, { transB: attr.int(1) }, [out])[0];
}

/** f(x) = W x + bias over an input of dims `rest`. */
export const linear = (rest: number[], w: number[][], bias?: number[]) => model(rest, (b) => gemm(b, 'x', w, bias));

/** x → Relu = `act` → Flatten → Gemm(W) = out. */
export const reluLinear = (rest: number[], w: number[][]) =>
  model(rest, (b) => gemm(b, b.add('Relu', ['x'], {}, ['act'])[0], w));


/** Runs `method` with perturbationsPerEval 1, 2 and 3 and checks the three results are identical. */
export async function samePerEval(lm: LoadedModel, feeds: Record<string, Tensor>, method: string, target: number, params: Record<string, unknown> = {}): Promise<number[]> {
  const results = [];
  for (const perturbationsPerEval of [1, 2, 3]) results.push(values(await run(lm, feeds, method, target, { ...params, perturbationsPerEval })));
  close(results[1], results[0], 1e-6, `${method} perturbationsPerEval 2 vs 1`);
  close(results[2], results[0], 1e-6, `${method} perturbationsPerEval 3 vs 1`);
  return results[0];
}
