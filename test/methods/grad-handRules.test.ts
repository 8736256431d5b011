// Hand-computed cases for the rule-based gradient methods: DeepLift's rescale rule through each
// non-linearity it hooks (Elu, LeakyRelu, Softplus, Sigmoid, Tanh) and its Softmax rule,
// DeepLiftShap's average over a baseline set, guided backprop and deconvolution through a ReLU
// whose forward mask and backward sign disagree, and guided GradCAM on a conv layer at the
// input's resolution. Every expected value is computed here from the method's definition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr } from '../../src/engine/onnx/attributes';
import { close, feed, gemm, mlpModel, model, run, values } from './grad-models';

const A = [1.5, -0.8, 2.0];
const C = [0.7, -1.2, 0.4];
const X = [0.9, 1.3, -0.6];

const elu = (v: number, alpha = 1) => (v > 0 ? v : alpha * (Math.exp(v) - 1));
const leaky = (v: number, alpha = 0.01) => (v > 0 ? v : alpha * v);
const softplus = (v: number) => Math.log1p(Math.exp(v));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** y = Σ_j c_j f(a_j x_j): each feature through its own non-linearity, so DeepLift is exact per feature. */
const perFeature = (op: string, attrs: Record<string, ReturnType<typeof attr.float>> = {}) =>
  model([3], (b) => {
    const u = b.op('Mul', ['x', b.f32(A, [3])]);
    const v = b.op(op, [u], attrs);
    return b.op('MatMul', [v, b.f32(C, [3, 1])]);
  });

const cases: Array<[string, (v: number) => number, Record<string, ReturnType<typeof attr.float>>]> = [
  ['Elu', (v) => elu(v, 0.5), { alpha: attr.float(0.5) }],
  ['LeakyRelu', (v) => leaky(v, 0.2), { alpha: attr.float(0.2) }],
  ['Softplus', softplus, {}],
  ['Sigmoid', sigmoid, {}],
  ['Tanh', Math.tanh, {}],
];

for (const [op, f, attrs] of cases) {
  test(`deeplift through ${op}: c_j (f(a_j x_j) − f(a_j b_j)) per feature, where gradient × Δx is not`, async () => {
    const lm = await perFeature(op, attrs);
    const base = [-0.4, 0.2, 0.5];
    const r = await run(lm, feed([1, 3], X), 'deeplift', 0, { baselines: { dtype: 'float32', dims: [1, 3], data: Float32Array.from(base) } });
    const expected = X.map((x, j) => C[j] * (f(A[j] * x) - f(A[j] * base[j])));
    close(values(r), expected, 1e-5, op);
    // the rule matters: input × gradient at x gives other numbers
    const ixg = values(await run(lm, feed([1, 3], X.map((x, j) => x - base[j])), 'input-x-gradient', 0));
    assert.ok(expected.some((e, j) => Math.abs(e - ixg[j]) > 1e-3), `${op}: the case does not tell the rule from the gradient`);
    assert.ok(Math.abs(r.delta!) < 1e-5, `${op}: completeness ${r.delta}`);
  });
}

test('deeplift through Softmax: the rescaled multiplier minus its mean (Captum), by hand', async () => {
  // y = softmax(W x)[t]; W is 3×2
  const W = [[1, -1], [0.5, 2], [-1.5, 0.3]];
  const lm = await model([2], (b) => b.op('Softmax', [gemm(b, 'x', W, undefined, 'z')], { axis: attr.int(1) }));
  const x = [0.8, -0.3], x0 = [0, 0];
  const z = W.map((w) => w[0] * x[0] + w[1] * x[1]);
  const z0 = W.map((w) => w[0] * x0[0] + w[1] * x0[1]);
  const sm = (v: number[]) => {
    const e = v.map(Math.exp);
    const s = e.reduce((a, c) => a + c, 0);
    return e.map((q) => q / s);
  };
  const [s, s0] = [sm(z), sm(z0)];
  for (const t of [0, 1, 2]) {
    // multiplier at the softmax input: one-hot seed × Δs/Δz, then the mean over its 3 entries removed
    const m = z.map((zk, k) => (k === t ? (s[k] - s0[k]) / (zk - z0[k]) : 0));
    const mean = m.reduce((a, c) => a + c, 0) / m.length;
    const mz = m.map((v) => v - mean);
    const expected = [0, 1].map((i) => (x[i] - x0[i]) * W.reduce((acc, w, k) => acc + w[i] * mz[k], 0));
    close(values(await run(lm, feed([1, 2], x), 'deeplift', t, { baselines: 0 })), expected, 1e-5, `target ${t}`);
  }
});

