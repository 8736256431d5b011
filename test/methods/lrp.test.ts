import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr } from '../../src/engine/onnx/attributes';
import { close, feed, gemm, model, run, values } from './grad-models';

// Two-layer net x (3) → Gemm(W1, b1) = h → Relu = r → Gemm(W2, b2) = out (2 classes), and the
// relevances Captum's rules give, computed here by hand from the weights.
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
const B2 = [0.2, -0.1];
const X = [0.7, -0.4, 1.1];

const mlp = (b1 = B1, b2 = B2, matmulAdd = false) =>
  model([3], (b) => {
    const h = matmulAdd ? matmulPlus(b, 'x', W1, b1, 'h') : gemm(b, 'x', W1, b1, 'h');
    const r = b.add('Relu', [h], {}, ['r'])[0];
    return matmulAdd ? matmulPlus(b, r, W2, b2, 'out') : gemm(b, r, W2, b2, 'out');
  });

/** A Linear as PyTorch exports it for N-d inputs: MatMul(x, Wᵀ) then Add(bias), the Add named `out`. */
function matmulPlus(b: Parameters<Parameters<typeof model>[1]>[0], x: string, w: number[][], bias: number[], out: string): string {
  const wt = w[0].map((_, i) => w.map((row) => row[i]));
  const mm = b.op('MatMul', [x, b.f32(wt.flat(), [w[0].length, w.length])]);
  return b.add('Add', [mm, b.f32(bias, [bias.length])], {}, [out])[0];
}

const dot = (w: number[], v: number[]) => w.reduce((s, k, i) => s + k * v[i], 0);
const affine = (w: number[][], bias: number[], v: number[]) => w.map((row, j) => dot(row, v) + bias[j]);
const stab = (z: number, eps: number) => z + eps * (z < 0 ? -1 : 1);

/**
 * Captum's z-rule by hand: relevance R of a layer's outputs z' = W'v + b' goes back as
 * R_in_i = v_i Σ_j W'_ji R_j / (z'_j ± ε).
 */
function zBack(w: number[][], bias: number[], v: number[], R: number[], eps: number): number[] {
  const z = affine(w, bias, v);
  return v.map((vi, i) => vi * w.reduce((s, row, j) => s + (row[i] * R[j]) / stab(z[j], eps), 0));
}
const gammaW = (w: number[][], g: number) => w.map((row) => row.map((k) => k + g * Math.max(k, 0)));
const posW = (w: number[][]) => w.map((row) => row.map((k) => Math.max(k, 0)));

/** Relevances at r and x for target t; `rule1`/`rule2` give each layer's weights and bias. */
function byHand(t: number, l1: { w: number[][]; b: number[]; eps?: number }, l2: { w: number[][]; b: number[]; eps?: number }) {
  const h = affine(W1, B1, X);
  const r = h.map((v) => Math.max(0, v));
  const f = affine(W2, B2, r)[t];
  // seed 1 at the target; Captum multiplies the normalised relevances by f(x) at the end
  const Rout = W2.map((_, k) => (k === t ? 1 : 0));
  const Rr = zBack(l2.w, l2.b, r, Rout, l2.eps ?? 1e-9);
  // Relu passes relevance; the first layer's division uses its own output with its rule's weights
  const Rx = zBack(l1.w, l1.b, X, Rr, l1.eps ?? 1e-9);
  return { f, r: Rr.map((v) => v * f), x: Rx.map((v) => v * f) };
}

test('lrp (epsilon everywhere) matches the z-rule by hand on a two-layer net, and layer-lrp gives the hidden relevances', async () => {
  const lm = await mlp();
  for (const t of [0, 1]) {
    const want = byHand(t, { w: W1, b: B1 }, { w: W2, b: B2 });
    close(values(await run(lm, feed([1, 3], X), 'lrp', t)), want.x, 1e-5, `lrp target ${t}`);
    const layer = await run(lm, feed([1, 3], X), 'layer-lrp', t, { layer: 'r' });
    assert.equal(layer.layer, 'r');
    close(values(layer), want.r, 1e-5, `layer-lrp target ${t}`);
    // the relu's input holds the same relevance (Relu passes it through)
    close(values(await run(lm, feed([1, 3], X), 'layer-lrp', t, { layer: 'r', attributeToLayerInput: true })), want.r, 1e-5);
  }
});

