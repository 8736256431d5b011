import assert from 'node:assert/strict';
import { test } from 'node:test';
import { close, feed, linearModel, model, run, values } from './grad-models';

const W = [[2, -3, 0.5, 1], [1, 1, -1, 0]];
const XS = [0.4, 1.1, -0.7, 0.2];

/** f(x) = sum(x²): gradient 2x, so one sample with alpha a gives 2(b + a(x - b))(x - b). */
const squareModel = () =>
  model([3], (b) => {
    const sq = b.op('Mul', ['x', 'x']);
    return b.add('ReduceSum', [sq, b.i64([1])], {}, ['out'])[0];
  });

test('gradient-shap on a linear model with one baseline and stdevs 0 is exactly (x - b)·w', async () => {
  const lm = await linearModel(W, [0.5, -0.5]);
  const b = [1, -1, 0.5, 2];
  const r = await run(lm, feed([1, 4], XS), 'gradient-shap', 0, { baselines: [b], nSamples: 3, returnConvergenceDelta: true });
  close(values(r), XS.map((x, i) => (x - b[i]) * W[0][i]), 1e-6);
  assert.ok(r.delta !== undefined && Math.abs(r.delta) < 1e-5, `completeness on a linear model: delta ${r.delta}`);
  // default baseline 0: x·w
  close(values(await run(lm, feed([1, 4], XS), 'gradient-shap', 1)), XS.map((x, i) => x * W[1][i]), 1e-6);
});

test('gradient-shap draws one baseline per sample from the distribution', async () => {
  const lm = await linearModel(W);
  const n = 300;
  const r = values(await run(lm, feed([1, 4], XS), 'gradient-shap', 0, { baselines: [[0, 0, 0, 0], [2, 2, 2, 2]], nSamples: n, seed: 4 }));
  const p = XS.map((x, i) => (x - r[i] / W[0][i]) / 2);
  p.forEach((pi) => assert.ok(Math.abs(pi - p[0]) < 1e-4, `the same draw for every element of a sample: ${p}`));
  assert.ok(p[0] > 0.38 && p[0] < 0.62, `about half the samples draw each baseline: ${p[0]}`);
  assert.ok(Math.abs(p[0] * n - Math.round(p[0] * n)) < 1e-2, 'a whole number of samples');
});

test('gradient-shap draws one uniform alpha per sample, shared by all elements', async () => {
  const lm = await squareModel();
  const x = [1.5, -0.5, 2], b = [0.5, 0.5, -1];
  for (const seed of [0, 1, 2, 3]) {
    const r = values(await run(lm, feed([1, 3], x), 'gradient-shap', 0, { baselines: [b], nSamples: 1, seed }));
    // r_i = 2 (b_i + a (x_i - b_i)) (x_i - b_i): solve a from each element
    const a = x.map((xi, i) => (r[i] / (2 * (xi - b[i])) - b[i]) / (xi - b[i]));
    a.forEach((ai) => assert.ok(Math.abs(ai - a[0]) < 1e-5, `seed ${seed}: alphas ${a}`));
    assert.ok(a[0] >= 0 && a[0] <= 1, `alpha in [0, 1]: ${a[0]}`);
  }
});

test('gradient-shap on sum(x²) approaches the exact SHAP values x² - b²', async () => {
  const lm = await squareModel();
  const x = [1.5, -0.5, 2], b = [0.5, 0.5, -1];
  const n = 4000;
  const r = values(await run(lm, feed([1, 3], x), 'gradient-shap', 0, { baselines: [b], nSamples: n, seed: 9 }));
  // per element: 2(x-b)² · (a - 1/2) has sd 2(x-b)²/√12 per sample
  x.forEach((xi, i) => {
    const d = xi - b[i];
    assert.ok(Math.abs(r[i] - (xi * xi - b[i] * b[i])) < (5 * 2 * d * d) / Math.sqrt(12 * n), `element ${i}: ${r[i]}`);
  });
});

test('gradient-shap with noise on a linear model: mean of (x + e - b)·w; multiplyByInputs false gives w', async () => {
  const lm = await linearModel(W);
  const n = 3000, sd = 0.4;
  const r = values(await run(lm, feed([1, 4], XS), 'gradient-shap', 0, { stdevs: sd, nSamples: n, seed: 2 }));
  XS.forEach((x, i) => assert.ok(Math.abs(r[i] - x * W[0][i]) < (5 * sd * Math.abs(W[0][i])) / Math.sqrt(n), `element ${i}: ${r[i]}`));
  close(values(await run(lm, feed([1, 4], XS), 'gradient-shap', 0, { stdevs: sd, multiplyByInputs: false })), W[0], 1e-6);
});

test('gradient-shap: same seed, same result; another seed, another result', async () => {
  const lm = await squareModel();
  const p = { baselines: [[0.5, 0.5, -1], [0, 1, 0]], stdevs: 0.2 };
  const a = values(await run(lm, feed([1, 3], [1.5, -0.5, 2]), 'gradient-shap', 0, { ...p, seed: 7 }));
  const b = values(await run(lm, feed([1, 3], [1.5, -0.5, 2]), 'gradient-shap', 0, { ...p, seed: 7 }));
  const c = values(await run(lm, feed([1, 3], [1.5, -0.5, 2]), 'gradient-shap', 0, { ...p, seed: 8 }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('gradient-shap rejects a baseline that does not fit the input', async () => {
  const lm = await linearModel(W);
  await assert.rejects(run(lm, feed([1, 4], XS), 'gradient-shap', 0, { baselines: [[1, 2, 3]] }), /does not broadcast to the input shape \[1,4\]/);
});
