// The dataset view's host-side rules (vscode-free parts): which messages the host accepts, its
// page's CSP, which file an item the webview names may be (only the report's, only inside the
// folder), whether a folder holds images, and the grid's filters and sorts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetDocument } from '../../src/extension/dataset/datasetDocument';
import { hasImages, itemFile, restoredDatasetView, savedDatasetViews } from '../../src/extension/dataset/datasetFiles';
import { type DatasetItem, type DatasetReport, MAX_ITEM_PATH, isFromDatasetView, thumbnailUri } from '../../src/shared/datasetProtocol';
import { accuracyCounts, matches, matrixClasses, select } from '../../webview-ui/src/dataset/query';

test('the host accepts exactly the four messages, with nothing extra', () => {
  for (const ok of [{ type: 'ready' }, { type: 'cancel' }, { type: 'rerun' }, { type: 'openItem', path: 'red/a.png' }]) {
    assert.equal(isFromDatasetView(ok), true, JSON.stringify(ok));
  }
  const forged: unknown[] = [
    null, 'ready', [], 42, {}, { type: 'run' }, { type: 'ready', extra: 1 }, { type: 'cancel', requestId: 'x' },
    { type: 'openItem' }, { type: 'openItem', path: '' }, { type: 'openItem', path: 7 }, { type: 'openItem', path: 'a\0b' },
    { type: 'openItem', path: 'x'.repeat(MAX_ITEM_PATH + 1) }, { type: 'openItem', path: 'a.png', model: '/etc/evil.onnx' },
    { type: 'openItem', path: ['a.png'] },
  ];
  for (const m of forged) assert.equal(isFromDatasetView(m), false, JSON.stringify(m)?.slice(0, 80));
});

test('thumbnails: the folder URI plus the item path, each segment encoded', () => {
  const base = 'https://file%2B.vscode-resource.vscode-cdn.net/home/u/data';
  assert.equal(thumbnailUri(base, 'red/a b#1.png'), `${base}/red/a%20b%231.png`);
  assert.equal(thumbnailUri(`${base}/`, 'red\\c?.png'), `${base}/red/c%3F.png`);
  // empty segments go; what the URI may reach is bounded by the panel's localResourceRoots (the data folder)
  assert.equal(thumbnailUri(base, '/x//y.png'), `${base}/x/y.png`);
});

