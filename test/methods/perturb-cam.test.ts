import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cutForwardModel } from '../../src/engine/methods/cutForward';
import { resizeBilinear } from '../../src/engine/methods/spatial';
import { attr } from '../../src/engine/onnx/attributes';
import { close, feed, gemm, model, reluLinear, run, samePerEval } from './perturb-models';

// act = relu(x), x (1, 2, 3, 3); out = W · flatten(act)
const C = 2, HW = 9;
const X = [0.5, -1, 2, 0.3, 1, 0, -0.4, 0.9, 1.5, /* channel 1 */ 1.2, 0.1, -2, 0.7, 0, 0.6, 2.2, -0.3, 0.4];
const W = [
  [0.3, -0.8, 0.5, 1.1, -0.2, 0.4, 0.9, -1.3, 0.2, /* */ -0.6, 0.7, 0.1, -0.9, 1.4, 0.3, -0.1, 0.5, -1.2],
  [1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
];
const A = X.map((v) => Math.max(0, v));
const dot = (w: number[], v: number[]) => w.reduce((s, wi, i) => s + wi * v[i], 0);
const cam = (weights: number[]) => Array.from({ length: HW }, (_, p) => Math.max(0, weights.reduce((s, wc, c) => s + wc * A[c * HW + p], 0)));

test('resizeBilinear: corners aligned (UpsamplingBilinear2d) and half-pixel (interpolate) by hand', () => {
  close(resizeBilinear([0, 1, 2, 3], 2, 2, 3, 3, true), [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]);
  close(resizeBilinear([0, 1], 1, 2, 1, 4, false), [0, 0.25, 0.75, 1]);
});

test("score-cam follows pytorch-grad-cam: softmax over channels of the target's score on the channel-masked input", async () => {
  const lm = await reluLinear([C, 3, 3], W);
  for (const target of [0, 1]) {
    const scores = [0, 1].map((c) => {
      const a = A.slice(c * HW, (c + 1) * HW);
      const lo = Math.min(...a), hi = Math.max(...a);
      const m = a.map((v) => (v - lo) / (hi - lo + 1e-8));
      return dot(W[target], X.map((v, i) => Math.max(0, v * m[i % HW])));
    });
    const e = scores.map((s) => Math.exp(s - Math.max(...scores)));
    const weights = e.map((v) => v / (e[0] + e[1]));
    const got = await samePerEval(lm, feed([1, C, 3, 3], X), 'score-cam', target);
    close(got, cam(weights), 1e-5, `target ${target}`);
  }
  const r = await run(lm, feed([1, C, 3, 3], X), 'score-cam', 0);
  assert.deepEqual(Object.values(r.attributions)[0].dims, [1, 1, 3, 3]);
  assert.equal(r.layer, 'act');
});

test('score-cam upsamples a smaller layer to the input with corners aligned', async () => {
  // x (1, 1, 4, 4) → MaxPool 2×2 = act (1, 1, 2, 2) → out = Σ act (and 0)
  const lm = await model([1, 4, 4], (b) => gemm(b, b.add('MaxPool', ['x'], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }, ['act'])[0], [[1, 1, 1, 1], [0, 0, 0, 0]]));
  const x = Array.from({ length: 16 }, (_, i) => (i % 5) * 0.25);
  const pooled = [0, 1, 2, 3].map((q) => {
    const y0 = Math.floor(q / 2) * 2, x0 = (q % 2) * 2;
    return Math.max(x[y0 * 4 + x0], x[y0 * 4 + x0 + 1], x[(y0 + 1) * 4 + x0], x[(y0 + 1) * 4 + x0 + 1]);
  });
  const up = resizeBilinear(pooled, 2, 2, 4, 4, true);
  const lo = Math.min(...up), hi = Math.max(...up);
  const masked = x.map((v, i) => v * ((up[i] - lo) / (hi - lo + 1e-8)));
  const score = [0, 1, 2, 3].reduce((s, q) => {
    const y0 = Math.floor(q / 2) * 2, x0 = (q % 2) * 2;
    return s + Math.max(masked[y0 * 4 + x0], masked[y0 * 4 + x0 + 1], masked[(y0 + 1) * 4 + x0], masked[(y0 + 1) * 4 + x0 + 1]);
  }, 0);
  assert.ok(score > 0);
  // one channel: its softmax weight is 1
  close(await samePerEval(lm, feed([1, 1, 4, 4], x), 'score-cam', 0), pooled, 1e-6);
});

test('ablation-cam: weight_c = (y − y with channel c zeroed) / y, through the cut graph', async () => {
  const lm = await reluLinear([C, 3, 3], W);
  for (const target of [0, 1]) {
    const y = dot(W[target], A);
    const weights = [0, 1].map((c) => dot(W[target].slice(c * HW, (c + 1) * HW), A.slice(c * HW, (c + 1) * HW)) / y);
    close(await samePerEval(lm, feed([1, C, 3, 3], X), 'ablation-cam', target), cam(weights), 1e-5, `target ${target}`);
  }
});

test('ablation-cam on ViT-style tokens zeroes a channel in every token and maps the patches', async () => {
  // x (1, 5, 2): a class token and a 2×2 patch grid; act = relu(x); out = W · flatten(act)
  const xt = [0.4, 1, /* patches */ 1, 0.5, -1, 2, 0.3, 0, 0.8, 0.6];
  const wt = [[0.5, -1, 1, 2, 0.5, 1, -1, 0.5, 2, 1], new Array(10).fill(0)];
  const lm = await reluLinear([5, 2], wt);
  const at = xt.map((v) => Math.max(0, v));
  const y = dot(wt[0], at);
  const weights = [0, 1].map((c) => at.reduce((s, a, i) => (i % 2 === c ? s + wt[0][i] * a : s), 0) / y);
  const expected = [0, 1, 2, 3].map((p) => Math.max(0, weights[0] * at[(1 + p) * 2] + weights[1] * at[(1 + p) * 2 + 1]));
  close(await samePerEval(lm, feed([1, 5, 2], xt), 'ablation-cam', 0), expected, 1e-5);
});

test('the forward cut model keeps only what the output needs after the layer', async () => {
  const lm = await reluLinear([C, 3, 3], W);
  const shapes = await lm.shapes(feed([1, C, 3, 3], X));
  const cut = cutForwardModel(lm.forwardModel, 'act', 'out', shapes);
  assert.deepEqual(cut.graph.node.map((n) => n.opType), ['Flatten', 'Gemm']);
  assert.deepEqual(cut.graph.input.map((i) => i.name), ['act']);
});
