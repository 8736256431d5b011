import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr } from '../../src/engine/onnx/attributes';
import { close, feed, model, run, samePerEval, values } from './perturb-models';

// f(x) = x0·x1 + 2·x2 - x3·x0 + 0.5 (an interaction of x0 with x1 and with x3), output (N, 1)
const product = () =>
  model([4], (b) => {
    const col = (i: number) => b.op('Slice', ['x', b.i64([i]), b.i64([i + 1]), b.i64([1])]);
    const x01 = b.op('Mul', [col(0), col(1)]);
    const x30 = b.op('Mul', [col(3), col(0)]);
    const lin = b.op('Mul', [col(2), b.f32([2])]);
    return b.add('Add', [b.op('Sub', [b.op('Add', [x01, lin]), x30]), b.f32([0.5])], {}, ['out'])[0];
  });
const f = (x: number[]) => x[0] * x[1] + 2 * x[2] - x[3] * x[0] + 0.5;

/** Shapley values by enumerating every order of the players, as Captum's ShapleyValues does. */
function byPermutations(x: number[], base: number[], groups: number[][]): number[] {
  const m = groups.length;
  const phi = new Array<number>(m).fill(0);
  const orders: number[][] = [];
  const permute = (prefix: number[], rest: number[]) => {
    if (!rest.length) orders.push(prefix);
    rest.forEach((p, i) => permute([...prefix, p], [...rest.slice(0, i), ...rest.slice(i + 1)]));
  };
  permute([], groups.map((_, j) => j));
  for (const order of orders) {
    const cur = [...base];
    let prev = f(cur);
    for (const j of order) {
      for (const i of groups[j]) cur[i] = x[i];
      const now = f(cur);
      phi[j] += (now - prev) / orders.length;
      prev = now;
    }
  }
  return phi;
}

const X = [1.5, -2, 0.75, 3];

test('shapley-values on a model with interactions: by hand, split evenly between interacting features', async () => {
  const lm = await product();
  // baseline 0: x0·x1 splits in halves, x3·x0 too, 2·x2 goes to x2
  const want = [X[0] * X[1] / 2 - X[3] * X[0] / 2, X[0] * X[1] / 2, 2 * X[2], -X[3] * X[0] / 2];
  close(byPermutations(X, [0, 0, 0, 0], [[0], [1], [2], [3]]), want, 1e-12, 'the enumeration itself');
  const got = await samePerEval(lm, feed([1, 4], X), 'shapley-values', 0);
  close(got, want, 1e-5);
  // efficiency: they sum to f(x) - f(baseline)
  assert.ok(Math.abs(got.reduce((s, v) => s + v, 0) - (f(X) - f([0, 0, 0, 0]))) < 1e-5);
});

test('shapley-values with baselines and a feature mask match the enumeration over orders', async () => {
  const lm = await product();
  const base = [0.5, 1, -1, 0.25];
  close(values(await run(lm, feed([1, 4], X), 'shapley-values', 0, { baselines: base })), byPermutations(X, base, [[0], [1], [2], [3]]), 1e-5, 'baselines');
  // features {x0, x2} and {x1, x3}: each element gets its group's value
  const g = byPermutations(X, base, [[0, 2], [1, 3]]);
  close(values(await run(lm, feed([1, 4], X), 'shapley-values', 0, { baselines: base, featureMask: [[0, 1, 0, 1]] })), [g[0], g[1], g[0], g[1]], 1e-5, 'mask');
});

test('shapley-values refuses more features than it can enumerate, and says what to do', async () => {
  const lm = await model([1, 5, 5], (b) => b.add('ReduceSum', [b.op('Flatten', ['x'], { axis: attr.int(1) }), b.i64([1])], { keepdims: attr.int(1) }, ['out'])[0]);
  await assert.rejects(run(lm, feed([1, 1, 5, 5], new Array(25).fill(1)), 'shapley-values', 0), /2\^25 coalitions of 25 features; group the input into at most 16 features with featureMask, or use shapley-value-sampling/);
});

test('featureMask "grid 2x2": four patches of the image, every channel together, as the explicit mask gives', async () => {
  const lm = await model([2, 4, 4], (b) => b.add('ReduceSum', [b.op('Flatten', ['x'], { axis: attr.int(1) }), b.i64([1])], { keepdims: attr.int(1) }, ['out'])[0]);
  const x = Array.from({ length: 32 }, (_, i) => i);
  const grid = values(await run(lm, feed([1, 2, 4, 4], x), 'shapley-values', 0, { featureMask: 'grid 2x2' }));
  // ids per pixel, the same for both channels
  const ids = [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]];
  close(grid, values(await run(lm, feed([1, 2, 4, 4], x), 'shapley-values', 0, { featureMask: [[ids]] })), 1e-5, 'explicit mask');
  // a sum: each patch is worth its elements' sum over both channels (patch 0: 0+1+4+5 + 16+17+20+21)
  close([grid[0], grid[2], grid[8], grid[10]], [84, 100, 148, 164], 1e-4, 'patch sums');
  await assert.rejects(run(lm, feed([1, 2, 4, 4], x), 'shapley-values', 0, { featureMask: 'grid 2' }), /featureMask' must be a number, an array, a \.npy file or "grid 4x4"/);
});