test('the page: one nonce\'d script from dist, images and styles from the webview origin only', () => {
  const html = datasetDocument({ cspSource: 'https://*.vscode-cdn.net', resourceUri: (r) => `https://res/${r}`, lang: 'en', title: 'Dataset: <pets>', nonce: 'N0NCE' });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1];
  assert.equal(csp, "default-src 'none'; style-src https://*.vscode-cdn.net; img-src https://*.vscode-cdn.net; script-src 'nonce-N0NCE'");
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.deepEqual(scripts, ['<script nonce="N0NCE" src="https://res/dist/dataset.js">']);
  assert.ok(!/\sstyle=|<style|\son\w+=/.test(html), 'nothing inline');
  assert.match(html, /<title>Dataset: &#60;pets&#62;<\/title>/);
  assert.notEqual(/nonce-([^']+)/.exec(datasetDocument({ cspSource: 'x', resourceUri: (r) => r, lang: 'en', title: 't' }))?.[1], 'N0NCE', 'a fresh nonce each render');
});

function item(path: string, over: Partial<DatasetItem> = {}): DatasetItem {
  return { path, label: 'red', predicted: 'red', predictedIndex: 0, probability: 0.9, trueProbability: 0.9, loss: 0.105, correct: true, ...over };
}

test('an item the webview names opens only when it is one of the report\'s, inside the folder', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'attrlens-ds-'));
  try {
    const data = join(tmp, 'data');
    mkdirSync(join(data, 'red'), { recursive: true });
    writeFileSync(join(data, 'red', 'a.png'), 'x');
    writeFileSync(join(tmp, 'secret.png'), 'x');
    symlinkSync(join(tmp, 'secret.png'), join(data, 'red', 'link.png'));
    const items = [item('red/a.png'), item('../secret.png'), item('red/link.png'), item('/etc/passwd')];
    assert.equal(itemFile(data, items, 'red/a.png'), join(data, 'red', 'a.png'));
    assert.equal(itemFile(data, items, 'red/b.png'), undefined, 'not in the report');
    assert.equal(itemFile(data, items, '../secret.png'), undefined, 'outside the folder, even when the report lists it');
    assert.equal(itemFile(data, items, '/etc/passwd'), undefined, 'absolute');
    assert.equal(itemFile(data, items, 'red/link.png'), undefined, 'a symlink out of the folder');
    assert.equal(itemFile(data, [item('red/gone.png')], 'red/gone.png'), undefined, 'a missing file');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('hasImages: images in label folders (nested too) count, other files and hidden folders do not', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'attrlens-ds-'));
  try {
    assert.equal(hasImages(tmp), false, 'empty');
    mkdirSync(join(tmp, 'red', 'deeper', 'still'), { recursive: true });
    mkdirSync(join(tmp, '.cache'), { recursive: true });
    writeFileSync(join(tmp, 'notes.txt'), 'x');
    writeFileSync(join(tmp, 'red', 'labels.csv'), 'x');
    writeFileSync(join(tmp, '.cache', 'thumb.png'), 'x');
    assert.equal(hasImages(tmp), false, 'only text files, and an image in a hidden folder');
    writeFileSync(join(tmp, 'red', 'deeper', 'still', 'a.png'), 'x');
    assert.equal(hasImages(tmp), true, 'DIR/<label>/<sub>/<sub>/*.png belongs to its class');
    assert.equal(hasImages(tmp, 2), false, 'but not within two levels');
    writeFileSync(join(tmp, 'red', 'b.JPG'), 'x');
    assert.equal(hasImages(tmp, 2), true, 'DIR/<label>/*.jpg');
    assert.equal(hasImages(join(tmp, 'missing')), false, 'a missing folder is not an error');
    // past the entry limit the engine decides
    for (let i = 0; i < 30; i++) writeFileSync(join(tmp, `n${i}.txt`), 'x');
    assert.equal(hasImages(tmp, 0, 10), true);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

const items: DatasetItem[] = [
  item('green/b.png', { label: 'green', predicted: 'blue', predictedIndex: 2, probability: 0.95, trueProbability: 0.03, loss: 3.5, correct: false }),
  item('red/a.png', { probability: 0.6, trueProbability: 0.6, loss: 0.51 }),
  item('red/c.png', { probability: 0.99, trueProbability: 0.99, loss: 0.01 }),
  item('blue/d.png', { label: 'blue', predicted: 'red', predictedIndex: 0, probability: 0.5, trueProbability: 0.2, loss: 1.6, correct: false }),
  item('red/bad.png', { predicted: null, predictedIndex: null, probability: null, trueProbability: null, loss: null, correct: null, error: 'cannot read the image' }),
];

test('filters: true class, predicted class, correct / wrong / errors', () => {
  const q = (over: object) => select(items, { outcome: 'all', sort: 'report', ...over });
  assert.deepEqual(q({}), [0, 1, 2, 3, 4]);
  assert.deepEqual(q({ trueLabel: 'red' }), [1, 2, 4]);
  assert.deepEqual(q({ predicted: 'red' }), [1, 2, 3]);
  assert.deepEqual(q({ trueLabel: 'green', predicted: 'blue' }), [0]);
  assert.deepEqual(q({ outcome: 'correct' }), [1, 2]);
  assert.deepEqual(q({ outcome: 'wrong' }), [0, 3]);
  assert.deepEqual(q({ outcome: 'errors' }), [4]);
  assert.deepEqual(q({ trueLabel: 'red', outcome: 'wrong' }), []);
  assert.equal(matches(items[4], { outcome: 'correct', sort: 'report' }), false);
});

test('sorts: confidence both ways, loss, path; missing numbers last either way', () => {
  const s = (sort: string) => select(items, { outcome: 'all', sort: sort as never });
  assert.deepEqual(s('confidence-asc'), [3, 1, 0, 2, 4]);
  assert.deepEqual(s('confidence-desc'), [2, 0, 1, 3, 4]);
  assert.deepEqual(s('loss-desc'), [0, 3, 1, 2, 4]);
  assert.deepEqual(s('path'), [3, 0, 1, 4, 2]);
  // ties keep the report's order
  const tied = [item('b.png'), item('a.png'), item('c.png')];
  assert.deepEqual(select(tied, { outcome: 'all', sort: 'confidence-desc' }), [0, 1, 2]);
});

test('accuracy counts and the confusion matrix\'s classes (used ones; the busiest when too many)', () => {
  const report = { classes: ['a', 'b', 'c', 'd'], confusion: [[5, 1, 0, 0], [0, 3, 0, 0], [0, 0, 0, 0], [2, 0, 0, 1]] } as unknown as DatasetReport;
  assert.deepEqual(accuracyCounts(report), { correct: 9, scored: 12 });
  assert.deepEqual(matrixClasses(report), { shown: [0, 1, 3], hidden: 0 });
  assert.deepEqual(matrixClasses(report, 2), { shown: [0, 1], hidden: 1 });
});

test('a reloaded window reopens only a view the host saved, of a folder that is still there', () => {
  const root = mkdtempSync(join(tmpdir(), 'attrlens-restore-'));
  try {
    const data = join(root, 'data');
    mkdirSync(data);
    const file = join(root, 'file.txt');
    writeFileSync(file, 'x');
    const stored = [{ folder: data, model: join(root, 'm.onnx') }, { folder: file, model: 'm.onnx' }, { folder: 7 }, null, 'x'];
    assert.deepEqual(savedDatasetViews(stored), [stored[0], stored[1]]);
    assert.deepEqual(restoredDatasetView({ query: {}, restoreKey: data }, stored), stored[0]);
    // the webview's state names a folder the host never opened, or no folder, or a file: nothing reopens
    for (const state of [{ restoreKey: join(root, 'elsewhere') }, { restoreKey: '/etc' }, { restoreKey: file }, { restoreKey: 1 }, {}, undefined, null, 'x']) {
      assert.equal(restoredDatasetView(state, stored), undefined, JSON.stringify(state));
    }
    assert.equal(restoredDatasetView({ restoreKey: data }, undefined), undefined, 'nothing saved');
    assert.equal(restoredDatasetView({ restoreKey: data }, { [data]: 'm.onnx' }), undefined, 'a saved value of another shape');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
