// The cache folder's size cap (src/engine/runtime/cacheTrim.ts): least recently used entries go
// first, an optimised model's manifest, model and data together; stale temporary files and
// unpublished optimised models go regardless of the cap, young ones stay; nothing else in the
// folder, nothing a symlink points to, and nothing recently used is touched; reads count as use;
// and after an eviction the next session is built fresh and computes the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { trimCache, trimsDone } from '../../src/engine/runtime/cacheTrim';
import { optimizedEntry } from '../../src/engine/runtime/optimizedCache';
import { DiskCache, flushDiskCache } from '../../src/engine/model/diskCache';
import { Session } from '../../src/engine/runtime/session';
import { attr } from '../../src/engine/onnx/attributes';
import { buildModel, f32, tmpDir } from '../onnx/helpers';
import { withCache } from './cacheEnv';

const MIN = 60_000;
const HOUR = 60 * MIN;
const hex = (i: number) => i.toString(16).padStart(40, '0');

/** Writes `name` with `size` bytes (or `text`), last used `age` ms before `now`. */
function put(dir: string, name: string, size: number, age: number, now: number, text?: string): void {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text ?? Buffer.alloc(size, 7));
  const t = new Date(now - age);
  fs.utimesSync(file, t, t);
}

const sizeOf = (dir: string, names: string[]) => names.reduce((a, n) => a + fs.statSync(path.join(dir, n)).size, 0);

interface Folder {
  dir: string;
  outside: string;
  now: number;
  stale: string[];
  young: string[];
  lru: string[];
  entry: string[];
  weights: string;
  recent: string;
  others: string[];
}

/** A cache folder with one of each kind of file, and a file outside it that a symlink points to. */
function folder(): Folder {
  const dir = tmpDir('trim');
  const now = Date.now();
  const key = hex(3);
  const entry = [`${key}.opt.json`, `${key}.11.22.opt.onnx`, `${key}.11.22.opt.data`];
  put(dir, hex(1) + '.json', 100, 5 * HOUR, now);
  put(dir, hex(2) + '.onnx', 200, 4 * HOUR, now);
  // the manifest was read 3 h ago, its files written 6 h ago: one entry, used 3 h ago
  put(dir, entry[0], 0, 3 * HOUR, now, JSON.stringify({ model: entry[1], modelSize: 150, data: entry[2], dataSize: 300, stamps: [] }));
  put(dir, entry[1], 150, 6 * HOUR, now);
  put(dir, entry[2], 300, 6 * HOUR, now);
  put(dir, hex(4) + '.weights', 300, 2 * HOUR, now);
  put(dir, hex(5) + '.model.onnx', 200, MIN, now);
  // optimised models no manifest names (another run's, or a crashed one's) and temporary files
  put(dir, `${hex(6)}.33.44.opt.onnx`, 50, 10 * MIN, now);
  put(dir, `${hex(7)}.33.44.opt.data`, 60, 2 * HOUR, now);
  put(dir, `${key}.55.66.opt.onnx`, 40, 3 * HOUR, now);
  put(dir, `${hex(1)}.json.999.tmp`, 70, 2 * HOUR, now);
  put(dir, `${hex(2)}.onnx.999.1.tmp`, 80, MIN, now);
  // not ours: a symlink named like an entry, a folder, a file named otherwise
  const outside = path.join(tmpDir('trim-outside'), 'big.onnx');
  put(path.dirname(outside), 'big.onnx', 5000, 10 * HOUR, now);
  fs.symlinkSync(outside, path.join(dir, hex(8) + '.onnx'));
  fs.mkdirSync(path.join(dir, hex(9) + '.json'));
  put(path.join(dir, hex(9) + '.json'), hex(10) + '.json', 5000, 10 * HOUR, now);
  put(dir, 'notes.txt', 5000, 10 * HOUR, now);
  return {
    dir,
    outside,
    now,
    stale: [`${hex(7)}.33.44.opt.data`, `${key}.55.66.opt.onnx`, `${hex(1)}.json.999.tmp`],
    young: [`${hex(6)}.33.44.opt.onnx`, `${hex(2)}.onnx.999.1.tmp`],
    lru: [hex(1) + '.json', hex(2) + '.onnx'],
    entry,
    weights: hex(4) + '.weights',
    recent: hex(5) + '.model.onnx',
    others: [hex(8) + '.onnx', hex(9) + '.json', 'notes.txt'],
  };
}

const mtimes = (dir: string, names: string[]) => names.map((n) => fs.lstatSync(path.join(dir, n)).mtimeMs);

