// Preprocessing found beside a model: configs written exactly as transformers, timm and
// Ultralytics write them. Tensor values are checked against the documented steps done here
// (sizes from the processors' own formulas, the crop by indexing, the normalisation in JS).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { loadInputs } from '../../src/engine/inputs';
import { fromPreprocessorConfig } from '../../src/engine/inputs/discover';
import { resolvePreprocess } from '../../src/engine/inputs/preprocess';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { OnnxModel } from '../../src/engine/onnx/model';
import { valueInfo } from '../../src/engine/onnx/builder';
import { identityModel, saveModel, tmpDir, writePicture } from './models';

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const CLIP = { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] };
const W = 320, H = 240; // the picture: landscape, so short side = height

type Kernel = 'linear' | 'cubic' | 'nearest' | 'lanczos3';

/** The documented steps: resize to w×h with `kernel`, crop [top, left, height, width] by indexing, normalise. */
async function reference(file: string, resize: [number, number], kernel: Kernel, crop: [number, number, number, number], norm: { scale: number; mean: number[]; std: number[] }): Promise<Float32Array> {
  const [rw, rh] = resize;
  const { data } = await sharp(file).resize(rw, rh, { fit: 'fill', kernel }).raw().toBuffer({ resolveWithObject: true });
  const [top, left, ch, cw] = crop;
  const out = new Float32Array(3 * ch * cw);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) out[c * ch * cw + y * cw + x] = (data[((y + top) * rw + x + left) * 3 + c] * norm.scale - norm.mean[c]) / norm.std[c];
    }
  }
  return out;
}

function close(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst < 1e-5, `${what}: max |diff| ${worst}`);
}

/** A folder with model.onnx (input x, `dims`) and the given files. */
async function folder(dims: Array<number | string>, files: Record<string, unknown>): Promise<LoadedModel> {
  const dir = tmpDir();
  for (const [name, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), typeof v === 'string' ? v : JSON.stringify(v, null, 2));
  return identityModel([{ name: 'x', dims }], dir);
}

const pic = (async () => writePicture(path.join(tmpDir(), 'pic.png'), W, H))();

