// The designed segmenter (samples/segment): its per-pixel argmax matches the ground-truth class
// maps, and a region's map (saliency, gradcam, occlusion) sits on the region.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { discoverLabels } from '../../src/engine/onnx/labels';
import { Tensor } from '../../src/engine/core/tensor';

const ROOT = path.join(__dirname, '..', '..', 'samples', 'segment');
const IMAGES = path.join(ROOT, 'images');
const SIZE = 80;
interface Entry { image: string; mask: string; objects: Array<{ class: number; label: string; box: number[]; pixels: number }> }
const manifest = JSON.parse(fs.readFileSync(path.join(IMAGES, 'manifest.json'), 'utf8')) as { labels: string[]; images: Entry[] };

async function classMap(file: string): Promise<Uint8Array> {
  const { data, info } = await sharp(file).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [SIZE, SIZE, 1]);
  return new Uint8Array(data);
}

/** Share of the map's |mass| (summed over channels) on `on` pixels, over their share of the area. */
function massRatio(t: Tensor, on: (p: number) => boolean): number {
  const hw = SIZE * SIZE;
  const m = new Float64Array(hw);
  (t.data as Float32Array).forEach((v, i) => (m[i % hw] += v));
  let inside = 0, total = 0, area = 0;
  for (let p = 0; p < hw; p++) {
    total += Math.abs(m[p]);
    if (on(p)) {
      inside += Math.abs(m[p]);
      area++;
    }
  }
  return inside / total / (area / hw);
}

describe('designed segmenter samples/segment', async () => {
  const lm = await LoadedModel.open(path.join(ROOT, 'model.onnx'));

  it('is [1, 5, 80, 80] logits with background class 0 and labels', () => {
    assert.deepEqual(lm.outputs.map((o) => [o.name, o.dims]), [['logits', [1, 5, SIZE, SIZE]]]);
    assert.deepEqual(discoverLabels(lm.model)?.labels, ['background', 'red', 'green', 'blue', 'yellow']);
    assert.deepEqual(manifest.labels, ['background', 'red', 'green', 'blue', 'yellow']);
  });

  for (const e of manifest.images) {
    it(`${e.image}: the argmax matches the ground truth (IoU > 0.8 per object)`, async () => {
      const truth = await classMap(path.join(IMAGES, e.mask));
      const { feeds } = await loadInputs(lm, path.join(IMAGES, e.image));
      const out = (await lm.forward(feeds)).logits.data as Float32Array;
      const hw = SIZE * SIZE;
      for (const o of e.objects) {
        let inter = 0, union = 0, truthPixels = 0;
        for (let p = 0; p < hw; p++) {
          let best = 0;
          for (let k = 1; k < 5; k++) if (out[k * hw + p] > out[best * hw + p]) best = k;
          const a = best === o.class, t = truth[p] === o.class;
          inter += +(a && t);
          union += +(a || t);
          truthPixels += +t;
        }
        assert.equal(truthPixels, o.pixels);
        assert.ok(inter / union > 0.8, `${o.label}: IoU ${inter / union}`);
      }
    });
  }

  const e = manifest.images.find((x) => x.objects.length === 3)!;
  it(`${e.image}: without a target, the largest predicted object's region is explained, not background`, async () => {
    const { feeds } = await loadInputs(lm, path.join(IMAGES, e.image));
    const r = await attribute(lm, feeds, { method: 'saliency' });
    const regions = (r.targets!.regions as unknown as Array<{ class: number; pixels: number }>).filter((x) => x.class !== 0);
    const largest = regions.reduce((a, b) => (b.pixels > a.pixels ? b : a));
    assert.equal(r.targetSpec?.text, `region:${largest.class}`);
  });

  it(`${e.image}: region:CLASS maps sit on the object (saliency, gradcam, occlusion)`, async () => {
    const truth = await classMap(path.join(IMAGES, e.mask));
    const { feeds } = await loadInputs(lm, path.join(IMAGES, e.image));
    for (const o of e.objects) {
      // the object and a 2-pixel rim (3×3 filters see one pixel beyond it, two layers two)
      const near = (p: number) => {
        const [x, y] = [p % SIZE, Math.floor(p / SIZE)];
        return x >= o.box[0] - 2 && x < o.box[2] + 2 && y >= o.box[1] - 2 && y < o.box[3] + 2;
      };
      for (const [method, params] of [['saliency', {}], ['gradcam', { layer: '/backbone/relu2/Relu_output_0' }], ['occlusion', { slidingWindowShapes: [3, 6, 6], strides: [3, 3, 3] }]] as const) {
        const r = await attribute(lm, feeds, { method, target: `region:${o.class}`, params });
        assert.equal(r.targetSpec?.kind, 'region');
        const regions = r.targets!.regions as unknown as Array<{ class: number; pixels: number }>;
        const mine = regions.find((x) => x.class === o.class)!;
        assert.ok(Math.abs(mine.pixels - truth.filter((c) => c === o.class).length) <= 0.2 * o.pixels, `${o.label}: ${mine.pixels} predicted pixels vs ${o.pixels}`);
        const ratio = massRatio(Object.values(r.attributions)[0], near);
        assert.ok(ratio > 5, `${method} region:${o.class} (${o.label}): mass near the object is ${ratio.toFixed(2)}× its area share`);
      }
    }
  });
});