test('deeplift-shap: the mean of DeepLift over each baseline of the set', async () => {
  const lm = await perFeature('Elu', { alpha: attr.float(1) });
  const bases = [[-0.4, 0.2, 0.5], [0.3, -1.0, 0.0], [1.2, 0.6, -0.9]];
  const r = await run(lm, feed([1, 3], X), 'deeplift-shap', 0, { baselines: { dtype: 'float32', dims: [3, 3], data: Float32Array.from(bases.flat()) } });
  const expected = X.map((x, j) => bases.reduce((acc, bs) => acc + C[j] * (elu(A[j] * x) - elu(A[j] * bs[j])), 0) / bases.length);
  close(values(r), expected, 1e-5);
  // not DeepLift from the mean baseline: the non-linearity makes them differ
  const meanBase = [0, 1, 2].map((j) => bases.reduce((a, bs) => a + bs[j], 0) / bases.length);
  const fromMean = X.map((x, j) => C[j] * (elu(A[j] * x) - elu(A[j] * meanBase[j])));
  assert.ok(expected.some((e, j) => Math.abs(e - fromMean[j]) > 1e-3));
});

// x → h = W1 x + b1 → ReLU → out = W2 r. Unit 0: h > 0, W2 > 0; unit 1: h > 0, W2 < 0;
// unit 2: h < 0, W2 > 0. The plain gradient, guided backprop and deconvolution each keep other units.
const W1 = [[1, 0.5], [-0.5, 1], [1, 1]];
const B1 = [0, 0, -3];
const W2 = [[2, -1.5, 1]];
const XG = [1, 1];

test('guided backprop: only units with a positive input and a positive gradient pass', async () => {
  const lm = await mlpModel(W1, B1, W2);
  const h = W1.map((w, k) => w[0] * XG[0] + w[1] * XG[1] + B1[k]);
  assert.deepEqual(h.map((v) => v > 0), [true, true, false]);
  const g = W2[0].map((w, k) => (h[k] > 0 && w > 0 ? w : 0));
  const expected = [0, 1].map((i) => W1.reduce((a, w, k) => a + w[i] * g[k], 0));
  close(values(await run(lm, feed([1, 2], XG), 'guided-backprop', 0)), expected);
  const plain = [0, 1].map((i) => W1.reduce((a, w, k) => a + w[i] * (h[k] > 0 ? W2[0][k] : 0), 0));
  close(values(await run(lm, feed([1, 2], XG), 'saliency', 0, { abs: false })), plain);
  assert.ok(expected.some((e, i) => Math.abs(e - plain[i]) > 0.1));
});

test('deconvolution: the ReLU of the gradient, whatever the forward input', async () => {
  const lm = await mlpModel(W1, B1, W2);
  const g = W2[0].map((w) => Math.max(w, 0));
  const expected = [0, 1].map((i) => W1.reduce((a, w, k) => a + w[i] * g[k], 0));
  close(values(await run(lm, feed([1, 2], XG), 'deconvolution', 0)), expected);
});

test('guided gradcam: guided backprop × ReLU(Σ_c mean-gradient_c · A_c) at the input resolution', async () => {
  // x (1,1,2,2) → Conv 1×1 with 2 channels (weights k, bias d) = conv → Relu = act → Flatten → Gemm(W)
  const k = [1.5, -1], d = [0.1, 0.5];
  const W = [[0.5, -1, 2, 1, -0.5, 1, 0.3, -2]];
  const lm = await model([1, 2, 2], (b) => {
    const conv = b.add('Conv', ['x', b.f32(k, [2, 1, 1, 1]), b.f32(d, [2])], {}, ['conv'])[0];
    const act = b.add('Relu', [conv], {}, ['act'])[0];
    return gemm(b, b.op('Flatten', [act], { axis: attr.int(1) }), W, undefined, 'out');
  });
  const x = [0.4, -0.7, 1.1, 0.2];
  const A = [0, 1].map((c) => x.map((v) => Math.max(k[c] * v + d[c], 0)));
  // GradCAM: channel weight = mean over pixels of ∂out/∂act_c = mean of W's entries for channel c
  const alpha = [0, 1].map((c) => W[0].slice(4 * c, 4 * c + 4).reduce((a, b) => a + b, 0) / 4);
  const cam = [0, 1, 2, 3].map((p) => Math.max(alpha[0] * A[0][p] + alpha[1] * A[1][p], 0));
  // guided backprop to x: through the ReLU only where act > 0 and the gradient W > 0, then × k
  const gb = [0, 1, 2, 3].map((p) => [0, 1].reduce((acc, c) => {
    const w = W[0][4 * c + p];
    const pre = k[c] * x[p] + d[c];
    return acc + (pre > 0 && w > 0 ? w * k[c] : 0);
  }, 0));
  const expected = gb.map((g, p) => g * cam[p]);
  assert.ok(expected.filter((v) => Math.abs(v) > 1e-3).length >= 2, 'the case has several non-zero pixels');
  close(values(await run(lm, feed([1, 1, 2, 2], x), 'guided-gradcam', 0, { layer: 'act' })), expected);
});
