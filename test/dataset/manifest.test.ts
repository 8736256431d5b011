// readDataset: the ImageFolder layout and CSV / JSONL manifests, with every bad line or file an
// item with an error (and nothing read outside the manifest's folder); a manifest run scores
// like the same items in class folders.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import { parseCsv, readDataset, runDataset } from '../../src/engine/dataset';
import { AttrLensError } from '../../src/engine/core/errors';
import { tmpDir } from '../onnx/helpers';
import { MIXED, MODEL, SHAPES, expectedConfusion, shapesFolder } from './shared';

const dir = tmpDir('dataset-manifest');
const png = path.join(SHAPES, 'images', 'red-circle.png');

test('CSV: quoted fields with commas, doubled quotes and line breaks, CRLF, a BOM', () => {
  assert.deepEqual(parseCsv('\uFEFFpath,label\r\n"a,b.png",red\r\n"say ""hi"".png","multi\nline"\nplain.png,\n'.replace(/^\uFEFF/, '')), [
    ['path', 'label'],
    ['a,b.png', 'red'],
    ['say "hi".png', 'multi\nline'],
    ['plain.png', ''],
  ]);
  assert.deepEqual(parseCsv('path\nx.png'), [['path'], ['x.png']]);
});

test('an ImageFolder tree: labels from folder names, nested files, hidden and mask files and the output folder skipped, empty class folders listed', () => {
  const d = path.join(dir, 'tree');
  for (const f of ['cat/a.png', 'cat/sub/b.jpg', 'cat/.hidden.png', 'cat/c.mask.png', 'cat/readme.txt', 'dog/d.webp', 'loose.png', 'out/thumbs/x.png', '.git/y.png']) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), 'x');
  }
  fs.mkdirSync(path.join(d, 'bird'));
  const l = readDataset(d, { exclude: [path.join(d, 'out')] });
  assert.equal(l.source, 'folder');
  assert.deepEqual(l.entries.map((e) => [e.path, e.label, e.errorKind ?? null]), [
    ['bird/', 'bird', 'empty'],
    ['cat/a.png', 'cat', null],
    ['cat/sub/b.jpg', 'cat', null],
    ['dog/d.webp', 'dog', null],
    ['loose.png', null, null],
  ]);
  assert.equal(l.entries[1].file, path.join(d, 'cat', 'a.png'));
});

test('links in a folder tree: followed inside it (each folder once, each image scored once, where it really is), listed as errors when they leave it', () => {
  const d = path.join(dir, 'links');
  const outside = path.join(dir, 'links-outside');
  for (const f of ['cat/a.png', 'shared/s.png']) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), 'x');
  }
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'o.png'), 'x');
  fs.symlinkSync(path.join(d, 'shared'), path.join(d, 'cat', 'inner'));
  fs.symlinkSync(d, path.join(d, 'cat', 'loop'));
  fs.symlinkSync(path.join(outside, 'o.png'), path.join(d, 'cat', 'out.png'));
  fs.symlinkSync(outside, path.join(d, 'dog'));
  const l = readDataset(d);
  assert.deepEqual(l.entries.map((e) => [e.path, e.label, e.errorKind ?? null]), [
    ['cat/a.png', 'cat', null],
    ['cat/inner/s.png', 'cat', 'duplicate'],
    ['cat/out.png', 'cat', 'outside'],
    ['dog/', 'dog', 'outside'],
    ['shared/s.png', 'shared', null],
  ]);
  assert.match(l.entries[2].error!, /^cat\/out\.png links outside the data folder: not followed$/);
  // the image in shared/ is not scored a second time, as a cat
  assert.equal(l.entries[1].file, undefined);
  assert.equal(l.entries[1].error, 'cat/inner/s.png is shared/s.png through a link: scored once, as shared');
});

test('a class folder linking to another class: its images count once, under their own label', () => {
  const d = path.join(dir, 'cross');
  for (const f of ['cat/a.png', 'dog/b.png']) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), 'x');
  }
  fs.symlinkSync(path.join('..', 'dog'), path.join(d, 'cat', 'more'));
  const l = readDataset(d);
  assert.deepEqual(l.entries.map((e) => [e.path, e.label, e.errorKind ?? null, !!e.file]), [
    ['cat/a.png', 'cat', null, true],
    ['cat/more/b.png', 'cat', 'duplicate', false],
    ['dog/b.png', 'dog', null, true],
  ]);
});

