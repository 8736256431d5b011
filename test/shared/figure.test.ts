import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { getColormap } from '../../src/shared/colormaps';
import { colorbarFor, figureScale, formatValue, renderFigure, textWidth } from '../../src/shared/figure';
import { FONT_HEIGHT } from '../../src/shared/figureFont';
import { DEFAULT_VIEW, visualizeImageAttr, type RgbaImage } from '../../src/shared/visualize';

/** A w×h image whose pixel (x, y) is (x, y, 7). */
function ramp(w: number, h: number): RgbaImage {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x, y, 7, 255], (y * w + x) * 4);
  return { width: w, height: h, data };
}
const at = (img: { width: number; data: ArrayLike<number> }, x: number, y: number) => Array.from({ length: 3 }, (_, c) => img.data[(y * img.width + x) * 4 + c]);

test('the scale is the smallest integer that brings the long side to 512', () => {
  assert.equal(figureScale(64, 64), 8);
  assert.equal(figureScale(224, 100), 3); // 672 ≥ 512, 448 is not
  assert.equal(figureScale(600, 20), 1);
  assert.equal(figureScale(100, 130), 4);
});

test('a 64×64 map with its original: both scaled ×8 by nearest neighbour, side by side, in a PNG of the figure size', async () => {
  const img = ramp(64, 64);
  const attr = new Float32Array(64 * 64).map((_, i) => (i % 64) - 32);
  const vis = visualizeImageAttr(attr, [64, 64], img, { ...DEFAULT_VIEW, method: 'heat_map', sign: 'all' });
  const map = { width: 64, height: 64, data: vis.rgba };
  const bar = colorbarFor({ ...DEFAULT_VIEW, method: 'heat_map', sign: 'all' }, vis)!;
  const fig = renderFigure({ map, original: img, title: 'IntegratedGradients for red - shapes.onnx', colorbar: bar });
  const L = fig.layout;
  assert.equal(L.scale, 8);
  assert.deepEqual([L.map.width, L.map.height, L.original!.width], [512, 512, 512]);
  assert.ok(L.original!.x + 512 < L.map.x, 'the original is left of the map, apart');
  assert.ok(fig.width >= 2 * 512 && fig.height > 512 + FONT_HEIGHT);
  // nearest neighbour: each source pixel is an 8×8 block
  for (const [x, y] of [[0, 0], [5, 9], [63, 63], [40, 17]]) {
    for (const [dx, dy] of [[0, 0], [7, 7], [3, 5]]) {
      assert.deepEqual(at(fig, L.original!.x + x * 8 + dx, L.original!.y + y * 8 + dy), at(img, x, y), `original (${x}, ${y})`);
      assert.deepEqual(at(fig, L.map.x + x * 8 + dx, L.map.y + y * 8 + dy), at(map, x, y), `map (${x}, ${y})`);
    }
  }
  const png = await sharp(Buffer.from(fig.data), { raw: { width: fig.width, height: fig.height, channels: 4 } }).png().toBuffer();
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.width, meta.height], [fig.width, fig.height]);
});

test("the colour bar's ends have the colormap's end colours and its ticks name the scale", () => {
  const img = ramp(32, 20);
  const attr = new Float32Array(32 * 20).map((_, i) => (i % 7) * 0.25);
  for (const [sign, cm] of [['absolute_value', 'Blues'], ['all', 'RdWhGn'], ['positive', 'Greens']] as const) {
    const view = { ...DEFAULT_VIEW, sign };
    const vis = visualizeImageAttr(attr, [20, 32], img, view);
    const bar = colorbarFor(view, vis)!;
    const fig = renderFigure({ map: { width: 32, height: 20, data: vis.rgba }, title: 't', colorbar: bar });
    const B = fig.layout.bar!;
    const lut = getColormap(cm).lut;
    const row = B.y + Math.floor(B.height / 2);
    assert.deepEqual(at(fig, B.x, row), Array.from(lut.slice(0, 3)), `${sign}: left end`);
    assert.deepEqual(at(fig, B.x + B.width - 1, row), Array.from(lut.slice(-3)), `${sign}: right end`);
    const t = formatValue(vis.threshold);
    assert.deepEqual(bar.ticks, sign === 'all' ? [formatValue(-vis.threshold), '0', t] : ['0', t]);
  }
  // masked_image: 0 blacks a pixel out, the top keeps it: black on the left
  const masked = { ...DEFAULT_VIEW, method: 'masked_image' as const };
  const bar = colorbarFor(masked, visualizeImageAttr(attr, [20, 32], img, masked))!;
  assert.deepEqual(Array.from(bar.lut.slice(0, 3)), [0, 0, 0]);
  assert.deepEqual(Array.from(bar.lut.slice(-3)), [255, 255, 255]);
  assert.equal(colorbarFor({ ...DEFAULT_VIEW, method: 'original_image' }, { threshold: 1 }), undefined);
});

test('the title is drawn in the rows above the pictures, as wide as its text', () => {
  const img = ramp(16, 16);
  const title = 'Saliency for circle - net.onnx';
  const fig = renderFigure({ map: img, title });
  const L = fig.layout;
  const inked = (y0: number, y1: number) => {
    let minX = Infinity, maxX = -Infinity;
    for (let y = y0; y < y1; y++) for (let x = 0; x < fig.width; x++) {
      if (at(fig, x, y)[0] < 128) { minX = Math.min(minX, x); maxX = Math.max(maxX, x); }
    }
    return { minX, maxX };
  };
  const t = inked(L.title.y, L.title.y + FONT_HEIGHT);
  assert.ok(t.minX >= L.title.x && t.minX <= L.title.x + 3, `title starts at ${t.minX}`);
  const w = textWidth(title);
  assert.ok(t.maxX > L.title.x + w - 12 && t.maxX < L.title.x + w, `title ends at ${t.maxX}, text width ${w}`);
  // no ink between the margin and the title
  assert.equal(inked(0, L.title.y).minX, Infinity);
  // a different title draws different pixels
  const other = renderFigure({ map: img, title: 'Occlusion for circle - net.onnx' });
  let diff = 0;
  for (let i = 0; i < fig.data.length; i++) diff += fig.data[i] !== other.data[i] ? 1 : 0;
  assert.ok(diff > 20);
  // a long title is cut to the figure's width
  const long = renderFigure({ map: img, title: 'x'.repeat(500) });
  assert.ok(long.layout.title.text.endsWith('...') && textWidth(long.layout.title.text) <= long.width - 2 * long.layout.title.x);
});

test('mismatched original or bytes are refused in one line', () => {
  assert.throws(() => renderFigure({ map: ramp(4, 4), original: ramp(4, 5), title: '' }), /original is 4×5 but the map 4×4/);
  assert.throws(() => renderFigure({ map: { width: 4, height: 4, data: new Uint8Array(3) }, title: '' }), /map has 3 bytes/);
});
