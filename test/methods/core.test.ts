// Captum-style exact cases for the core methods on tiny hand-set models, batching invariance,
// and the error paths users hit first.
import assert from 'node:assert/strict';
import test from 'node:test';
import { attr } from '../../src/engine/onnx/attributes';
import { integrationPoints } from '../../src/engine/methods/approximation';
import { close, feed, linearModel, mlpModel, model, run, values } from './grad-models';

const W = [
  [0.5, -1, 2, 0.25],
  [1, 1, -0.5, 3],
];
const X = [1, 2, -1, 0.5];

test('integrated gradients of a linear model is (x - baseline) * w for every approximation (trapezoid keeps Captum’s (n-1)/n)', async () => {
  const lm = await linearModel(W);
  const base = 0.5;
  for (const method of ['gausslegendre', 'riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid']) {
    const r = await run(lm, feed([1, 4], X), 'integrated-gradients', 1, { nSteps: 7, method, baselines: base });
    // Captum's Riemann weights are 1/n each; the trapezoid halves both ends, summing to (n-1)/n
    const scale = method === 'riemann_trapezoid' ? 6 / 7 : 1;
    close(values(r), X.map((x, i) => (x - base) * W[1][i] * scale), 1e-6, method);
  }
});

test('Gauss-Legendre points: 3 nodes at 0.5 ± sqrt(3/5)/2 with weights 5/18, 8/18, 5/18', () => {
  const { alphas, weights } = integrationPoints('gausslegendre', 3);
  close(Array.from(alphas), [0.5 - Math.sqrt(0.6) / 2, 0.5, 0.5 + Math.sqrt(0.6) / 2], 1e-12);
  close(Array.from(weights), [5 / 18, 8 / 18, 5 / 18], 1e-12);
});

test('integrated gradients: convergence delta is small on a ReLU network and results do not depend on internalBatchSize', async () => {
  const lm = await mlpModel([[1, -2, 0.5], [-1, 1, 1], [0.3, 0.2, -0.7], [2, -0.5, 1]], [0.1, -0.2, 0.05, 0], [[1, -1, 0.5, 2]]);
  const x = feed([1, 3], [0.8, -0.4, 1.2]);
  const all = await run(lm, x, 'integrated-gradients', 0, { nSteps: 256 });
  const f = Math.abs(values(await run(lm, x, 'input-x-gradient', 0)).reduce((a, b) => a + b, 0)) + 1e-6;
  assert.ok(Math.abs(all.delta!) < 0.01 * f + 1e-4, `delta ${all.delta} vs scale ${f}`);
  const chunked = await run(lm, x, 'integrated-gradients', 0, { nSteps: 256, internalBatchSize: 7 });
  close(values(chunked), values(all), 1e-5, 'internalBatchSize 7');
});

test('saliency, input x gradient and deeplift on a linear model', async () => {
  const lm = await linearModel(W, [0.1, -0.3]);
  const x = feed([1, 4], X);
  close(values(await run(lm, x, 'saliency', 0)), W[0].map(Math.abs));
  close(values(await run(lm, x, 'saliency', 0, { abs: false })), W[0]);
  close(values(await run(lm, x, 'input-x-gradient', 0)), X.map((v, i) => v * W[0][i]));
  const dl = await run(lm, x, 'deeplift', 1, { baselines: 1 });
  close(values(dl), X.map((v, i) => (v - 1) * W[1][i]));
  assert.ok(Math.abs(dl.delta!) < 1e-5);
});

test('deeplift rescale rule through a ReLU: completeness holds exactly where the gradient would not', async () => {
  // one hidden unit crossing the kink between baseline and input: gradient × Δx misses, DeepLift does not
  const lm = await mlpModel([[1, 1]], [-1], [[2]]);
  const x = feed([1, 2], [1.5, 1]);
  const r = await run(lm, x, 'deeplift', 0, { baselines: 0 });
  // f(x) = 2 relu(1.5 + 1 - 1) = 3, f(0) = 0; multiplier of the ReLU = Δout/Δin = 1.5/2.5
  close(values(r), [2 * 1.5 * (1.5 / 2.5), 2 * 1 * (1.5 / 2.5)]);
  assert.ok(Math.abs(r.delta!) < 1e-5);
});

