import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { defaultParams, patchMask, runEvaluate } from '../../src/cli/evaluate';
import { imageLayout } from '../../src/engine/methods/spatial';

const ROOT = path.join(__dirname, '..', '..', 'samples', 'shapes');
const MODEL = path.join(ROOT, 'model.onnx');
const IMAGES = path.join(ROOT, 'images');

test('evaluate scores methods on the sample images: pointing game, deletion and insertion AUCs', async () => {
  const lines: string[] = [];
  const r = await runEvaluate({ model: MODEL, images: IMAGES, methods: ['saliency', 'gradcam', 'feature-permutation'], log: (l) => lines.push(l) });
  assert.equal(r.images, 8);
  const [sal, cam, perm] = r.methods;
  for (const s of [sal, cam]) {
    assert.equal(s.n, 8);
    // the sample model only looks at the object, so its maximum lands on the object
    assert.equal(s.hits, 8, `${s.method}: ${s.hits}/8`);
    assert.ok(s.deletionAuc < 0.5 && s.insertionAuc > 0.8 && s.deletionAuc < s.insertionAuc, `${s.method}: ${s.deletionAuc} / ${s.insertionAuc}`);
    for (const i of s.images) assert.ok(i.deletionAuc >= 0 && i.insertionAuc <= 1);
  }
  // an all-zero map ranks pixels in reading order: far worse than saliency
  assert.ok(perm.deletionAuc > sal.deletionAuc + 0.2);
  assert.match(lines[1], /^method\s+\| pointing game \| deletion AUC ↓ \| insertion AUC ↑ \| seconds$/);
  assert.match(lines[3], /^saliency\s+\|\s+8\/8 \|\s+0\.\d{3} \|\s+0\.\d{3} \|\s+\d+\.\d{2}$/);
  assert.equal(lines.length, 6);
});

test('evaluate --json prints the report; the true label or the predicted class is the target', async () => {
  const lines: string[] = [];
  const r = await runEvaluate({ model: MODEL, images: IMAGES, methods: ['saliency'], json: true, target: 'predicted', log: (l) => lines.push(l) });
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]), JSON.parse(JSON.stringify(r)));
  // the sample model predicts every true label, so both targets agree
  const manifest = JSON.parse(fs.readFileSync(path.join(IMAGES, 'manifest.json'), 'utf8')) as { images: Array<{ labelIndex: number }> };
  assert.deepEqual(r.methods[0].images.map((i) => i.target), manifest.images.map((e) => e.labelIndex));
});

test('evaluate picks window and patch parameters from the image size', () => {
  const img = imageLayout([1, 3, 64, 64], 'test');
  assert.deepEqual(defaultParams('occlusion', img), { slidingWindowShapes: [3, 8, 8], strides: [3, 4, 4] });
  const m = patchMask(img, 8);
  assert.deepEqual(m.dims, [1, 1, 64, 64]);
  assert.deepEqual([m.data[0], m.data[7], m.data[8], m.data[64 * 8], m.data[64 * 64 - 1]], [0, 0, 1, 8, 63]);
});

test('evaluate errors: a folder without manifest.json, an unknown method', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-eval-'));
  await assert.rejects(runEvaluate({ model: MODEL, images: dir, methods: [], log: () => {} }), /manifest\.json not found: --images must be a folder with manifest\.json/);
  await assert.rejects(runEvaluate({ model: MODEL, images: IMAGES, methods: ['salency'], log: () => {} }), /unknown method 'salency'; did you mean saliency/);
});