test('cache trim: above the cap, stale files and then the least recently used entries go until 75% of it, an optimised model whole and manifest first', async () => {
  const f = folder();
  const ours = [...f.stale, ...f.young, ...f.lru, ...f.entry, f.weights, f.recent];
  const total = sizeOf(f.dir, ours);
  const afterStale = total - sizeOf(f.dir, f.stale);
  const kept = [...f.young, f.weights, f.recent];
  // a cap that the two oldest files and the entry must go for, and the weights need not
  const cap = Math.ceil(sizeOf(f.dir, kept) / 0.75);
  assert.ok(afterStale > cap && sizeOf(f.dir, [...kept, ...f.entry]) > cap * 0.75, 'the folder is set up as intended');
  const keptTimes = mtimes(f.dir, [...kept, ...f.others]);
  const outside = fs.statSync(f.outside);

  const unlink = fs.promises.unlink;
  const unlinked: string[] = [];
  fs.promises.unlink = (p) => (unlinked.push(path.basename(String(p))), unlink(p));
  let r;
  try {
    r = await trimCache(f.dir, { maxBytes: cap, now: f.now });
  } finally {
    fs.promises.unlink = unlink;
  }
  assert.deepEqual(unlinked, r.removed, 'deleted in the order reported');
  assert.deepEqual([...r.removed].sort(), [...f.stale, ...f.lru, ...f.entry].sort());
  assert.deepEqual(r.removed.slice(0, 3).sort(), [...f.stale].sort(), 'stale files first');
  assert.deepEqual(r.removed.slice(3), [...f.lru, ...f.entry], 'oldest first, the manifest before its files');
  assert.equal(r.stale, 3);
  assert.equal(r.files, ours.length, 'only our files counted');
  assert.equal(r.bytes, total);
  assert.equal(r.removedBytes, total - sizeOf(f.dir, kept));
  assert.deepEqual(fs.readdirSync(f.dir).sort(), [...kept, ...f.others].sort());
  assert.deepEqual(mtimes(f.dir, [...kept, ...f.others]), keptTimes, 'what stays is not touched');
  // the symlink is still there and not followed: its target neither counted nor touched
  assert.ok(fs.lstatSync(path.join(f.dir, hex(8) + '.onnx')).isSymbolicLink());
  const after = fs.statSync(f.outside);
  assert.deepEqual([after.size, after.mtimeMs, after.ino], [outside.size, outside.mtimeMs, outside.ino]);
  assert.ok(fs.existsSync(path.join(f.dir, hex(9) + '.json', hex(10) + '.json')), 'a folder inside is left alone');
});

test('cache trim: a byte over the cap trims to 75% of it; a dry run removes nothing and names what a trim would', async () => {
  const f = folder();
  const before = fs.readdirSync(f.dir).sort();
  const cap = sizeOf(f.dir, [...f.young, ...f.lru, ...f.entry, f.weights, f.recent]) - 1;
  const dry = await trimCache(f.dir, { maxBytes: cap, now: f.now, dryRun: true });
  assert.deepEqual(fs.readdirSync(f.dir).sort(), before);
  const real = await trimCache(f.dir, { maxBytes: cap, now: f.now });
  assert.deepEqual(dry.removed, real.removed);
  assert.deepEqual(real.removed.slice(3), [...f.lru, ...f.entry], 'not just the oldest file');
});

test('cache trim: under the cap only stale temporary files and unpublished optimised models go', async () => {
  const f = folder();
  const rest = [...f.young, ...f.lru, ...f.entry, f.weights, f.recent, ...f.others];
  const times = mtimes(f.dir, rest);
  const r = await trimCache(f.dir, { maxBytes: 1 << 20, now: f.now });
  assert.deepEqual([...r.removed].sort(), [...f.stale].sort());
  assert.deepEqual(fs.readdirSync(f.dir).sort(), [...rest].sort());
  assert.deepEqual(mtimes(f.dir, rest), times);
});

test('cache trim: entries used in the last minutes stay even above the cap (a running process may be using them)', async () => {
  const f = folder();
  const r = await trimCache(f.dir, { maxBytes: 1, now: f.now });
  assert.deepEqual([...r.removed].sort(), [...f.stale, ...f.lru, ...f.entry, f.weights].sort());
  assert.deepEqual(fs.readdirSync(f.dir).sort(), [...f.young, f.recent, ...f.others].sort());
});

test('cache trim: a missing folder or a file in its place trims nothing and does not throw', async () => {
  const gone = path.join(tmpDir('trim-gone'), 'nothing');
  assert.deepEqual((await trimCache(gone, { maxBytes: 1 })).removed, []);
  const file = path.join(tmpDir('trim-file'), 'cache');
  fs.writeFileSync(file, 'x');
  assert.deepEqual((await trimCache(file, { maxBytes: 1 })).removed, []);
  assert.equal(fs.readFileSync(file, 'utf8'), 'x');
});