test('occlusion on a linear model: window averages by hand, unchanged for perturbationsPerEval 1, 2, 3', async () => {
  const lm = await linearModel([[1, 2, 3, 4, 5, 6]]);
  const x = [1, 1, 1, 1, 1, 1];
  // window 2, stride 2 → windows {0,1}, {2,3}, {4,5}: drop = sum of w over the window
  const expected = [3, 3, 7, 7, 11, 11];
  for (const ppe of [1, 2, 3]) {
    close(values(await run(lm, feed([1, 6], x), 'occlusion', 0, { slidingWindowShapes: [2], strides: [2], perturbationsPerEval: ppe })), expected, 1e-6, `ppe ${ppe}`);
  }
  // window 2, stride 1 → 5 windows; element i is covered by windows i-1 and i: average of their drops
  const drops = [3, 5, 7, 9, 11];
  const avg = [drops[0], (drops[0] + drops[1]) / 2, (drops[1] + drops[2]) / 2, (drops[2] + drops[3]) / 2, (drops[3] + drops[4]) / 2, drops[4]];
  close(values(await run(lm, feed([1, 6], x), 'occlusion', 0, { slidingWindowShapes: [2], strides: 1 })), avg);
  // window 4, stride 3 → ceil((6-4)/3)+1 = 2 windows: [0,4) and [3,6) (cut at the edge, as Captum)
  close(values(await run(lm, feed([1, 6], x), 'occlusion', 0, { slidingWindowShapes: [4], strides: [3] })), [10, 10, 10, (10 + 15) / 2, 15, 15]);
});

