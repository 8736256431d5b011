import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/engine/methods/rng';
import { attr } from '../../src/engine/onnx/attributes';
import { close, feed, gemm, mlpModel, model, run, values } from './grad-models';

/** GradientShap's draws for seed `seed`, in the engine's order: noise, then baseline picks, then alphas. */
function draws(seed: number, n: number, per: number, k: number): { pick: number[]; alpha: number[] } {
  const rng = new Rng(seed);
  for (let i = 0; i < n * per; i++) rng.normal();
  const pick = Array.from({ length: n }, () => rng.int(k));
  return { pick, alpha: Array.from({ length: n }, () => rng.next()) };
}

test('gradient-shap returns one convergence delta per sample, as Captum does: (2α - 1)·Σ(x - b)² on sum(x²)', async () => {
  const lm = await model([3], (b) => b.add('ReduceSum', [b.op('Mul', ['x', 'x']), b.i64([1])], {}, ['out'])[0]);
  const x = [1.5, -0.5, 2], b = [0.5, 0.5, -1];
  const n = 4;
  // one sample: Σ 2(b + α d) d - ((b + d)² - b²) = (2α - 1) Σ d²
  const d2 = x.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
  for (const seed of [0, 5]) {
    const { alpha } = draws(seed, n, 3, 1);
    const r = await run(lm, feed([1, 3], x), 'gradient-shap', 0, { baselines: [b], nSamples: n, seed, returnConvergenceDelta: true });
    close(r.deltas!, alpha.map((a) => (2 * a - 1) * d2), 1e-5, `seed ${seed}`);
    assert.ok(Math.abs(r.delta! - r.deltas!.reduce((s, v) => s + v, 0) / n) < 1e-9, 'delta is their mean');
  }
  assert.equal((await run(lm, feed([1, 3], x), 'gradient-shap', 0, { nSamples: n })).deltas, undefined, 'no deltas unless asked');
});

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
const rOf = (x: number[]) => W1.map((row, j) => Math.max(0, row.reduce((s, k, i) => s + k * x[i], B1[j])));

test('layer-gradient-shap at a layer the output is linear in: the mean over drawn baselines of W2[t]·(r(x) - r(b)), deltas 0', async () => {
  const lm = await mlpModel(W1, B1, W2);
  const bases = [[-0.5, 0.9, 0.2], [0.3, 0.3, -1], [1, 1, 1]];
  const n = 7, seed = 3;
  const { pick } = draws(seed, n, 3, bases.length);
  for (const t of [0, 1]) {
    const want = new Array<number>(4).fill(0);
    for (const p of pick) rOf(X).forEach((v, j) => (want[j] += (W2[t][j] * (v - rOf(bases[p])[j])) / n));
    const r = await run(lm, feed([1, 3], X), 'layer-gradient-shap', t, { layer: 'r', baselines: bases, nSamples: n, seed, returnConvergenceDelta: true });
    assert.equal(r.layer, 'r');
    close(values(r), want, 1e-5, `target ${t}`);
    assert.equal(r.deltas!.length, n);
    r.deltas!.forEach((d) => assert.ok(Math.abs(d) < 1e-5, `complete per sample: ${d}`));
  }
  // before the Relu (attributeToLayerInput): the gradient is masked where h < 0 at the sampled point
  const toInput = await run(lm, feed([1, 3], X), 'layer-gradient-shap', 0, { layer: 'r', baselines: [bases[0]], nSamples: 1, seed: 2, attributeToLayerInput: true });
  assert.equal(toInput.layer, 'h');
  const { alpha } = draws(2, 1, 3, 1);
  const pt = X.map((v, i) => bases[0][i] + alpha[0] * (v - bases[0][i]));
  const h = (x: number[]) => W1.map((row, j) => row.reduce((s, k, i) => s + k * x[i], B1[j]));
  close(values(toInput), h(pt).map((v, j) => (v > 0 ? W2[0][j] : 0) * (h(X)[j] - h(bases[0])[j])), 1e-5, 'at h');
});

test('neuron-gradient-shap of a Conv neuron: the kernel times (x - b) averaged over the drawn baselines', async () => {
  const K = [0.5, -1, 0.25, 2];
  const lm = await model([1, 3, 3], (b) => {
    const c = b.add('Conv', ['x', b.f32(K, [1, 1, 2, 2]), b.f32([0.3], [1])], { kernel_shape: attr.ints([2, 2]) }, ['c'])[0];
    return gemm(b, b.op('Flatten', [b.op('Relu', [c])], { axis: attr.int(1) }), [[1, -1, 2, 0.5]], undefined, 'out');
  });
  const x = [0.8, -0.3, 1.2, 0.4, 0.1, 0.9, -1.1, 0.6, -0.7];
  const bases = [new Array(9).fill(0.2), x.map((v) => -v)];
  const n = 5, seed = 9;
  const { pick } = draws(seed, n, 9, 2);
  // neuron (0, 1, 0): its receptive field is rows 1-2, columns 0-1
  const field = [3, 4, 6, 7];
  const want = new Array<number>(9).fill(0);
  for (const p of pick) field.forEach((q, k) => (want[q] += (K[k] * (x[q] - bases[p][q])) / n));
  const r = await run(lm, feed([1, 1, 3, 3], x), 'neuron-gradient-shap', 0, { layer: 'c', neuronSelector: [0, 1, 0], baselines: bases.map((bb) => [[0, 1, 2].map((row) => bb.slice(row * 3, row * 3 + 3))]), nSamples: n, seed });
  close(values(r), want, 1e-5);
});
