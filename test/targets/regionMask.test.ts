// Region masks (issue 14): each `regions` item carries its mask over the output map, run-length
// encoded (runs alternate off/on from off); decoded here and compared with the mask worked out
// independently from the output (argmax over channels; above 0.5 for one sigmoid channel). A
// 640×640 map of text lines stays small; a noisy mask is downsampled by an integer factor.
import assert from 'node:assert/strict';
import test from 'node:test';
import { attribute } from '../../src/engine/methods/registry';
import { encodeMask, MAX_MASK_RUNS } from '../../src/engine/targets/region';
import { cleanRegionMask, decodeRegionMask, isRegionMask, MAX_MASK_RUNS as SHARED_MAX, type RegionMask } from '../../src/shared/regionMask';
import { attr } from '../../src/engine/onnx/attributes';
import { feed, model } from '../methods/helpers';

const H = 6, W = 7;
const X = Array.from({ length: H * W }, (_, i) => Math.sin(i * 1.7) * 2 + (i % 3) * 0.3);

test('each region carries its mask: RLE decoded equals the argmax of the output, per class', async () => {
  // channels: x, -x, x²/2 (3 classes, no activation)
  const lm = await model([1, H, W], (b) => {
    const half = b.param('half', [1], [0.5]);
    return b.op('Concat', ['x', b.op('Neg', ['x']), b.op('Mul', [b.op('Mul', ['x', 'x']), half])], { axis: attr.int(1) });
  });
  const r = await attribute(lm, feed([1, 1, H, W], X), { method: 'saliency', target: 'region:0' });
  const regions = r.targets?.regions as unknown as Array<{ class: number; pixels: number; mask: RegionMask }>;
  const ch = (k: number, x: number) => [x, -x, (x * x) / 2][k];
  const argmax = X.map((x) => [0, 1, 2].reduce((best, k) => (ch(k, x) > ch(best, x) ? k : best), 0));
  const present = [0, 1, 2].filter((k) => argmax.includes(k));
  assert.deepEqual(regions.map((g) => g.class), present);
  for (const g of regions) {
    assert.ok(isRegionMask(g.mask), `region ${g.class}: a well-formed mask`);
    assert.deepEqual([g.mask.width, g.mask.height, g.mask.factor], [W, H, undefined]);
    assert.deepEqual([...decodeRegionMask(g.mask)], argmax.map((k) => (k === g.class ? 1 : 0)), `region ${g.class}`);
    assert.equal(decodeRegionMask(g.mask).reduce((a, v) => a + v, 0), g.pixels);
  }
});

test('a one-channel sigmoid map: the mask is where the output is above 0.5', async () => {
  const lm = await model([1, H, W], (b) => b.op('Sigmoid', ['x']));
  const r = await attribute(lm, feed([1, 1, H, W], X), { method: 'saliency', target: 'region:0' });
  const regions = r.targets?.regions as unknown as Array<{ mask: RegionMask }>;
  assert.equal(regions.length, 1);
  assert.deepEqual([...decodeRegionMask(regions[0].mask)], X.map((x) => (1 / (1 + Math.exp(-x)) > 0.5 ? 1 : 0)));
  assert.equal(regions[0].mask.runs[0], X[0] > 0 ? 0 : X.findIndex((x) => x > 0), 'runs start with off (0 when the first cell is on)');
});

test('a 640×640 map of text lines stays well under 100 KB; a noisy mask is downsampled and says by how much', () => {
  const w = 640, h = 640;
  const lines = new Uint8Array(w * h);
  const words = new Uint8Array(w * h);
  // 16 lines 30 rows tall with ragged ends; the same lines split into words (40 columns, gaps of 12)
  for (let l = 0; l < 16; l++) {
    for (let y = 20 + l * 38; y < 50 + l * 38; y++) {
      for (let x = 16 + (y % 4); x < 560 + ((y * 7 + l * 13) % 60); x++) {
        lines[y * w + x] = 1;
        if ((x + (y % 3)) % 52 < 40) words[y * w + x] = 1;
      }
    }
  }
  const enc = encodeMask(lines, w, h);
  assert.equal(enc.factor, undefined, 'text lines: at the map\'s resolution');
  assert.ok(JSON.stringify(enc).length < 20_000, `${JSON.stringify(enc).length} bytes`);
  assert.deepEqual(decodeRegionMask(enc), lines);
  const wenc = encodeMask(words, w, h);
  assert.ok(wenc.runs.length <= MAX_MASK_RUNS && JSON.stringify(wenc).length < 50_000, `words: ${wenc.runs.length} runs, ${JSON.stringify(wenc).length} bytes, factor ${wenc.factor}`);
  assert.equal(MAX_MASK_RUNS, SHARED_MAX, 'the engine caps masks as the protocol bounds them');

  let seed = 7;
  const noise = new Uint8Array(w * h).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 1);
  const small = encodeMask(noise, w, h);
  assert.ok(small.factor! >= 2 && small.runs.length <= MAX_MASK_RUNS, `factor ${small.factor}, ${small.runs.length} runs`);
  assert.deepEqual([small.width, small.height], [Math.ceil(w / small.factor!), Math.ceil(h / small.factor!)]);
  assert.ok(isRegionMask(small));
  // a cell is on when any map cell it covers is
  const cells = decodeRegionMask(small);
  const f = small.factor!;
  for (let y = 0; y < small.height; y += 5) {
    for (let x = 0; x < small.width; x += 3) {
      let any = 0;
      for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) if (y * f + dy < h && x * f + dx < w) any |= noise[(y * f + dy) * w + x * f + dx];
      assert.equal(cells[y * small.width + x], any);
    }
  }
});

test('the protocol bounds masks: malformed or oversized ones are dropped', () => {
  const ok: RegionMask = { width: 3, height: 2, runs: [1, 2, 3] };
  assert.deepEqual(cleanRegionMask({ ...ok, extra: 'x' }), ok);
  for (const bad of [
    { ...ok, runs: [1, 2] },
    { ...ok, runs: [1, -2, 5] },
    { ...ok, runs: [1.5, 1.5, 3] },
    { ...ok, width: 0 },
    { ...ok, width: 5000, height: 1, runs: [5000] },
    { width: 10_000, height: 1, runs: Array.from({ length: 10_000 }, () => 1) },
    { ...ok, factor: 0 },
    { ...ok, runs: 'abc' },
    null,
  ]) assert.equal(cleanRegionMask(bad), undefined, JSON.stringify(bad)?.slice(0, 60));
});
