// Where Export Attribution writes (attributionLens.outputFolder) and which files count as exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_OUTPUT_FOLDER, exportFileName, isUnder, resolveOutputFolder } from '../../src/extension/exportFormats';

test('the default output folder is .attribution-lens/exports in the workspace folder, not beside the inputs', () => {
  assert.equal(DEFAULT_OUTPUT_FOLDER, '.attribution-lens/exports');
  assert.equal(resolveOutputFolder(undefined, '/ws', '/ws/models'), '/ws/.attribution-lens/exports');
  assert.equal(resolveOutputFolder('  ', '/ws', '/ws/models'), '/ws/.attribution-lens/exports');
  // no workspace folder: beside the model's folder, in the same hidden folder
  assert.equal(resolveOutputFolder('', undefined, '/m/models'), '/m/models/.attribution-lens/exports');
});

test('the setting may be relative, absolute, ${workspaceFolder} or ~/', () => {
  assert.equal(resolveOutputFolder('figures', '/ws', '/x'), '/ws/figures');
  assert.equal(resolveOutputFolder('../shared/figs', '/ws/a', '/x'), '/ws/shared/figs');
  assert.equal(resolveOutputFolder('/tmp/out', '/ws', '/x'), '/tmp/out');
  assert.equal(resolveOutputFolder('${workspaceFolder}/docs/figs', '/ws', '/x'), '/ws/docs/figs');
  assert.equal(resolveOutputFolder('~/figs', '/ws', '/x', '/home/u'), '/home/u/figs');
  assert.equal(resolveOutputFolder('~/figs', '/ws', '/x'), '/ws/~/figs', 'without a home directory ~ is a plain name');
});

test('files under the output folder are exports; siblings with a common prefix are not', () => {
  const out = '/ws/.attribution-lens/exports';
  assert.ok(isUnder('/ws/.attribution-lens/exports/red-circle-saliency-0.png', out));
  assert.ok(isUnder('/ws/.attribution-lens/exports/sub/a.png', out));
  assert.ok(isUnder(out, out));
  assert.ok(!isUnder('/ws/.attribution-lens/exports2/a.png', out));
  assert.ok(!isUnder('/ws/images/red-circle.png', out));
  assert.ok(!isUnder('/ws/.attribution-lens/a.png', out));
});

test('export file names: image stem, method, target, format', () => {
  assert.equal(exportFileName('/ws/images/red-circle.png', 'integrated-gradients', 0, 'png'), 'red-circle-integrated-gradients-0.png');
  assert.equal(exportFileName('/ws/a.b.jpeg', 'occlusion', 12, 'npy'), 'a.b-occlusion-12.npy');
  assert.equal(exportFileName('', 'saliency', 1, 'json'), 'attribution-saliency-1.json');
});
