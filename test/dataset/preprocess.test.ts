// A dataset run with a preprocessing override (the extension's `attributionLens.preprocessing`):
// every item is predicted as loadInputs + predict give it with the same override (what the
// Attribution panel shows), the override keys the resume journal, and a bad key fails at once.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import { runDataset } from '../../src/engine/dataset';
import { loadInputs } from '../../src/engine/inputs';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { predict } from '../../src/engine/methods/registry';
import { tmpDir } from '../onnx/helpers';
import { CLASSES, MIXED, MODEL, shapesFolder } from './shared';

const dir = tmpDir('dataset-preprocess');
const data = path.join(dir, 'data');
shapesFolder(data, MIXED);
// channels read as BGR: red and blue trade places in the tensor
const BGR = { channels: 'BGR' as const };

test('an override: each item as loadInputs + predict give it with the same override; red pictures read blue', async () => {
  const lm = await LoadedModel.open(MODEL);
  const plain = await runDataset({ model: MODEL, data }, undefined, undefined, lm);
  const r = await runDataset({ model: MODEL, data, preprocess: BGR }, undefined, undefined, lm);
  assert.deepEqual(r.classes, CLASSES);
  assert.equal(r.items.length, 12);
  for (const it of r.items) {
    const { feeds, preprocess } = await loadInputs(lm, path.join(data, it.path), { preprocess: BGR });
    assert.equal(preprocess?.channels, 'BGR');
    const [top] = await predict(lm, feeds, 1);
    assert.equal(it.predicted, top.label, it.path);
    assert.ok(Math.abs(it.probability! - top.probability) < 1e-5, `${it.path}: ${it.probability} vs ${top.probability}`);
    const before = plain.items.find((p) => p.path === it.path)!;
    if (/\/red-/.test(it.path)) assert.deepEqual([before.predicted, it.predicted], ['red', 'blue'], it.path);
    if (/\/blue-/.test(it.path)) assert.deepEqual([before.predicted, it.predicted], ['blue', 'red'], it.path);
  }
  assert.equal(r.summary.startsWith('12 items: 12 predicted, 0 errors; accuracy '), true, r.summary);
});

test('the override keys the journal: another override predicts again, the same one resumes', async () => {
  const out = path.join(dir, 'out');
  const first = await runDataset({ model: MODEL, data, outDir: out });
  assert.equal(first.counts?.resumed, 0);
  const bgr = await runDataset({ model: MODEL, data, outDir: out, preprocess: BGR });
  assert.equal(bgr.counts?.resumed, 0, 'predicted again under the override');
  assert.notDeepEqual(bgr.confusion, first.confusion);
  const again = await runDataset({ model: MODEL, data, outDir: out, preprocess: BGR });
  assert.equal(again.counts?.resumed, 12);
  assert.deepEqual(again.confusion, bgr.confusion);
  assert.match(again.summary, /^12 items: 12 predicted \(12 resumed\), 0 errors/);
  const plain = await runDataset({ model: MODEL, data, outDir: out, preprocess: {} });
  assert.deepEqual([plain.counts?.resumed, plain.confusion], [12, first.confusion], 'no override keys as none');
  assert.ok(fs.existsSync(path.join(out, 'journal.jsonl')));
});

test('a bad override key fails before any image is read, in one line', async () => {
  await assert.rejects(runDataset({ model: MODEL, data, preprocess: { chanels: 'BGR' } as never }), (e: Error) => {
    assert.equal(e.message, 'preprocessing settings: unknown key "chanels" (did you mean "channels"?); allowed keys: layout, size, resize, cropPct, interpolation, channels, scale, mean, std, input, output');
    return true;
  });
});
