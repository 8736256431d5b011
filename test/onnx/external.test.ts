// External-data models: data files beside the model are inlined and run; anything that points
// outside the model's folder (../, absolute paths, symlinks) or is missing is refused clearly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../../src/engine/core/errors';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { OnnxModel } from '../../src/engine/onnx/model';
import { buildModel, f32, runBytes, tmpDir } from './helpers';

const W = [2.5, -4, 0.25];

/** `<dir>/model.onnx` computing y = x * w, with w stored externally at `location`. */
function writeExternal(dir: string, location: string, extra: Record<string, string> = { offset: '16', length: '12' }): string {
  const m = buildModel(17, [1, 3], (b, x) => [b.op('Mul', [x, 'w'])]);
  m.graph.initializer.push({
    name: 'w',
    dims: [3],
    dataType: 1,
    dataLocation: 1,
    externalData: [{ key: 'location', value: location }, ...Object.entries(extra).map(([key, value]) => ({ key, value }))],
  });
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, m.toBytes());
  return file;
}

/** 16 bytes of padding, then the weights (so the offset matters). */
function weightsBytes(): Buffer {
  return Buffer.concat([Buffer.alloc(16, 0x7f), Buffer.from(Float32Array.from(W).buffer)]);
}

function refusesWith(file: string, pattern: RegExp): void {
  assert.throws(() => OnnxModel.load(file), (e: unknown) => {
    assert.ok(e instanceof AttrLensError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

test('an initializer in weights.bin beside the model loads, inlines and runs', async () => {
  const dir = tmpDir('ext');
  fs.writeFileSync(path.join(dir, 'weights.bin'), weightsBytes());
  const file = writeExternal(dir, 'weights.bin');
  const m = OnnxModel.load(file);
  const w = m.graph.initializer.find((t) => t.name === 'w')!;
  assert.equal(w.dataLocation, 0);
  assert.deepEqual(Array.from(m.constantValue('w')!.data as Float32Array), W);
  const y = m.graph.output[0].name!;
  const r = await runBytes(m.toBytes(), { x: f32([1, 3], [2, 1, 8]) });
  assert.deepEqual(Array.from(r[y].data as Float32Array), [5, -4, 2]);
  // Through LoadedModel too (batching included).
  const lm = await LoadedModel.open(file);
  const r2 = await lm.forward({ x: f32([2, 3], [1, 1, 1, 2, 2, 2]) });
  assert.deepEqual(Array.from(r2[y].data as Float32Array), [2.5, -4, 0.25, 5, -8, 0.5]);
});

test('a data file in a subfolder of the model folder is allowed; without offset/length it reads the whole file', async () => {
  const dir = tmpDir('ext');
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'w.bin'), Buffer.from(Float32Array.from(W).buffer));
  const m = OnnxModel.load(writeExternal(dir, 'data/w.bin', {}));
  assert.deepEqual(Array.from(m.constantValue('w')!.data as Float32Array), W);
});

test("location '../x' is refused as outside the model's folder", () => {
  const root = tmpDir('ext');
  const dir = path.join(root, 'model');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(root, 'x'), weightsBytes());
  refusesWith(writeExternal(dir, '../x'), /outside the model's folder/);
  refusesWith(writeExternal(dir, 'sub/../../x'), /outside the model's folder/);
});

test("an absolute location is refused as outside the model's folder", () => {
  const root = tmpDir('ext');
  const abs = path.join(root, 'elsewhere.bin');
  fs.writeFileSync(abs, weightsBytes());
  const dir = path.join(root, 'model');
  fs.mkdirSync(dir);
  refusesWith(writeExternal(dir, abs), /outside the model's folder/);
});

test("a symlink beside the model that points outside is refused as outside the model's folder", () => {
  const root = tmpDir('ext');
  const dir = path.join(root, 'model');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(root, 'secret.bin'), weightsBytes());
  fs.symlinkSync(path.join(root, 'secret.bin'), path.join(dir, 'weights.bin'));
  refusesWith(writeExternal(dir, 'weights.bin'), /outside the model's folder/);
  // A symlink that stays inside the folder is fine.
  const ok = tmpDir('ext');
  fs.writeFileSync(path.join(ok, 'real.bin'), weightsBytes());
  fs.symlinkSync(path.join(ok, 'real.bin'), path.join(ok, 'weights.bin'));
  assert.deepEqual(Array.from(OnnxModel.load(writeExternal(ok, 'weights.bin')).constantValue('w')!.data as Float32Array), W);
});

test('a missing data file is named in the error', () => {
  const dir = tmpDir('ext');
  refusesWith(writeExternal(dir, 'weights.bin'), /data file 'weights\.bin' is missing/);
});

test('a location that names a folder is refused as not a file', () => {
  const dir = tmpDir('ext');
  fs.mkdirSync(path.join(dir, 'data'));
  refusesWith(writeExternal(dir, 'data', {}), /'data' is not a file/);
});

test('offset and length beyond the data file are refused', () => {
  const dir = tmpDir('ext');
  fs.writeFileSync(path.join(dir, 'weights.bin'), weightsBytes());
  refusesWith(writeExternal(dir, 'weights.bin', { offset: '20', length: '12' }), /do not fit in 'weights\.bin' \(28 bytes\)/);
});

test('a hash memo skips hashing an unchanged model and its data file, and never serves the hash of changed bytes', async () => {
  const dir = tmpDir('ext');
  const data = path.join(dir, 'weights.bin');
  fs.writeFileSync(data, weightsBytes());
  const file = writeExternal(dir, 'weights.bin');
  const memo = new Map<string, string>();
  const counted = { get: 0, set: 0 };
  const m = { get: (k: string) => (counted.get++, memo.get(k)), set: (k: string, h: string) => (counted.set++, void memo.set(k, h)) };
  const plain = OnnxModel.load(file).contentHash;
  // files changed within the last second are hashed every time: they could change again unseen
  assert.equal(OnnxModel.load(file, m).contentHash, plain);
  assert.equal(memo.size, 0);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(OnnxModel.load(file, m).contentHash, plain);
  assert.equal(memo.size, 1);
  // the memo's answer is used: a wrong one shows through (which is why its key must be exact)
  const key = [...memo.keys()][0];
  assert.ok(key.includes(file) && key.includes(fs.realpathSync(data)), key);
  memo.set(key, 'f'.repeat(64));
  assert.equal(OnnxModel.load(file, m).contentHash, 'f'.repeat(64));
  // the data file rewritten at the same size and with its old times: the key changes (ctime), so it is hashed again
  const st = fs.statSync(data);
  const changed = weightsBytes();
  changed[16] ^= 1;
  fs.writeFileSync(data, changed);
  fs.utimesSync(data, st.atime, st.mtime);
  assert.equal(fs.statSync(data).size, st.size);
  const again = OnnxModel.load(file, m).contentHash;
  assert.notEqual(again, 'f'.repeat(64));
  assert.notEqual(again, plain);
  assert.equal(again, OnnxModel.load(file).contentHash);
});
