// The engine process's text calls, through the host-side client, with the real engine in an engine process
// thread on the sample text model: recognition, predictions, attributions equal to in-process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { attributeText, openModel } from '../../src/engine';
import { CallCancelledError, EngineClient, EngineError } from '../../src/extension/engine/engineClient';
import type { ModelRef } from '../../src/extension/engine/engineProtocol';
import { ROOT, bundleEngine } from './engineBundle';

const runtime = { threads: 1, executionProvider: 'cpu' };
const TEXT: ModelRef = { file: join(ROOT, 'samples', 'text', 'model.onnx'), runtime };
const IMAGE: ModelRef = { file: join(ROOT, 'samples', 'shapes', 'model.onnx'), runtime };
let client: EngineClient;

before(async () => {
  client = new EngineClient(await bundleEngine('test-text-engine'), () => undefined);
});
after(() => client?.dispose());

test('textModel: the sample text model is one, the image model is not (with the reason)', async () => {
  assert.deepEqual(await client.call('textModel', { model: TEXT }).promise, { text: true });
  const r = await client.call('textModel', { model: IMAGE }).promise;
  assert.equal(r.text, false);
  assert.match(r.text ? '' : r.reason, /is not a text model: .*input float32 \[1, 3, 64, 64\]/);
});

test('predictText: the top class of each kind of sentence, as attributeText finds it', async () => {
  const pos = await client.call('predictText', { model: TEXT, text: 'The movie was great.' }).promise;
  assert.deepEqual(pos.predictions.map((p) => p.label), ['positive', 'negative']);
  assert.ok(pos.predictions[0].probability > 0.99);
  const neg = await client.call('predictText', { model: TEXT, text: 'What an awful day.' }).promise;
  assert.equal(neg.predictions[0].label, 'negative');
  const tie = await client.call('predictText', { model: TEXT, text: 'The book was long.' }).promise;
  assert.ok(Math.abs(tie.predictions[0].probability - 0.5) < 1e-3, 'no sentiment word: a tie');
  // the same numbers as the attribution run's own forward pass
  const lm = await openModel(TEXT.file, { threads: 1 });
  const direct = await attributeText(lm, 'What an awful day.', { method: 'occlusion' });
  assert.ok(Math.abs(neg.predictions[0].logit - direct.predictions[0].logit) < 1e-6);
});

test('attributeText in the engine process equals the in-process engine, with progress; the sentiment word leads', async () => {
  const progress: number[] = [];
  const res = await client.call('attributeText', { model: TEXT, text: 'We loved the ending of the show.', request: { method: 'layer-integrated-gradients', params: { nSteps: 20 } } }, (p) => progress.push(p.done)).promise;
  assert.ok(progress.length > 0);
  const lm = await openModel(TEXT.file, { threads: 1 });
  const direct = await attributeText(lm, 'We loved the ending of the show.', { method: 'layer-integrated-gradients', params: { nSteps: 20 } });
  assert.deepEqual(res.tokens.map((t) => t.text), direct.tokens.map((t) => t.text));
  res.tokens.forEach((t, i) => assert.ok(Math.abs(t.score - direct.tokens[i].score) < 1e-6, `${t.text}: ${t.score} vs ${direct.tokens[i].score}`));
  assert.equal(res.targetLabel, 'positive');
  const top = res.words.reduce((a, b) => (Math.abs(b.score) > Math.abs(a.score) ? b : a));
  assert.equal(top.text, 'loved');
  assert.ok(res.delta !== undefined && Math.abs(res.delta) < 1e-3);
});

test('attributeText: granularity and the batch-size setting reach the engine; user errors stay user errors', async () => {
  const words = await client.call('attributeText', { model: TEXT, text: 'We loved it.', request: { method: 'feature-ablation', granularity: 'word' }, batchSize: 4 }).promise;
  assert.equal(words.granularity, 'word');
  assert.equal(words.params.perturbationsPerEval, 4);
  // "loved" = love ##d ablated together: its score is spread evenly over its two tokens
  const loved = words.words.find((w) => w.text === 'loved')!;
  assert.equal(loved.tokenIndices.length, 2);
  assert.ok(Math.abs(words.tokens[loved.tokenIndices[0]].score - words.tokens[loved.tokenIndices[1]].score) < 1e-9);
  await assert.rejects(client.call('attributeText', { model: TEXT, text: 'x', request: { method: 'gradcam' } }).promise,
    (e: Error) => e instanceof EngineError && e.user && /gradcam cannot attribute a text model/.test(e.message));
  await assert.rejects(client.call('attributeText', { model: IMAGE, text: 'x', request: {} }).promise,
    (e: Error) => e instanceof EngineError && e.user && /not a text model/.test(e.message));
});

test('a text run can be cancelled', async () => {
  const call = client.call('attributeText', { model: TEXT, text: 'The whole film was boring and far too long.', request: { method: 'kernel-shap', params: { nSamples: 4000 } } }, () => call.cancel());
  await assert.rejects(call.promise, (e: Error) => e instanceof CallCancelledError);
});
