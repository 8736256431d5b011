import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/engine/methods/rng';
import { close, feed, gemm, linear, model, run, samePerEval, values } from './perturb-models';

const W = [
  [0.5, -2, 1.5, 3],
  [1, 1, 1, 1],
];
const X = [2, 1, -1, 0.5];

test('shapley-value-sampling on a linear model gives exactly w_i·(x_i − b_i) with any orders', async () => {
  const lm = await linear([4], W, [0.25, 0]);
  const feeds = feed([1, 4], X);
  for (const seed of [0, 1, 7]) {
    close(values(await run(lm, feeds, 'shapley-value-sampling', 0, { nSamples: 3, seed })), [1, -2, -1.5, 1.5], 1e-6, `seed ${seed}`);
  }
  const b = [1, 0, 1, -0.5];
  close(values(await run(lm, feeds, 'shapley-value-sampling', 0, { baselines: b, nSamples: 2 })), X.map((x, i) => W[0][i] * (x - b[i])), 1e-6, 'baselines');
  // a feature group is credited with its members' joint contribution
  close(values(await run(lm, feeds, 'shapley-value-sampling', 0, { featureMask: [[0, 0, 5, 5]] })), [-1, -1, 0, 0], 1e-6, 'groups');
});

test('shapley-value-sampling credits an AND of two features by the order they were added', async () => {
  // out[0] = relu(x0 + x1 − 1): with x = (1, 1) and baseline 0 only the second feature added scores 1
  const lm = await model([2], (b) => b.add('Relu', [gemm(b, 'x', [[1, 1], [0, 0]], [-1, 0], 'h')], {}, ['out'])[0]);
  const feeds = feed([1, 2], [1, 1]);
  const seeds = [0, 1, 2, 3];
  const results: number[][] = [];
  for (const seed of seeds) {
    const n = 9;
    const rng = new Rng(seed);
    const firstIsOne = Array.from({ length: n }, () => rng.permutation(2)[0] === 1).filter(Boolean).length;
    const got = await samePerEval(lm, feeds, 'shapley-value-sampling', 0, { nSamples: n, seed });
    close(got, [firstIsOne / n, 1 - firstIsOne / n], 1e-6, `seed ${seed}`);
    results.push(got);
  }
  // same seed, same result; the seeds do not all agree
  close(values(await run(lm, feeds, 'shapley-value-sampling', 0, { nSamples: 9, seed: 2 })), results[2], 0);
  assert.ok(results.some((r) => r[0] !== results[0][0]), 'different seeds give different estimates');
});

test('shapley-value-sampling streams partial maps and counts 1 + nSamples × features runs', async () => {
  const lm = await linear([4], W);
  const seen: number[] = [];
  let partials = 0;
  await import('../../src/engine/methods/registry').then(({ attribute }) =>
    attribute(lm, feed([1, 4], X), { method: 'shapley-value-sampling', target: 0, params: { nSamples: 2, perturbationsPerEval: 1 } }, {
      onProgress: (p) => {
        seen.push(p.total);
        if (p.partial) partials++;
      },
    }),
  );
  assert.equal(seen[seen.length - 1], 1 + 2 * 4);
  assert.ok(partials >= 1);
});
