import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr } from '../../src/engine/onnx/attributes';
import { close, feed, gemm, mlpModel, model, run, values } from './grad-models';

// x (3) → Gemm(W1, b1) = h → Relu = r → Gemm(W2) = out
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
const affine = (w: number[][], b: number[], v: number[]) => w.map((row, j) => row.reduce((s, k, i) => s + k * v[i], b[j]));
const hOf = (x: number[]) => affine(W1, B1, x);
const rOf = (x: number[]) => hOf(x).map((v) => Math.max(0, v));
const fOf = (x: number[], t: number) => affine(W2, [0, 0], rOf(x))[t];

test('layer-deeplift at the hidden layer: W2[t]·Δr, complete, before or after the Relu', async () => {
  const lm = await mlpModel(W1, B1, W2);
  const base = [-0.5, 0.9, 0.2];
  for (const t of [0, 1]) {
    const dr = rOf(X).map((v, j) => v - rOf(base)[j]);
    const want = dr.map((d, j) => W2[t][j] * d);
    const r = await run(lm, feed([1, 3], X), 'layer-deeplift', t, { layer: 'r', baselines: [base], returnConvergenceDelta: true });
    assert.equal(r.layer, 'r');
    close(values(r), want, 1e-5, `at r, target ${t}`);
    assert.ok(Math.abs(r.delta!) < 1e-5, `complete: delta ${r.delta}`);
    // at h the rescale multiplier Δr/Δh times Δh gives the same
    close(values(await run(lm, feed([1, 3], X), 'layer-deeplift', t, { layer: 'h', baselines: [base] })), want, 1e-5, `at h, target ${t}`);
    // attributeToLayerInput on r selects h, but Captum differentiates a clone taken after the Relu
    // module's hook: the Relu's plain derivative at the input, [h(x) > 0], times Δh
    const toInput = await run(lm, feed([1, 3], X), 'layer-deeplift', t, { layer: 'r', baselines: [base], attributeToLayerInput: true });
    assert.equal(toInput.layer, 'h');
    close(values(toInput), hOf(X).map((v, j) => W2[t][j] * (v > 0 ? 1 : 0) * (v - hOf(base)[j])), 1e-5, 'to the layer input');
    // without the input factor: the multipliers, W2[t]·Δr/Δh at h
    const dh = hOf(X).map((v, j) => v - hOf(base)[j]);
    close(values(await run(lm, feed([1, 3], X), 'layer-deeplift', t, { layer: 'h', baselines: [base], multiplyByInputs: false })), want.map((w, j) => w / dh[j]), 1e-5, 'multipliers');
  }
  // the shap variant averages over baselines
  const bases = [[-0.5, 0.9, 0.2], [0.3, 0.3, -1]];
  const want = bases.map((b) => rOf(X).map((v, j) => W2[0][j] * (v - rOf(b)[j])));
  close(values(await run(lm, feed([1, 3], X), 'layer-deeplift-shap', 0, { layer: 'r', baselines: bases })), want[0].map((v, j) => (v + want[1][j]) / 2), 1e-5, 'shap');
});

test("layer-deeplift before a MaxPool applies Captum's MaxPool rule (the layer has no hook), so it is complete", async () => {
  // x (1, 1, 4, 4) → Relu = a → MaxPool 2×2 = p → Flatten → Gemm(FC) = out
  const FC = [[1.5, -2, 0.5, 1]];
  const lm = await model([1, 4, 4], (b) => {
    const a = b.add('Relu', ['x'], {}, ['a'])[0];
    const p = b.add('MaxPool', [a], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }, ['p'])[0];
    return gemm(b, b.op('Flatten', [p], { axis: attr.int(1) }), FC, undefined, 'out');
  });
  const x = [0.9, -0.2, 0.4, 1.3, 0.1, 0.5, -0.6, 0.2, 0.3, 0.8, 1.1, -0.4, 0.7, -0.1, 0.6, 0.05];
  const base = [0.1, 0.6, 0.4, 0.2, 0.7, 0.2, -0.3, 0.9, 0.3, 0.2, 0.2, 0.5, 0.1, 0.4, 0.6, 0.3];
  const relu = (v: number) => Math.max(0, v);
  const want = new Array<number>(16).fill(0);
  for (let w = 0; w < 4; w++) {
    const cells = [0, 1, 4, 5].map((o) => (w >> 1) * 8 + (w & 1) * 2 + o);
    const argmax = (v: number[]) => cells.reduce((m, c) => (relu(v[c]) > relu(v[m]) ? c : m), cells[0]);
    const ix = argmax(x), ib = argmax(base);
    const p = relu(x[ix]), pb = relu(base[ib]), xmax = Math.max(p, pb);
    // Captum: dY·(xmax - pb) back through the input's argmax, dY·(p - xmax) through the baseline's
    want[ix] += FC[0][w] * (xmax - pb);
    want[ib] += FC[0][w] * (p - xmax);
  }
  const got = values(await run(lm, feed([1, 1, 4, 4], x), 'layer-deeplift', 0, { layer: 'a', baselines: [[[0, 1, 2, 3].map((r) => base.slice(r * 4, r * 4 + 4))]] }));
  close(got, want, 1e-5);
  const total = got.reduce((s, v) => s + v, 0);
  const f = (v: number[]) => [0, 1, 2, 3].reduce((s, w) => s + FC[0][w] * Math.max(...[0, 1, 4, 5].map((o) => relu(v[(w >> 1) * 8 + (w & 1) * 2 + o]))), 0);
  assert.ok(Math.abs(total - (f(x) - f(base))) < 1e-5, `complete: ${total} vs ${f(x) - f(base)}`);
});

