import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attribute } from '../../src/engine/methods/registry';
import { Rng } from '../../src/engine/methods/rng';
import { deletionInsertion, infidelity, pointingGame, sensitivityMax, trapezoid } from '../../src/engine/metrics';
import { Tensor } from '../../src/engine/core/tensor';
import { close, feed, linear } from '../methods/perturb-models';

const W = [
  [0.5, -2, 1.5, 3],
  [1, 1, 1, 1],
];
const X = [2, 1, -1, 0.5];
const t = (dims: number[], data: number[]): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });

test('infidelity: ~0 for the exact attribution of a linear model under noise, larger for a wrong one', async () => {
  const lm = await linear([4], W);
  const feeds = feed([1, 4], X);
  const exact = await infidelity(lm, feeds, t([1, 4], W[0]), { target: 0 });
  assert.ok(exact < 1e-9, `exact: ${exact}`);
  const wrong = await infidelity(lm, feeds, t([1, 4], [3, 1.5, -2, 0.5]), { target: 0 });
  assert.ok(wrong > 1e-6 && wrong > 1000 * exact, `wrong: ${wrong}`);
  // normalize rescales the attribution first: 2·w is exact up to β = 1/2
  assert.ok((await infidelity(lm, feeds, t([1, 4], W[0].map((v) => 2 * v)), { target: 0, normalize: true })) < 1e-9);
});

test('infidelity with a fixed perturbation equals (Iᵀφ − w·I)² by hand', async () => {
  const lm = await linear([4], W);
  const I = [0.1, -0.2, 0.05, 0.3];
  const phi = [1, 1, 0, -1];
  const perturbFunc = (_x: Float32Array, noise: Float32Array) => noise.set(I);
  const expected = (I.reduce((s, v, i) => s + v * phi[i], 0) - I.reduce((s, v, i) => s + v * W[0][i], 0)) ** 2;
  close([await infidelity(lm, feed([1, 4], X), t([1, 4], phi), { target: 0, perturbFunc, nPerturbSamples: 3 })], [expected], 1e-5);
});

test('sensitivity-max: 0 for saliency on a linear model; ‖δ‖/‖x‖ by hand for φ(x) = x', async () => {
  const lm = await linear([4], W);
  const feeds = feed([1, 4], X);
  const saliency = async (f: Record<string, Tensor>) => Object.values((await attribute(lm, f, { method: 'saliency', target: 0 })).attributions)[0];
  assert.equal(await sensitivityMax(saliency, feeds), 0);
  // φ(x) = x: each sample's ratio is ‖u‖₂ / ‖x‖₂ with u uniform in [−r, r]⁴ drawn from the seeded Rng
  const rng = new Rng(3);
  let worst = 0;
  const xf = Float32Array.from(X);
  for (let s = 0; s < 10; s++) {
    const xp = Float32Array.from(xf, (v) => v + (2 * rng.next() - 1) * 0.02);
    worst = Math.max(worst, Math.hypot(...Array.from(xp, (v, i) => v - xf[i])) / Math.hypot(...X));
  }
  close([await sensitivityMax(async (f) => f.x, feeds, { seed: 3 })], [worst], 1e-6);
  const inf = await sensitivityMax(async (f) => f.x, feeds, { seed: 3, normOrd: 'inf' });
  assert.ok(inf > 0 && inf <= 0.02 / 2 + 1e-7, `L∞ ratio ${inf}`);
});

