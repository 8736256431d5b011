// Symbolic image sizes: the stride found from the graph (checked by running onnxruntime at
// sizes that are and are not multiples of it), sizes from the config or the image, probes at a
// size the model accepts, the "height" resize mode, and PaddleOCR's DB detector at 640×640.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { loadInputs } from '../../src/engine/inputs';
import { imageToTensor } from '../../src/engine/inputs/image';
import { PreprocessConfig, resolvePreprocess } from '../../src/engine/inputs/preprocess';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { inputStride } from '../../src/engine/onnx/stride';
import { runBytes } from '../onnx/helpers';
import { identityModel, saveModel, tmpDir, writePicture } from './models';
import { PADDLE_ASSETS } from '../paddle';

const conv = (b: GraphBuilder, x: string, cin: number, strides: number[]): string =>
  b.op('Conv', [x, b.f32(Array.from({ length: 4 * cin * 9 }, (_, i) => Math.sin(i) * 0.3), [4, cin, 3, 3])], { strides: attr.ints(strides), pads: attr.ints([1, 1, 1, 1]) });

/** x [N, 3, H, W] → two strided convs → `join` the deepest map, up-sampled, with the shallower → mean: an FPN in miniature. */
function pyramid(join: 'resize' | 'convTranspose' | 'none', strides = [2, 2]): OnnxModel {
  const m = OnnxModel.empty(13);
  const b = new GraphBuilder(m, 't');
  b.addInput('x', 1, ['N', 3, 'H', 'W']);
  const c1 = conv(b, 'x', 3, strides);
  const c2 = conv(b, c1, 4, strides);
  let y = c2;
  if (join === 'resize') y = b.op('Add', [b.op('Resize', [c2, '', b.f32([1, 1, ...strides])], { mode: attr.str('nearest') }), c1]);
  if (join === 'convTranspose') y = b.op('Concat', [b.op('ConvTranspose', [c2, b.f32(new Array(4 * 4 * strides[0] * strides[1]).fill(0.1), [4, 4, ...strides])], { strides: attr.ints(strides) }), c1], { axis: attr.int(1) });
  const out = b.op('ReduceMean', [y], { axes: attr.ints([2, 3]), keepdims: attr.int(0) });
  b.addOutput(out);
  m.graph.output[0].name = out;
  return m;
}

async function runsAt(m: OnnxModel, h: number, w: number): Promise<boolean> {
  const n = 3 * h * w;
  try {
    await runBytes(m.toBytes(), { x: { dtype: 'float32', dims: [1, 3, h, w], data: new Float32Array(n).fill(0.5) } });
    return true;
  } catch {
    return false;
  }
}

const ASSETS = PADDLE_ASSETS;
const DET = path.join(ASSETS, 'ch_PP-OCRv4_det_infer.onnx');

