// Label discovery: metadata_props (JSON list, JSON map, comma list), files beside the model
// (<stem>.labels.txt, labels.txt, synset.txt, classes.txt) and config.json id2label.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { discoverLabels } from '../../src/engine/onnx/labels';
import { OnnxModel } from '../../src/engine/onnx/model';
import { buildModel, tmpDir } from './helpers';

/** Writes `<dir>/<stem>.onnx` (with optional metadata_props) plus `files`, then loads it. */
function modelIn(files: Record<string, string>, meta: Record<string, string> = {}, stem = 'net'): OnnxModel {
  const dir = tmpDir('labels');
  const m = buildModel(17, [1, 3], (b, x) => [b.op('Relu', [x])]);
  m.proto.metadataProps = Object.entries(meta).map(([key, value]) => ({ key, value }));
  fs.writeFileSync(path.join(dir, `${stem}.onnx`), m.toBytes());
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return OnnxModel.load(path.join(dir, `${stem}.onnx`));
}

test('metadata_props: a JSON list', () => {
  const r = discoverLabels(modelIn({}, { labels: '["cat", "dog", "bird"]' }));
  assert.deepEqual(r, { labels: ['cat', 'dog', 'bird'], source: 'metadata_props.labels' });
});

test('metadata_props: a comma list, and a JSON id → name map', () => {
  assert.deepEqual(discoverLabels(modelIn({}, { classes: 'cat, dog ,bird' }))?.labels, ['cat', 'dog', 'bird']);
  assert.deepEqual(discoverLabels(modelIn({}, { id2label: '{"1": "pos", "0": "neg"}' }))?.labels, ['neg', 'pos']);
});

test('metadata_props win over files beside the model; unrelated keys are ignored', () => {
  const r = discoverLabels(modelIn({ 'labels.txt': 'x\ny\n' }, { author: 'someone', names: '["a","b"]' }));
  assert.deepEqual(r?.labels, ['a', 'b']);
  const none = discoverLabels(modelIn({ 'labels.txt': 'x\ny\n' }, { author: 'a,b,c' }));
  assert.deepEqual(none, { labels: ['x', 'y'], source: 'labels.txt' });
});

test('<stem>.labels.txt comes before labels.txt; blank lines and CRLF are ignored', () => {
  const r = discoverLabels(modelIn({ 'net.labels.txt': 'red\r\n\r\ngreen\r\nblue\r\n', 'labels.txt': 'no\n' }));
  assert.deepEqual(r, { labels: ['red', 'green', 'blue'], source: 'net.labels.txt' });
});

test('labels.txt beside the model', () => {
  assert.deepEqual(discoverLabels(modelIn({ 'labels.txt': 'zero\none\ntwo\n' }))?.labels, ['zero', 'one', 'two']);
});

test('synset.txt: the WordNet id prefix is stripped', () => {
  const r = discoverLabels(modelIn({ 'synset.txt': 'n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n' }));
  assert.deepEqual(r, { labels: ['tench, Tinca tinca', 'goldfish, Carassius auratus'], source: 'synset.txt' });
});

test('classes.txt beside the model', () => {
  assert.deepEqual(discoverLabels(modelIn({ 'classes.txt': 'plane\ncar\n' })), { labels: ['plane', 'car'], source: 'classes.txt' });
});

test('config.json id2label, with gaps filled by the index', () => {
  const cfg = JSON.stringify({ model_type: 'vit', id2label: { '0': 'neg', '2': 'pos', x: 'ignored' } });
  assert.deepEqual(discoverLabels(modelIn({ 'config.json': cfg })), { labels: ['neg', '1', 'pos'], source: 'config.json id2label' });
  assert.equal(discoverLabels(modelIn({ 'config.json': '{ not json' })), undefined);
});

test('no labels anywhere → undefined; a model without a file reads only metadata', () => {
  assert.equal(discoverLabels(modelIn({})), undefined);
  const m = buildModel(17, [1, 3], (b, x) => [b.op('Relu', [x])]);
  assert.equal(discoverLabels(m), undefined);
  m.proto.metadataProps = [{ key: 'labels', value: '["only"]' }];
  assert.deepEqual(discoverLabels(m)?.labels, ['only']);
});