test('lrp conserves relevance without biases: the relevances sum to the output and the delta is 0', async () => {
  const lm = await mlp([0, 0, 0, 0], [0, 0]);
  const h = affine(W1, [0, 0, 0, 0], X).map((v) => Math.max(0, v));
  for (const t of [0, 1]) {
    const f = affine(W2, [0, 0], h)[t];
    const r = await run(lm, feed([1, 3], X), 'lrp', t, { returnConvergenceDelta: true });
    const total = values(r).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(total - f) < 1e-5, `sum ${total} vs f ${f}`);
    assert.ok(Math.abs(r.delta!) < 1e-5, `delta ${r.delta}`);
  }
  // with biases, relevance is absorbed by them: the delta is f - sum, as Captum reports it
  const withBias = await run(await mlp(), feed([1, 3], X), 'lrp', 0, { returnConvergenceDelta: true });
  const want = byHand(0, { w: W1, b: B1 }, { w: W2, b: B2 });
  assert.ok(Math.abs(withBias.delta! - (want.f - want.x.reduce((s, v) => s + v, 0))) < 1e-5);
  assert.ok(Math.abs(withBias.delta!) > 1e-3, 'the biases absorb some relevance');
});

test('lrp rules per layer: gamma, alpha1beta0 (with and without bias) and a large epsilon, by hand', async () => {
  const lm = await mlp();
  const t = 1;
  const cases: Array<[Record<string, unknown>, Parameters<typeof byHand>[1], Parameters<typeof byHand>[2]]> = [
    [{ h: 'gamma' }, { w: gammaW(W1, 0.25), b: B1 }, { w: W2, b: B2 }],
    [{ h: { rule: 'gamma', gamma: 1, setBiasToZero: true } }, { w: gammaW(W1, 1), b: [0, 0, 0, 0] }, { w: W2, b: B2 }],
    [{ out: 'alpha1beta0' }, { w: W1, b: B1 }, { w: posW(W2), b: B2 }],
    [{ out: { rule: 'alpha-beta', setBiasToZero: true }, h: 'gamma' }, { w: gammaW(W1, 0.25), b: B1 }, { w: posW(W2), b: [0, 0] }],
    [{ out: { rule: 'epsilon', epsilon: 0.5 } }, { w: W1, b: B1 }, { w: W2, b: B2, eps: 0.5 }],
  ];
  for (const [rules, l1, l2] of cases) {
    const want = byHand(t, l1, l2);
    close(values(await run(lm, feed([1, 3], X), 'lrp', t, { rules })), want.x, 1e-5, JSON.stringify(rules));
    close(values(await run(lm, feed([1, 3], X), 'layer-lrp', t, { layer: 'r', rules })), want.r, 1e-5, `layer ${JSON.stringify(rules)}`);
  }
});

test('a Linear exported as MatMul + Add gets the same relevances as a Gemm, rules keyed by the Add', async () => {
  const gemmNet = await mlp();
  const mmNet = await mlp(B1, B2, true);
  for (const rules of [{}, { out: 'alpha1beta0', h: { rule: 'gamma', setBiasToZero: true } }]) {
    const a = values(await run(gemmNet, feed([1, 3], X), 'lrp', 0, { rules }));
    close(values(await run(mmNet, feed([1, 3], X), 'lrp', 0, { rules })), a, 1e-5, JSON.stringify(rules));
  }
});

test('the identity rule passes relevance unchanged through a layer of the same shape', async () => {
  // x (1, 2, 3, 3) → Conv 1×1 (2→2) = c → Relu = r → Flatten → Gemm = out
  const lm = await model([2, 3, 3], (b) => {
    const c = b.add('Conv', ['x', b.f32([1, -0.5, 0.25, 2], [2, 2, 1, 1]), b.f32([0.1, -0.1], [2])], {}, ['c'])[0];
    const r = b.add('Relu', [c], {}, ['r'])[0];
    return gemm(b, b.op('Flatten', [r], { axis: attr.int(1) }), [Array.from({ length: 18 }, (_, i) => Math.cos(i))], undefined, 'out');
  });
  const x = Array.from({ length: 18 }, (_, i) => Math.sin(i * 1.3));
  const atR = values(await run(lm, feed([1, 2, 3, 3], x), 'layer-lrp', 0, { layer: 'r' }));
  close(values(await run(lm, feed([1, 2, 3, 3], x), 'lrp', 0, { rules: { c: 'identity' } })), atR, 1e-6);
  // the identity rule on a layer that changes the shape is an error that says so
  await assert.rejects(run(lm, feed([1, 2, 3, 3], x), 'lrp', 0, { rules: { out: 'identity' } }), /identity rule needs a layer whose input and output have the same shape/);
});