test('cache trim: a read counts as a use (once per process per file), and a write trims the folder to ATTRLENS_CACHE_MAX_MB', async () => {
  const dir = tmpDir('trim-disk');
  const cache = new DiskCache(dir);
  cache.putJson('k', { a: 1 });
  const file = cache.pathOf('k', '.json');
  const old = new Date(Date.now() - 5 * HOUR);
  fs.utimesSync(file, old, old);
  assert.deepEqual(cache.getJson('k'), { a: 1 });
  assert.ok(Date.now() - fs.statSync(file).mtimeMs < MIN, 'the read marked it used');
  fs.utimesSync(file, old, old);
  cache.getJson('k');
  assert.ok(Math.abs(fs.statSync(file).mtimeMs - old.getTime()) < 1, 'once per process: not again');
  await flushDiskCache();

  const saved = process.env.ATTRLENS_CACHE_MAX_MB;
  process.env.ATTRLENS_CACHE_MAX_MB = '0.002'; // 2097 bytes
  try {
    const dir2 = tmpDir('trim-write');
    const now = Date.now();
    put(dir2, hex(1) + '.onnx', 2000, 2 * HOUR, now);
    put(dir2, hex(2) + '.onnx', 1000, HOUR, now);
    const c2 = new DiskCache(dir2);
    c2.putJson('new', { b: 2 });
    await flushDiskCache();
    assert.deepEqual(fs.readdirSync(dir2).sort(), [hex(2) + '.onnx', path.basename(c2.pathOf('new', '.json'))].sort());
  } finally {
    if (saved === undefined) delete process.env.ATTRLENS_CACHE_MAX_MB;
    else process.env.ATTRLENS_CACHE_MAX_MB = saved;
  }
});

const wave = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3) * 0.2);

/** x[1,8,6,6] → Conv(16) → Relu → Flatten → Gemm(10): weights above the 1 KB external-data threshold. */
function writeNet(file: string, tweak: number): void {
  const m = buildModel(17, [1, 8, 6, 6], (b, x) => {
    const w = wave(16 * 8 * 9, 0.7);
    w[5] += tweak;
    const c = b.op('Conv', [x, b.f32(w, [16, 8, 3, 3])], { pads: attr.ints([1, 1, 1, 1]) });
    const flat = b.op('Flatten', [b.op('Relu', [c])], { axis: attr.int(1) });
    return [b.add('Gemm', [flat, b.f32(wave(10 * 16 * 36, 1.7), [10, 16 * 36])], { transB: attr.int(1) }, ['logits'])[0]];
  });
  fs.writeFileSync(file, m.toBytes());
}

const X = f32([1, 8, 6, 6], (i) => Math.cos(i * 0.37));

function logits(file: string, cache: string): Promise<number[]> {
  return withCache(cache, async () => {
    const s = await Session.create(file, { threads: 1 });
    try {
      return Array.from((await s.run({ x: X }))['logits'].data as Float32Array);
    } finally {
      await s.release();
    }
  });
}

test('cache trim: after the least recently used optimised model is evicted, its next session is built fresh, computes the same and is cached again', async () => {
  const cache = tmpDir('trim-opt');
  const [m0, m1] = [0, 1e-3].map((tweak, i) => {
    const file = path.join(cache, `model${i}.onnx`);
    writeNet(file, tweak);
    return file;
  });
  const fresh0 = await logits(m0, 'off');
  const fresh1 = await logits(m1, 'off');
  const optFiles = () => fs.readdirSync(cache).filter((n) => /\.opt\./.test(n));
  const entryOf = (file: string) => withCache(cache, () => optimizedEntry(file, { threads: 1, optimize: 'all' })?.file);

  assert.deepEqual(await logits(m0, cache), fresh0);
  const entry0 = optFiles();
  assert.equal(entry0.length, 3, `manifest, model, data: ${entry0}`);
  assert.deepEqual(await logits(m1, cache), fresh1);
  // model1 again, from its cached optimised model: the manifest marked used, its files' stamps intact
  const manifest1 = path.join(cache, optFiles().find((n) => n.endsWith('.opt.json') && !entry0.includes(n))!);
  const old = new Date(Date.now() - HOUR);
  fs.utimesSync(manifest1, old, old);
  const optModel1 = path.join(cache, (JSON.parse(fs.readFileSync(manifest1, 'utf8')) as { model: string }).model);
  const stamp = fs.statSync(optModel1).mtimeMs;
  assert.deepEqual(await logits(m1, cache), fresh1);
  assert.ok(Date.now() - fs.statSync(manifest1).mtimeMs < MIN, 'the manifest was marked used');
  assert.equal(fs.statSync(optModel1).mtimeMs, stamp, 'its model was not (the mtime is part of its stamp)');
  assert.equal(await entryOf(m1), optModel1, 'still valid');
  await trimsDone();

  // two hours later, a cap just under what is there: model0's entry is the least recently used
  const total = sizeOf(cache, fs.readdirSync(cache).filter((n) => /^[0-9a-f]{40}\./.test(n)));
  const r = await trimCache(cache, { maxBytes: total - 1, now: Date.now() + 2 * HOUR });
  assert.deepEqual([...r.removed].sort(), [...entry0].sort());
  assert.ok(r.removed[0].endsWith('.opt.json'), 'the manifest first');
  assert.equal(await entryOf(m0), undefined);
  assert.ok(fs.existsSync(m0) && fs.existsSync(m1), 'the models themselves are not cache entries');

  assert.deepEqual(await logits(m0, cache), fresh0);
  assert.ok(await entryOf(m0), 'saved again');
  assert.equal(await entryOf(m1), optModel1, 'the other entry untouched');
  assert.deepEqual(await logits(m1, cache), fresh1);
  await trimsDone();
});