test('deletion / insertion: the curves and trapezoid AUCs by hand on a one-output linear model', async () => {
  // one output, so the score is the raw value: f(x) = Σ w_p x_p over a 1×1×2×2 image
  const lm = await linear([1, 2, 2], [[1, 2, 3, 4]]);
  const feeds = feed([1, 1, 2, 2], [1, 1, 1, 1]);
  const r = await deletionInsertion(lm, feeds, t([1, 1, 2, 2], [0.1, 0.2, 0.4, 0.3]), { target: 0, steps: 2 });
  // ranking 2, 3, 1, 0: deleting the top half removes 3 + 4
  assert.deepEqual(r.deletion.fractions, [0, 0.5, 1]);
  close(r.deletion.scores, [10, 3, 0]);
  close(r.insertion.scores, [0, 7, 10]);
  close([r.deletion.auc, r.insertion.auc], [(10 + 3) / 4 + 3 / 4, 7 / 4 + 17 / 4]);
  close([trapezoid([0, 0.5, 1], [1, 1, 1])], [1]);
});

test('deletion AUC of a perfect attribution is below that of a random one; insertion above', async () => {
  // logits (Σ of the left half of a 6×6 image − 3, 0): the left half is all that matters
  const w = Array.from({ length: 36 }, (_, p) => (p % 6 < 3 ? 0.4 : 0));
  const lm = await linear([1, 6, 6], [w, new Array(36).fill(0)], [-3, 0]);
  const feeds = feed([1, 1, 6, 6], new Array(36).fill(1));
  const perfect = await deletionInsertion(lm, feeds, t([1, 1, 6, 6], w), { target: 0, steps: 12 });
  const rng = new Rng(1);
  const random = await deletionInsertion(lm, feeds, t([1, 1, 6, 6], Array.from({ length: 36 }, () => rng.next())), { target: 0, steps: 12 });
  assert.ok(perfect.deletion.auc < random.deletion.auc - 0.05, `${perfect.deletion.auc} vs ${random.deletion.auc}`);
  assert.ok(perfect.insertion.auc > random.insertion.auc + 0.05, `${perfect.insertion.auc} vs ${random.insertion.auc}`);
  // a (1, 1, 3, 3) CAM-sized map is resized to the image before ranking
  const cam = await deletionInsertion(lm, feeds, t([1, 1, 3, 3], [1, 0, 0, 1, 0, 0, 1, 0, 0]), { target: 0, steps: 12 });
  assert.ok(cam.deletion.auc < random.deletion.auc);
  // blurred baseline of a constant image is the image: nothing changes along the curves
  const blur = await deletionInsertion(lm, feeds, t([1, 1, 6, 6], w), { target: 0, steps: 4, baseline: 'blur' });
  close(blur.deletion.scores, new Array(5).fill(blur.deletion.scores[0]), 1e-5);
});

test('pointing game: hit and miss by hand, channel sums, CAM maps and tolerance', () => {
  const mask = t([4, 4], [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  const at = (p: number, v = 1) => Array.from({ length: 16 }, (_, i) => (i === p ? v : 0));
  assert.equal(pointingGame(t([1, 1, 4, 4], at(5)), mask).hit, true);
  assert.deepEqual(pointingGame(t([1, 1, 4, 4], at(15)), mask), { hit: false, point: { x: 3, y: 3 } });
  // two channels: pixel 0 wins in channel 0 alone, but the channel sum peaks at pixel 10
  const two = [...at(0, 3).map((v, i) => v + (i === 10 ? 2 : 0)), ...at(10, 2)];
  assert.deepEqual(pointingGame(t([1, 2, 4, 4], two), mask).point, { x: 2, y: 2 });
  // a 2×2 map resized to 4×4: its top-left cell covers pixels 0, 1, 4, 5 → maximum at (0, 0), a miss
  assert.equal(pointingGame(t([1, 1, 2, 2], [1, 0, 0, 0]), mask, { inputDims: [1, 3, 4, 4] }).hit, false);
  assert.equal(pointingGame(t([1, 1, 4, 4], at(0)), mask, { tolerance: 1 }).hit, false); // (1, 1) is √2 away
  assert.equal(pointingGame(t([1, 1, 4, 4], at(0)), mask, { tolerance: 2 }).hit, true);
  assert.throws(() => pointingGame(t([1, 1, 4, 4], at(0)), [1, 0, 1]), /mask has 3 pixels but the input is 4×4/);
});
