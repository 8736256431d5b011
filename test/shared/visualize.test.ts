import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cumulativeSumThreshold, grayscale, normalizeAttr, reduceToMap, resizeMap, signThreshold, visualizeImageAttr,
  VisualizeError, type RgbaImage,
} from '../../src/shared/visualize';
import { getColormap, lutIndex } from '../../src/shared/colormaps';

const close = (a: ArrayLike<number>, b: number[], eps = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= eps, `index ${i}: ${a[i]} vs ${b[i]}`);
};
const px = (rgba: ArrayLike<number>, i: number) => Array.from({ length: 4 }, (_, c) => rgba[i * 4 + c]);

test('cumulative-sum threshold picks the value where the running sum reaches the percentile', () => {
  // sorted [1,2,3,4], cumsum [1,3,6,10]
  assert.equal(cumulativeSumThreshold([4, 1, 3, 2], 90), 4); // goal 9 → first cumsum ≥ 9 is 10 → value 4
  assert.equal(cumulativeSumThreshold([4, 1, 3, 2], 50), 3); // goal 5 → cumsum 6 → value 3
  assert.equal(cumulativeSumThreshold([4, 1, 3, 2], 30), 2); // goal 3 → cumsum 3 (≥, not >) → value 2
  assert.equal(cumulativeSumThreshold([4, 1, 3, 2], 0), 1); // goal 0 → the smallest value
  // Captum's default 98 %: values 1..100, total 5050, goal 4949; cumsum up to 99 = 4950 ≥ 4949, up to 98 = 4851
  assert.equal(cumulativeSumThreshold(Array.from({ length: 100 }, (_, i) => 100 - i), 98), 99);
  assert.throws(() => cumulativeSumThreshold([1], 101), VisualizeError);
});

test('sign handling: kept values, threshold sign and clipping follow Captum', () => {
  const map = [-4, 1, -3, 2];
  // all: |v| = [4,1,3,2], 90 % → 4; v/4 clipped to [-1, 1]
  assert.equal(signThreshold(map, 'all', 10), 4);
  close(normalizeAttr(map, 'all', 10).normalized, [-1, 0.25, -0.75, 0.5]);
  // absolute_value: same threshold, |v|/4
  close(normalizeAttr(map, 'absolute_value', 10).normalized, [1, 0.25, 0.75, 0.5]);
  // positive: [0,1,0,2] sorted [0,0,1,2], cumsum [0,0,1,3], goal 2.7 → 2
  assert.equal(signThreshold(map, 'positive', 10), 2);
  close(normalizeAttr(map, 'positive', 10).normalized, [0, 0.5, 0, 1]);
  // negative: |min(v,0)| = [4,0,3,0] sorted [0,0,3,4], cumsum [0,0,3,7]; 40 % → goal 2.8 → 3, negated as in Captum
  assert.equal(signThreshold(map, 'negative', 60), -3);
  // [-4,0,-3,0] / -3 = [1.33, 0, 1, 0] clipped to [0, 1]
  assert.deepEqual(Array.from(normalizeAttr(map, 'negative', 60).normalized), [1, 0, 1, 0]);
  // an all-zero map gives scale 0 and zeros, not NaN
  const zero = normalizeAttr([0, 0, 0], 'absolute_value', 2);
  assert.equal(zero.threshold, 0);
  assert.deepEqual(Array.from(zero.normalized), [0, 0, 0]);
});

test('shared scale: the threshold of several maps is that of their concatenation', () => {
  // alone: [1,2,3] total 6, 50 % → goal 3 → 2; [4] → 4; together [1,2,3,4] total 10, goal 5 → 3
  assert.equal(signThreshold([1, 2, 3], 'absolute_value', 50), 2);
  assert.equal(signThreshold([4], 'absolute_value', 50), 4);
  assert.equal(signThreshold([[1, 2, 3], new Float32Array([4])], 'absolute_value', 50), 3);
  const shared = normalizeAttr([1, 2, 3], 'absolute_value', 50, 3);
  close(shared.normalized, [1 / 3, 2 / 3, 1]);
});

test('channels are summed, for NCHW, CHW and channels-last maps', () => {
  // 3 channels over a 2×2 image: [1,2,3,4] + [10,20,30,40] + [-1,-1,-1,-1]
  const nchw = [1, 2, 3, 4, 10, 20, 30, 40, -1, -1, -1, -1];
  close(reduceToMap(nchw, [1, 3, 2, 2], 2, 2), [10, 21, 32, 43]);
  close(reduceToMap(nchw, [3, 2, 2], 2, 2), [10, 21, 32, 43]);
  const nhwc = [1, 10, -1, 2, 20, -1, 3, 30, -1, 4, 40, -1];
  close(reduceToMap(nhwc, [1, 2, 2, 3], 2, 2), [10, 21, 32, 43]);
  assert.throws(() => reduceToMap(nchw, [1, 3, 2, 3], 2, 2), /12 values but dims \[1, 3, 2, 3\] need 18/);
  assert.throws(() => reduceToMap([1, 2], [2], 2, 2), /cannot draw an attribution of shape \[2\]/);
});

