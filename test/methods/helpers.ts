// What the gradient and gradient-free method tests share: a one-input model, feeds, a run and
// comparisons.
import assert from 'node:assert/strict';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { attribute } from '../../src/engine/methods/registry';
import { AttributionResult } from '../../src/engine/methods/types';
import { Tensor } from '../../src/engine/core/tensor';

/** A model with one float input `x` of dims ['N', ...rest]; `build` returns the output tensor. */
export async function model(rest: number[], build: (b: GraphBuilder) => string): Promise<LoadedModel> {
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 't');
  b.addInput('x', 1, ['N', ...rest]);
  b.addOutput(build(b), 1);
  return LoadedModel.fromModel(m);
}

export function feed(dims: number[], data: number[]): Record<string, Tensor> {
  return { x: { dtype: 'float32', dims, data: Float32Array.from(data) } };
}

export async function run(lm: LoadedModel, feeds: Record<string, Tensor>, method: string, target: number, params: Record<string, unknown> = {}): Promise<AttributionResult> {
  return attribute(lm, feeds, { method, target, params });
}

/** The single attribution tensor's values as numbers. */
export function values(r: AttributionResult): number[] {
  return Array.from(Object.values(r.attributions)[0].data as Float32Array);
}

export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    // the message lists every value: build it only on failure (large maps take seconds)
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) {
      assert.fail(`${what}[${i}]: ${a} vs expected ${e} (tol ${tol})\nactual   ${Array.from(actual).map((v) => v.toFixed(6)).join(', ')}\nexpected ${Array.from(expected).map((v) => v.toFixed(6)).join(', ')}`);
    }
  }
}