describe('preprocessor_config.json (transformers)', () => {
  it('ViT: resize to {height, width} bilinear, mean/std 0.5', async () => {
    const m = await folder([1, 3, 224, 224], {
      'preprocessor_config.json': { do_normalize: true, do_rescale: true, do_resize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], image_processor_type: 'ViTImageProcessor', resample: 2, rescale_factor: 0.00392156862745098, size: { height: 224, width: 224 } },
    });
    const c = resolvePreprocess(m, 'x');
    assert.equal(c.source, 'preprocessor_config.json (ViTImageProcessor)');
    assert.deepEqual([c.size, c.resize, c.interpolation, c.mean, c.std, c.cropPct], [[224, 224], 'stretch', 'bilinear', [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], undefined]);
    const { feeds, preprocess } = await loadInputs(m, await pic);
    assert.equal(preprocess?.source, c.source);
    close(feeds.x.data as Float32Array, await reference(await pic, [224, 224], 'linear', [0, 0, 224, 224], { scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }), 'ViT');
  });

  it('CLIP: short side to 224 (long side int(224·320/240) = 298), bicubic, centre crop 224 at left (298−224)//2 = 37', async () => {
    const m = await folder([1, 3, 224, 224], {
      'preprocessor_config.json': { crop_size: { height: 224, width: 224 }, do_center_crop: true, do_convert_rgb: true, do_normalize: true, do_rescale: true, do_resize: true, image_mean: CLIP.mean, image_processor_type: 'CLIPImageProcessor', image_std: CLIP.std, resample: 3, rescale_factor: 0.00392156862745098, size: { shortest_edge: 224 } },
    });
    const c = resolvePreprocess(m, 'x');
    assert.deepEqual([c.source, c.resize, c.cropPct, c.interpolation], ['preprocessor_config.json (CLIPImageProcessor)', 'cover', 1, 'bicubic']);
    const { feeds } = await loadInputs(m, await pic);
    close(feeds.x.data as Float32Array, await reference(await pic, [298, 224], 'cubic', [0, 37, 224, 224], { scale: 1 / 255, ...CLIP }), 'CLIP');
  });

  it('ConvNeXt: short side to int(224 / 0.875) = 256, long int(256·320/240) = 341, crop 224 at (16, 58)', async () => {
    const m = await folder([1, 3, 224, 224], {
      'preprocessor_config.json': { crop_pct: 0.875, do_normalize: true, do_rescale: true, do_resize: true, image_mean: IMAGENET.mean, image_processor_type: 'ConvNextImageProcessor', image_std: IMAGENET.std, resample: 3, rescale_factor: 0.00392156862745098, size: { shortest_edge: 224 } },
    });
    const c = resolvePreprocess(m, 'x');
    assert.deepEqual([c.resize, c.cropPct, c.size], ['cover', 0.875, [224, 224]]);
    const { feeds } = await loadInputs(m, await pic);
    close(feeds.x.data as Float32Array, await reference(await pic, [341, 256], 'cubic', [16, 58, 224, 224], { scale: 1 / 255, ...IMAGENET }), 'ConvNeXt');
  });

  it('ConvNeXt at 384: resized to the square, no crop', async () => {
    const m = await folder([1, 3, 384, 384], {
      'preprocessor_config.json': { crop_pct: 0.875, do_normalize: true, do_rescale: true, do_resize: true, image_mean: IMAGENET.mean, image_processor_type: 'ConvNextImageProcessor', image_std: IMAGENET.std, resample: 3, rescale_factor: 0.00392156862745098, size: { shortest_edge: 384 } },
    });
    const c = resolvePreprocess(m, 'x');
    assert.deepEqual([c.resize, c.cropPct, c.size], ['stretch', undefined, [384, 384]]);
  });

  it('DeiT: resize to 256×256, then centre crop 224 (offset 16)', async () => {
    const m = await folder([1, 3, 224, 224], {
      'preprocessor_config.json': { crop_size: { height: 224, width: 224 }, do_center_crop: true, do_normalize: true, do_rescale: true, do_resize: true, image_mean: IMAGENET.mean, image_processor_type: 'DeiTImageProcessor', image_std: IMAGENET.std, resample: 3, rescale_factor: 0.00392156862745098, size: { height: 256, width: 256 } },
    });
    const c = resolvePreprocess(m, 'x');
    assert.deepEqual([c.resize, c.cropPct, c.size], ['stretch', 0.875, [224, 224]]);
    const { feeds } = await loadInputs(m, await pic);
    close(feeds.x.data as Float32Array, await reference(await pic, [256, 256], 'cubic', [16, 16, 224, 224], { scale: 1 / 255, ...IMAGENET }), 'DeiT');
  });

  it('legacy feature extractors: an int size is a square (ViT) or the short side (CLIP); missing keys take the processor defaults', async () => {
    const vit = await folder([1, 3, 224, 224], {
      'preprocessor_config.json': { do_normalize: true, do_resize: true, feature_extractor_type: 'ViTFeatureExtractor', image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], resample: 2, size: 224 },
    });
    const v = resolvePreprocess(vit, 'x');
    assert.deepEqual([v.source, v.resize, v.size, v.scale, v.interpolation], ['preprocessor_config.json (ViTFeatureExtractor)', 'stretch', [224, 224], 1 / 255, 'bilinear']);
    const clip = await folder([1, 3, 224, 224], {
      'preprocessor_config.json': { crop_size: 224, do_center_crop: true, do_normalize: true, do_resize: true, feature_extractor_type: 'CLIPFeatureExtractor', image_mean: CLIP.mean, image_std: CLIP.std, resample: 3, size: 224 },
    });
    const { feeds } = await loadInputs(clip, await pic);
    close(feeds.x.data as Float32Array, await reference(await pic, [298, 224], 'cubic', [0, 37, 224, 224], { scale: 1 / 255, ...CLIP }), 'legacy CLIP');
    // a BEiT file with only a type: 256 square, bicubic, crop 224, mean/std 0.5
    const beit = await folder([1, 3, 224, 224], { 'preprocessor_config.json': { image_processor_type: 'BeitImageProcessor', do_resize: true } });
    const b = resolvePreprocess(beit, 'x');
    assert.deepEqual([b.resize, b.cropPct, b.interpolation, b.mean], ['stretch', 0.875, 'bicubic', [0.5, 0.5, 0.5]]);
  });

  it('keys a file leaves out take transformers\' constructor defaults: DeiT mean/std 0.5 and bicubic, ConvNeXt bilinear', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ image_processor_type: 'DeiTImageProcessor', size: { height: 256, width: 256 } }));
    const deit = fromPreprocessorConfig(dir)!.config;
    assert.deepEqual([deit.mean, deit.std, deit.interpolation], [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], 'bicubic']);
    fs.writeFileSync(path.join(dir, 'preprocessor_config.json'), JSON.stringify({ image_processor_type: 'ConvNextImageProcessor', size: { shortest_edge: 224 } }));
    const convnext = fromPreprocessorConfig(dir)!.config;
    assert.deepEqual([convnext.mean, convnext.interpolation], [[0.5, 0.5, 0.5], 'bilinear']);
  });

  it('an audio feature extractor does not apply; do_normalize false means plain [0, 1]', async () => {
    const audio = await folder([1, 3, 32, 32], { 'preprocessor_config.json': { feature_extractor_type: 'WhisperFeatureExtractor', feature_size: 80, sampling_rate: 16000 } });
    assert.equal(resolvePreprocess(audio, 'x').source, 'guessed');
    const plain = await folder([1, 3, 32, 32], { 'preprocessor_config.json': { do_normalize: false, do_resize: true, image_processor_type: 'ViTImageProcessor', size: { height: 32, width: 32 } } });
    const p = resolvePreprocess(plain, 'x');
    assert.deepEqual([p.mean, p.std, p.scale], [[0], [1], 1 / 255]);
  });
});

