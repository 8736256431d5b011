// The dataset view's engine call (`dataset`) in the real engine process: a folder built from the
// shapes sample with one image filed under the wrong label gives 7 of 8 right and that mistake in
// the confusion matrix, with progress; a long run cancelled midway rejects as cancelled, and the
// engine then serves the next call.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallCancelledError, EngineClient, type EngineProgress } from '../../src/extension/engine/engineClient';
import type { ModelRef } from '../../src/extension/engine/engineProtocol';
import { ROOT, bundleEngine } from './engineBundle';

const SHAPES = join(ROOT, 'samples', 'shapes');
const ref: ModelRef = { file: join(SHAPES, 'model.onnx'), runtime: { threads: 1, executionProvider: 'cpu' } };
let client: EngineClient;
let tmp: string;

/** ImageFolder from the sample's pictures (label = the colour in the name); `blue-square` filed under green. */
function shapesFolder(dir: string, copies = 1): void {
  for (const f of readdirSync(join(SHAPES, 'images')).filter((n) => n.endsWith('.png') && !n.endsWith('.mask.png'))) {
    const label = f === 'blue-square.png' ? 'green' : f.split('-')[0];
    mkdirSync(join(dir, label), { recursive: true });
    for (let k = 0; k < copies; k++) copyFileSync(join(SHAPES, 'images', f), join(dir, label, copies === 1 ? f : `${k}-${f}`));
  }
}

before(async () => {
  client = new EngineClient(await bundleEngine('test-dataset-engine'), () => undefined);
  tmp = mkdtempSync(join(tmpdir(), 'attrlens-dsw-'));
});
after(() => {
  client?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

test('dataset in the engine process: 7 of 8, the mislabelled image is the one mistake', async () => {
  const data = join(tmp, 'small');
  shapesFolder(data);
  const progress: EngineProgress[] = [];
  const report = await client.call('dataset', { model: ref, data }, (p) => progress.push(p)).promise;
  assert.deepEqual(report.classes, ['red', 'green', 'blue', 'yellow']);
  assert.equal(report.accuracy, 7 / 8);
  assert.deepEqual(report.confusion[1], [0, 2, 1, 0], 'green row: two right, one predicted blue');
  const wrong = report.items.filter((it) => it.correct === false);
  assert.deepEqual(wrong.map((it) => [it.path, it.label, it.predicted]), [['green/blue-square.png', 'green', 'blue']]);
  assert.equal(report.items[0].path, 'green/blue-square.png', 'mistakes first');
  assert.ok(progress.length > 0 && progress.at(-1)!.done === 8 && progress.at(-1)!.total === 8, JSON.stringify(progress));
});

test('cancelling a long dataset run rejects it as cancelled; the engine serves the next call', async () => {
  const data = join(tmp, 'large');
  shapesFolder(data, 60); // 480 images in batches of 4: 120 forward passes
  let cancelledAt = -1;
  let total = 0;
  const call = client.call('dataset', { model: ref, data, batchSize: 4 }, (p) => {
    total = p.total;
    if (cancelledAt < 0 && p.done > 0) {
      cancelledAt = p.done;
      call.cancel();
    }
  });
  await assert.rejects(call.promise, CallCancelledError);
  assert.equal(total, 480);
  assert.ok(cancelledAt > 0 && cancelledAt < 480, `cancelled after ${cancelledAt} of 480`);
  const next = await client.call('dataset', { model: ref, data: join(tmp, 'small') }).promise;
  assert.equal(next.accuracy, 7 / 8);
});

test('a label folder without images: one error item (the host says so before asking), the process stays up', async () => {
  const empty = join(tmp, 'empty');
  mkdirSync(join(empty, 'red'), { recursive: true });
  const report = await client.call('dataset', { model: ref, data: empty }).promise;
  assert.equal(report.accuracy, null);
  assert.deepEqual(report.items.map((it) => [it.path, it.error]), [['red/', 'the class folder red/ holds no images']]);
  assert.equal((await client.call('inspect', { file: ref.file }).promise).inputs[0].name, 'input');
});

test('attributionLens.preprocessing applies as in the Attribution panel: each item as the panel\'s predict call gives it with the same InputRef.options', async () => {
  const data = join(tmp, 'small');
  const preprocess = { channels: 'BGR' as const };
  const report = await client.call('dataset', { model: ref, data, preprocess }).promise;
  const plain = await client.call('dataset', { model: ref, data }).promise;
  assert.notDeepEqual(report.confusion, plain.confusion, 'red and blue trade places');
  assert.match(report.summary, /^8 items: 8 predicted, 0 errors;/, 'nothing to resume without an output folder');
  for (const it of report.items) {
    const { predictions } = await client.call('predict', { model: ref, input: { file: join(data, it.path), options: { preprocess } } }).promise;
    assert.equal(it.predicted, predictions[0].label, it.path);
    assert.ok(Math.abs(it.probability! - predictions[0].probability) < 1e-5, `${it.path}: ${it.probability} vs ${predictions[0].probability}`);
  }
});
