// The designed detector (samples/detect): it finds every ground-truth box, and explaining box K
// with saliency, GradCAM, occlusion and D-RISE puts the map's mass inside box K.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { Box, decodeRaw, iou, rawLayout } from '../../src/engine/targets/detections';
import { Tensor } from '../../src/engine/core/tensor';

const ROOT = path.join(__dirname, '..', '..', 'samples', 'detect');
const IMAGES = path.join(ROOT, 'images');
interface Truth { objects: Array<{ class: number; label: string; box: Box }> }
const manifest = JSON.parse(fs.readFileSync(path.join(IMAGES, 'manifest.json'), 'utf8')) as { labels: string[]; images: Array<{ image: string; boxes: string }> };
const truthOf = (e: { boxes: string }) => JSON.parse(fs.readFileSync(path.join(IMAGES, e.boxes), 'utf8')) as Truth;
const SIZE = 96;

/** The map summed over channels; `centred` subtracts its mean first (RISE-style maps are positive everywhere). */
function perPixel(t: Tensor): Float64Array {
  const hw = SIZE * SIZE;
  assert.equal(t.data.length % hw, 0, `map [${t.dims}] is not at input resolution`);
  const out = new Float64Array(hw);
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) out[i % hw] += d[i];
  return out;
}

/** Share of the map's mass (|values|, or the part above the mean) inside `box`, over the box's share of the area. */
function massRatio(t: Tensor, box: Box, aboveMean = false): number {
  const m = perPixel(t);
  const mean = m.reduce((a, b) => a + b, 0) / m.length;
  let inside = 0, total = 0, area = 0;
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const v = aboveMean ? Math.max(0, m[y * SIZE + x] - mean) : Math.abs(m[y * SIZE + x]);
      const inBox = x >= box[0] && x < box[2] && y >= box[1] && y < box[3];
      total += v;
      if (inBox) {
        inside += v;
        area++;
      }
    }
  return inside / total / (area / (SIZE * SIZE));
}

describe('designed detector samples/detect', async () => {
  const models = { v8: await LoadedModel.open(path.join(ROOT, 'model.onnx')), v5: await LoadedModel.open(path.join(ROOT, 'model-v5.onnx')) };

  it('is a raw Ultralytics-style head with metadata: v8 [1, 8, 144], v5 [1, 144, 9], names and imgsz', () => {
    assert.deepEqual(models.v8.outputs.map((o) => [o.name, o.dims]), [['output0', [1, 8, 144]]]);
    assert.deepEqual(models.v5.outputs.map((o) => [o.name, o.dims]), [['output0', [1, 144, 9]]]);
    const meta = new Map(models.v8.model.proto.metadataProps!.map((p) => [p.key, p.value]));
    assert.equal(meta.get('task'), 'detect');
    assert.equal(meta.get('imgsz'), '[96, 96]');
    assert.equal(meta.get('names'), "{0: 'red', 1: 'green', 2: 'blue', 3: 'yellow'}");
    assert.ok(manifest.images.length >= 6);
  });

  for (const e of manifest.images) {
    it(`${e.image}: both heads find every ground-truth box (IoU > 0.7, its class) and nothing else`, async () => {
      const truth = truthOf(e);
      for (const [name, lm] of Object.entries(models)) {
        const { feeds } = await loadInputs(lm, path.join(IMAGES, e.image));
        const out = (await lm.forward(feeds)).output0;
        const dets = decodeRaw(out.data as Float32Array, rawLayout(out.dims, name === 'v8' ? 'yolov8' : 'yolov5'));
        assert.equal(dets.length, truth.objects.length, `${name}: ${dets.length} detections`);
        for (const o of truth.objects) {
          const best = Math.max(...dets.filter((d) => d.class === o.class).map((d) => iou(d.box, o.box)));
          assert.ok(best > 0.7, `${name} ${o.label}: best IoU ${best}`);
        }
      }
    });
  }

  it('without a target, the first detection is explained (box:0), as the explicit target would', async () => {
    const e = manifest.images[0];
    const { feeds } = await loadInputs(models.v8, path.join(IMAGES, e.image));
    const implicit = await attribute(models.v8, feeds, { method: 'saliency' });
    const explicit = await attribute(models.v8, feeds, { method: 'saliency', target: 'box:0' });
    assert.equal(implicit.targetSpec?.text, 'box:0');
    assert.deepEqual(Array.from(Object.values(implicit.attributions)[0].data as Float32Array), Array.from(Object.values(explicit.attributions)[0].data as Float32Array));
  });

  // one picture with two shapes and one with three; every box, four methods
  const picked = [manifest.images.find((e) => truthOf(e).objects.length === 2)!, manifest.images.find((e) => truthOf(e).objects.length === 3)!];
  const METHODS: Array<[string, Record<string, unknown>, number, boolean]> = [
    // [method, params, mass share in the box over its area share must exceed, measured above the map's mean]
    // (a box is 4-6% of the picture: 10× is about half the mass)
    ['saliency', {}, 10, false],
    ['gradcam', { layer: '/model.0/act/Relu_output_0' }, 10, false],
    ['occlusion', { slidingWindowShapes: [3, 8, 8], strides: [3, 4, 4] }, 8, false],
    ['d-rise', { nMasks: 400, gridSize: 8, seed: 1 }, 5, true],
  ];
  for (const e of picked) {
    it(`${e.image}: box K's map sits in box K (saliency, gradcam, occlusion, d-rise; v8 and v5)`, async () => {
      const truth = truthOf(e);
      for (const [name, lm] of Object.entries(models)) {
        const { feeds } = await loadInputs(lm, path.join(IMAGES, e.image));
        const first = await attribute(lm, feeds, { method: 'saliency', target: 'box:0' });
        const dets = first.targets!.detections as unknown as Array<{ box: Box; class: number; label: string }>;
        assert.equal(dets.length, truth.objects.length);
        for (const [k, d] of dets.entries()) {
          for (const [method, params, factor, aboveMean] of METHODS) {
            // D-RISE on one head is enough (its masks are the expensive part)
            if (method === 'd-rise' && name === 'v5' && k > 0) continue;
            const r = await attribute(lm, feeds, { method, target: `box:${k}`, params });
            assert.equal(r.targetSpec?.text, `box:${k}`);
            assert.equal(r.target, d.class);
            const ratio = massRatio(Object.values(r.attributions)[0], d.box, aboveMean);
            assert.ok(ratio > factor, `${name} ${method} box:${k} (${d.label}): mass in the box is ${ratio.toFixed(2)}× its area share (want > ${factor})`);
          }
        }
      }
    });
  }
});
