// The cache of onnxruntime's optimised models (src/engine/runtime/optimizedCache.ts) and of the
// batch decision: a session from the cache computes what a fresh one does, the key follows the
// model's bytes and the options, damaged entries are ignored and rewritten, and nothing is
// written outside the cache folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { optimizedEntry } from '../../src/engine/runtime/optimizedCache';
import { Session } from '../../src/engine/runtime/session';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { OnnxModel } from '../../src/engine/onnx/model';
import { attr } from '../../src/engine/onnx/attributes';
import { Tensor } from '../../src/engine/core/tensor';
import { buildModel, f32, tmpDir } from '../onnx/helpers';
import { withCache } from './cacheEnv';

const wave = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3) * 0.2);

/** x[1,8,6,6] → Conv(16, 3×3) → Relu → Conv(8) → Flatten → Gemm(10): weights above the 1 KB external threshold, NCHWc-able convs. */
function net(tweak = 0): OnnxModel {
  return buildModel(17, [1, 8, 6, 6], (b, x) => {
    const w1 = wave(16 * 8 * 9, 0.7);
    w1[5] += tweak;
    const c1 = b.op('Conv', [x, b.f32(w1, [16, 8, 3, 3]), b.f32(wave(16, 0.3), [16])], { pads: attr.ints([1, 1, 1, 1]) });
    const c2 = b.op('Conv', [b.op('Relu', [c1]), b.f32(wave(8 * 16 * 9, 1.1), [8, 16, 3, 3])], { pads: attr.ints([1, 1, 1, 1]) });
    const flat = b.op('Flatten', [b.op('Relu', [c2])], { axis: attr.int(1) });
    return [b.add('Gemm', [flat, b.f32(wave(10 * 8 * 36, 1.7), [10, 8 * 36])], { transB: attr.int(1) }, ['logits'])[0]];
  });
}

const X = f32([1, 8, 6, 6], (i) => Math.cos(i * 0.37));

async function logits(file: string): Promise<Tensor> {
  const s = await Session.create(file, { threads: 1 });
  try {
    return (await s.run({ x: X }))['logits'];
  } finally {
    await s.release();
  }
}

function setup(tweak = 0): { cache: string; file: string; name: string } {
  const cache = tmpDir('optcache');
  const name = `model${tweak}.onnx`;
  const file = path.join(cache, name);
  fs.writeFileSync(file, net(tweak).toBytes());
  return { cache, file, name };
}

const keyOf = (file: string) => path.basename(optimizedEntry(file, { threads: 1, optimize: 'all' })!.save.optimizedModelFilePath).split('.')[0];

test('optimised-model cache: the second session loads the saved model and gives the fresh session’s outputs exactly', async () => {
  const { cache, file } = setup();
  const fresh = await withCache('off', () => logits(file));
  await withCache(cache, async () => {
    assert.equal(optimizedEntry(file, { threads: 1, optimize: 'all' })!.file, undefined, 'nothing cached yet');
    const first = await logits(file);
    const entry = optimizedEntry(file, { threads: 1, optimize: 'all' })!;
    assert.ok(entry.file && fs.existsSync(entry.file), 'the first session saved its optimised model');
    assert.ok(fs.readdirSync(cache).some((f) => f.endsWith('.opt.data')), 'weights in a side file');
    const second = await logits(file);
    assert.deepEqual([...first.data], [...fresh.data]);
    assert.deepEqual([...second.data], [...fresh.data]);
  });
});

test('optimised-model cache: a changed model byte or changed options give another key', async () => {
  const a = setup(0);
  const b = setup(1e-3);
  await withCache(a.cache, async () => {
    await logits(a.file);
    fs.copyFileSync(b.file, path.join(a.cache, 'changed.onnx'));
    const changed = path.join(a.cache, 'changed.onnx');
    assert.notEqual(keyOf(changed), keyOf(a.file));
    assert.equal(optimizedEntry(changed, { threads: 1, optimize: 'all' })!.file, undefined, 'a changed model does not reuse the old optimised model');
    assert.notEqual(path.basename(optimizedEntry(a.file, { threads: 2, optimize: 'all' })!.save.optimizedModelFilePath).split('.')[0], keyOf(a.file));
    assert.equal(optimizedEntry(a.file, { threads: 2, optimize: 'all' })!.file, undefined);
    // and the changed model's session computes the changed model
    const direct = await withCache('off', () => logits(b.file));
    assert.deepEqual([...(await logits(changed)).data], [...direct.data]);
  });
});