test('a CSV manifest: paths relative to its folder; missing files, paths leaving the folder, links out of it, repeated and empty lines are per-item errors', () => {
  const d = path.join(dir, 'csv');
  fs.mkdirSync(path.join(d, 'img'), { recursive: true });
  fs.copyFileSync(png, path.join(d, 'img', 'a,1.png'));
  fs.copyFileSync(png, path.join(d, 'img', 'b.png'));
  fs.copyFileSync(png, path.join(dir, 'secret.png'));
  fs.symlinkSync(path.join(dir, 'secret.png'), path.join(d, 'img', 'link.png'));
  fs.writeFileSync(
    path.join(d, 'list.csv'),
    ['label,path,extra', 'red,"img/a,1.png",x', 'blue,img/b.png', 'green,img/gone.png', 'red,../secret.png', `red,${path.join(dir, 'secret.png')}`, 'red,img/link.png', 'yellow,img/b.png', ',"img/../img/a,1.png"', 'red,', ''].join('\n'),
  );
  const l = readDataset(path.join(d, 'list.csv'));
  assert.equal(l.source, 'csv');
  assert.equal(l.root, d);
  const rows = l.entries.map((e) => [e.path, e.label, e.errorKind ?? null]);
  assert.deepEqual(rows, [
    ['(line 10)', 'red', 'manifest'],
    ['../secret.png', 'red', 'outside'],
    [path.join(dir, 'secret.png'), 'red', 'outside'],
    ['img/a,1.png', 'red', null],
    ['img/a,1.png (entry 8)', null, 'manifest'],
    ['img/b.png', 'blue', null],
    ['img/b.png (entry 7)', 'yellow', 'manifest'],
    ['img/gone.png', 'green', 'missing'],
    ['img/link.png', 'red', 'outside'],
  ]);
  assert.ok(l.entries.filter((e) => e.errorKind).every((e) => e.error && !e.file), 'no file to read for an error');
  assert.match(l.entries.find((e) => e.path === '../secret.png')!.error!, /outside the manifest's folder/);
  assert.throws(() => readDataset(writeFile('nopath.csv', 'file,label\na.png,red\n')), (e: Error) => e instanceof AttrLensError && /no "path" column/.test(e.message));
  assert.throws(() => readDataset(writeFile('empty.csv', 'path,label\n')), /lists no items/);
  assert.throws(() => readDataset(writeFile('list.txt', 'a.png,red\n')), /neither a folder nor a manifest/);
});

function writeFile(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

test('a JSONL manifest: numbers as labels, bad lines listed', () => {
  const d = path.join(dir, 'jsonl');
  fs.mkdirSync(d);
  fs.copyFileSync(png, path.join(d, 'a.png'));
  fs.writeFileSync(path.join(d, 'list.jsonl'), ['{"path": "a.png", "label": 3}', 'not json', '{"label": "red"}', '{"path": "a.png", "label": {"x": 1}}', '', '{"path": "b.png"}'].join('\n'));
  const l = readDataset(path.join(d, 'list.jsonl'));
  assert.equal(l.source, 'jsonl');
  assert.deepEqual(l.entries.map((e) => [e.path, e.label, e.errorKind ?? null]), [
    ['(line 2)', null, 'manifest'],
    ['(line 3)', null, 'manifest'],
    ['a.png', '3', null],
    ['a.png (line 4)', null, 'manifest'],
    ['b.png', null, 'missing'],
  ]);
  assert.match(l.entries[0].error!, /^line 2 is not JSON/);
});

test('a manifest run scores like the same items in class folders', async () => {
  const d = path.join(dir, 'same');
  const pairs = shapesFolder(path.join(d, 'tree'), MIXED);
  const csv = ['path,label', ...pairs.map(([label, p]) => `tree/${label}/${p},${label}`), 'tree/red/none.png,red'].join('\n');
  fs.writeFileSync(path.join(d, 'list.csv'), csv);
  const jsonl = pairs.map(([label, p]) => JSON.stringify({ path: `tree/${label}/${p}`, label })).join('\n');
  fs.writeFileSync(path.join(d, 'list.jsonl'), jsonl);
  const tree = await runDataset({ model: MODEL, data: path.join(d, 'tree') });
  for (const m of ['list.csv', 'list.jsonl']) {
    const r = await runDataset({ model: MODEL, data: path.join(d, m) });
    assert.deepEqual(r.confusion, expectedConfusion(pairs));
    assert.equal(r.accuracy, tree.accuracy);
    const scored = r.items.filter((it) => !it.error);
    assert.deepEqual(scored.map((it) => [it.path.replace(/^tree\//, ''), it.predicted, it.probability]), tree.items.map((it) => [it.path, it.predicted, it.probability]));
  }
  const csvRun = await runDataset({ model: MODEL, data: path.join(d, 'list.csv') });
  assert.match(csvRun.summary, /1 error \(1 missing file\)/);
});