test('layer-feature-ablation: the drop in the target when layer elements or groups go to the layer baseline', async () => {
  const lm = await mlpModel(W1, B1, W2);
  const r = rOf(X);
  for (const t of [0, 1]) {
    // f is linear in r: ablating r_j to 0 drops W2[t][j]·r_j
    const got = await run(lm, feed([1, 3], X), 'layer-feature-ablation', t, { layer: 'r' });
    assert.equal(got.layer, 'r');
    assert.deepEqual(Object.values(got.attributions)[0].dims, [1, 4]);
    close(values(got), r.map((v, j) => W2[t][j] * v), 1e-5, `target ${t}`);
  }
  // groups {0, 2} and {1, 3} to the baseline 0.5
  const drop = (g: number[]) => g.reduce((s, j) => s + W2[1][j] * (r[j] - 0.5), 0);
  close(values(await run(lm, feed([1, 3], X), 'layer-feature-ablation', 1, { layer: 'r', layerMask: [[0, 1, 0, 1]], layerBaselines: 0.5 })), [drop([0, 2]), drop([1, 3]), drop([0, 2]), drop([1, 3])], 1e-5, 'groups');
  // before the Relu: ablating h_j to 0 drops W2[t][j]·(r_j - relu(0))
  const toInput = await run(lm, feed([1, 3], X), 'layer-feature-ablation', 0, { layer: 'r', attributeToLayerInput: true });
  assert.equal(toInput.layer, 'h');
  close(values(toInput), r.map((v, j) => W2[0][j] * v), 1e-5);
  assert.ok(Math.abs(fOf(X, 0) - affine(W2, [0, 0], r)[0]) < 1e-12);
});

test('layer-feature-permutation: each layer feature takes the value of the example the permutation picks, by hand', async () => {
  const { Rng } = await import('../../src/engine/methods/rng');
  const lm = await mlpModel(W1, B1, W2);
  const others = [[0.3, 0.3, -1], [1, -1, 0.5]];
  const batch = [X, ...others];
  const mask = [0, 1, 1, 2];
  const seed = 4;
  // the engine's draws: per feature a non-identity permutation of the batch; this row gets row perm[0]
  const rng = new Rng(seed);
  const source = [0, 1, 2].map(() => {
    let perm: number[];
    do perm = rng.permutation(3);
    while (perm.every((v, i) => v === i));
    return perm[0];
  });
  const want = mask.map((g) => {
    const r = rOf(X).map((v, j) => (mask[j] === g ? rOf(batch[source[g]])[j] : v));
    return fOf(X, 0) - affine(W2, [0, 0], r)[0];
  });
  const got = await run(lm, feed([1, 3], X), 'layer-feature-permutation', 0, { layer: 'r', layerMask: [mask], batchExamples: others, seed });
  assert.equal(got.layer, 'r');
  close(values(got), want, 1e-5);
  // alone in its batch nothing can be permuted: zeros, as the input method
  close(values(await run(lm, feed([1, 3], X), 'layer-feature-permutation', 0, { layer: 'r' })), [0, 0, 0, 0], 0);
});

test('layer-deeplift on a second graph input: its value is the same for input and baseline, so the attributions are 0; the multipliers are the weights', async () => {
  // out = Gemm(x, [1, 1]) + Gemm(y, [3, 1]), attributed input x, layer y
  const lm = await model([2], (b) => {
    b.addInput('y', 1, ['N', 2]);
    return b.add('Add', [gemm(b, 'x', [[1, 1]], undefined, 'fx'), gemm(b, 'y', [[3, 1]], undefined, 'fy')], {}, ['out'])[0];
  });
  const feeds = { ...feed([1, 2], [0.5, -1]), y: { dtype: 'float32' as const, dims: [1, 2], data: Float32Array.from([2, 4]) } };
  close(values(await run(lm, feeds, 'layer-deeplift', 0, { layer: 'y' })), [0, 0], 1e-6);
  close(values(await run(lm, feeds, 'layer-deeplift', 0, { layer: 'y', multiplyByInputs: false })), [3, 1], 1e-6);
});