test('optimised-model cache: truncated or garbled entries are ignored, the session is built fresh and the entry rewritten', async () => {
  const { cache, file } = setup();
  const fresh = await withCache('off', () => logits(file));
  await withCache(cache, async () => {
    await logits(file);
    const entry = () => optimizedEntry(file, { threads: 1, optimize: 'all' })!;
    const manifest = JSON.parse(fs.readFileSync(path.join(cache, `${keyOf(file)}.opt.json`), 'utf8')) as { model: string; data: string };
    // truncated weights side file
    const data = path.join(cache, manifest.data);
    fs.truncateSync(data, Math.floor(fs.statSync(data).size / 2));
    assert.equal(entry().file, undefined, 'a truncated entry is not offered');
    assert.deepEqual([...(await logits(file)).data], [...fresh.data]);
    assert.ok(entry().file, 'rewritten');
    // same size, rewritten: weights that would load and give wrong numbers, or garbage protobuf
    const m2 = JSON.parse(fs.readFileSync(path.join(cache, `${keyOf(file)}.opt.json`), 'utf8')) as { data: string };
    const data2 = path.join(cache, m2.data);
    fs.writeFileSync(data2, Buffer.alloc(fs.statSync(data2).size, 0x3f));
    assert.equal(entry().file, undefined, 'a side file rewritten at the same size is not offered');
    assert.deepEqual([...(await logits(file)).data], [...fresh.data]);
    const model = entry().file!;
    assert.ok(model, 'rewritten');
    fs.writeFileSync(model, Buffer.alloc(fs.statSync(model).size, 0xff));
    assert.equal(entry().file, undefined, 'a model rewritten at the same size is not offered');
    assert.deepEqual([...(await logits(file)).data], [...fresh.data]);
    assert.ok(entry().file && entry().file !== model, 'the garbled entry was replaced');
    assert.ok(!fs.existsSync(model), 'and removed');
    // garbage manifest
    fs.writeFileSync(path.join(cache, `${keyOf(file)}.opt.json`), '{"model": "../../etc/passwd"');
    assert.equal(entry().file, undefined);
    assert.deepEqual([...(await logits(file)).data], [...fresh.data]);
  });
});

test('optimised-model cache: a model outside the cache folder gets no entry and nothing is written beside it', async () => {
  const cache = tmpDir('optcache');
  const userDir = tmpDir('usermodel');
  const file = path.join(userDir, 'user.onnx');
  fs.writeFileSync(file, net().toBytes());
  await withCache(cache, async () => {
    assert.equal(optimizedEntry(file, { threads: 1, optimize: 'all' }), undefined);
    await logits(file);
  });
  assert.deepEqual(fs.readdirSync(userDir), ['user.onnx']);
  assert.deepEqual(fs.readdirSync(cache), []);
});

test('batch decision cache: a second open reuses the verified rewrite from disk and a bad record is re-probed', async () => {
  const cache = tmpDir('batchcache');
  const dir = tmpDir('batchmodel');
  const file = path.join(dir, 'm.onnx');
  fs.writeFileSync(file, net().toBytes());
  await withCache(cache, async () => {
    const a = await LoadedModel.fromModel(OnnxModel.load(file), { threads: 1 });
    assert.equal(a.maxBatch, Infinity);
    const records = () => fs.readdirSync(cache).filter((f) => f.endsWith('.json') && fs.readFileSync(path.join(cache, f), 'utf8').includes('"variant"'));
    assert.equal(records().length, 1, 'the decision is on disk');
    const b = await LoadedModel.fromModel(OnnxModel.load(file), { threads: 1 });
    assert.equal(b.batchVariant, a.batchVariant);
    assert.equal(b.maxBatch, Infinity);
    const xx = f32([2, 8, 6, 6], (i) => Math.cos(i * 0.37));
    assert.deepEqual([...(await b.forward({ x: xx }))['logits'].data], [...(await a.forward({ x: xx }))['logits'].data]);
    // an unknown variant on disk: probed again, as the first time
    fs.writeFileSync(path.join(cache, records()[0]), '{"variant":"bogus"}');
    const c = await LoadedModel.fromModel(OnnxModel.load(file), { threads: 1 });
    assert.equal(c.batchVariant, a.batchVariant);
    assert.match(fs.readFileSync(path.join(cache, records()[0]), 'utf8'), new RegExp(a.batchVariant));
    await Promise.all([a.release(), b.release(), c.release()]);
  });
  assert.deepEqual(fs.readdirSync(dir), ['m.onnx'], 'nothing beside the user’s model');
});
