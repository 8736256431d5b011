import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr } from '../../src/engine/onnx/attributes';
import { close, feed, gemm, mlpModel, model, run, values } from './grad-models';

// attributeToLayerInput where Captum offers it: LayerGradCam and LayerIntegratedGradients take the
// input of the node producing the layer.
const W1 = [
  [1, -2, 0.5],
  [0.5, 1, -1],
  [-1, 0.25, 2],
  [2, 1.5, -0.5],
];
const B1 = [0.1, -0.2, 0.3, 0];
const W2 = [
  [1.5, -1, 0.5, 2],
  [-0.5, 2, 1, -1],
];
const X = [0.7, -0.4, 1.1];
const h = (x: number[]) => W1.map((row, j) => row.reduce((s, k, i) => s + k * x[i], B1[j]));

test('layer-integrated-gradients with attributeToLayerInput integrates at the Relu input: W2[t]·(relu(h(x)) - relu(h(b)))', async () => {
  const lm = await mlpModel(W1, B1, W2);
  const base = [-0.5, 0.9, 0.2];
  const r = await run(lm, feed([1, 3], X), 'layer-integrated-gradients', 1, { layer: 'r', attributeToLayerInput: true, baselines: [base], nSteps: 400, method: 'riemann_middle' });
  assert.equal(r.layer, 'h');
  assert.deepEqual(Object.values(r.attributions)[0].dims, [1, 4]);
  // along the straight path in h, the gradient W2[t][j]·[h_j > 0] integrates to W2[t][j]·Δrelu(h_j)
  const want = h(X).map((v, j) => W2[1][j] * (Math.max(0, v) - Math.max(0, h(base)[j])));
  close(values(r), want, 5e-3);
  // each kink of a Relu costs at most |W2·Δh|/nSteps of the midpoint sum
  assert.ok(Math.abs(r.delta!) < 2e-2, `complete: ${r.delta}`);
  // without it, the layer is r itself
  assert.equal((await run(lm, feed([1, 3], X), 'layer-integrated-gradients', 1, { layer: 'r', nSteps: 4 })).layer, 'r');
});

test('gradcam with attributeToLayerInput is GradCAM of the layer producing it (the Relu input)', async () => {
  // x (1, 1, 4, 4) → Conv 3×3 pad 1 (2 ch) = c → Relu = a → Flatten → Gemm
  const k = [0.5, -1, 0.25, 1, 1.5, 0.5, -0.5, 0.2, 0.3, -1, 1, 0.5, 0.5, -0.2, 0.7, 0.9, -1.3, 0.4];
  const lm = await model([1, 4, 4], (b) => {
    const c = b.add('Conv', ['x', b.f32(k, [2, 1, 3, 3])], { pads: attr.ints([1, 1, 1, 1]) }, ['c'])[0];
    const a = b.add('Relu', [c], {}, ['a'])[0];
    return gemm(b, b.op('Flatten', [a], { axis: attr.int(1) }), [Array.from({ length: 32 }, (_, i) => Math.sin(i + 0.5))], undefined, 'out');
  });
  const x = Array.from({ length: 16 }, (_, i) => Math.cos(i * 0.9));
  const toInput = await run(lm, feed([1, 1, 4, 4], x), 'gradcam', 0, { layer: 'a', attributeToLayerInput: true });
  assert.equal(toInput.layer, 'c');
  close(values(toInput), values(await run(lm, feed([1, 1, 4, 4], x), 'gradcam', 0, { layer: 'c' })), 1e-6);
  const atA = values(await run(lm, feed([1, 1, 4, 4], x), 'gradcam', 0, { layer: 'a' }));
  assert.ok(atA.some((v, i) => Math.abs(v - values(toInput)[i]) > 1e-3), 'the Relu input gives another map than its output');
});

// Captum replaces a layer's input through a forward pre-hook on the layer module: only that
// module reads the substituted value, and any other reader of the same tensor (a residual skip)
// keeps the original. Gradient methods differentiate the original tensor, every reader included.
//   x → Relu = h → Gemm(2I) = c → Add(c, h) = s → Gemm([1, 1]) = out; layer c, its input h
const S = 2;
const residualModel = (skip = true) =>
  model([2], (b) => {
    const h = b.add('Relu', ['x'], {}, ['h'])[0];
    const c = gemm(b, h, [[S, 0], [0, S]], undefined, 'c');
    const s = skip ? b.add('Add', [c, h], {}, ['s'])[0] : c;
    return gemm(b, s, [[1, 1]], undefined, 'out');
  });
// x → Gemm(2I) = c → Add(c, x) → Gemm([1, 1]): the layer input is the graph input itself
const inputSkipModel = () =>
  model([2], (b) => {
    const c = gemm(b, 'x', [[S, 0], [0, S]], undefined, 'c');
    return gemm(b, b.add('Add', [c, 'x'], {}, ['s'])[0], [[1, 1]], undefined, 'out');
  });