describe('config.json pretrained_cfg (timm)', () => {
  it('short side to floor(224 / 0.95) = 235 (long 313), bicubic, centre crop 224 at (5, 44)', async () => {
    const m = await folder([1, 3, 224, 224], {
      'config.json': {
        architecture: 'resnet50', num_classes: 1000, num_features: 2048, global_pool: 'avg',
        pretrained_cfg: { tag: 'a1_in1k', custom_load: false, input_size: [3, 224, 224], test_input_size: [3, 288, 288], fixed_input_size: false, interpolation: 'bicubic', crop_pct: 0.95, test_crop_pct: 1.0, crop_mode: 'center', mean: IMAGENET.mean, std: IMAGENET.std, num_classes: 1000, pool_size: [7, 7], first_conv: 'conv1', classifier: 'fc' },
      },
    });
    const c = resolvePreprocess(m, 'x');
    assert.deepEqual([c.source, c.resize, c.cropPct, c.interpolation], ['config.json pretrained_cfg (timm)', 'cover', 0.95, 'bicubic']);
    const { feeds } = await loadInputs(m, await pic);
    close(feeds.x.data as Float32Array, await reference(await pic, [313, 235], 'cubic', [5, 44, 224, 224], { scale: 1 / 255, ...IMAGENET }), 'timm');
  });

  it('a transformers config.json (id2label, no pretrained_cfg) is no preprocessing source', async () => {
    const m = await folder([1, 3, 32, 32], { 'config.json': { id2label: { 0: 'cat', 1: 'dog' }, model_type: 'vit' } });
    assert.equal(resolvePreprocess(m, 'x').source, 'guessed');
  });
});

describe('ONNX metadata_props', () => {
  const ultralytics = { description: 'Ultralytics YOLOv8n model trained on coco.yaml', author: 'Ultralytics', date: '2024-01-01T00:00:00', version: '8.1.0', license: 'AGPL-3.0 License (https://ultralytics.com/license)', docs: 'https://docs.ultralytics.com', stride: '32', task: 'detect', batch: '1', imgsz: '[128, 128]', names: "{0: 'person', 1: 'bicycle'}" };

  it('Ultralytics: imgsz for a dynamic input, RGB in [0, 1], contained (letterbox)', async () => {
    const m = OnnxModel.empty(17);
    m.graph.input.push(valueInfo('images', 1, ['batch', 3, 'height', 'width']));
    m.graph.node.push({ opType: 'Identity', name: 'id', input: ['images'], output: ['out'] });
    m.graph.output.push(valueInfo('out', 1, ['batch', 3, 'height', 'width']));
    const lm = await saveModel(m, tmpDir(), 'yolo', ultralytics);
    const c = resolvePreprocess(lm, 'images', {}, { width: W, height: H });
    assert.deepEqual([c.source, c.size, c.resize, c.scale, c.mean, c.std], ['ONNX metadata (ultralytics)', [128, 128], 'contain', 1 / 255, [0], [1]]);
    // 320×240 → 128×96, then 16 rows of black above and below
    const { feeds } = await loadInputs(lm, await pic);
    const inner = await reference(await pic, [128, 96], 'lanczos3', [0, 0, 96, 128], { scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] });
    const want = new Float32Array(3 * 128 * 128);
    for (let c2 = 0; c2 < 3; c2++) want.set(inner.subarray(c2 * 96 * 128, (c2 + 1) * 96 * 128), c2 * 128 * 128 + 16 * 128);
    close(feeds.images.data as Float32Array, want, 'letterbox');
  });

  it('generic image_mean/image_std keys', async () => {
    const m = OnnxModel.empty(17);
    m.graph.input.push(valueInfo('x', 1, [1, 3, 16, 16]));
    m.graph.node.push({ opType: 'Identity', name: 'id', input: ['x'], output: ['y'] });
    m.graph.output.push(valueInfo('y', 1, [1, 3, 16, 16]));
    const lm = await saveModel(m, tmpDir(), 'model', { image_mean: '[0.5, 0.4, 0.3]', image_std: '(0.2, 0.2, 0.25)' });
    const c = resolvePreprocess(lm, 'x');
    assert.deepEqual([c.source, c.mean, c.std], ['ONNX metadata', [0.5, 0.4, 0.3], [0.2, 0.2, 0.25]]);
  });
});

