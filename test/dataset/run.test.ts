// runDataset on hand-made folders with the shapes sample: accuracy, confusion and per-class
// scores against the ground truth the folder was built from; bad items listed per item; the
// numbers the same at any batch size and as predict() gives them one by one; attributions
// equal to attribute() on the item; cancellation.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import { DatasetReport, runDataset } from '../../src/engine/dataset';
import { AttrLensError, CancelledError } from '../../src/engine/core/errors';
import { loadInputs, readNpy } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute, predict } from '../../src/engine/methods/registry';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { buildModel, tmpDir } from '../onnx/helpers';
import { CLASSES, MIXED, MODEL, SHAPES, colourOf, expectedConfusion, shapesFolder } from './shared';

const dir = tmpDir('dataset-run');

function mixedFolder(name: string): { data: string; pairs: Array<[string, string]> } {
  const data = path.join(dir, name);
  const pairs = shapesFolder(data, MIXED);
  return { data, pairs };
}

test('accuracy, confusion and per-class precision / recall match the folder\'s ground truth', async () => {
  const { data, pairs } = mixedFolder('mixed');
  const r = await runDataset({ model: MODEL, data });
  assert.deepEqual(r.classes, CLASSES);
  const want = expectedConfusion(pairs);
  assert.deepEqual(r.confusion, want);
  const right = pairs.filter(([l, p]) => l === colourOf(p)).length;
  assert.equal(right, 8);
  assert.equal(r.accuracy, right / pairs.length);
  for (const [c, label] of CLASSES.entries()) {
    const support = want[c].reduce((a, b) => a + b, 0);
    const predicted = want.reduce((a, row) => a + row[c], 0);
    assert.deepEqual(r.perClass[c], { label, precision: want[c][c] / predicted, recall: want[c][c] / support, support });
  }
  assert.equal(r.items.length, pairs.length);
  assert.ok(r.items.every((it) => !it.error && it.predicted === colourOf(path.basename(it.path)) && it.correct === (it.label === it.predicted)));
  assert.match(r.summary, /^12 items: 12 predicted, 0 errors; accuracy 66\.7%$/);
});

test('items: mistakes first (most confident first), then right ones by rising confidence; probabilities and losses as predict() gives them', async () => {
  const { data } = mixedFolder('order');
  const r = await runDataset({ model: MODEL, data, batchSize: 5 });
  const wrong = r.items.filter((it) => it.correct === false);
  assert.equal(wrong.length, 4);
  assert.deepEqual(r.items.slice(0, 4), wrong);
  for (let i = 1; i < 4; i++) assert.ok(wrong[i - 1].probability! >= wrong[i].probability!);
  const right = r.items.slice(4);
  for (let i = 1; i < right.length; i++) assert.ok(right[i - 1].probability! <= right[i].probability!);
  const lm = await LoadedModel.open(MODEL);
  for (const it of r.items) {
    const { feeds } = await loadInputs(lm, path.join(data, it.path));
    const all = await predict(lm, feeds, 4);
    assert.equal(it.predictedIndex, all[0].index);
    assert.ok(Math.abs(it.probability! - all[0].probability) < 1e-6, `${it.path}: ${it.probability} vs ${all[0].probability}`);
    const pTrue = all.find((p) => p.label === it.label)!.probability;
    assert.ok(Math.abs(it.trueProbability! - pTrue) < 1e-6);
    assert.ok(Math.abs(it.loss! + Math.log(Math.max(pTrue, 1e-12))) < 1e-9);
  }
  // the numbers do not depend on the batch size
  const one = await runDataset({ model: MODEL, data, batchSize: 1 });
  const big = await runDataset({ model: MODEL, data, batchSize: 64 });
  for (const other of [one, big]) {
    assert.deepEqual(other.items.map((it) => it.path), r.items.map((it) => it.path));
    other.items.forEach((it, k) => assert.ok(Math.abs(it.probability! - r.items[k].probability!) < 1e-6));
  }
});

