// Tiny hand-set models for the gradient, layer, neuron and CAM method tests.
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
  const b = new GraphBuilder(m, 't');
  b.addInput('x', 1, ['N', ...rest]);
  b.addOutput(build(b), 1);
  return LoadedModel.fromModel(m);
}

export const flat = (rows: number[][]) => rows.flat();

/** y = x W^T + bias, named `out`. */
export function gemm(b: GraphBuilder, x: string, w: number[][], bias: number[] | undefined, out: string): string {
  const ins = [x, b.f32(flat(w), [w.length, w[0].length])];
  if (bias) ins.push(b.f32(bias, [bias.length]));
  return b.add('Gemm', ins, { transB: attr.int(1) }, [out])[0];
}

/** f(x) = W x + bias: (N, D) → (N, K). */
export const linearModel = (w: number[][], bias?: number[]) => model([w[0].length], (b) => gemm(b, 'x', w, bias, 'out'));

/** x → Gemm(W1, b1) = h → Relu = r → Gemm(W2) = out; with `relu` false, h feeds the second Gemm. */
export const mlpModel = (w1: number[][], b1: number[], w2: number[][], relu = true) =>
  model([w1[0].length], (b) => {
    const h = gemm(b, 'x', w1, b1, 'h');
    const r = relu ? b.add('Relu', [h], {}, ['r'])[0] : h;
    return gemm(b, r, w2, undefined, 'out');
  });

/** x (N, ...rest) → Relu = `act` → Flatten → Gemm(W) = out: the gradient at `act` is W[target] reshaped. */
export const reluFlatModel = (rest: number[], w: number[][], act = 'act') =>
  model(rest, (b) => {
    const a = b.add('Relu', ['x'], {}, [act])[0];
    const f = b.op('Flatten', [a], { axis: attr.int(1) });
    return gemm(b, f, w, undefined, 'out');
  });

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
    assert.ok(Math.abs(a - e) <= tol * (1 + Math.abs(e)), `${what}[${i}]: ${a} vs expected ${e} (tol ${tol})\nactual   ${Array.from(actual).map((v) => v.toFixed(6)).join(', ')}\nexpected ${Array.from(expected).map((v) => v.toFixed(6)).join(', ')}`);
  }
}
