// `attrlens attribute --input DIR` batches gradient methods across images: each image's map,
// target and predictions must equal attributing that image alone (attribute() at batch 1),
// for images of mixed sizes, a broken image in the middle, ties in the prediction and a model
// that cannot batch; resume keeps finished images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { attributeFolder } from '../../src/cli/batch';
import { loadInputs } from '../../src/engine/inputs';
import { readNpy } from '../../src/engine/inputs/npy';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { buildModel, close, tmpDir } from '../onnx/helpers';
import { writePicture } from '../inputs/models';

const wave = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3) * 0.5);

/** Conv → Relu → global pool → Gemm (5 classes); `dup` repeats the logits (every class ties with its copy). */
function net(dims: Array<number | string>, opts: { dup?: boolean; mixBatch?: boolean } = {}): OnnxModel {
  return buildModel(17, dims, (b: GraphBuilder, x) => {
    const conv = b.op('Conv', [x, b.f32(wave(4 * 3 * 9, 0.7), [4, 3, 3, 3]), b.f32([0.1, -0.1, 0.2, 0], [4])], { pads: attr.ints([1, 1, 1, 1]) });
    const pool = b.op('GlobalAveragePool', [b.op('Relu', [conv])]);
    let y = b.op('Gemm', [b.op('Flatten', [pool], { axis: attr.int(1) }), b.f32(wave(5 * 4, 1.1), [5, 4]), b.f32(wave(5, 2.3), [5])], { transB: attr.int(1) });
    // adding the batch mean: the same at batch 1, mixes samples at batch 2 (cannot batch)
    if (opts.mixBatch) y = b.op('Add', [y, b.reduce('ReduceMean', y, [0])]);
    if (opts.dup) y = b.op('Concat', [y, y], { axis: attr.int(1) });
    return [y];
  });
}

async function open(m: OnnxModel, dir: string, preprocess?: Record<string, unknown>): Promise<LoadedModel> {
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, m.toBytes());
  if (preprocess) fs.writeFileSync(path.join(dir, 'model.attrlens.json'), JSON.stringify(preprocess));
  return LoadedModel.open(file);
}

async function pictures(dir: string, sizes: Array<[number, number]>): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (const [i, [w, h]] of sizes.entries()) {
    const f = path.join(dir, `img${String(i).padStart(2, '0')}.png`);
    await writePicture(f, w, h);
    names.push(path.basename(f));
  }
  return names;
}

async function runFolder(lm: LoadedModel, dir: string, method: string, target?: number, params: Record<string, unknown> = {}) {
  const printed: string[] = [];
  const progress: Array<[number, number]> = [];
  const outDir = path.join(dir, 'out');
  const r = await attributeFolder({ lm, dir, outDir, method, target, params, png: false, signal: new AbortController().signal, print: (s) => printed.push(s), progress: (d, t) => progress.push([d, t]) });
  return { ...r, printed, progress, outDir };
}

/** Every image's files against attribute() on that image alone. */
async function sameAsAlone(lm: LoadedModel, dir: string, outDir: string, method: string, names: string[], target?: number, params: Record<string, unknown> = {}): Promise<number[]> {
  const targets: number[] = [];
  for (const f of names) {
    const stem = path.join(outDir, `${f.replace(/\.[^.]+$/, '')}.${method}`);
    const loaded = await loadInputs(lm, path.join(dir, f));
    const alone = await attribute(lm, loaded.feeds, { method, target, params });
    const summary = JSON.parse(fs.readFileSync(`${stem}.json`, 'utf8'));
    assert.equal(summary.target, alone.target, `${f}: target`);
    assert.equal(summary.method, alone.method);
    assert.deepEqual(summary.predictions.map((p: { index: number }) => p.index), alone.predictions.map((p) => p.index), `${f}: predictions`);
    close(summary.predictions.map((p: { logit: number }) => p.logit), alone.predictions.map((p) => p.logit));
    const map = readNpy(`${stem}.npy`);
    const want = Object.values(alone.attributions)[0];
    assert.deepEqual(map.dims, want.dims);
    assert.deepEqual(summary.shape, want.dims);
    close(map.data as Float32Array, want.data as Float32Array);
    targets.push(summary.target);
  }
  return targets;
}

