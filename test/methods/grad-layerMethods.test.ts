import assert from 'node:assert/strict';
import { test } from 'node:test';
import { close, feed, mlpModel, run, values } from './grad-models';

const W1 = [[0.5, -1, 0.25, 2], [1.5, 0.5, -0.5, 0], [-1, 1, 1, 0.5]];
const B1 = [0.1, -0.2, 0.3];
const W2 = [[1, -2, 0.5], [0.25, 1, -1]];
const X = [0.8, -0.3, 1.2, 0.4];
const BASE = [-1, 0.45, -1.25, 0.35]; // no hidden unit sits at its kink at any path point used below

const hOf = (x: number[]) => W1.map((r, j) => r.reduce((s, w, i) => s + w * x[i], B1[j]));
const relu = (v: number[]) => v.map((x) => Math.max(0, x));
const along = (a: number) => X.map((x, i) => BASE[i] + a * (x - BASE[i]));
const f = (x: number[], t: number, withRelu = true) => {
  const h = hOf(x);
  return W2[t].reduce((s, w, j) => s + w * (withRelu ? Math.max(0, h[j]) : h[j]), 0);
};

test('the test point is informative: some hidden units change sign between baseline and input', () => {
  const h0 = hOf(BASE), h1 = hOf(X);
  assert.ok(h0.some((v, j) => Math.sign(v) !== Math.sign(h1[j])), `h(b) ${h0} h(x) ${h1}`);
});

test('layer-activation returns the layer values; attributeToLayerInput returns the Relu input', async () => {
  const lm = await mlpModel(W1, B1, W2);
  const h = hOf(X);
  const r = await run(lm, feed([1, 4], X), 'layer-activation', 0, { layer: 'r' });
  assert.equal(r.layer, 'r');
  assert.deepEqual(Object.values(r.attributions)[0].dims, [1, 3]);
  close(values(r), relu(h), 1e-6);
  const toInput = await run(lm, feed([1, 4], X), 'layer-activation', 0, { layer: 'r', attributeToLayerInput: true });
  assert.equal(toInput.layer, 'h');
  close(values(toInput), h, 1e-6);
});

test('layer-gradient-x-activation is W2[t] · layer (after the Relu) and W2[t]·relu\'(h) · h (before it)', async () => {
  const lm = await mlpModel(W1, B1, W2);
  const h = hOf(X);
  for (const t of [0, 1]) {
    close(values(await run(lm, feed([1, 4], X), 'layer-gradient-x-activation', t, { layer: 'r' })), relu(h).map((v, j) => v * W2[t][j]), 1e-6);
    close(values(await run(lm, feed([1, 4], X), 'layer-gradient-x-activation', t, { layer: 'r', multiplyByInputs: false })), W2[t], 1e-6);
    close(values(await run(lm, feed([1, 4], X), 'layer-gradient-x-activation', t, { layer: 'h' })), h.map((v, j) => (v > 0 ? W2[t][j] * v : 0)), 1e-6);
  }
});

test('internal-influence on a linear layer is the layer gradient times the sum of the step weights', async () => {
  const lm = await mlpModel(W1, B1, W2, false);
  close(values(await run(lm, feed([1, 4], X), 'internal-influence', 1, { layer: 'h', baselines: [BASE] })), W2[1], 1e-5);
  // Captum's trapezoid weights sum to (n - 1) / n
  close(values(await run(lm, feed([1, 4], X), 'internal-influence', 1, { layer: 'h', method: 'riemann_trapezoid', nSteps: 10 })), W2[1].map((w) => 0.9 * w), 1e-5);
});

