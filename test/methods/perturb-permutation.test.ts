import assert from 'node:assert/strict';
import { test } from 'node:test';
import { close, feed, linear, run, samePerEval, values } from './perturb-models';

const W = [
  [0.5, -2, 1.5, 3],
  [1, 1, 1, 1],
];
const X = [2, 1, -1, 0.5];
const E1 = [0, 3, 1, -1];
const E2 = [1, 1, 1, 1];

test('feature-permutation with one other example: the only non-identity permutation swaps, giving w_i·(x_i − e_i)', async () => {
  const lm = await linear([4], W);
  const got = await samePerEval(lm, feed([1, 4], X), 'feature-permutation', 0, { batchExamples: [E1] });
  close(got, X.map((x, i) => W[0][i] * (x - E1[i])), 1e-6);
  // grouped features move together
  close(values(await run(lm, feed([1, 4], X), 'feature-permutation', 0, { batchExamples: [E1], featureMask: [[0, 0, 1, 1]] })), [5, 5, 1.5, 1.5], 1e-6);
});

test('feature-permutation with two other examples takes each feature from a random row of the batch', async () => {
  const lm = await linear([4], W);
  const results: number[][] = [];
  for (const seed of [0, 1, 2, 3, 4]) {
    const got = values(await run(lm, feed([1, 4], X), 'feature-permutation', 0, { batchExamples: [E1, E2], seed }));
    got.forEach((v, i) => {
      const options = [0, W[0][i] * (X[i] - E1[i]), W[0][i] * (X[i] - E2[i])];
      assert.ok(options.some((o) => Math.abs(o - v) < 1e-6), `feature ${i}: ${v} is none of ${options}`);
    });
    results.push(got);
  }
  close(values(await run(lm, feed([1, 4], X), 'feature-permutation', 0, { batchExamples: [E1, E2], seed: 3 })), results[3], 0, 'same seed');
  assert.ok(results.some((r) => r.some((v, i) => v !== results[0][i])), 'seeds differ');
});

test('feature-permutation of a batch of one is the identity, so every attribution is 0', async () => {
  const lm = await linear([4], W);
  assert.deepEqual(values(await run(lm, feed([1, 4], X), 'feature-permutation', 0)), [0, 0, 0, 0]);
});

test('feature-permutation rejects batchExamples of the wrong shape', async () => {
  const lm = await linear([4], W);
  await assert.rejects(run(lm, feed([1, 4], X), 'feature-permutation', 0, { batchExamples: [[1, 2, 3]] }), /batchExamples must have shape \(K, 4\)/);
});
