import assert from 'node:assert/strict';
import { test } from 'node:test';
import { riseMask } from '../../src/engine/methods/rise';
import { close, feed, linear, run, samePerEval, values } from './perturb-models';

// logits = (k · Σ of the top-right 4×4 quarter of an 8×8 image − 2, 0)
const K = 0.25;
const BIAS = [-2, 0];
const region = (p: number) => Math.floor(p / 8) < 4 && p % 8 >= 4;
const W = [Array.from({ length: 64 }, (_, p) => (region(p) ? K : 0)), new Array<number>(64).fill(0)];
const ONES = new Array<number>(64).fill(1);

test('rise puts the saliency on the only region the model looks at', async () => {
  const lm = await linear([1, 8, 8], W, BIAS);
  const map = values(await run(lm, feed([1, 1, 8, 8], ONES), 'rise', 0, { nMasks: 500, gridSize: 4, seed: 1 }));
  assert.equal(map.length, 64);
  const best = map.indexOf(Math.max(...map));
  assert.ok(region(best), `maximum at pixel ${best}`);
  const mean = (f: (p: number) => boolean) => map.filter((_, p) => f(p)).reduce((a, b) => a + b, 0) / 16;
  assert.ok(mean(region) > mean((p) => Math.floor(p / 8) >= 4 && p % 8 < 4) + 0.05, 'inside vs the opposite quarter');
});

test('rise with probability 1 keeps every pixel: the map is the target probability everywhere', async () => {
  const lm = await linear([1, 8, 8], W, BIAS);
  const s = 16 * K + BIAS[0];
  const p = Math.exp(s) / (Math.exp(s) + 1);
  close(values(await run(lm, feed([1, 1, 8, 8], ONES), 'rise', 0, { nMasks: 5, probability: 1 })), new Array(64).fill(p), 1e-6);
});

test('rise masks: smooth crops of an upsampled random grid', () => {
  close(riseMask({ grid: Float64Array.from([1, 1, 1, 1]), dy: 1, dx: 0 }, 2, 4, 4), new Array(16).fill(1));
  // left column of cells kept: each row falls from 1 towards 0 left to right
  const m = riseMask({ grid: Float64Array.from([1, 0, 1, 0]), dy: 0, dx: 1 }, 2, 4, 4);
  for (let y = 0; y < 4; y++) {
    const row = Array.from(m.subarray(y * 4, y * 4 + 4));
    assert.deepEqual(row, Array.from(m.subarray(0, 4)), 'rows agree');
    for (let x = 1; x < 4; x++) assert.ok(row[x] <= row[x - 1]);
  }
  // 6×6 upsampled with half-pixel centres, shifted by 1: mask column x reads source (x + 1.5) / 3 − 0.5
  close([m[0], m[1], m[2], m[3]], [1, 2 / 3, 1 / 3, 0]);
});

test('rise: the same for perturbationsPerEval 1, 2, 3 and reproducible by seed', async () => {
  const lm = await linear([1, 8, 8], W, BIAS);
  const a = await samePerEval(lm, feed([1, 1, 8, 8], ONES), 'rise', 0, { nMasks: 7, gridSize: 3, seed: 9 });
  close(values(await run(lm, feed([1, 1, 8, 8], ONES), 'rise', 0, { nMasks: 7, gridSize: 3, seed: 9 })), a, 0);
  assert.notDeepEqual(values(await run(lm, feed([1, 1, 8, 8], ONES), 'rise', 0, { nMasks: 7, gridSize: 3, seed: 10 })), a);
  await assert.rejects(run(lm, feed([1, 1, 8, 8], ONES), 'rise', 0, { gridSize: 9 }), /gridSize 9 is larger than the image \(8×8\)/);
});
