// Shards cut deterministically (item k of the path-sorted list goes to shard k mod n) and merged
// give exactly one run's report; a second run resumes; a changed file is predicted again.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import { DatasetItem, DatasetReport, mergeDatasetReports, readDataset, runDataset } from '../../src/engine/dataset';
import { AttrLensError } from '../../src/engine/core/errors';
import { tmpDir } from '../onnx/helpers';
import { MIXED, MODEL, SHAPES, expectedConfusion, shapesFolder } from './shared';

const dir = tmpDir('dataset-shard');

function folderWithErrors(name: string): { data: string; pairs: Array<[string, string]> } {
  const data = path.join(dir, name);
  const pairs = shapesFolder(data, MIXED);
  fs.mkdirSync(path.join(data, 'purple'));
  fs.copyFileSync(path.join(SHAPES, 'images', 'blue-square.png'), path.join(data, 'purple', 'blue-square.png'));
  fs.writeFileSync(path.join(data, 'red', 'broken.png'), 'not a png');
  fs.mkdirSync(path.join(data, 'empty'));
  return { data, pairs };
}

/** What a report says about an item, without the files written for it. */
const core = (it: DatasetItem) => ({ ...it, thumb: undefined, attribution: undefined });

test('shards partition the sorted items (k mod n); merged, they equal one run exactly', async () => {
  const { data, pairs } = folderWithErrors('data');
  const whole = await runDataset({ model: MODEL, data, outDir: path.join(dir, 'whole') });
  assert.deepEqual(whole.confusion, expectedConfusion(pairs));
  const sorted = readDataset(data).entries.map((e) => e.path);
  assert.equal(sorted.length, 15);
  const outs: string[] = [];
  const shards: DatasetReport[] = [];
  for (let i = 0; i < 4; i++) {
    outs.push(path.join(dir, `shard${i}`));
    const r = await runDataset({ model: MODEL, data, outDir: outs[i], shard: { index: i, count: 4 } });
    assert.deepEqual(r.items.map((it) => it.path).sort(), sorted.filter((_, k) => k % 4 === i).sort());
    assert.deepEqual(r.shard, { index: i, count: 4 });
    shards.push(r);
  }
  assert.ok(shards.some((s) => s.accuracy !== whole.accuracy), 'a shard alone scores differently (the check below means something)');
  const merged = await mergeDatasetReports(outs, path.join(dir, 'merged'));
  assert.equal(merged.accuracy, whole.accuracy);
  assert.deepEqual(merged.confusion, whole.confusion);
  assert.deepEqual(merged.perClass, whole.perClass);
  assert.deepEqual(merged.classes, whole.classes);
  assert.deepEqual(merged.items.map(core), whole.items.map(core));
  assert.deepEqual(merged.counts?.errors, whole.counts?.errors);
  assert.equal(merged.summary, `${whole.summary}; merged from 4 reports`);
  assert.deepEqual(merged.mergedShards, [0, 1, 2, 3].map((index) => ({ index, count: 4 })));
  // the merged folder is a report of its own: thumbnails copied, report.json and report.html written
  for (const it of merged.items.filter((x) => !x.error)) assert.ok(it.thumb && fs.existsSync(path.join(dir, 'merged', it.thumb)), it.path);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'merged', 'report.json'), 'utf8')), JSON.parse(JSON.stringify(merged)));
  assert.ok(fs.existsSync(path.join(dir, 'merged', 'report.html')));

  const partial = await mergeDatasetReports(outs.slice(0, 2));
  assert.match(partial.summary, /merged from 2 reports \(shards 3\/4, 4\/4 missing\)$/);
});

test('merge refuses folders without a report and reports of another model', async () => {
  fs.mkdirSync(path.join(dir, 'nothing'), { recursive: true });
  await assert.rejects(mergeDatasetReports([path.join(dir, 'nothing')]), (e: Error) => e instanceof AttrLensError && /has no report\.json/.test(e.message));
  await assert.rejects(mergeDatasetReports([]), /nothing to merge/);
  await assert.rejects(mergeDatasetReports([path.join(dir, 'nothing'), path.join(dir, 'x')], path.join(dir, 'nothing')), /is one of the folders being merged/);
  const a = path.join(dir, 'ma');
  const b = path.join(dir, 'mb');
  const data = path.join(dir, 'small');
  shapesFolder(data, { red: ['red-circle.png'] });
  await runDataset({ model: MODEL, data, outDir: a });
  await runDataset({ model: MODEL, data, outDir: b });
  const r = JSON.parse(fs.readFileSync(path.join(b, 'report.json'), 'utf8')) as DatasetReport;
  fs.writeFileSync(path.join(b, 'report.json'), JSON.stringify({ ...r, modelHash: 'f'.repeat(64) }));
  await assert.rejects(mergeDatasetReports([a, b]), /its model differs/);
  fs.writeFileSync(path.join(b, 'report.json'), JSON.stringify({ ...r, classes: ['a', 'b'] }));
  await assert.rejects(mergeDatasetReports([a, b]), /its classes differ/);
});

test('resume: a second run predicts nothing again; a changed file and a new file are predicted; attributions resume too', async () => {
  const data = path.join(dir, 'resume');
  shapesFolder(data, MIXED);
  const out = path.join(dir, 'resume-out');
  const first = await runDataset({ model: MODEL, data, outDir: out, method: 'saliency', attributeTop: 3 });
  assert.equal(first.counts?.resumed, 0);
  const progress: string[] = [];
  const second = await runDataset({ model: MODEL, data, outDir: out, method: 'saliency', attributeTop: 3 }, (_d, _t, phase) => progress.push(phase ?? ''));
  assert.deepEqual([second.counts?.resumed, second.counts?.attributedResumed], [12, 3]);
  assert.ok(!progress.includes('predict'), `phases ${progress.join(',')}`);
  assert.match(second.summary, /12 predicted \(12 resumed\).*3 attributed \(3 resumed\)/);
  assert.deepEqual(second.items.map(core), first.items.map(core));
  assert.deepEqual(second.items.map((it) => it.attribution), first.items.map((it) => it.attribution));
  // a picture replaced by another one is predicted again
  fs.copyFileSync(path.join(SHAPES, 'images', 'green-circle.png'), path.join(data, 'red', 'red-circle.png'));
  fs.copyFileSync(path.join(SHAPES, 'images', 'blue-triangle.png'), path.join(data, 'blue', 'new.png'));
  const third = await runDataset({ model: MODEL, data, outDir: out });
  assert.equal(third.counts?.resumed, 11);
  assert.equal(third.items.find((it) => it.path === 'red/red-circle.png')?.predicted, 'green');
  assert.equal(third.items.find((it) => it.path === 'blue/new.png')?.predicted, 'blue');
  // another model (other bytes) resumes nothing
  const m = path.join(dir, 'other-model');
  fs.mkdirSync(m);
  const bytes = fs.readFileSync(MODEL);
  fs.writeFileSync(path.join(m, 'model.onnx'), Buffer.concat([bytes, Buffer.from([0x32, 0x00])])); // an empty doc_string field appended
  for (const f of ['labels.txt', 'model.attrlens.json']) fs.copyFileSync(path.join(SHAPES, f), path.join(m, f));
  const fourth = await runDataset({ model: path.join(m, 'model.onnx'), data, outDir: out });
  assert.equal(fourth.counts?.resumed, 0);
});
