// Gradients through opset 7-10 graphs (checked on the upgraded graph against the original), and
// ReduceProd's gradient where the product has zeros (hand-computed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runGradients } from '../../src/engine/gradients/run';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder, valueInfo } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { Tensor } from '../../src/engine/core/tensor';
import { checkCase, FdCase, fixedGradients, rng } from './fd';
import { legacyCases } from './cases/legacy';

for (const c of legacyCases) test(`FD: ${c.name}`, { todo: c.todo }, async () => void (await checkCase(c)));

test('ReduceProd gradient with zeros: the product of the others, exactly', async () => {
  const c: FdCase = { name: 'ReduceProd zeros', fixed: true, inputs: { x: { dims: [3, 3] } }, build: (b, x) => b.op('ReduceProd', [x.x], { axes: attr.ints([1]), keepdims: attr.int(0) }) };
  // rows: no zero, one zero, two zeros
  const x = Float32Array.from([2, -3, 0.5, 4, 0, -2, 0, 5, 0]);
  const seed = Float32Array.from([1, 2, -1]);
  const g = await fixedGradients(c, { x: { dtype: 'float32', dims: [3, 3], data: x } }, { dtype: 'float32', dims: [3], data: seed });
  const expected = [-3 * 0.5, 2 * 0.5, 2 * -3, 0, 2 * (4 * -2), 0, 0, 0, 0];
  assert.deepEqual(Array.from(g.x.data as Float32Array, (v) => v + 0), expected); // + 0: -0 as 0
});

test('IR 3 Caffe2-style classifier (initializers as inputs; Conv, LRN, MaxPool, Dropout, Gemm, Softmax at opset 8): saliency gradient against central differences', async () => {
  const m = OnnxModel.empty(8, 3);
  const b = new GraphBuilder(m, 'c2');
  b.addInput('data_0', 1, [1, 3, 8, 8]);
  const r = rng('caffe2');
  const param = (name: string, dims: number[], scale = 0.5) => {
    const p = b.param(name, dims, Array.from({ length: dims.reduce((a, c) => a * c, 1) }, () => (r() - 0.5) * 2 * scale));
    m.graph.input.push(valueInfo(name, 1, dims)); // IR 3: every initializer is also a graph input
    return p;
  };
  const conv = b.op('Conv', ['data_0', param('conv1_w_0', [4, 3, 3, 3]), param('conv1_b_0', [4])], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
  const lrn = b.op('LRN', [b.op('Relu', [conv])], { size: attr.int(3), alpha: attr.float(0.5), beta: attr.float(0.75), bias: attr.float(1) });
  const pool = b.op('MaxPool', [lrn], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]) });
  const drop = b.op('Dropout', [pool], { ratio: attr.float(0.5) });
  const y = b.op('Softmax', [b.op('Gemm', [b.op('Flatten', [drop]), param('fc_w_0', [3, 36]), param('fc_b_0', [3])], { transB: attr.int(1) })]);
  b.addOutput(y);
  const lm = await LoadedModel.fromModel(m);
  assert.deepEqual(lm.inputs.map((i) => i.name), ['data_0']);
  const x = Float32Array.from({ length: 192 }, () => r() * 2 - 1);
  const feeds = (data: Float32Array): Record<string, Tensor> => ({ data_0: { dtype: 'float32', dims: [1, 3, 8, 8], data } });
  const seed: Tensor = { dtype: 'float32', dims: [1, 3], data: Float32Array.from([0, 1, 0]) };
  const g = (await runGradients(lm, feeds(x), { output: y, wrt: ['data_0'] }, seed)).grads.data_0.data as Float32Array;
  const f = async (data: Float32Array) => ((await lm.forward(feeds(data), [y]))[y].data as Float32Array)[1];
  for (let k = 0; k < 3; k++) {
    const u = Float32Array.from({ length: 192 }, () => r() * 2 - 1);
    const h = 1e-4; // a MaxPool window changes its argmax within 1e-3 along direction 0
    const fd = ((await f(x.map((v, i) => v + h * u[i]))) - (await f(x.map((v, i) => v - h * u[i])))) / (2 * h);
    const analytic = g.reduce((a, gi, i) => a + gi * u[i], 0);
    assert.ok(Math.abs(fd - analytic) <= 0.01 * Math.abs(fd) + 1e-3, `direction ${k}: <g, u> = ${analytic}, finite differences ${fd}`);
  }
});