test('internal-influence before a Relu averages W2[t]·1[h(α) > 0] over the path points', async () => {
  const lm = await mlpModel(W1, B1, W2);
  const n = 7;
  const r = values(await run(lm, feed([1, 4], X), 'internal-influence', 0, { layer: 'h', baselines: [BASE], nSteps: n, method: 'riemann_right' }));
  const active = [0, 1, 2].map((j) => Array.from({ length: n }, (_, k) => hOf(along((k + 1) / n))[j] > 0).filter(Boolean).length);
  assert.ok(active.some((c) => c > 0 && c < n), `some unit switches along the path: ${active}`);
  close(r, active.map((c, j) => (W2[0][j] * c) / n), 1e-5);
});

test('layer-conductance after the Relu is W2[t] · (r(x) - r(b)) per neuron: complete, delta 0', async () => {
  const lm = await mlpModel(W1, B1, W2);
  const rx = relu(hOf(X)), rb = relu(hOf(BASE));
  for (const t of [0, 1]) {
    const res = await run(lm, feed([1, 4], X), 'layer-conductance', t, { layer: 'r', baselines: [BASE], method: 'riemann_trapezoid', nSteps: 6, returnConvergenceDelta: true });
    assert.deepEqual(Object.values(res.attributions)[0].dims, [1, 3]);
    close(values(res), rx.map((v, j) => W2[t][j] * (v - rb[j])), 1e-5);
    assert.ok(res.delta !== undefined && Math.abs(res.delta) < 1e-5, `delta ${res.delta}`);
    assert.ok(Math.abs(values(res).reduce((s, v) => s + v, 0) - (f(X, t) - f(BASE, t))) < 1e-5);
  }
});

test("layer-conductance uses Captum's discrete form: grads at nSteps + 1 points times the layer's next-step change", async () => {
  // riemann_left over n + 1 = 6 points: alphas k/6; h is linear in alpha, so each step changes h by W1(x - b)/6
  const lm = await mlpModel(W1, B1, W2);
  const n = 5;
  const r = values(await run(lm, feed([1, 4], X), 'layer-conductance', 1, { layer: 'h', baselines: [BASE], nSteps: n, method: 'riemann_left' }));
  const dh = W1.map((row) => row.reduce((s, w, i) => s + (w * (X[i] - BASE[i])) / 6, 0));
  const expected = [0, 1, 2].map((j) => {
    let s = 0;
    for (let k = 0; k < n; k++) if (hOf(along(k / 6))[j] > 0) s += W2[1][j] * dh[j];
    return s;
  });
  close(r, expected, 1e-5);
});

test('layer-conductance before the Relu sums to the same total as integrated-gradients (completeness)', async () => {
  const lm = await mlpModel(W1, B1, W2);
  const cond = values(await run(lm, feed([1, 4], X), 'layer-conductance', 0, { layer: 'h', baselines: [BASE], nSteps: 400 }));
  const ig = values(await run(lm, feed([1, 4], X), 'integrated-gradients', 0, { baselines: [BASE], nSteps: 400 }));
  const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);
  const want = f(X, 0) - f(BASE, 0);
  assert.ok(Math.abs(sum(cond) - want) < 1e-2 * Math.abs(want), `conductance total ${sum(cond)} vs ${want}`);
  assert.ok(Math.abs(sum(ig) - want) < 1e-2 * Math.abs(want), `IG total ${sum(ig)} vs ${want}`);
});

test('layer methods need an existing layer and suggest the closest names', async () => {
  const lm = await mlpModel(W1, B1, W2);
  for (const m of ['layer-activation', 'layer-gradient-x-activation', 'layer-conductance', 'internal-influence']) {
    await assert.rejects(run(lm, feed([1, 4], X), m, 0), new RegExp(`${m} needs parameter 'layer'`));
    await assert.rejects(run(lm, feed([1, 4], X), m, 0, { layer: 'hh' }), /no float layer tensor 'hh'; closest: h/);
  }
  await assert.rejects(run(lm, feed([1, 4], X), 'layer-activation', 0, { layer: 'x', attributeToLayerInput: true }), /'x' is a graph input.*turn attributeToLayerInput off/);
});