const RX = [1, 2];
const relu = (v: number[]) => v.map((q) => Math.max(0, q));
// out = sum(S·h' + h) with h' the value c reads: changing h_i to v in c alone moves out by S·(v - h_i)
const throughLayer = (from: number[], to: number[]) => from.map((v, i) => S * (v - to[i]));

test('attributeToLayerInput substitutes the input of the layer only: a residual skip reading the same tensor keeps its value', async () => {
  const lm = await residualModel();
  const hx = relu(RX);
  const p = { layer: 'c', attributeToLayerInput: true };
  // ablating h_i to 0 in c: f drops by S·h_i = 2 4 (not (S + 1)·h_i = 3 6, the skip ablated too)
  const fa = await run(lm, feed([1, 2], RX), 'layer-feature-ablation', 0, p);
  assert.equal(fa.layer, 'h');
  assert.deepEqual(Object.values(fa.attributions)[0].dims, [1, 2]);
  close(values(fa), throughLayer(hx, [0, 0]), 1e-6);
  // a layer baseline of 0.5: the drop is S·(h_i - 0.5)
  close(values(await run(lm, feed([1, 2], RX), 'layer-feature-ablation', 0, { ...p, layerBaselines: 0.5 })), throughLayer(hx, [0.5, 0.5]), 1e-6);
  // LayerIntegratedGradients: the path in h feeds c only; the gradient through c is S, so S·(h(x) - h(0))
  const ig = await run(lm, feed([1, 2], RX), 'layer-integrated-gradients', 0, { ...p, nSteps: 8 });
  assert.equal(ig.layer, 'h');
  close(values(ig), throughLayer(hx, [0, 0]), 1e-5);
  // Captum's delta: sum(attr) - (f(x) - f(0)), the skip's share (sum h(x)) missing
  close([ig.delta!], [S * 3 - (S + 1) * 3], 1e-5);
  // LayerFeaturePermutation with one example: each feature of h takes the example's value in c only
  const e = [3, -1];
  const fp = await run(lm, feed([1, 2], RX), 'layer-feature-permutation', 0, { ...p, batchExamples: [e] });
  assert.equal(fp.layer, 'h');
  close(values(fp), throughLayer(hx, relu(e)), 1e-6);
});

test('attributeToLayerInput on a graph input read by the layer and a skip substitutes it for the layer only', async () => {
  const lm = await inputSkipModel();
  const p = { layer: 'c', attributeToLayerInput: true };
  close(values(await run(lm, feed([1, 2], RX), 'layer-feature-ablation', 0, p)), throughLayer(RX, [0, 0]), 1e-6);
  close(values(await run(lm, feed([1, 2], RX), 'layer-integrated-gradients', 0, { ...p, nSteps: 4 })), throughLayer(RX, [0, 0]), 1e-5);
  close(values(await run(lm, feed([1, 2], RX), 'layer-feature-permutation', 0, { ...p, batchExamples: [[3, -1]] })), throughLayer(RX, [3, -1]), 1e-6);
});

test('attributeToLayerInput gradient methods differentiate the original tensor, the skip included (as Captum)', async () => {
  const lm = await residualModel();
  const hx = relu(RX);
  const p = { layer: 'c', attributeToLayerInput: true };
  // d out / d h = S + 1 through c and the skip
  close(values(await run(lm, feed([1, 2], RX), 'layer-gradient-x-activation', 0, p)), hx.map((v) => (S + 1) * v), 1e-6);
  close(values(await run(lm, feed([1, 2], RX), 'internal-influence', 0, { ...p, nSteps: 4 })), [S + 1, S + 1], 1e-6);
  close(values(await run(lm, feed([1, 2], RX), 'layer-conductance', 0, { ...p, nSteps: 4, method: 'riemann_trapezoid' })), hx.map((v) => (S + 1) * v), 1e-5);
});

test('attributeToLayerInput with a single reader of the layer input: the same as attributing to that tensor', async () => {
  const lm = await residualModel(false);
  const hx = relu(RX);
  const cases: [string, Record<string, unknown>][] = [
    ['layer-feature-ablation', {}],
    ['layer-integrated-gradients', { nSteps: 4 }],
    ['layer-feature-permutation', { batchExamples: [[3, -1]] }],
  ];
  for (const [id, extra] of cases) {
    const toInput = await run(lm, feed([1, 2], RX), id, 0, { layer: 'c', attributeToLayerInput: true, ...extra });
    assert.equal(toInput.layer, 'h', id);
    const atH = await run(lm, feed([1, 2], RX), id, 0, { layer: 'h', ...extra });
    close(values(toInput), values(atH), 1e-6, id);
  }
  close(values(await run(lm, feed([1, 2], RX), 'layer-feature-ablation', 0, { layer: 'c', attributeToLayerInput: true })), throughLayer(hx, [0, 0]), 1e-6);
});
