// Tiny hand-set models for the gradient, layer, neuron and CAM method tests.
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { close, feed, model, run, values } from './helpers';

export { close, feed, model, run, values };

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

