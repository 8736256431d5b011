// Images and .npy files fed to an input promoted from uint8: raw 0..255 pixel values in the
// input's own NHWC layout, giving the original model's outputs on the same integers.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { loadInputs } from '../../src/engine/inputs';
import { writeNpy } from '../../src/engine/inputs/npy';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { close, runBytes } from '../onnx/helpers';
import { C, H, W, pixelModel, rand } from '../onnx/pixelModels';
import { tmpDir } from './models';

const dir = tmpDir();
const r = rand(21);
const raw = Uint8Array.from({ length: H * W * C }, () => Math.floor(r() * 256));
const png = path.join(dir, 'px.png');
const RAW = { scale: 1, mean: [0, 0, 0], std: [1, 1, 1] };

async function opened(o: Parameters<typeof pixelModel>[0], stem: string): Promise<{ lm: LoadedModel; bytes: Uint8Array }> {
  const bytes = pixelModel(o).toBytes();
  const file = path.join(dir, `${stem}.onnx`);
  fs.writeFileSync(file, bytes);
  return { lm: await LoadedModel.open(file), bytes };
}

describe('inputs promoted from uint8', () => {
  it('take a PNG as raw pixel values in NHWC, giving the original model\'s outputs', async () => {
    await sharp(Buffer.from(raw), { raw: { width: W, height: H, channels: C } }).png().toFile(png);
    const { lm, bytes } = await opened({ elemType: 2, cast: true }, 'u8');
    const got = await loadInputs(lm, png, { preprocess: RAW });
    assert.deepEqual(got.feeds.x.dims, [1, H, W, C]);
    assert.equal(got.feeds.x.dtype, 'float32');
    assert.deepEqual(Array.from(got.feeds.x.data as Float32Array), Array.from(raw));
    const want = (await runBytes(bytes, { x: { dtype: 'uint8', dims: [1, H, W, C], data: raw } })).logits;
    close(Array.from((await lm.forward(got.feeds)).logits.data as Float32Array), Array.from(want.data as Float32Array), 1e-6);
  });

  it('take a PNG as raw pixel values by default (scale 1, mean 0, std 1)', async () => {
    const { lm } = await opened({ elemType: 2, cast: true }, 'u8-defaults');
    const got = await loadInputs(lm, png);
    assert.deepEqual(Array.from(got.feeds.x.data as Float32Array), Array.from(raw));
  });

  it('take a uint8 .npy as the floats its Cast made, and say the integer type when the dtype is wrong', async () => {
    const { lm } = await opened({ elemType: 2, cast: true }, 'u8-npy');
    const f = path.join(dir, 'px.npy');
    writeNpy(f, { dtype: 'uint8', dims: [1, H, W, C], data: raw });
    const got = await loadInputs(lm, f);
    assert.equal(got.feeds.x.dtype, 'float32');
    assert.deepEqual(Array.from(got.feeds.x.data as Float32Array), Array.from(raw));
    const b = path.join(dir, 'bool.npy');
    writeNpy(b, { dtype: 'bool', dims: [1, H, W, C], data: new Uint8Array(H * W * C) });
    await assert.rejects(loadInputs(lm, b), /^AttrLensError: bool\.npy has dtype bool, but u8-npy\.onnx input 'x' expects uint8: convert it with a\.astype\('uint8'\)$/);
  });

  it('refuse an image for an integer input also used as integers, in one line', async () => {
    const { lm } = await opened({ elemType: 6, cast: true, extraUse: 'equal' }, 'ints');
    await assert.rejects(loadInputs(lm, png, { preprocess: RAW }), (e: Error) => {
      assert.match(e.message, /^ints\.onnx: input 'x' \(int32\) is cast to float but also used as integers by Equal '[^']+', so it cannot take an image or be differentiated: give it a \.npy of int32 values \(px\.png is not one\)$/);
      return true;
    });
  });
});