test('lrp with epsilon -> 0 on a bias-free Conv/MaxPool/Relu net equals gradient × input', async () => {
  // x (1, 1, 6, 6) → Conv 3×3 pad 1 (2 ch) → Relu → MaxPool 2×2 → Flatten → Gemm (3 classes)
  const k = [0.5, -1, 0.25, 1, 1.5, 0.5, -0.5, 0.2, 0.3, -1, 1, 0.5, 0.5, -0.2, 0.7, 0.9, -1.3, 0.4];
  const lm = await model([1, 6, 6], (b) => {
    const c = b.add('Conv', ['x', b.f32(k, [2, 1, 3, 3])], { pads: attr.ints([1, 1, 1, 1]) }, ['c'])[0];
    const r = b.op('Relu', [c]);
    const p = b.add('MaxPool', [r], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }, ['p'])[0];
    const w = [0, 1, 2].map((cls) => Array.from({ length: 18 }, (_, i) => Math.sin(i * (cls + 1) + cls)));
    return gemm(b, b.op('Flatten', [p], { axis: attr.int(1) }), w, undefined, 'out');
  });
  const x = Array.from({ length: 36 }, (_, i) => Math.cos(i * 0.7) + 0.2);
  for (const t of [0, 2]) {
    const lrp = await run(lm, feed([1, 1, 6, 6], x), 'lrp', t, { returnConvergenceDelta: true });
    const ixg = values(await run(lm, feed([1, 1, 6, 6], x), 'input-x-gradient', t));
    close(values(lrp), ixg, 1e-4, `target ${t}`);
    assert.ok(Math.abs(lrp.delta!) < 1e-4 * (1 + Math.abs(lrp.predictions[0].logit)), `conserved: delta ${lrp.delta}`);
  }
});

test('lrp rules: unknown tensors, unknown rules and bad values are one-line errors that say what to give', async () => {
  const lm = await mlp();
  await assert.rejects(run(lm, feed([1, 3], X), 'lrp', 0, { rules: { hh: 'gamma' } }), /rules: 'hh' is not the output of a node .*closest: h\b/);
  await assert.rejects(run(lm, feed([1, 3], X), 'lrp', 0, { rules: { h: 'zeta' } }), /rules\['h'\]: unknown rule "zeta"; give a rule name \(epsilon, gamma, alpha1beta0, identity\)/);
  await assert.rejects(run(lm, feed([1, 3], X), 'lrp', 0, { rules: { h: { rule: 'gamma', gamma: -1 } } }), /gamma must be a number >= 0/);
  await assert.rejects(run(lm, feed([1, 3], X), 'lrp', 0, { rules: '[1]' }), /parameter 'rules' must be a JSON object/);
});

test("a tensor feeding a layer and a residual Add: its whole relevance is multiplied by it, as Captum's tensor hook does", async () => {
  // x (3) → Gemm(V1, c1) = h → Relu = r → Add(r, x) = s → Gemm(V2, c2) = out
  const V1 = [[1, -0.5, 0.25], [0.5, 1.5, -1], [-1, 0.75, 0.5]];
  const C1 = [0.2, -0.1, 0.05];
  const V2 = [[0.5, -1, 2], [1.5, 0.25, -0.5]];
  const C2 = [0.1, 0.3];
  const lm = await model([3], (b) => {
    const h = gemm(b, 'x', V1, C1, 'h');
    const r = b.add('Relu', [h], {}, ['r'])[0];
    const s = b.add('Add', [r, 'x'], {}, ['s'])[0];
    return gemm(b, s, V2, C2, 'out');
  });
  const x = [0.6, -0.8, 0.9];
  for (const t of [0, 1]) {
    const hv = affine(V1, C1, x);
    const sv = hv.map((v, j) => Math.max(0, v) + x[j]);
    const f = affine(V2, C2, sv)[t];
    // s feeds the second Gemm: R_s = s · V2[t] / out_t; the Add hands R_s to r and to x
    const Rs = sv.map((v, j) => (v * V2[t][j]) / stab(f, 1e-9));
    // the Relu passes R_s to h; the first Gemm divides by h and goes back through V1
    const c1 = x.map((_, i) => V1.reduce((acc, row, j) => acc + (row[i] * Rs[j]) / stab(hv[j], 1e-9), 0));
    // x feeds the first Gemm: its total (from the Gemm and from the Add) times x
    const want = x.map((v, i) => v * (c1[i] + Rs[i]) * f);
    close(values(await run(lm, feed([1, 3], x), 'lrp', t)), want, 1e-5, `target ${t}`);
    // at s (a layer input): relevance s · V2[t] / out_t, times f
    close(values(await run(lm, feed([1, 3], x), 'layer-lrp', t, { layer: 's' })), Rs.map((v) => v * f), 1e-5, `layer s, target ${t}`);
    // a rule on the Add makes it Captum's Addition_Module: R_s / s goes to both inputs, each
    // multiplied by its own value (r, and x on its total with the first Gemm's share)
    const q = Rs.map((v, j) => v / stab(sv[j], 1e-9));
    const c1q = x.map((_, i) => V1.reduce((acc, row, j) => acc + (row[i] * Math.max(0, hv[j]) * q[j]) / stab(hv[j], 1e-9), 0));
    const add = x.map((v, i) => v * (c1q[i] + q[i]) * f);
    close(values(await run(lm, feed([1, 3], x), 'lrp', t, { rules: { s: 'epsilon' } })), add, 1e-5, `Addition_Module, target ${t}`);
  }
});
