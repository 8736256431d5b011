import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { configPathFor, inferLayout, resolvePreprocess, validatePreprocess } from '../../src/engine/inputs/preprocess';
import { identityModel, tmpDir } from './models';

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const PLAIN3 = { mean: [0, 0, 0], std: [1, 1, 1] };

describe('preprocess defaults', () => {
  it('a 224x224 RGB input gets ImageNet mean/std, NCHW, 1/255, stretch', async () => {
    const m = await identityModel([{ name: 'x', dims: [1, 3, 224, 224] }]);
    const { note, ...c } = resolvePreprocess(m, 'x');
    assert.deepEqual(c, { layout: 'NCHW', size: [224, 224], resize: 'stretch', channels: 'RGB', scale: 1 / 255, ...IMAGENET, input: 'x', source: 'guessed' });
    // a guess says so, and how to set it
    assert.match(note!, /^no model\.attrlens\.json, preprocessor_config\.json, timm config\.json or ONNX metadata beside the model; to set it, write model\.attrlens\.json, e\.g\. \{"size":\[224,224\],"resize":"stretch","scale":0\.00392157,"mean":\[0\.485,0\.456,0\.406\],"std":\[0\.229,0\.224,0\.225\]\}$/);
  });

  it('a 64x64 input gets plain [0, 1] scaling', async () => {
    const m = await identityModel([{ name: 'x', dims: [1, 3, 64, 64] }]);
    const c = resolvePreprocess(m, 'x');
    assert.deepEqual([c.mean, c.std, c.size], [PLAIN3.mean, PLAIN3.std, [64, 64]]);
  });

  it('ImageNet only when both sides are between 160 and 320', async () => {
    const cases: Array<[number, number, boolean]> = [[160, 320, true], [150, 224, false], [224, 330, false], [320, 320, true]];
    for (const [h, w, imagenet] of cases) {
      const m = await identityModel([{ name: 'x', dims: [1, 3, h, w] }]);
      assert.deepEqual(resolvePreprocess(m, 'x').mean, imagenet ? IMAGENET.mean : PLAIN3.mean, `${h}x${w}`);
    }
  });

  it('infers NHWC, grayscale and symbolic sizes', async () => {
    const nhwc = await identityModel([{ name: 'img', dims: [1, 224, 224, 3] }]);
    const c = resolvePreprocess(nhwc, 'img');
    assert.deepEqual([c.layout, c.channels, c.size, c.mean], ['NHWC', 'RGB', [224, 224], IMAGENET.mean]);
    const grey = await identityModel([{ name: 'x', dims: [1, 1, 28, 28] }]);
    const g = resolvePreprocess(grey, 'x');
    assert.deepEqual([g.layout, g.channels, g.mean, g.std], ['NCHW', 'grayscale', [0], [1]]);
    const sym = await identityModel([{ name: 'x', dims: ['N', 3, 'H', 'W'] }]);
    const s = resolvePreprocess(sym, 'x');
    assert.deepEqual([s.size, s.mean], [[224, 224], IMAGENET.mean]);
    assert.equal(inferLayout([1, 28, 28, 1]), 'NHWC');
    assert.equal(inferLayout(['N', 3, 'H', 'W']), 'NCHW');
  });

  it('refuses inputs that are not images', async () => {
    const m = await identityModel([{ name: 'ids', elemType: 7, dims: [1, 12] }]);
    assert.throws(() => resolvePreprocess(m, 'ids'), /input 'ids' has dims \[1,12\], not an image .* pass a \.npy tensor/);
    const four = await identityModel([{ name: 'x', dims: [1, 4, 32, 32] }]);
    assert.throws(() => resolvePreprocess(four, 'x'), /input 'x' has 4 channels in layout NCHW; images give 1 or 3/);
    assert.throws(() => resolvePreprocess(four, 'nope'), /has no input 'nope'; its inputs are: x/);
  });
});