test('a 2×2 map is upsampled to 4×4 (bilinear with half-pixel centres, and nearest)', () => {
  const map = new Float32Array([0, 1, 2, 3]);
  // source coordinate = (i + 0.5) / 2 - 0.5 → -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)
  // first row along x: 0, 0.25, 0.75, 1; row y adds 2 × (0, 0.25, 0.75, 1)
  close(resizeMap(map, 2, 2, 4, 4), [
    0, 0.25, 0.75, 1,
    0.5, 0.75, 1.25, 1.5,
    1.5, 1.75, 2.25, 2.5,
    2, 2.25, 2.75, 3,
  ]);
  // nearest: source = floor(i * 2 / 4)
  close(resizeMap(map, 2, 2, 4, 4, 'nearest'), [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]);
  close(reduceToMap(map, [1, 1, 2, 2], 4, 4, { upsample: 'nearest' }), [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3]);
});

// 2×2 image: (100,50,0) (200,200,200) (0,0,0) (41,81,121); attribution [-4, 1, -3, 2]
const image: RgbaImage = { width: 2, height: 2, data: new Uint8Array([100, 50, 0, 255, 200, 200, 200, 255, 0, 0, 0, 255, 41, 81, 121, 255]) };
const attr = new Float32Array([-4, 1, -3, 2]);
const dims = [1, 1, 2, 2];

test('heat_map uses Captum\'s colormap per sign', () => {
  // absolute_value, 10 % outliers → normalised [1, 0.25, 0.75, 0.5], Blues
  const abs = visualizeImageAttr(attr, dims, image, { method: 'heat_map', sign: 'absolute_value', outlierPerc: 10 });
  assert.equal(abs.threshold, 4);
  assert.equal(abs.colormap, 'Blues');
  assert.deepEqual(px(abs.rgba, 0), [8, 48, 107, 255]); // 1 → last Blues colour #08306b
  // 0.25 → LUT 64 → x = 64/255 = 0.25098, 8 segments → 2.0078 between #c6dbef and #9ecae1:
  // 198 - 0.0078×40 = 197.7, 219 - 0.0078×17 = 218.9, 239 - 0.0078×14 = 238.9
  assert.deepEqual(px(abs.rgba, 1), [198, 219, 239, 255]);
  // 0.5 → LUT 128 → x×8 = 4.0157 between #6baed6 and #4292c6: 107 - 0.64, 174 - 0.44, 214 - 0.25
  assert.deepEqual(px(abs.rgba, 3), [106, 174, 214, 255]);

  // all: normalised [-1, 0.25, -0.75, 0.5] on RdWhGn over [-1, 1]
  const all = visualizeImageAttr(attr, dims, image, { method: 'heat_map', sign: 'all', outlierPerc: 10 });
  assert.equal(all.colormap, 'RdWhGn');
  assert.deepEqual(px(all.rgba, 0), [255, 0, 0, 255]); // -1 → red
  // 0.25 → t 0.625 → LUT 160 → x 0.62745, 0.2549 of the way white → green (0,128,0):
  // 255 × 0.7451 = 190, 255 - 0.2549 × 127 = 222.6
  assert.deepEqual(px(all.rgba, 1), [190, 223, 190, 255]);
  // 0.5 → t 0.75 → LUT 192 → x 0.75294, 0.50588 of the way: 126, 255 - 64.2 = 190.8
  assert.deepEqual(px(all.rgba, 3), [126, 191, 126, 255]);

  // positive → Greens; p3 normalised 1 → #00441b, p0 (negative) → 0 → #f7fcf5
  const pos = visualizeImageAttr(attr, dims, image, { method: 'heat_map', sign: 'positive', outlierPerc: 10 });
  assert.deepEqual(px(pos.rgba, 3), [0, 68, 27, 255]);
  assert.deepEqual(px(pos.rgba, 0), [247, 252, 245, 255]);
  // negative → Reds; p0 → 1 → #67000d
  const neg = visualizeImageAttr(attr, dims, image, { method: 'heat_map', sign: 'negative', outlierPerc: 10 });
  assert.equal(neg.threshold, -4);
  assert.deepEqual(px(neg.rgba, 0), [103, 0, 13, 255]);
  // a user colormap replaces the default: viridis ends #440154 … #fde725
  const vir = visualizeImageAttr(attr, dims, image, { method: 'heat_map', sign: 'positive', outlierPerc: 10, colormap: 'viridis' });
  assert.deepEqual(px(vir.rgba, 3), [253, 231, 37, 255]);
  assert.deepEqual(px(vir.rgba, 0), [68, 1, 84, 255]);
});