describe('the stride a symbolic input must be a multiple of', () => {
  it('an up-sampled map added to a shallower one: multiples of 4, which run while other sizes fail', async () => {
    const m = pyramid('resize');
    assert.deepEqual(inputStride(m, 'x'), [4, 4]);
    for (const s of [4, 8, 12, 16, 20]) assert.ok(await runsAt(m, s, s), `${s} runs`);
    for (const s of [10, 14, 18]) assert.equal(await runsAt(m, s, s), false, `${s} is refused`);
  });

  it('ConvTranspose into a concatenation (U-Net); per axis; nothing up-sampled: any size', async () => {
    const unet = pyramid('convTranspose');
    assert.deepEqual(inputStride(unet, 'x'), [4, 4]);
    assert.ok(await runsAt(unet, 12, 20));
    assert.equal(await runsAt(unet, 14, 20), false);
    const tall = pyramid('resize', [2, 1]);
    assert.deepEqual(inputStride(tall, 'x'), [4, 1]);
    assert.ok(await runsAt(tall, 12, 7));
    assert.equal(await runsAt(tall, 10, 7), false);
    const chain = pyramid('none');
    assert.deepEqual(inputStride(chain, 'x'), [1, 1]);
    for (const s of [5, 9, 13]) assert.ok(await runsAt(chain, s, s), `${s} runs`);
  });

  it('strided slices (YOLOv5\'s Focus) count: multiples of 4 run, multiples of 2 alone do not', async () => {
    const m = OnnxModel.empty(13);
    const b = new GraphBuilder(m, 't');
    b.addInput('x', 1, ['N', 3, 'H', 'W']);
    const big = 1 << 30;
    const focus = b.op('Concat', [[0, 0], [1, 0], [0, 1], [1, 1]].map(([i, j]) => b.slice('x', [i, j], [big, big], [2, 3], [2, 2])), { axis: attr.int(1) });
    const down = b.op('Conv', [focus, b.f32(Array.from({ length: 12 * 12 * 9 }, (_, i) => Math.sin(i) * 0.1), [12, 12, 3, 3])], { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) });
    const y = b.op('Add', [b.op('Resize', [down, '', b.f32([1, 1, 2, 2])], { mode: attr.str('nearest') }), focus]);
    const out = b.op('ReduceMean', [y], { axes: attr.ints([2, 3]), keepdims: attr.int(0) });
    b.addOutput(out);
    m.graph.output[0].name = out;
    assert.deepEqual(inputStride(m, 'x'), [4, 4]);
    for (const s of [8, 12, 16]) assert.ok(await runsAt(m, s, s), `${s} runs`);
    for (const s of [10, 14]) assert.equal(await runsAt(m, s, s), false, `${s} is refused`);
  });

  it('a map resized to another\'s own shape (DeepLab\'s image pooling) adds no constraint: odd sizes run and are accepted', async () => {
    const m = OnnxModel.empty(13);
    const b = new GraphBuilder(m, 't');
    b.addInput('x', 1, ['N', 3, 'H', 'W']);
    const a = conv(b, conv(b, conv(b, 'x', 3, [2, 2]), 4, [2, 2]), 4, [2, 2]);
    const pooled = b.op('GlobalAveragePool', [a]);
    const sizes = b.op('Shape', [a]);
    const back = b.op('Resize', [pooled, '', '', sizes], { mode: attr.str('nearest') });
    const out = b.op('ReduceMean', [b.op('Concat', [a, back], { axis: attr.int(1) })], { axes: attr.ints([2, 3]), keepdims: attr.int(0) });
    b.addOutput(out);
    m.graph.output[0].name = out;
    assert.deepEqual(inputStride(m, 'x'), [1, 1]);
    for (const s of [225, 97, 50]) assert.ok(await runsAt(m, s, s), `${s} runs`);
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'model.attrlens.json'), JSON.stringify({ size: [225, 225] }));
    const lm = await saveModel(m, dir);
    assert.deepEqual(resolvePreprocess(lm, 'x').size, [225, 225]);
  });

  it('PaddleOCR: the detector 32, the classifier and recogniser none', () => {
    const stride = (f: string): number[] => {
      const m = OnnxModel.load(path.join(ASSETS, f));
      return inputStride(m, m.realInputs()[0].name!);
    };
    assert.deepEqual(stride('ch_PP-OCRv4_det_infer.onnx'), [32, 32]);
    assert.deepEqual(stride('ch_ppocr_mobile_v2.0_cls_infer.onnx'), [1, 1]);
    assert.deepEqual(stride('ch_PP-OCRv4_rec_infer.onnx'), [1, 1]);
  });
});

describe('sizes for symbolic dims', () => {
  it('from the image, rounded to the stride; the model probes, batches and runs at them', async () => {
    const lm = await saveModel(pyramid('resize'), tmpDir());
    assert.ok(lm.maxBatch > 1, 'batching verified');
    assert.deepEqual(lm.exampleFeeds(1).x.dims, [1, 3, 8, 8]);
    const pic = await writePicture(path.join(tmpDir(), 'p.png'), 50, 37);
    const { feeds, preprocess } = await loadInputs(lm, pic);
    // 37 → 36, 50 → 52: the nearest multiples of 4
    assert.deepEqual(feeds.x.dims, [1, 3, 36, 52]);
    assert.equal(preprocess?.source, 'guessed');
    assert.match(preprocess!.note!, /the size follows the image, rounded to the model's stride; to set it, write model\.attrlens\.json, e\.g\. \{"resize":"stretch"/);
    assert.equal((await lm.forward(feeds))[lm.outputs[0].name].dims[1], 4);
    // large images are scaled down to a long side of 1024 first
    assert.deepEqual(resolvePreprocess(lm, 'x', {}, { width: 4096, height: 2050 }).size, [512, 1024]);
  });

  it('a fixed side stays, the other follows the aspect ratio', async () => {
    const m = await identityModel([{ name: 'x', dims: ['N', 3, 48, 'W'] }]);
    assert.deepEqual(resolvePreprocess(m, 'x', {}, { width: 300, height: 50 }).size, [48, 288]);
    assert.deepEqual(m.exampleFeeds(1).x.dims, [1, 3, 48, 8]);
  });

  it('from the config: probes use it; a size the model rejects names the key and the stride', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'model.attrlens.json'), JSON.stringify({ size: [48, 192], resize: 'height' }));
    const m = await identityModel([{ name: 'x', dims: ['N', 3, 'H', 'W'] }], dir);
    assert.deepEqual(m.exampleFeeds(1).x.dims, [1, 3, 48, 192]);
    const fpnDir = tmpDir();
    fs.writeFileSync(path.join(fpnDir, 'model.attrlens.json'), JSON.stringify({ size: [30, 32] }));
    const fpn = await saveModel(pyramid('resize'), fpnDir);
    assert.throws(() => resolvePreprocess(fpn, 'x'), /^AttrLensError: model\.attrlens\.json: "size" gives \[30,32\], but model\.onnx input 'x' needs sides that are multiples of 4 \(its feature maps are down-sampled, then up-sampled and merged\): use \[32,32\]$/);
    // the bad config does not stop the model from opening: probes fall back to the stride
    assert.deepEqual(fpn.exampleFeeds(1).x.dims, [1, 3, 8, 8]);
  });
});

