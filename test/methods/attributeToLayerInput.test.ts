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
