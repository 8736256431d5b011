import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr } from '../../src/engine/onnx/attributes';
import { close, feed, gemm, model, reluFlatModel, run, values } from './grad-models';

// act = relu(x) with x (1, 2, 3, 3); out = W · flatten(act), so the gradient at act is W[target] reshaped (2, 9).
const C = 2, HW = 9;
const X = [0.5, -1, 2, 0.3, 1, 0, -0.4, 0.9, 1.5, /* channel 1 */ 1.2, 0.1, -2, 0.7, 0, 0.6, 2.2, -0.3, 0.4];
const W = [
  [0.3, -0.8, 0.5, 1.1, -0.2, 0.4, 0.9, -1.3, 0.2, /* */ -0.6, 0.7, 0.1, -0.9, 1.4, 0.3, -0.1, 0.5, -1.2],
  [1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1],
];
const A = X.map((v) => Math.max(0, v));
const relu = (m: number[]) => m.map((v) => Math.max(0, v));
const sumA = (c: number) => A.slice(c * HW, (c + 1) * HW).reduce((s, v) => s + v, 0);
const weighted = (w: number[]) => Array.from({ length: HW }, (_, p) => w.reduce((s, wc, c) => s + wc * A[c * HW + p], 0));

// pytorch-grad-cam's formulas, written out per element
const refs: Record<string, (g: number[]) => number[]> = {
  'hires-cam': (g) => Array.from({ length: HW }, (_, p) => g[p] * A[p] + g[HW + p] * A[HW + p]),
  'layer-cam': (g) => Array.from({ length: HW }, (_, p) => Math.max(0, g[p]) * A[p] + Math.max(0, g[HW + p]) * A[HW + p]),
  'xgrad-cam': (g) => weighted([0, 1].map((c) => A.slice(c * HW, (c + 1) * HW).reduce((s, a, p) => s + a * g[c * HW + p], 0) / (sumA(c) + 1e-7))),
  'gradcam-plus-plus': (g) =>
    weighted(
      [0, 1].map((c) => {
        let w = 0;
        for (let p = 0; p < HW; p++) {
          const gi = g[c * HW + p];
          const aij = gi !== 0 ? (gi * gi) / (2 * gi * gi + sumA(c) * gi * gi * gi + 1e-6) : 0;
          w += Math.max(0, gi) * aij;
        }
        return w;
      }),
    ),
};

for (const [method, ref] of Object.entries(refs)) {
  test(`${method} matches pytorch-grad-cam's formula on hand-set activations and gradients`, async () => {
    const lm = await reluFlatModel([C, 3, 3], W);
    for (const target of [0, 1]) {
      const r = await run(lm, feed([1, C, 3, 3], X), method, target, { reluAttributions: false });
      assert.equal(r.layer, 'act', 'the default layer is the last spatial activation');
      assert.deepEqual(Object.values(r.attributions)[0].dims, [1, 1, 3, 3]);
      const expected = ref(W[target]);
      close(values(r), expected, 1e-5, `${method} target ${target}`);
      // ReLU of the final map is the default, as in pytorch-grad-cam
      close(values(await run(lm, feed([1, C, 3, 3], X), method, target)), relu(expected), 1e-5, `${method} relu`);
    }
  });
}

test('the CAM maps differ where they should: some hires-cam values are negative, layer-cam never is', async () => {
  const hires = refs['hires-cam'](W[0]);
  assert.ok(hires.some((v) => v < -0.1) && hires.some((v) => v > 0.1));
  assert.ok(refs['layer-cam'](W[0]).every((v) => v >= 0));
});

test('hires-cam equals gradcam when the gradient is spatially constant (GlobalAveragePool → Gemm)', async () => {
  const w2 = [[0.8, -1.5], [2, 0.25]];
  const lm = await model([2, 2, 2], (b) => {
    const a = b.add('Relu', ['x'], {}, ['act'])[0];
    const f = b.op('Flatten', [b.op('GlobalAveragePool', [a])], { axis: attr.int(1) });
    return gemm(b, f, w2, [0.1, 0.2], 'out');
  });
  const x = feed([1, 2, 2, 2], [0.5, -1, 2, 0.3, 1, 0.2, -0.4, 0.9]);
  const a = [0.5, 0, 2, 0.3, 1, 0.2, 0, 0.9];
  for (const target of [0, 1]) {
    const expected = [0, 1, 2, 3].map((p) => (w2[target][0] * a[p] + w2[target][1] * a[4 + p]) / 4);
    const hires = values(await run(lm, x, 'hires-cam', target, { reluAttributions: false }));
    const grad = values(await run(lm, x, 'gradcam', target));
    close(hires, expected, 1e-6, 'hires-cam');
    close(grad, expected, 1e-6, 'gradcam');
  }
});

test('layer-cam on ViT tokens drops the class token and folds the patches onto their grid', async () => {
  // tokens (1, 5, 3): class token + 2×2 patches; out = W · flatten(relu(tokens))
  const xs = [9, 9, 9, /* patches */ 0.5, -1, 2, 1, 0.2, -0.4, 0.9, 1.5, 0.3, -0.2, 0.8, 1.1];
  const w = [[5, -5, 5, 0.3, -0.8, 0.5, 1.1, -0.2, 0.4, 0.9, -1.3, 0.2, -0.6, 0.7, 0.1]];
  const lm = await reluFlatModel([5, 3], w, 'tok');
  const r = await run(lm, feed([1, 5, 3], xs), 'layer-cam', 0);
  assert.equal(r.layer, 'tok');
  assert.deepEqual(Object.values(r.attributions)[0].dims, [1, 1, 2, 2]);
  const expected = [1, 2, 3, 4].map((t) => [0, 1, 2].reduce((s, c) => s + Math.max(0, w[0][t * 3 + c]) * Math.max(0, xs[t * 3 + c]), 0));
  close(values(r), expected, 1e-6);
});

test('a CAM method on a layer that is not spatial says so', async () => {
  const lm = await reluFlatModel([C, 3, 3], W);
  const x = feed([1, C, 3, 3], X);
  await assert.rejects(run(lm, x, 'xgrad-cam', 0, { layer: 'out' }), /xgrad-cam needs a spatial layer/);
  await assert.rejects(run(lm, x, 'layer-cam', 0, { layer: 'actt' }), /no float layer tensor 'actt'; closest: act/);
});
