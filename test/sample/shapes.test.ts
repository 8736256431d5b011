import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { discoverLabels } from '../../src/engine/onnx/labels';
import { Tensor, softmax } from '../../src/engine/core/tensor';

const ROOT = path.join(__dirname, '..', '..', 'samples', 'shapes');
const IMAGES = path.join(ROOT, 'images');
interface Entry { image: string; mask: string; label: string; labelIndex: number }
const manifest = JSON.parse(fs.readFileSync(path.join(IMAGES, 'manifest.json'), 'utf8')) as { labels: string[]; images: Entry[] };
const ALLOWED = new Set(['Conv', 'Relu', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Flatten', 'Gemm', 'Add', 'Mul', 'Sigmoid']);

async function logitsOf(m: LoadedModel, feeds: Record<string, Tensor>): Promise<Float32Array> {
  return (await m.forward(feeds)).logits.data as Float32Array;
}

/** The object mask as a boolean per pixel. */
async function readMask(file: string): Promise<boolean[]> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [64, 64]);
  return Array.from(data, (v) => v > 127);
}

/** A copy of an NCHW image tensor with the listed pixels set to `fill` (one value per channel). */
function paint(t: Tensor, pixels: number[], fill: number[]): Tensor {
  const data = Float32Array.from(t.data as Float32Array);
  const hw = 64 * 64;
  for (const p of pixels) for (let c = 0; c < 3; c++) data[c * hw + p] = fill[c];
  return { ...t, data };
}

describe('sample model samples/shapes', async () => {
  const model = await LoadedModel.open(path.join(ROOT, 'model.onnx'));

  it('is a small CNN over allowed ops with PyTorch-style names, labels and config', () => {
    const g = model.model.graph;
    assert.deepEqual(model.inputs.map((i) => [i.name, i.dims]), [['input', [1, 3, 64, 64]]]);
    assert.deepEqual(model.outputs.map((o) => [o.name, o.dims]), [['logits', [1, 4]]]);
    for (const n of g.node) assert.ok(ALLOWED.has(n.opType), `op ${n.opType}`);
    assert.deepEqual(g.node.map((n) => n.name), [
      '/features/conv1/Conv', '/features/relu1/Relu', '/features/pool1/MaxPool', '/features/conv2/Conv', '/features/relu2/Relu',
      '/avgpool/GlobalAveragePool', '/Flatten', '/classifier/fc/Gemm',
    ]);
    assert.equal(model.model.opset(), 17);
    assert.deepEqual(discoverLabels(model.model)?.labels, manifest.labels);
    assert.deepEqual(manifest.labels, ['red', 'green', 'blue', 'yellow']);
    assert.ok(manifest.images.length >= 6);
  });

  for (const e of manifest.images) {
    it(`${e.image}: predicts '${e.label}' with p > 0.6, from the object's pixels`, async () => {
      const file = path.join(IMAGES, e.image);
      const { feeds, image } = await loadInputs(model, file);
      // preprocessing from model.attrlens.json: [0, 1], NCHW, 64x64; display = the PNG's pixels
      const png = await sharp(file).raw().toBuffer();
      assert.deepEqual([image?.width, image?.height], [64, 64]);
      assert.equal((feeds.input.data as Float32Array)[5], Math.fround(png[15] / 255));
      assert.equal(image?.rgba[4 * 100 + 1], png[3 * 100 + 1]);

      const logits = await logitsOf(model, feeds);
      const p = softmax(logits);
      const pred = p.indexOf(Math.max(...p));
      assert.equal(manifest.labels[pred], e.label, `logits ${Array.from(logits)}`);
      assert.equal(e.labelIndex, manifest.labels.indexOf(e.label));
      assert.ok(p[e.labelIndex] > 0.6, `p = ${p[e.labelIndex]}`);

      // Occlusion: paint the object with the background's mean colour, versus painting an
      // equal number of background pixels (a square patch away from the object).
      const mask = await readMask(path.join(IMAGES, e.mask));
      const objectPx = mask.flatMap((on, i) => (on ? [i] : []));
      const x = feeds.input;
      const bgMean = [0, 1, 2].map((c) => {
        let s = 0, n = 0;
        mask.forEach((on, i) => { if (!on) { s += (x.data as Float32Array)[c * 4096 + i]; n++; } });
        return s / n;
      });
      const side = Math.ceil(Math.sqrt(objectPx.length));
      let patch: number[] | undefined;
      for (let y0 = 0; y0 + side <= 64 && !patch; y0++) {
        for (let x0 = 0; x0 + side <= 64 && !patch; x0++) {
          const cand: number[] = [];
          for (let y = y0; y < y0 + side; y++) for (let xx = x0; xx < x0 + side; xx++) cand.push(y * 64 + xx);
          if (cand.every((i) => !mask[i])) patch = cand.slice(0, objectPx.length);
        }
      }
      assert.ok(patch, 'a background patch as large as the object');
      const base = logits[e.labelIndex];
      const objDrop = base - (await logitsOf(model, { input: paint(x, objectPx, bgMean) }))[e.labelIndex];
      const bgDrop = base - (await logitsOf(model, { input: paint(x, patch, bgMean) }))[e.labelIndex];
      assert.ok(objDrop > 2, `object occlusion drop ${objDrop}`);
      assert.ok(objDrop > bgDrop + 2, `object drop ${objDrop} vs background drop ${bgDrop}`);
      // with the object gone nothing is left to see: no class stands out
      const empty = softmax(await logitsOf(model, { input: paint(x, objectPx, bgMean) }));
      assert.ok(Math.max(...empty) < 0.3, `empty image probabilities ${Array.from(empty)}`);
    });
  }
});
