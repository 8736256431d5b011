// The content-addressed disk cache: a model's weights go once into a page-aligned file that
// backward graphs refer to as external data; a second process reuses the built graph without
// building it, and every path (weights file, plain bytes, cache off) gives the same gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { DiskCache, flushDiskCache } from '../../src/engine/model/diskCache';
import { gradientSessionKey, oneHotSeed, runGradients } from '../../src/engine/gradients/run';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attr } from '../../src/engine/onnx/attributes';
import { Tensor } from '../../src/engine/core/tensor';
import { buildModel, f32, tmpDir } from '../onnx/helpers';
import { withCache } from './cacheEnv';

const wave = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3) * 0.05);
const WEIGHT_BYTES = 4 * (32 * 16 * 9 + 128 * 32 * 64);

/** x[1,16,8,8] → Conv(32, 3×3) → Relu → Flatten → Gemm(128): 1.07 MB of weights. */
function writeModel(dir: string): string {
  const m = buildModel(17, [1, 16, 8, 8], (b, x) => {
    const conv = b.op('Conv', [x, b.param('conv.weight', [32, 16, 3, 3], wave(32 * 16 * 9, 0.7))], { pads: attr.ints([1, 1, 1, 1]) });
    const flat = b.op('Flatten', [b.op('Relu', [conv])], { axis: attr.int(1) });
    return [b.add('Gemm', [flat, b.param('fc.weight', [128, 32 * 64], wave(128 * 32 * 64, 1.3))], { transB: attr.int(1) }, ['logits'])[0]];
  });
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, m.toBytes());
  return file;
}

/** Sets ATTRLENS_CACHE_DIR for the rest of the test (tests run inside withCache, which restores it). */
async function gradients(file: string, threads: number, cacheDir: string): Promise<{ lm: LoadedModel; g: Tensor }> {
  process.env.ATTRLENS_CACHE_DIR = cacheDir;
  const lm = await LoadedModel.open(file, { threads });
  const x = f32([3, 16, 8, 8], (i) => Math.cos(i * 0.37));
  const r = await runGradients(lm, { x }, { output: 'logits', wrt: ['x'] }, (n, d) => oneHotSeed(d, n, 4));
  return { lm, g: r.grads.x };
}

test('disk cache: weights once in an aligned file, kilobyte backward graphs, reused without a rebuild', async () => {
  await withCache('off', async () => {
    const file = writeModel(tmpDir('cache-model'));
    const cache = tmpDir('cache');
    const first = await gradients(file, 1, cache);
    await flushDiskCache();
    const entries = fs.readdirSync(cache);
    const weights = entries.filter((f) => f.endsWith('.weights'));
    const graphs = entries.filter((f) => f.endsWith('.model.onnx'));
    assert.equal(weights.length, 1, `files: ${entries}`);
    assert.ok(fs.statSync(path.join(cache, weights[0])).size >= WEIGHT_BYTES);
    assert.equal(graphs.length, 1, `files: ${entries}`);
    assert.ok(fs.statSync(path.join(cache, graphs[0])).size < WEIGHT_BYTES / 20, 'the cached backward graph refers to the weights instead of holding them');
    // a second LoadedModel (other options: another instance, as in another process) finds it
    const second = await gradients(file, 2, cache);
    assert.deepEqual(Array.from(second.g.data as Float32Array), Array.from(first.g.data as Float32Array));
    const probe = { x: f32([1, 16, 8, 8], () => 0) };
    await second.lm.session(gradientSessionKey({ output: 'logits', wrt: ['x'] }, probe), () => {
      throw new Error('rebuilt although cached on disk');
    }, true);
    // the cache off: plain model bytes, same numbers
    const off = await gradients(file, 3, 'off');
    assert.deepEqual(Array.from(off.g.data as Float32Array), Array.from(first.g.data as Float32Array));
  });
});

test('disk cache: a weights file trimmed away by another process is written again; a cached graph whose weights are gone is built in memory', async () => {
  await withCache('off', async () => {
    const file = writeModel(tmpDir('cache-model'));
    const cache = tmpDir('cache');
    const first = await gradients(file, 1, cache);
    await flushDiskCache();
    const weightsFile = () => fs.readdirSync(cache).filter((f) => f.endsWith('.weights')).map((f) => path.join(cache, f));
    const [w] = weightsFile();
    // under the open model: its next derived session (another wrt, another key) needs the file again
    fs.rmSync(w);
    const x = f32([3, 16, 8, 8], (i) => Math.cos(i * 0.37));
    const r = await runGradients(first.lm, { x }, { output: 'logits', wrt: ['x'], expose: [] }, (n, d) => oneHotSeed(d, n, 4));
    assert.deepEqual(Array.from(r.grads.x.data as Float32Array), Array.from(first.g.data as Float32Array));
    assert.deepEqual(weightsFile(), [w], 'the weights file was written again');
    // a new process finds the cached backward graph, but its weights are gone: same numbers, from memory
    fs.rmSync(w);
    const again = await gradients(file, 2, cache);
    assert.deepEqual(Array.from(again.g.data as Float32Array), Array.from(first.g.data as Float32Array));
  });
});

test("the disk cache's hash memo keeps a content hash for a file identity, and ignores an entry that is not one", () => {
  const dir = tmpDir('hash-memo');
  const memo = new DiskCache(dir).hashMemo();
  const h = 'a1'.repeat(32);
  assert.equal(memo.get('/m.onnx|1|2|3|4|5'), undefined);
  memo.set('/m.onnx|1|2|3|4|5', h);
  assert.equal(memo.get('/m.onnx|1|2|3|4|5'), h);
  assert.equal(memo.get('/m.onnx|1|2|3|4|6'), undefined);
  const [entry] = fs.readdirSync(dir).filter((f) => f.endsWith('.hash'));
  fs.writeFileSync(path.join(dir, entry), 'not a hash'.padEnd(64));
  assert.equal(memo.get('/m.onnx|1|2|3|4|5'), undefined);
});