describe('preprocess config file', () => {
  it('model.onnx reads model.attrlens.json beside it; overrides win', async () => {
    assert.equal(configPathFor('/a/b/net.v2.onnx'), path.join('/a/b', 'net.v2.attrlens.json'));
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'net.attrlens.json'), JSON.stringify({ channels: 'BGR', resize: 'cover', mean: [0.5], std: [0.25], scale: 1 }));
    const m = await identityModel([{ name: 'x', dims: [1, 3, 224, 224] }], dir, 'net');
    const c = resolvePreprocess(m, 'x');
    assert.deepEqual(c, { layout: 'NCHW', size: [224, 224], resize: 'cover', channels: 'BGR', scale: 1, mean: [0.5], std: [0.25], input: 'x', source: 'net.attrlens.json' });
    const o = resolvePreprocess(m, 'x', { resize: 'contain', mean: [1, 2, 3] });
    assert.deepEqual([o.resize, o.mean, o.channels, o.source], ['contain', [1, 2, 3], 'BGR', 'net.attrlens.json + settings']);
  });

  it('applies only to the input it names', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'model.attrlens.json'), JSON.stringify({ input: 'b', channels: 'BGR' }));
    const m = await identityModel([{ name: 'a', dims: [1, 3, 64, 64] }, { name: 'b', dims: [1, 3, 64, 64] }], dir);
    assert.equal(resolvePreprocess(m, 'a').channels, 'RGB');
    assert.equal(resolvePreprocess(m, 'b').channels, 'BGR');
    fs.writeFileSync(path.join(dir, 'model.attrlens.json'), JSON.stringify({ input: 'c' }));
    assert.throws(() => resolvePreprocess(m, 'a'), /model\.attrlens\.json: "input" is 'c', but the model's inputs are: a, b/);
  });

  it('validation errors name the key and the allowed values', () => {
    const v = (x: unknown): unknown => validatePreprocess(x, 'm.attrlens.json');
    assert.throws(() => v({ scal: 1 }), /^AttrLensError: m\.attrlens\.json: unknown key "scal" \(did you mean "scale"\?\); allowed keys: layout, size, resize, cropPct, interpolation, channels, scale, mean, std, input, output$/);
    assert.throws(() => v({ layout: 'CHW' }), /m\.attrlens\.json: "layout" must be one of "NCHW", "NHWC" \(got "CHW"\)/);
    assert.throws(() => v({ resize: 3 }), /"resize" must be one of "stretch", "cover", "contain", "height" \(got 3\)/);
    assert.throws(() => v({ interpolation: 'area' }), /"interpolation" must be one of "nearest", "bilinear", "bicubic", "lanczos" \(got "area"\)/);
    assert.throws(() => v({ cropPct: 1.2 }), /"cropPct" must be a number in \(0, 1\] such as 0\.875/);
    assert.throws(() => v({ cropPct: 0 }), /"cropPct" must be a number in \(0, 1\]/);
    assert.throws(() => v({ channels: 'rgb' }), /"channels" must be one of "RGB", "BGR", "grayscale" \(got "rgb"\)/);
    assert.throws(() => v({ size: 224 }), /"size" must be \[height, width\], two whole numbers from 1 to 8192 \(got 224\)/);
    assert.throws(() => v({ size: [224, 22.5] }), /"size" must be \[height, width\]/);
    assert.throws(() => v({ scale: '1/255' }), /"scale" must be a positive number .* \(got "1\/255"\)/);
    assert.throws(() => v({ mean: 'imagenet' }), /"mean" must be a list of 1 or 3 numbers, one per channel \(got "imagenet"\)/);
    assert.throws(() => v({ std: [0.2, 0, 0.2] }), /"std" must not contain 0/);
    assert.throws(() => v({ input: 5 }), /"input" must be the name of a model input/);
    assert.throws(() => v([1, 2]), /m\.attrlens\.json: must be a JSON object/);
    assert.deepEqual(v({ $schema: 'x', layout: 'NHWC' }), { layout: 'NHWC' });
  });

  it('file errors: bad JSON, channel and size mismatches', async () => {
    const dir = tmpDir();
    const cfg = path.join(dir, 'model.attrlens.json');
    const m = await identityModel([{ name: 'x', dims: [1, 3, 64, 64] }], dir);
    fs.writeFileSync(cfg, '{ "layout": "NCHW", }');
    assert.throws(() => resolvePreprocess(m, 'x'), /^AttrLensError: model\.attrlens\.json is not valid JSON \(.*\): fix the file or delete it$/);
    fs.writeFileSync(cfg, '{ "channels": "grayscale" }');
    assert.throws(() => resolvePreprocess(m, 'x'), /^AttrLensError: model\.attrlens\.json: "channels" gives 1 channel \("grayscale"\), but model\.onnx input 'x' has 3 in layout NCHW: set "channels" to "RGB" or "BGR"$/);
    fs.writeFileSync(cfg, '{ "size": [32, 32] }');
    assert.throws(() => resolvePreprocess(m, 'x'), /^AttrLensError: model\.attrlens\.json: "size" gives \[32,32\], but model\.onnx input 'x' needs height 64 and width 64: fix it or remove it$/);
    fs.writeFileSync(cfg, '{ "mean": [0.5, 0.5] }');
    assert.throws(() => resolvePreprocess(m, 'x'), /^AttrLensError: model\.attrlens\.json: "mean" has 2 values, but model\.onnx input 'x' takes 3 channels: give 1 or 3 values$/);
    fs.writeFileSync(cfg, '{ "resize": "height", "cropPct": 0.875 }');
    assert.throws(() => resolvePreprocess(m, 'x'), /model\.attrlens\.json: "cropPct" applies to "resize": "cover" or "stretch", not "height": remove it/);
    fs.writeFileSync(cfg, '{ "layout": "NHWC" }');
    assert.throws(() => resolvePreprocess(m, 'x'), /input 'x' has 64 channels in layout NHWC/);
  });
});