test('occlusion coarse-to-fine streams a complete coarse map first and ends with the fine result', async () => {
  const lm = await linearModel([[1, 2, 3, 4, 5, 6, 7, 8]]);
  const phases: string[] = [];
  let firstPartial: number[] | undefined;
  const { attribute } = await import('../../src/engine/methods/registry');
  const r = await attribute(lm, feed([1, 8], [1, 1, 1, 1, 1, 1, 1, 1]), { method: 'occlusion', target: 0, params: { slidingWindowShapes: [1], strides: [1], coarseToFine: true, perturbationsPerEval: 2 } }, {
    onProgress: (p) => {
      if (p.phase) phases.push(p.phase);
      if (p.partial && !firstPartial && p.phase === 'coarse' && p.done === 2) firstPartial = Array.from(p.partial.data as Float32Array);
    },
  });
  close(values(r), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(phases.indexOf('coarse') < phases.indexOf('fine'));
  // coarse pass: tiles of 4 (four strides) → every element has a value before any fine step
  assert.deepEqual(firstPartial, [10, 10, 10, 10, 26, 26, 26, 26]);
});

test('feature ablation with a feature mask: one drop per group, unchanged for perturbationsPerEval 1, 2, 3', async () => {
  const lm = await linearModel([[1, 2, 3, 4, 5, 6]]);
  const mask = [[0, 0, 1, 1, 1, 2]];
  const x = [2, 1, 1, 1, -1, 3];
  const g0 = 1 * 2 + 2 * 1, g1 = 3 + 4 - 5, g2 = 18;
  for (const ppe of [1, 2, 3]) {
    close(values(await run(lm, feed([1, 6], x), 'feature-ablation', 0, { featureMask: mask, perturbationsPerEval: ppe })), [g0, g0, g1, g1, g1, g2], 1e-6, `ppe ${ppe}`);
  }
  // baseline 1: drop = sum w (x - 1) over the group
  // group 0: 1·(2-1) + 2·0 = 1; group 1: 3·0 + 4·0 + 5·(-2) = -10; group 2: 6·2 = 12
  close(values(await run(lm, feed([1, 6], x), 'feature-ablation', 0, { featureMask: mask, baselines: 1 })), [1, 1, -10, -10, -10, 12]);
});

test('gradcam by hand on a 1x1 conv feeding global average pooling', async () => {
  // x (1,2,2,2) → Conv 1x1 (2→2 channels) = A → GlobalAveragePool → Flatten → Gemm
  const conv = [1, -1, 0.5, 2];
  const fc = [[1, -2], [0.5, 1]];
  const lm = await model([2, 2, 2], (b) => {
    const a = b.add('Conv', ['x', b.f32(conv, [2, 2, 1, 1])], { kernel_shape: attr.ints([1, 1]) }, ['A'])[0];
    const p = b.op('GlobalAveragePool', [a]);
    const f = b.op('Flatten', [p], { axis: attr.int(1) });
    return b.add('Gemm', [f, b.f32(fc.flat(), [2, 2])], { transB: attr.int(1) }, ['out'])[0];
  });
  const x = [1, 2, 3, 4, /* channel 1 */ -1, 0, 1, 2];
  const A0 = [0, 1, 2, 3].map((i) => x[i] - x[4 + i]);
  const A1 = [0, 1, 2, 3].map((i) => 0.5 * x[i] + 2 * x[4 + i]);
  // target 0: dOut/dA_c = fc[0][c] / 4 everywhere; weights = fc[0][c] / 4; map = sum_c w_c A_c
  const expected = [0, 1, 2, 3].map((p) => (fc[0][0] / 4) * A0[p] + (fc[0][1] / 4) * A1[p]);
  const r = await run(lm, feed([1, 2, 2, 2], x), 'gradcam', 0);
  assert.equal(r.layer, 'A');
  assert.deepEqual(Object.values(r.attributions)[0].dims, [1, 1, 2, 2]);
  close(values(r), expected);
  const relu = await run(lm, feed([1, 2, 2, 2], x), 'gradcam', 0, { reluAttributions: true });
  close(values(relu), expected.map((v) => Math.max(0, v)));
});

test('error paths: window larger than the input, unknown layer, gradient method on an integer input, unknown parameter and method', async () => {
  const lm = await linearModel(W);
  const x = feed([1, 4], X);
  await assert.rejects(run(lm, x, 'occlusion', 0, { slidingWindowShapes: [5] }), /larger than the input/);
  await assert.rejects(run(lm, x, 'gradcam', 0, { layer: 'nope' }), /no float layer tensor 'nope'.*closest/);
  await assert.rejects(run(lm, x, 'integrated-gradients', 0, { nStep: 5 }), /has no parameter 'nStep'/);
  await assert.rejects(run(lm, x, 'integrated-gradient', 0), /unknown method 'integrated-gradient'.*integrated-gradients/);
  await assert.rejects(run(lm, x, 'saliency', 7), /target 7 is outside the output's range 0..1/);
  // an int64 input cast to float: gradients in its values, occlusion works
  const { LoadedModel } = await import('../../src/engine/model/loadedModel');
  const { OnnxModel } = await import('../../src/engine/onnx/model');
  const { GraphBuilder } = await import('../../src/engine/onnx/builder');
  const m = OnnxModel.empty(17);
  const b = new GraphBuilder(m, 't');
  b.addInput('ids', 7, ['N', 3]);
  const f = b.op('Cast', ['ids'], { to: attr.int(1) });
  b.addOutput(b.add('MatMul', [f, b.f32([1, 2, 3, 4, 5, 6], [3, 2])], {}, ['out'])[0]);
  const lmi = await LoadedModel.fromModel(m);
  const ids = { ids: { dtype: 'int64' as const, dims: [1, 3], data: BigInt64Array.from([1n, 2n, 3n]) } };
  const { attribute } = await import('../../src/engine/methods/registry');
  // an integer input only cast to float is differentiated after its Cast (test/onnx/integerInputs.test.ts)
  close(Array.from((await attribute(lmi, ids, { method: 'saliency', target: 0 })).attributions.ids.data as Float32Array), [1, 3, 5]);
  const occ = await attribute(lmi, ids, { method: 'occlusion', target: 1, params: { slidingWindowShapes: [1] } });
  close(Array.from(occ.attributions.ids.data as Float32Array), [2, 8, 18]);
});

test('a gradient method on a model with an op that has no rule names the op and suggests gradient-free methods', async () => {
  const lm = await model([4], (b) => b.add('LpNormalization', ['x'], { axis: attr.int(1), p: attr.int(2) }, ['out'])[0]);
  await assert.rejects(run(lm, feed([1, 4], X), 'saliency', 0), /no gradient rule for op LpNormalization.*occlusion, feature-ablation/);
  const occ = await run(lm, feed([1, 4], X), 'occlusion', 0, { slidingWindowShapes: [1] });
  assert.equal(values(occ).length, 4);
  assert.ok(values(occ).some((v) => v !== 0));
});
