import assert from 'node:assert/strict';
import { test } from 'node:test';
import { integrationPoints } from '../../src/engine/methods/approximation';
import { attr } from '../../src/engine/onnx/attributes';
import { close, feed, gemm, model, run, values } from './grad-models';

// x (1, 1, 5, 5) → Conv 3×3 (2 ch) = c1 (1, 2, 3, 3) → Relu = a1 → Conv 1×1 (2 → 2) = c2 → Relu = a2
// → Flatten → Gemm = out; the forward pass is also written out here to compute by hand.
const K = [
  [0.5, -1, 0.25, 2, 1.5, 0.5, -0.5, 0.1, 0.3],
  [-1, 1, 1, 0.5, -0.2, 0.7, 0.9, -1.3, 0.4],
];
const B1 = [0.2, -0.3];
const W2 = [
  [1.2, -0.7],
  [-0.4, 0.9],
];
const B2 = [0.1, -0.2];
const FC = [Array.from({ length: 18 }, (_, i) => Math.sin(i + 1)), Array.from({ length: 18 }, (_, i) => Math.cos(2 * i))];
const X = [0.8, -0.3, 1.2, 0.4, 0.1, 0.9, -1.1, 0.6, -0.7, 0.2, 1.5, -0.4, 0.3, -0.8, 0.05, 1, -0.6, 0.7, 0.25, -1.2, 0.45, 1.3, -0.15, 0.35, -0.9];
const BASE = X.map((v, i) => (i % 3 === 0 ? 0.2 : -0.5 * v));
const DIMS = [1, 1, 5, 5];

const net = () =>
  model([1, 5, 5], (b) => {
    const c1 = b.add('Conv', ['x', b.f32(K.flat(), [2, 1, 3, 3]), b.f32(B1, [2])], { kernel_shape: attr.ints([3, 3]) }, ['c1'])[0];
    const a1 = b.add('Relu', [c1], {}, ['a1'])[0];
    const c2 = b.add('Conv', [a1, b.f32(W2.flat(), [2, 2, 1, 1]), b.f32(B2, [2])], {}, ['c2'])[0];
    const a2 = b.add('Relu', [c2], {}, ['a2'])[0];
    return gemm(b, b.op('Flatten', [a2], { axis: attr.int(1) }), FC, undefined, 'out');
  });

/** The kernel of channel ch placed at the receptive field of output position (i, j). */
const receptive = (ch: number, i: number, j: number) => {
  const g = new Array<number>(25).fill(0);
  for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) g[(i + u) * 5 + j + v] = K[ch][u * 3 + v];
  return g;
};
const relu = (v: number) => Math.max(0, v);
const c1 = (x: number[], ch: number, i: number, j: number) => receptive(ch, i, j).reduce((s, k, p) => s + k * x[p], B1[ch]);
const c2 = (x: number[], ch: number, i: number, j: number) => W2[ch].reduce((s, w, c) => s + w * relu(c1(x, c, i, j)), B2[ch]);
const a2 = (x: number[], ch: number, i: number, j: number) => relu(c2(x, ch, i, j));
const ratio = (dOut: number, dIn: number, grad: number) => (Math.abs(dIn) < 1e-10 ? grad : dOut / dIn);

// neurons of a2 chosen so that both paths matter: some active, some not, for x or the baseline
const NEURONS: Array<[number, number, number]> = [[0, 1, 1], [1, 0, 2], [0, 2, 0], [1, 1, 1]];