describe('discovery order', () => {
  it('model.attrlens.json first, then preprocessor_config.json, then config.json, then metadata', async () => {
    const hf = { image_processor_type: 'ViTImageProcessor', size: { height: 32, width: 32 }, image_mean: [0.1, 0.1, 0.1], image_std: [1, 1, 1] };
    const timm = { pretrained_cfg: { input_size: [3, 32, 32], mean: [0.2, 0.2, 0.2], std: [1, 1, 1] } };
    const both = await folder([1, 3, 32, 32], { 'preprocessor_config.json': hf, 'config.json': timm, 'model.attrlens.json': { mean: [0.3] } });
    assert.deepEqual([resolvePreprocess(both, 'x').source, resolvePreprocess(both, 'x').mean], ['model.attrlens.json', [0.3]]);
    fs.rmSync(path.join(path.dirname(both.file!), 'model.attrlens.json'));
    assert.equal(resolvePreprocess(both, 'x').mean[0], 0.1);
    fs.rmSync(path.join(path.dirname(both.file!), 'preprocessor_config.json'));
    assert.equal(resolvePreprocess(both, 'x').mean[0], 0.2);
  });
});

describe('configs that contradict the model', () => {
  it('one line naming the file, the key and what the model expects', async () => {
    const vit = (over: Record<string, unknown>) => ({ do_normalize: true, do_rescale: true, do_resize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], image_processor_type: 'ViTImageProcessor', resample: 2, rescale_factor: 0.00392156862745098, size: { height: 224, width: 224 }, ...over });
    const cases: Array<[Array<number | string>, Record<string, unknown>, RegExp]> = [
      [[1, 3, 192, 192], { 'preprocessor_config.json': vit({}) }, /^AttrLensError: preprocessor_config\.json: "size" gives \[224,224\], but model\.onnx input 'x' needs height 192 and width 192: fix it or remove it$/],
      [[1, 1, 224, 224], { 'preprocessor_config.json': vit({}) }, /^AttrLensError: preprocessor_config\.json: "image_mean" has 3 values, but model\.onnx input 'x' takes 1 channel: give 1 value$/],
      [[1, 3, 224, 224], { 'preprocessor_config.json': vit({ image_mean: [0.5, 0.5] }) }, /^AttrLensError: preprocessor_config\.json: "image_mean" has 2 values, but model\.onnx input 'x' takes 3 channels: give 1 or 3 values$/],
      [[1, 3, 224, 224], { 'preprocessor_config.json': vit({ image_std: [0.5, 0, 0.5] }) }, /^AttrLensError: preprocessor_config\.json: "image_std" must be non-zero \(it divides\) \(got \[0\.5,0,0\.5\]\)/],
      // Python's json.dump writes NaN bare
      [[1, 3, 224, 224], { 'preprocessor_config.json': JSON.stringify(vit({})).replace('"image_mean":[0.5,', '"image_mean":[NaN,') }, /^AttrLensError: preprocessor_config\.json: "image_mean" must be a list of finite numbers, one per channel \(got \["NaN",0\.5,0\.5\]\)/],
      [[1, 3, 224, 224], { 'config.json': { pretrained_cfg: { input_size: [1, 224, 224], mean: [0.5], std: [0.5] } } }, /^AttrLensError: config\.json: "pretrained_cfg\.input_size" gives 1 channel \("grayscale"\), but model\.onnx input 'x' has 3 in layout NCHW: set "channels" to "RGB" or "BGR"$/],
      [[1, 3, 224, 224], { 'model.attrlens.json': { channels: 'grayscale' } }, /^AttrLensError: model\.attrlens\.json: "channels" gives 1 channel/],
    ];
    for (const [dims, files, re] of cases) {
      const m = await folder(dims, files);
      assert.throws(() => resolvePreprocess(m, 'x'), re);
    }
    const m = await folder([1, 3, 8, 8], {});
    assert.throws(() => resolvePreprocess(m, 'x', { mean: [Number.NaN, 0, 0] }), /^AttrLensError: preprocessing settings: "mean" must be a list of 1 or 3 numbers, one per channel \(got \[null,0,0\]\)$/);
  });

  it('Ultralytics imgsz against a fixed input', async () => {
    const m = OnnxModel.empty(17);
    m.graph.input.push(valueInfo('images', 1, [1, 3, 640, 640]));
    m.graph.node.push({ opType: 'Identity', name: 'id', input: ['images'], output: ['out'] });
    m.graph.output.push(valueInfo('out', 1, [1, 3, 640, 640]));
    const lm = await saveModel(m, tmpDir(), 'yolo', { author: 'Ultralytics', imgsz: '[320, 320]', stride: '32' });
    assert.throws(() => resolvePreprocess(lm, 'images'), /^AttrLensError: ONNX metadata_props: "imgsz" gives \[320,320\], but yolo\.onnx input 'images' needs height 640 and width 640: fix it or remove it$/);
  });
});