test('bad items are listed one by one with their kind, counted in the summary, and the rest is scored', async () => {
  const { data, pairs } = mixedFolder('bad');
  fs.mkdirSync(path.join(data, 'purple'));
  fs.copyFileSync(path.join(SHAPES, 'images', 'blue-square.png'), path.join(data, 'purple', 'blue-square.png'));
  fs.mkdirSync(path.join(data, 'empty'));
  fs.writeFileSync(path.join(data, 'red', 'broken.png'), 'not a png');
  fs.writeFileSync(path.join(data, 'red', 'notes.txt'), 'not an item');
  fs.copyFileSync(path.join(SHAPES, 'images', 'green-circle.png'), path.join(data, 'unsorted.png'));
  const r = await runDataset({ model: MODEL, data });
  assert.deepEqual(r.confusion, expectedConfusion(pairs), 'the errors and the unlabelled item are not scored');
  assert.equal(r.accuracy, 8 / 12);
  const byPath = new Map(r.items.map((it) => [it.path, it]));
  assert.equal(byPath.get('purple/blue-square.png')?.errorKind, 'label');
  assert.match(byPath.get('purple/blue-square.png')!.error!, /^label purple is not one of the model's labels \(red, green, blue, yellow\)$/);
  assert.equal(byPath.get('empty/')?.errorKind, 'empty');
  assert.equal(byPath.get('red/broken.png')?.errorKind, 'unreadable');
  assert.match(byPath.get('red/broken.png')!.error!, /broken\.png is not an image format/);
  assert.ok(!byPath.has('red/notes.txt'));
  const unsorted = byPath.get('unsorted.png')!;
  assert.deepEqual([unsorted.label, unsorted.predicted, unsorted.correct, unsorted.loss], [null, 'green', null, null]);
  // errors last, after the unlabelled prediction
  assert.deepEqual(r.items.slice(-3).map((it) => it.path), ['empty/', 'purple/blue-square.png', 'red/broken.png']);
  assert.equal(r.items[r.items.length - 4].path, 'unsorted.png');
  assert.equal(r.summary, '16 items: 13 predicted, 3 errors (1 empty class folder, 1 unknown label, 1 unreadable image); accuracy 66.7%');
  assert.deepEqual(r.counts?.errors, { empty: 1, label: 1, unreadable: 1 });
});

test('attributions for the first items (mistakes first), equal to attribute() on the item for its predicted class, written beside the report', async () => {
  const { data } = mixedFolder('attr');
  const out = path.join(dir, 'attr-out');
  const r = await runDataset({ model: MODEL, data, outDir: out, method: 'saliency', attributeTop: 5 });
  const withMaps = r.items.filter((it) => it.attribution);
  assert.deepEqual(withMaps, r.items.slice(0, 5));
  const lm = await LoadedModel.open(MODEL);
  for (const it of withMaps) {
    assert.equal(it.attribution!.method, 'saliency');
    assert.equal(it.attribution!.target, it.predicted);
    assert.ok(fs.existsSync(path.join(out, it.attribution!.png!)));
    const map = readNpy(path.join(out, it.attribution!.npy));
    const { feeds } = await loadInputs(lm, path.join(data, it.path));
    const direct = await attribute(lm, feeds, { method: 'saliency', target: it.predictedIndex! });
    const want = Object.values(direct.attributions)[0];
    assert.deepEqual(map.dims, want.dims);
    assert.deepEqual(Array.from(map.data as Float32Array), Array.from(want.data as Float32Array));
  }
  assert.ok(r.items.every((it) => it.thumb && fs.existsSync(path.join(out, it.thumb))));
  const saved = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as DatasetReport;
  assert.deepEqual(saved, JSON.parse(JSON.stringify(r)));
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.match(html, /<script type="application\/json" id="report">/);
  assert.ok(html.includes(withMaps[0].attribution!.png!), 'the page links the heat maps');
  assert.ok(!/<link|src="http|href="http/.test(html), 'self-contained');
});

test('report.html keeps file names as text: a name with markup cannot break out of the embedded JSON', async () => {
  const data = path.join(dir, 'markup');
  fs.mkdirSync(path.join(data, 'red'), { recursive: true });
  const evil = '<!--<script><img src=x onerror=alert(1)>.png';
  fs.copyFileSync(path.join(SHAPES, 'images', 'red-circle.png'), path.join(data, 'red', evil));
  const out = path.join(dir, 'markup-out');
  await runDataset({ model: MODEL, data, outDir: out });
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.equal(html.split('<script').length - 1, 2, 'only the page\'s two script elements');
  assert.ok(!html.includes('<img src=x') && !html.includes('<!--'));
  assert.ok(html.includes('\\u003cimg src=x'), 'the name is in the data, escaped');
});

test('a model that cannot batch (it mixes the samples of a batch) is run one image at a time, with the same numbers', async () => {
  // the input plus (input - its mean over the batch): the input itself at batch 1, mixed at batch 2
  const m = OnnxModel.load(MODEL);
  const b = new GraphBuilder(m, 'mix');
  const consumers = m.graph.node.filter((n) => n.input.includes('input'));
  const before = m.graph.node.length;
  const mixed = b.op('Add', ['input', b.op('Sub', ['input', b.reduce('ReduceMean', 'input', [0])])]);
  for (const n of consumers) n.input = n.input.map((i) => (i === 'input' ? mixed : i));
  m.graph.node.unshift(...m.graph.node.splice(before)); // the new nodes read only the input: first
  const d = path.join(dir, 'batch1');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'net.onnx'), m.toBytes());
  fs.copyFileSync(path.join(SHAPES, 'labels.txt'), path.join(d, 'labels.txt'));
  fs.copyFileSync(path.join(SHAPES, 'model.attrlens.json'), path.join(d, 'net.attrlens.json'));
  const lm = await LoadedModel.open(path.join(d, 'net.onnx'));
  assert.equal(lm.maxBatch, 1);
  const { data, pairs } = mixedFolder('batch1-data');
  const r = await runDataset({ model: path.join(d, 'net.onnx'), data }, undefined, undefined, lm);
  assert.deepEqual(r.confusion, expectedConfusion(pairs));
  const plain = await runDataset({ model: MODEL, data });
  assert.deepEqual(r.items.map((it) => it.path), plain.items.map((it) => it.path));
  r.items.forEach((it, k) => assert.ok(Math.abs(it.probability! - plain.items[k].probability!) < 1e-5, it.path));
});