test('neuron-guided-backprop and neuron-deconvolution from a deep neuron, by hand', async () => {
  const lm = await net();
  let masked = 0;
  for (const [ch, i, j] of NEURONS) {
    // guided: Relu(dY)·(X > 0) at each Relu; deconvolution: Relu(dY) alone
    const guided = new Array<number>(25).fill(0), deconv = new Array<number>(25).fill(0);
    const on2 = c2(X, ch, i, j) > 0 ? 1 : 0;
    for (let c = 0; c < 2; c++) {
      const on1 = c1(X, c, i, j) > 0 ? 1 : 0;
      if (!on1 && W2[ch][c] > 0) masked++;
      receptive(c, i, j).forEach((k, p) => {
        guided[p] += on2 * relu(W2[ch][c]) * on1 * k;
        deconv[p] += relu(W2[ch][c]) * k;
      });
    }
    const sel = { layer: 'a2', neuronSelector: [ch, i, j] };
    close(values(await run(lm, feed(DIMS, X), 'neuron-guided-backprop', 0, sel)), guided, 1e-6, `guided ${[ch, i, j]}`);
    close(values(await run(lm, feed(DIMS, X), 'neuron-deconvolution', 0, sel)), deconv, 1e-6, `deconvolution ${[ch, i, j]}`);
  }
  assert.ok(masked > 0, 'a forward mask mattered for guided backprop');
  // Captum's flat index selects the same neuron: (1, 0, 2) → 1·9 + 0·3 + 2 = 11
  const a = values(await run(lm, feed(DIMS, X), 'neuron-deconvolution', 0, { layer: 'a2', neuronSelector: [1, 0, 2] }));
  close(values(await run(lm, feed(DIMS, X), 'neuron-deconvolution', 0, { layer: 'a2', neuronSelector: 11 })), a, 0);
});

/** DeepLift of a2[ch, i, j] by hand: rescale multipliers through both Relus, times (x - b). */
function deepliftByHand(base: number[], ch: number, i: number, j: number): number[] {
  const m2 = ratio(a2(X, ch, i, j) - a2(base, ch, i, j), c2(X, ch, i, j) - c2(base, ch, i, j), c2(X, ch, i, j) > 0 ? 1 : 0);
  const out = new Array<number>(25).fill(0);
  for (let c = 0; c < 2; c++) {
    const d1 = c1(X, c, i, j) - c1(base, c, i, j);
    const m1 = ratio(relu(c1(X, c, i, j)) - relu(c1(base, c, i, j)), d1, c1(X, c, i, j) > 0 ? 1 : 0);
    receptive(c, i, j).forEach((k, p) => (out[p] += m2 * W2[ch][c] * m1 * k * (X[p] - base[p])));
  }
  return out;
}

test('neuron-deeplift and neuron-deeplift-shap from a deep neuron: the rescale rule by hand, complete', async () => {
  const lm = await net();
  const base2 = X.map((v, i) => (i % 2 ? 0.3 : -v));
  for (const [ch, i, j] of NEURONS) {
    const want = deepliftByHand(BASE, ch, i, j);
    const got = values(await run(lm, feed(DIMS, X), 'neuron-deeplift', 0, { layer: 'a2', neuronSelector: [ch, i, j], baselines: [[[0, 1, 2, 3, 4].map((r) => BASE.slice(r * 5, r * 5 + 5))]] }));
    close(got, want, 1e-5, `deeplift ${[ch, i, j]}`);
    // completeness: the attributions sum to a2(x) - a2(baseline)
    const total = got.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(total - (a2(X, ch, i, j) - a2(BASE, ch, i, j))) < 1e-5, `complete: ${total}`);
    // without the input factor: the multipliers alone
    const mult = values(await run(lm, feed(DIMS, X), 'neuron-deeplift', 0, { layer: 'a2', neuronSelector: [ch, i, j], baselines: [[[0, 1, 2, 3, 4].map((r) => BASE.slice(r * 5, r * 5 + 5))]], multiplyByInputs: false }));
    close(mult.map((m, p) => m * (X[p] - BASE[p])), want, 1e-5, 'multipliers');
    // the shap variant averages over a set of baselines (K, 1, 5, 5)
    const set = [BASE, base2].map((bb) => [[0, 1, 2, 3, 4].map((r) => bb.slice(r * 5, r * 5 + 5))]);
    const shap = values(await run(lm, feed(DIMS, X), 'neuron-deeplift-shap', 0, { layer: 'a2', neuronSelector: [ch, i, j], baselines: set }));
    const other = deepliftByHand(base2, ch, i, j);
    close(shap, want.map((v, p) => (v + other[p]) / 2), 1e-5, `shap ${[ch, i, j]}`);
  }
});