test('saliency and input-x-gradient over a folder equal each image alone; a broken image is reported and the run goes on', async () => {
  const dir = tmpDir('folder-batch');
  const lm = await open(net([1, 3, 16, 16]), dir);
  assert.equal(lm.maxBatch, Infinity);
  const imgs = path.join(dir, 'imgs');
  const names = await pictures(imgs, [[16, 16], [20, 18], [32, 32], [17, 40], [16, 16], [25, 25], [40, 16], [18, 20], [30, 30], [16, 24], [22, 22]]);
  fs.writeFileSync(path.join(imgs, 'img05b.png'), 'not a png');
  for (const [method, target] of [['saliency', undefined], ['input-x-gradient', undefined], ['saliency', 3]] as const) {
    fs.rmSync(path.join(imgs, 'out'), { recursive: true, force: true });
    const r = await runFolder(lm, imgs, method, target);
    assert.deepEqual([r.done, r.skipped, r.failed], [names.length, 0, 1], r.printed.join('\n'));
    assert.match(r.printed[0], /^img05b\.png: /);
    assert.match(r.printed.at(-1)!, new RegExp(`^${names.length} attributed, 0 already done, 1 failed`));
    assert.deepEqual(r.progress.map(([d]) => d), Array.from({ length: names.length + 1 }, (_, i) => i + 1));
    const targets = await sameAsAlone(lm, imgs, r.outDir, method, names, target);
    if (target !== undefined) assert.ok(targets.every((t) => t === target));
  }
  // resume: everything is kept
  const again = await runFolder(lm, imgs, 'saliency', 3);
  assert.deepEqual([again.done, again.skipped, again.failed], [0, names.length, 1]);
});

test('mixed preprocessed sizes (a model with free height and width) batch by size and equal each image alone', async () => {
  const dir = tmpDir('folder-sizes');
  const lm = await open(net(['N', 3, 'H', 'W']), dir);
  const imgs = path.join(dir, 'imgs');
  const names = await pictures(imgs, [[16, 16], [20, 12], [16, 16], [20, 12], [9, 31], [16, 16]]);
  const shapes = new Set<string>();
  for (const f of names) shapes.add((await loadInputs(lm, path.join(imgs, f))).feeds[lm.inputs[0].name].dims.join('x'));
  assert.ok(shapes.size > 1, `sizes ${[...shapes]}`);
  const r = await runFolder(lm, imgs, 'saliency');
  assert.deepEqual([r.done, r.failed], [names.length, 0], r.printed.join('\n'));
  await sameAsAlone(lm, imgs, r.outDir, 'saliency', names);
});

test('ties in the prediction pick the class attributing the image alone picks (the first)', async () => {
  const dir = tmpDir('folder-ties');
  const lm = await open(net([1, 3, 16, 16], { dup: true }), dir);
  const imgs = path.join(dir, 'imgs');
  const names = await pictures(imgs, [[16, 16], [30, 20], [20, 30], [64, 64]]);
  const r = await runFolder(lm, imgs, 'saliency', undefined, { abs: false });
  assert.equal(r.done, names.length, r.printed.join('\n'));
  const targets = await sameAsAlone(lm, imgs, r.outDir, 'saliency', names, undefined, { abs: false });
  assert.ok(targets.every((t) => t < 5), `targets ${targets}`);
});

test('a model that cannot batch still gives each image its own result', async () => {
  const dir = tmpDir('folder-nobatch');
  const lm = await open(net([1, 3, 16, 16], { mixBatch: true }), dir);
  assert.equal(lm.maxBatch, 1);
  const imgs = path.join(dir, 'imgs');
  const names = await pictures(imgs, [[16, 16], [30, 20], [20, 30]]);
  const r = await runFolder(lm, imgs, 'saliency');
  assert.equal(r.done, names.length, r.printed.join('\n'));
  await sameAsAlone(lm, imgs, r.outDir, 'saliency', names);
});

test('a first image the model cannot take is reported alone and the rest of the folder still batches', async () => {
  const dir = tmpDir('folder-first-bad');
  // a 5x5 convolution without padding: an image under 5 pixels has no output
  const m = buildModel(17, ['N', 3, 'H', 'W'], (b: GraphBuilder, x) => {
    const conv = b.op('Conv', [x, b.f32(wave(4 * 3 * 25, 0.7), [4, 3, 5, 5]), b.f32([0.1, -0.1, 0.2, 0], [4])]);
    const pool = b.op('GlobalAveragePool', [b.op('Relu', [conv])]);
    return [b.op('Gemm', [b.op('Flatten', [pool], { axis: attr.int(1) }), b.f32(wave(5 * 4, 1.1), [5, 4]), b.f32(wave(5, 2.3), [5])], { transB: attr.int(1) })];
  });
  const lm = await open(m, dir);
  const imgs = path.join(dir, 'imgs');
  const names = await pictures(imgs, [[3, 3], [16, 16], [16, 16], [16, 16]]);
  const r = await runFolder(lm, imgs, 'saliency');
  assert.deepEqual([r.done, r.failed], [3, 1], r.printed.join('\n'));
  assert.match(r.printed[0], /^img00\.png: /);
  await sameAsAlone(lm, imgs, r.outDir, 'saliency', names.slice(1));
});
