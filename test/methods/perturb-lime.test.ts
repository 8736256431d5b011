import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coalitionSizeCdf, shapleyCoalition } from '../../src/engine/methods/kernelShap';
import { expKernel } from '../../src/engine/methods/lime';
import { fitLasso, fitLeastSquares } from '../../src/engine/methods/linearModels';
import { Rng } from '../../src/engine/methods/rng';
import { close, feed, gemm, linear, model, run, samePerEval, values } from './perturb-models';

const W = [
  [0.5, -2, 1.5, 3, -0.25],
  [1, 1, 1, 1, 1],
];
const X = [2, 1, -1, 0.5, 4];
const EXACT = X.map((x, i) => W[0][i] * x); // [1, -2, -1.5, 1.5, -1]

test('fitLasso matches the Lasso closed form for one feature (scikit-learn scaling)', () => {
  // z = (1, 0, 1, 0), y = (3, 1, 3, 1): centred z = ±0.5, Σ z·y = 2, ‖z‖² = 1, n = 4
  const z = Uint8Array.from([1, 0, 1, 0]);
  const y = Float64Array.from([3, 1, 3, 1]);
  const w = Float64Array.from([1, 1, 1, 1]);
  close(fitLasso(z, 4, 1, y, w, 0.25), [2 - 4 * 0.25]); // soft-threshold by n·alpha
  close(fitLasso(z, 4, 1, y, w, 0.6), [0]);
  close(fitLasso(z, 4, 1, y, w, 0), [2]);
  // weights are rescaled to sum to n: doubling every weight changes nothing
  close(fitLasso(z, 4, 1, y, Float64Array.from([2, 2, 2, 2]), 0.25), [1]);
});

test('fitLeastSquares solves weighted regression with an intercept, and the minimum-norm one when underdetermined', () => {
  // y = 1 + 2 z0 − 3 z1 on all four patterns, any positive weights
  const z = Uint8Array.from([0, 0, 1, 0, 0, 1, 1, 1]);
  const y = Float64Array.from([1, 3, -2, 0]);
  close(fitLeastSquares(z, 4, 2, y, Float64Array.from([1, 2, 3, 4])), [2, -3], 1e-8);
  // two samples, two features: (1,1) → 2 and (0,0) → 0 leave only β0 + β1 = 2: minimum norm gives (1, 1)
  close(fitLeastSquares(Uint8Array.from([1, 1, 0, 0]), 2, 2, Float64Array.from([2, 0]), Float64Array.from([1, 1])), [1, 1], 1e-6);
});

test("Captum's similarity kernel: exp(−d²/2w²) on the cosine distance", () => {
  const k = expKernel('cosine', 1);
  close([k(Float32Array.from([1, 0]), Float32Array.from([1, 0]))], [1]);
  close([k(Float32Array.from([1, 0]), Float32Array.from([0, 1]))], [Math.exp(-0.5)]);
  close([k(Float32Array.from([1, 0]), Float32Array.from([0, 0]))], [Math.exp(-0.5)]); // zero vector: cosine 0
  close([expKernel('euclidean', 2)(Float32Array.from([3, 0]), Float32Array.from([0, 4]))], [Math.exp(-25 / 8)]);
});

test('kernel-shap on a linear model recovers w_i·x_i', async () => {
  const lm = await linear([5], W, [0.7, 0]);
  const feeds = feed([1, 5], X);
  close(values(await run(lm, feeds, 'kernel-shap', 0, { nSamples: 60, seed: 3 })), EXACT, 1e-3);
  // feature groups: one coefficient per group, the group's joint effect
  close(values(await run(lm, feeds, 'kernel-shap', 0, { nSamples: 30, featureMask: [[1, 1, 2, 2, 3]] })), [-1, -1, 0, 0, -1], 1e-3);
});

test('kernel-shap samples all-on, all-off, then coalition sizes by the Shapley kernel', () => {
  // m = 4: weights (m−1)/(k(m−k)) = 1, 0.75, 1 for k = 1, 2, 3
  close(Array.from(coalitionSizeCdf(4)).slice(1), [1 / 2.75, 1.75 / 2.75, 1], 1e-12);
  const rng = new Rng(5);
  const cdf = coalitionSizeCdf(6);
  const z = new Uint8Array(6);
  shapleyCoalition(0, z, rng, cdf);
  assert.deepEqual([...z], [1, 1, 1, 1, 1, 1]);
  shapleyCoalition(1, z, rng, cdf);
  assert.deepEqual([...z], [0, 0, 0, 0, 0, 0]);
  const sizes = new Array<number>(7).fill(0);
  for (let i = 2; i < 3000; i++) {
    shapleyCoalition(i, z, rng, cdf);
    sizes[z.reduce((a, b) => a + b, 0)]++;
  }
  assert.equal(sizes[0] + sizes[6], 0);
  // k = 1 and k = 5 are each (5/5)/(5/5 + 5/8 + 5/9 + 5/8 + 5/5) ≈ 0.264 of the draws
  const p1 = 1 / (1 + 5 / 8 + 5 / 9 + 5 / 8 + 1);
  assert.ok(Math.abs(sizes[1] / 2998 - p1) < 0.03 && Math.abs(sizes[5] / 2998 - p1) < 0.03, `sizes ${sizes}`);
});

test('lime on a linear model: least squares recovers w_i·x_i, the default Lasso keeps the order', async () => {
  const lm = await linear([5], W);
  const feeds = feed([1, 5], X);
  close(values(await run(lm, feeds, 'lime', 0, { nSamples: 40, alpha: 0 })), EXACT, 1e-4);
  const lasso = values(await run(lm, feeds, 'lime', 0, { nSamples: 100 }));
  const rank = (v: number[]) => v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
  assert.deepEqual(rank(lasso), rank(EXACT));
  lasso.forEach((v, i) => assert.equal(Math.sign(v), Math.sign(EXACT[i])));
  // shrinkage: every coefficient is pulled towards 0
  lasso.forEach((v, i) => assert.ok(Math.abs(v) < Math.abs(EXACT[i]) + 1e-9));
});

test('lime and kernel-shap: the same for perturbationsPerEval 1, 2, 3; reproducible by seed', async () => {
  // a non-linear model, so different samples give different fits
  const lm = await model([4], (b) => b.add('Relu', [gemm(b, 'x', [[1, 1, -1, 0.5], [0, 0, 0, 0]], [-0.5, 0], 'h')], {}, ['out'])[0]);
  const feeds = feed([1, 4], [1, 0.8, 0.3, 1]);
  for (const method of ['lime', 'kernel-shap']) {
    const a = await samePerEval(lm, feeds, method, 0, { nSamples: 12, seed: 4 });
    close(values(await run(lm, feeds, method, 0, { nSamples: 12, seed: 4 })), a, 0, `${method} same seed`);
    const b = values(await run(lm, feeds, method, 0, { nSamples: 12, seed: 5 }));
    assert.notDeepEqual(b, a, `${method}: another seed gives another estimate`);
  }
});

test('lime rejects bad parameters with one-line messages', async () => {
  const lm = await linear([5], W);
  await assert.rejects(run(lm, feed([1, 5], X), 'lime', 0, { alpha: -1 }), /lime: parameter 'alpha' must be at least 0/);
  await assert.rejects(run(lm, feed([1, 5], X), 'kernel-shap', 0, { featureMask: [[0, 1]] }), /featureMask has shape \[1,2\], which does not broadcast/);
});
