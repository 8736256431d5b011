// The sanity check's similarity measures against values worked out by hand from their formulas.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalize01, ranks, spearman, ssim, toMap2D } from '../../src/engine/sanity/similarity';

const near = (a: number | null, e: number, tol = 1e-12) => assert.ok(a !== null && Math.abs(a - e) <= tol, `${a} vs ${e}`);

describe('Spearman rank correlation', () => {
  it('averages tied ranks and correlates the ranks (Pearson)', () => {
    const a = [10, 20, 20, 40, 50];
    const b = [1, 3, 2, 2, 5];
    // by hand: a's ranks 1, 2.5, 2.5, 4, 5 (the two 20s share ranks 2 and 3); b's: 1 → 1, the two
    // 2s → 2.5, 3 → 4, 5 → 5
    assert.deepEqual(Array.from(ranks(a)), [1, 2.5, 2.5, 4, 5]);
    assert.deepEqual(Array.from(ranks(b)), [1, 4, 2.5, 2.5, 5]);
    // deviations from the mean rank 3: a (−2, −.5, −.5, 1, 2), b (−2, 1, −.5, −.5, 2)
    // Σab = 4 − .5 + .25 − .5 + 4 = 7.25; Σa² = Σb² = 4 + .25 + .25 + 1 + 4 = 9.5
    near(spearman(a, b), 7.25 / 9.5);
    near(spearman(b, a), 7.25 / 9.5);
  });

  it('is ±1 for monotone maps whatever the values, null for a flat original, 0 for a flat other', () => {
    near(spearman([0.1, 5, 7, 100], [1, 2, 3, 4]), 1);
    near(spearman([0.1, 5, 7, 100], [4, 3, 2.5, -9]), -1);
    assert.equal(spearman([2, 2, 2], [1, 2, 3]), null);
    assert.equal(spearman([1, 2, 3], [0, 0, 0]), 0);
  });
});

describe('SSIM', () => {
  it('one 1×3 window: sample variances and covariance, C1 = 0.01², C2 = 0.03²', () => {
    const x = [0, 0.5, 1], y = [0, 0.5, 0.5];
    // means 1/2 and 1/3; sample variances (n − 1 = 2): x (.25 + 0 + .25)/2 = 1/4,
    // y (1/9 + 1/36 + 1/36)/2 = 1/12; covariance ((−.5)(−1/3) + 0 + (.5)(1/6))/2 = 1/8
    const c1 = 1e-4, c2 = 9e-4;
    const expected = ((2 * (1 / 2) * (1 / 3) + c1) * (2 * (1 / 8) + c2)) / ((1 / 4 + 1 / 9 + c1) * (1 / 4 + 1 / 12 + c2));
    near(ssim(x, y, 1, 3), expected);
  });

  it('averages the 7-wide windows that fit: a 1×8 map has two', () => {
    const x = [0, 0, 0, 0, 0, 0, 0, 1];
    const y = new Array(8).fill(0);
    // window 1 (x all 0, y all 0): C1·C2 / (C1·C2) = 1. Window 2 (x = six 0s and a 1): mean 1/7,
    // sample variance (7/6)(1/7 − 1/49) = 1/7; y: mean, variance and covariance 0
    const c1 = 1e-4, c2 = 9e-4;
    const second = (c1 * c2) / ((1 / 49 + c1) * (1 / 7 + c2));
    near(ssim(x, y, 1, 8), (1 + second) / 2);
  });

  it('is 1 for identical maps', () => {
    const x = Array.from({ length: 9 * 10 }, (_, i) => (i * 37) % 11 / 10);
    near(ssim(x, x, 9, 10), 1);
  });

  it('normalises min..max to 0..1 (a flat map to zeros)', () => {
    assert.deepEqual(Array.from(normalize01([2, 4, 3])), [0, 1, 0.5]);
    assert.deepEqual(Array.from(normalize01([5, 5])), [0, 0]);
  });
});

describe('maps compared', () => {
  it('sums channels of (1,C,H,W): signed and absolute', () => {
    // channel 0: [1, −2, 3, 0], channel 1: [−1, 2, 1, 4] on a 2×2 grid
    const m = toMap2D({ dtype: 'float32', dims: [1, 2, 2, 2], data: Float32Array.from([1, -2, 3, 0, -1, 2, 1, 4]) });
    assert.equal(m.h, 2);
    assert.equal(m.w, 2);
    assert.deepEqual(Array.from(m.signed), [0, 0, 4, 4]);
    assert.deepEqual(Array.from(m.abs), [2, 4, 4, 4]);
  });

  it('channels-last (1,H,W,C) sums the last axis', () => {
    const m = toMap2D({ dtype: 'float32', dims: [1, 1, 2, 2], data: Float32Array.from([1, -3, 2, 2]) }, true);
    assert.deepEqual(Array.from(m.signed), [-2, 4]);
    assert.deepEqual(Array.from(m.abs), [4, 4]);
  });
});