test('blended_heat_map mixes the heat map over the min-max stretched grey image', () => {
  // grey means 50, 200, 0, 81 → stretched over [0, 200] → LUT floor(t × 256): 64, 255, 0, 103
  assert.deepEqual(Array.from(grayscale(image)), [64, 255, 0, 103]);
  const b = visualizeImageAttr(attr, dims, image, { method: 'blended_heat_map', sign: 'absolute_value', outlierPerc: 10, alphaOverlay: 0.5 });
  // p1: heat (198,219,239) × 0.5 + 255 × 0.5 = 226.5 → 227, 237, 247
  assert.deepEqual(px(b.rgba, 1), [227, 237, 247, 255]);
  // p3: heat (106,174,214) × 0.5 + 103 × 0.5 = 104.5, 138.5, 158.5 → 105, 139, 159
  assert.deepEqual(px(b.rgba, 3), [105, 139, 159, 255]);
  // opacity 1 is the plain heat map
  const opaque = visualizeImageAttr(attr, dims, image, { method: 'blended_heat_map', sign: 'absolute_value', outlierPerc: 10, alphaOverlay: 1 });
  assert.deepEqual(px(opaque.rgba, 1), [198, 219, 239, 255]);
});

test('masked_image, alpha_scaling and original_image', () => {
  // absolute_value normalised [1, 0.25, 0.75, 0.5]; image × weight, truncated
  const m = visualizeImageAttr(attr, dims, image, { method: 'masked_image', sign: 'absolute_value', outlierPerc: 10 });
  assert.deepEqual(px(m.rgba, 0), [100, 50, 0, 255]);
  assert.deepEqual(px(m.rgba, 1), [50, 50, 50, 255]);
  assert.deepEqual(px(m.rgba, 3), [20, 40, 60, 255]); // 20.5, 40.5, 60.5 truncated
  // negative with 40 %: [1, 0, 1, 0]
  const mn = visualizeImageAttr(attr, dims, image, { method: 'masked_image', sign: 'negative', outlierPerc: 60 });
  assert.deepEqual(px(mn.rgba, 1), [0, 0, 0, 255]);
  assert.deepEqual(px(mn.rgba, 0), [100, 50, 0, 255]);
  // positive: [0, 0.5, 0, 1] → alpha 0, 127 (127.5 truncated), 0, 255
  const a = visualizeImageAttr(attr, dims, image, { method: 'alpha_scaling', sign: 'positive', outlierPerc: 10 });
  assert.deepEqual(px(a.rgba, 1), [200, 200, 200, 127]);
  assert.deepEqual(px(a.rgba, 0), [100, 50, 0, 0]);
  assert.deepEqual(px(a.rgba, 3), [41, 81, 121, 255]);
  const o = visualizeImageAttr(attr, dims, image, { method: 'original_image' });
  assert.deepEqual(Array.from(o.rgba), Array.from(image.data));
  assert.throws(() => visualizeImageAttr(attr, dims, image, { method: 'masked_image', sign: 'all' }), /pick sign positive, negative or absolute_value/);
});

test('a small GradCAM-like map is upsampled before normalising and the raw range is reported', () => {
  const img: RgbaImage = { width: 4, height: 4, data: new Uint8Array(64).fill(255) };
  const v = visualizeImageAttr(new Float32Array([0, 1, 2, 3]), [1, 1, 2, 2], img, { method: 'heat_map', sign: 'absolute_value', outlierPerc: 0 });
  // upsampled values (see the 4×4 test) peak at 3, so with 0 % outliers the scale is 3
  assert.equal(v.threshold, 3);
  assert.equal(v.min, 0);
  assert.equal(v.max, 3);
  close(v.normalized, [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3].map((x) => x / 3));
  // pixel (2,1) = 1.25/3 → LUT floor(0.41667 × 256) = 106
  const blues = getColormap('Blues').lut;
  assert.equal(lutIndex(1.25 / 3, 0, 1), 106);
  assert.deepEqual(px(v.rgba, 6).slice(0, 3), [blues[318], blues[319], blues[320]]);
});