test('a model without labels: numeric folder names are class indices', async () => {
  const m = path.join(dir, 'nolabels');
  fs.mkdirSync(m);
  fs.copyFileSync(MODEL, path.join(m, 'net.onnx'));
  fs.copyFileSync(path.join(SHAPES, 'model.attrlens.json'), path.join(m, 'net.attrlens.json'));
  const data = path.join(dir, 'indices');
  const pairs = shapesFolder(data, { 0: ['red-circle.png', 'green-square.png'], 3: ['yellow-circle.png'], 7: ['blue-square.png'] });
  const r = await runDataset({ model: path.join(m, 'net.onnx'), data });
  assert.deepEqual(r.classes, ['0', '1', '2', '3']);
  assert.deepEqual(r.confusion, [[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]);
  assert.equal(r.accuracy, 2 / 3);
  const bad = r.items.find((it) => it.path === '7/blue-square.png')!;
  assert.equal(bad.errorKind, 'label');
  assert.match(bad.error!, /label 7 is not one of the model's classes \(it has no labels: name folders by class index 0\.\.3/);
  assert.equal(pairs.length, 4);
});

test('refused up front, with one line: a method without an output folder, an unknown method, bad params, a detector, no data', async () => {
  const { data } = mixedFolder('refuse');
  const refuse = async (p: Promise<unknown>, re: RegExp) => {
    await assert.rejects(p, (e: Error) => e instanceof AttrLensError && re.test(e.message) && !e.message.includes('\n'));
  };
  await refuse(runDataset({ model: MODEL, data, method: 'saliency' }), /give an output folder \(--out-dir D\)/);
  await refuse(runDataset({ model: MODEL, data, method: 'salency', outDir: path.join(dir, 'x') }), /unknown method 'salency'; did you mean saliency/);
  await refuse(runDataset({ model: MODEL, data, method: 'integrated-gradients', params: { nStep: 3 }, outDir: path.join(dir, 'x') }), /nStep/);
  await refuse(runDataset({ model: path.join(path.dirname(SHAPES), 'detect', 'model.onnx'), data }), /is a detection output, not one score per class/);
  await refuse(runDataset({ model: MODEL, data: path.join(dir, 'nowhere') }), /no such file or folder/);
  fs.mkdirSync(path.join(dir, 'void'));
  await refuse(runDataset({ model: MODEL, data: path.join(dir, 'void') }), /holds no class folders or images/);
  await refuse(runDataset({ model: MODEL, data, shard: { index: 3, count: 3 } }), /shard 3\/3 is not a shard/);
});

test('an output folder inside the data folder is not read as data; a model with two inputs is refused', async () => {
  const { data, pairs } = mixedFolder('inner');
  const out = path.join(data, 'report');
  await runDataset({ model: MODEL, data, outDir: out });
  assert.ok(fs.readdirSync(path.join(out, 'thumbs')).length === 12);
  const again = await runDataset({ model: MODEL, data, outDir: out });
  assert.equal(again.items.length, pairs.length);
  assert.equal(again.counts?.resumed, 12);
  const two = buildModel(17, [1, 4], (b, x) => {
    b.addInput('y', 1, [1, 4]);
    return [b.op('Add', [x, 'y'])];
  });
  const file = path.join(dir, 'two.onnx');
  fs.writeFileSync(file, two.toBytes());
  await assert.rejects(runDataset({ model: file, data }), (e: Error) => e instanceof AttrLensError && /has 2 inputs \(x, y\): a dataset run feeds one image per item/.test(e.message));
});

test('cancellation stops between batches with CancelledError; the next run resumes what was done', async () => {
  const { data } = mixedFolder('cancel');
  const out = path.join(dir, 'cancel-out');
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(runDataset({ model: MODEL, data, outDir: out }, undefined, pre.signal), CancelledError);
  const ac = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    runDataset({ model: MODEL, data, outDir: out, batchSize: 2 }, (done) => {
      seen.push(done);
      if (done >= 4) ac.abort();
    }, ac.signal),
    CancelledError,
  );
  assert.deepEqual(seen, [0, 2, 4], 'the total first, then no batch after the abort');
  assert.ok(!fs.existsSync(path.join(out, 'report.json')));
  const r = await runDataset({ model: MODEL, data, outDir: out, batchSize: 2 });
  assert.equal(r.counts?.resumed, 4);
  assert.equal(r.counts?.predicted, 12);
  assert.match(r.summary, /12 predicted \(4 resumed\)/);
});
