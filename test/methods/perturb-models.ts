// Tiny hand-set models for the gradient-free method and metric tests.
import assert from 'node:assert/strict';
import { LoadedModel } from '../../src/engine/loaded';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { attribute } from '../../src/engine/methods/registry';
import { AttributionResult } from '../../src/engine/methods/types';
import { Tensor } from '../../src/engine/tensor';

/** A model with one float input `x` of dims ['N', ...rest]; `build` returns the output tensor. */
export async function model(rest: number[], build: (b: GraphBuilder) => string): Promise<LoadedModel> {
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 'p');
  b.addInput('x', 1, ['N', ...rest]);
  b.addOutput(build(b), 1);
  return LoadedModel.fromModel(m);
}

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

export function feed(dims: number[], data: number[]): Record<string, Tensor> {
  return { x: { dtype: 'float32', dims, data: Float32Array.from(data) } };
}

export async function run(lm: LoadedModel, feeds: Record<string, Tensor>, method: string, target: number, params: Record<string, unknown> = {}): Promise<AttributionResult> {
  return attribute(lm, feeds, { method, target, params });
}

export function values(r: AttributionResult): number[] {
  return Array.from(Object.values(r.attributions)[0].data as Float32Array);
}

export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    assert.ok(Math.abs(a - e) <= tol * (1 + Math.abs(e)), `${what}[${i}]: ${a} vs expected ${e} (tol ${tol})\nactual   ${Array.from(actual).join(', ')}\nexpected ${Array.from(expected).join(', ')}`);
  }
}

/** Runs `method` with perturbationsPerEval 1, 2 and 3 and checks the three results are identical. */
export async function samePerEval(lm: LoadedModel, feeds: Record<string, Tensor>, method: string, target: number, params: Record<string, unknown> = {}): Promise<number[]> {
  const results = [];
  for (const perturbationsPerEval of [1, 2, 3]) results.push(values(await run(lm, feeds, method, target, { ...params, perturbationsPerEval })));
  close(results[1], results[0], 1e-6, `${method} perturbationsPerEval 2 vs 1`);
  close(results[2], results[0], 1e-6, `${method} perturbationsPerEval 3 vs 1`);
  return results[0];
}
