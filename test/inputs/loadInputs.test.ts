import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { loadInputs } from '../../src/engine/inputs';
import { writeNpy } from '../../src/engine/inputs/npy';
import { identityModel, tmpDir } from './models';

const dir = tmpDir();
const npy = (name: string, dtype: 'float32' | 'float64' | 'int64' | 'int32', dims: number[], values: number[]): string => {
  const f = path.join(dir, name);
  const data = dtype === 'float32' ? Float32Array.from(values) : dtype === 'float64' ? Float64Array.from(values)
    : dtype === 'int32' ? Int32Array.from(values) : BigInt64Array.from(values.map(BigInt));
  writeNpy(f, { dtype, dims, data });
  return f;
};
const seq = (n: number): number[] => Array.from({ length: n }, (_, i) => i * 0.5 - 3);

describe('loadInputs', () => {
  it('feeds a .npy to a single-input model and runs it', async () => {
    const m = await identityModel([{ name: 'x', dims: [1, 2, 3] }]);
    const f = npy('a.npy', 'float32', [1, 2, 3], seq(6));
    const r = await loadInputs(m, f);
    assert.deepEqual(Object.keys(r.feeds), ['x']);
    assert.deepEqual(r.files, { x: f });
    assert.equal(r.image, undefined);
    const out = await m.forward(r.feeds);
    assert.deepEqual(Array.from(out.out_x.data as Float32Array), seq(6));
  });

  it('checks shape and dtype: expected vs got', async () => {
    const m = await identityModel([{ name: 'x', dims: [1, 3, 8, 8] }]);
    await assert.rejects(loadInputs(m, npy('small.npy', 'float32', [1, 3, 4, 4], seq(48))),
      /^AttrLensError: small\.npy has shape \(1, 3, 4, 4\), but model\.onnx input 'x' expects \(1, 3, 8, 8\): dimension 2 is 4, expected 8$/);
    await assert.rejects(loadInputs(m, npy('batch.npy', 'float32', [2, 3, 8, 8], seq(384))),
      /batch\.npy has shape \(2, 3, 8, 8\): batch dimension 2, but one sample is explained at a time; expected \(1, 3, 8, 8\) with batch 1/);
    await assert.rejects(loadInputs(m, npy('rank.npy', 'float32', [64, 3], seq(192))),
      /rank\.npy has shape \(64, 3\), but model\.onnx input 'x' expects \(1, 3, 8, 8\) \(4 dims, got 2\)/);
    await assert.rejects(loadInputs(m, npy('ints.npy', 'int64', [1, 3, 8, 8], seq(192).map(Math.round))),
      /ints\.npy has dtype int64, but model\.onnx input 'x' expects float32: convert it with a\.astype\('float32'\)/);
    // a missing batch axis is added; float64 (numpy's default) becomes float32
    const r = await loadInputs(m, npy('nobatch.npy', 'float64', [3, 8, 8], seq(192)));
    assert.deepEqual([r.feeds.x.dtype, r.feeds.x.dims], ['float32', [1, 3, 8, 8]]);
    assert.equal((r.feeds.x.data as Float32Array)[191], 92.5);
  });

  it('symbolic dims accept any size; batch must still be 1', async () => {
    const m = await identityModel([{ name: 'x', dims: ['N', 3, 'H', 'W'] }]);
    const r = await loadInputs(m, npy('sym.npy', 'float32', [1, 3, 5, 7], seq(105)));
    assert.deepEqual(r.feeds.x.dims, [1, 3, 5, 7]);
    await assert.rejects(loadInputs(m, npy('sym2.npy', 'float32', [3, 3, 5, 7], seq(315))), /batch dimension 3.*expected \(N, 3, H, W\) with batch 1/);
  });

  it('several inputs: an unnamed file is an error listing the names; NAME=FILE and maps work', async () => {
    const m = await identityModel([{ name: 'pixels', dims: [1, 4] }, { name: 'ids', elemType: 7, dims: [1, 'T'] }]);
    const p = npy('p.npy', 'float32', [1, 4], [1, 2, 3, 4]);
    const ids = npy('ids.npy', 'int32', [1, 3], [7, 8, 9]);
    await assert.rejects(loadInputs(m, p), /^AttrLensError: model\.onnx has 2 inputs \(pixels, ids\): name the file for each as NAME=FILE$/);
    await assert.rejects(loadInputs(m, `pixels=${p}`), /model\.onnx: no value for input ids: give each as NAME=FILE/);
    await assert.rejects(loadInputs(m, { pixel: p, ids }), /model\.onnx has no input 'pixel' \(did you mean 'pixels'\?\); its inputs are: pixels, ids/);
    const r = await loadInputs(m, { pixels: p, ids: { dtype: 'int64', dims: [1, 2], data: BigInt64Array.from([5n, 6n]) } });
    assert.deepEqual(r.files, { pixels: p });
    assert.deepEqual(Array.from(r.feeds.ids.data as BigInt64Array), [5n, 6n]);
    const r2 = await loadInputs(m, { pixels: p, ids }); // int32 widened to int64
    assert.deepEqual([r2.feeds.ids.dtype, Array.from(r2.feeds.ids.data as BigInt64Array)], ['int64', [7n, 8n, 9n]]);
    const out = await m.forward(r2.feeds);
    assert.deepEqual(Array.from(out.out_ids.data as BigInt64Array), [7n, 8n, 9n]);
  });

  it('an image for an integer input is refused', async () => {
    const m = await identityModel([{ name: 'ids', elemType: 7, dims: [1, 12] }]);
    const img = path.join(dir, 'i.png');
    await sharp({ create: { width: 2, height: 2, channels: 3, background: '#808080' } }).png().toFile(img);
    await assert.rejects(loadInputs(m, img), /input 'ids' takes int64, not an image: give a \.npy file for it \(i\.png is not one\)/);
  });

  it('an image goes through preprocessing and returns the display pixels', async () => {
    const mdir = tmpDir();
    fs.writeFileSync(path.join(mdir, 'model.attrlens.json'), JSON.stringify({ mean: [0.5], std: [0.5] }));
    const m = await identityModel([{ name: 'img', dims: [1, 2, 2, 3] }], mdir);
    const img = path.join(dir, 'p.png');
    await sharp(Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]), { raw: { width: 2, height: 2, channels: 3 } }).png().toFile(img);
    const r = await loadInputs(m, img);
    assert.deepEqual(r.feeds.img.dims, [1, 2, 2, 3]); // NHWC inferred
    assert.deepEqual([r.preprocess?.layout, r.preprocess?.mean, r.preprocess?.size], ['NHWC', [0.5], [2, 2]]);
    assert.deepEqual(Array.from(r.feeds.img.data as Float32Array), [1, -1, -1, -1, 1, -1, -1, -1, 1, 1, 1, 1]);
    assert.deepEqual(r.image && [r.image.width, r.image.height, r.image.source, Array.from(r.image.rgba.subarray(4, 8))], [2, 2, img, [0, 255, 0, 255]]);
    // options override the file
    const o = await loadInputs(m, img, { preprocess: { mean: [0], std: [1], channels: 'BGR' } });
    assert.deepEqual(Array.from((o.feeds.img.data as Float32Array).subarray(0, 3)), [0, 0, 1]);
  });

  it('missing files: one-line error with the file name', async () => {
    const m = await identityModel([{ name: 'x', dims: [1, 3, 8, 8] }]);
    await assert.rejects(loadInputs(m, path.join(dir, 'gone.npy')), /^AttrLensError: cannot read .*gone\.npy: no such file; check the path$/);
    await assert.rejects(loadInputs(m, path.join(dir, 'gone.jpg')), /^AttrLensError: cannot read .*gone\.jpg: no such file; check the path$/);
  });
});