test('neuron-conductance of a neuron feeding the linear head: its weight times the trapezoid path integral, by hand', async () => {
  const lm = await net();
  const t = 1;
  for (const [ch, i, j] of NEURONS) {
    for (const nSteps of [8, 33]) {
      // d out[t] / d a2[n] is FC[t][n]; d a2[n] / dx along the path is piecewise constant
      const n = ch * 9 + i * 3 + j;
      const { alphas, weights } = integrationPoints('riemann_trapezoid', nSteps);
      const want = new Array<number>(25).fill(0);
      for (let k = 0; k < nSteps; k++) {
        const xa = X.map((v, p) => BASE[p] + alphas[k] * (v - BASE[p]));
        if (c2(xa, ch, i, j) <= 0) continue;
        for (let c = 0; c < 2; c++) {
          if (c1(xa, c, i, j) <= 0) continue;
          receptive(c, i, j).forEach((kk, p) => (want[p] += weights[k] * FC[t][n] * W2[ch][c] * kk * (X[p] - BASE[p])));
        }
      }
      const got = values(await run(lm, feed(DIMS, X), 'neuron-conductance', t, { layer: 'a2', neuronSelector: [ch, i, j], baselines: [[[0, 1, 2, 3, 4].map((r) => BASE.slice(r * 5, r * 5 + 5))]], nSteps }));
      close(got, want, 1e-5, `conductance ${[ch, i, j]} nSteps ${nSteps}`);
    }
  }
});

test('neuron-feature-ablation: the drop in the neuron when each feature is set to the baseline, by hand', async () => {
  const lm = await net();
  const mask = Array.from({ length: 25 }, (_, p) => (Math.floor(p / 5) < 2 ? 0 : p % 5 < 3 ? 1 : 2));
  for (const [ch, i, j] of NEURONS) {
    const groups = [0, 1, 2].map((g) => mask.map((m, p) => (m === g ? p : -1)).filter((p) => p >= 0));
    const drop = groups.map((g) => {
      const xa = [...X];
      for (const p of g) xa[p] = 0.25;
      return a2(X, ch, i, j) - a2(xa, ch, i, j);
    });
    const got = values(await run(lm, feed(DIMS, X), 'neuron-feature-ablation', 0, { layer: 'a2', neuronSelector: [ch, i, j], baselines: 0.25, featureMask: [[[0, 1, 2, 3, 4].map((r) => mask.slice(r * 5, r * 5 + 5))]] }));
    close(got, mask.map((m) => drop[m]), 1e-5, `ablation ${[ch, i, j]}`);
    // every element its own feature, at the first layer: c1 is linear, so the drop is k·(x - 0)
    const c = values(await run(lm, feed(DIMS, X), 'neuron-feature-ablation', 0, { layer: 'c1', neuronSelector: [ch, i, j] }));
    close(c, receptive(ch, i, j).map((k, p) => k * X[p]), 1e-5, `c1 ${[ch, i, j]}`);
  }
  // attributeToNeuronInput: the neuron of the Relu's input (c2)
  const toInput = await run(lm, feed(DIMS, X), 'neuron-feature-ablation', 0, { layer: 'a2', neuronSelector: [0, 2, 0], attributeToNeuronInput: true });
  assert.equal(toInput.layer, 'c2');
  close(values(toInput), X.map((_, p) => {
    const xa = [...X];
    xa[p] = 0;
    return c2(X, 0, 2, 0) - c2(xa, 0, 2, 0);
  }), 1e-5);
});

test('neuron methods: a selector outside the layer or of the wrong rank is a one-line error', async () => {
  const lm = await net();
  for (const method of ['neuron-deeplift', 'neuron-guided-backprop', 'neuron-feature-ablation', 'neuron-conductance']) {
    await assert.rejects(run(lm, feed(DIMS, X), method, 0, { layer: 'a2', neuronSelector: [2, 0, 0] }), /neuronSelector \[2,0,0\] is outside 'a2' \[2,3,3\]: index 0 must be below 2/, method);
    await assert.rejects(run(lm, feed(DIMS, X), method, 0, { layer: 'a2', neuronSelector: [0, 1] }), /has 2 indices but 'a2' has 3 axes/, method);
  }
});