describe('resize "height" (PaddleOCR text lines)', () => {
  const cfg = (over: Partial<PreprocessConfig>): PreprocessConfig => ({ layout: 'NCHW', size: [20, 80], resize: 'height', interpolation: 'bilinear', channels: 'RGB', scale: 1 / 255, mean: [0.5], std: [0.5], input: 'x', ...over });

  it('keeps the aspect ratio at height 20: width ceil(20·100/40) = 50, columns 50–79 are 0 after normalisation and grey on display', async () => {
    const pic = await writePicture(path.join(tmpDir(), 'line.png'), 100, 40);
    const { tensor, display } = await imageToTensor(pic, cfg({}));
    assert.deepEqual(tensor.dims, [1, 3, 20, 80]);
    const ref = (await sharp(pic).resize(50, 20, { fit: 'fill', kernel: 'linear' }).raw().toBuffer()) as Buffer;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 20; y++) {
        for (let x = 0; x < 80; x++) {
          const want = x < 50 ? (ref[(y * 50 + x) * 3 + c] / 255 - 0.5) / 0.5 : 0;
          assert.ok(Math.abs(tensor.data[c * 1600 + y * 80 + x] - want) < 1e-6, `c${c} (${x},${y})`);
        }
      }
    }
    assert.deepEqual([display.width, display.height], [80, 20]);
    assert.deepEqual(Array.from(display.rgba.subarray((5 * 80 + 60) * 4, (5 * 80 + 60) * 4 + 4)), [128, 128, 128, 255]); // 0.5 / (1/255) = 127.5
    assert.deepEqual(Array.from(display.rgba.subarray((5 * 80 + 7) * 4, (5 * 80 + 7) * 4 + 3)), Array.from(ref.subarray((5 * 50 + 7) * 3, (5 * 50 + 7) * 3 + 3)));
  });

  it('a long line is squeezed to the full width; nearest keeps source pixels', async () => {
    const pic = await writePicture(path.join(tmpDir(), 'long.png'), 400, 40);
    const { tensor } = await imageToTensor(pic, cfg({ interpolation: 'nearest', mean: [0], std: [1], scale: 1 }));
    const ref = (await sharp(pic).resize(80, 20, { fit: 'fill', kernel: 'nearest' }).raw().toBuffer()) as Buffer;
    for (let i = 0; i < 80 * 20; i++) assert.equal(tensor.data[i], ref[i * 3], `pixel ${i}`);
  });
});

describe('PaddleOCR DB detector (symbolic H, W; multiples of 32)', () => {
  it('loads with batching, probes, lists layers and runs at 640×640 as the original model does', async () => {
    const lm = await LoadedModel.open(DET);
    assert.ok(lm.maxBatch > 1, 'batching verified');
    assert.deepEqual(lm.exampleFeeds(1).x.dims, [1, 3, 64, 64]);
    const layers = await lm.layers();
    assert.ok(layers.length > 100, `${layers.length} layers`);
    const pic = await writePicture(path.join(tmpDir(), 'det.png'), 640, 640);
    const { feeds, preprocess } = await loadInputs(lm, pic);
    assert.deepEqual([feeds.x.dims, preprocess?.size], [[1, 3, 640, 640], [640, 640]]);
    const out = (await lm.forward(feeds))[lm.outputs[0].name];
    const ref = (await runBytes(fs.readFileSync(DET), feeds))[lm.outputs[0].name];
    assert.deepEqual(out.dims, [1, 1, 640, 640]);
    let worst = 0;
    for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs((out.data[i] as number) - (ref.data[i] as number)));
    assert.ok(worst < 1e-4, `max |diff| ${worst}`);
  });
});
