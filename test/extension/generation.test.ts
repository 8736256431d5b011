// The generation view's pieces that need no VS Code: the message gate, the document's CSP, the
// colours, and the engine calls (lmModel, attributeGeneration) in the real engine process.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CallCancelledError, EngineClient, type EngineProgress } from '../../src/extension/engine/engineClient';
import { generationDocument } from '../../src/extension/generation/generationDocument';
import type { ModelRef } from '../../src/extension/engine/engineProtocol';
import { GENERATION_METHODS, attrColor, isFromGenerationView, maxAbs, promptRow } from '../../src/shared/generationProtocol';
import { generativeMethods } from '../../src/engine/generative';
import { ROOT, bundleEngine } from './engineBundle';

const runtime = { threads: 1, executionProvider: 'cpu' };
const LM: ModelRef = { file: join(ROOT, 'samples', 'lm', 'model.onnx'), runtime };
const TEXT: ModelRef = { file: join(ROOT, 'samples', 'text', 'model.onnx'), runtime };
const PROMPT = 'alice paris , bob rome , carol oslo ? bob';

describe('generation view: message gate', () => {
  it('takes the known messages with exactly their keys', () => {
    for (const m of [
      { type: 'ready' },
      { type: 'cancel' },
      { type: 'run', method: 'lime' },
      { type: 'run', method: 'feature-ablation', maxNewTokens: 8 },
      { type: 'run', method: 'layer-integrated-gradients', targetText: 'rome' },
      { type: 'compare', targetText: 'rome <eos>' },
    ]) assert.ok(isFromGenerationView(m), JSON.stringify(m));
  });

  it('refuses forged or malformed ones', () => {
    for (const m of [
      null, 'ready', [], { type: 'ready', extra: 1 }, { type: 'run' }, { type: 'run', method: 'saliency' },
      { type: 'run', method: 'lime', targetText: '' }, { type: 'run', method: 'lime', targetText: 'x'.repeat(2001) },
      { type: 'run', method: 'lime', maxNewTokens: 0 }, { type: 'run', method: 'lime', maxNewTokens: 1.5 }, { type: 'run', method: 'lime', maxNewTokens: 10_000 },
      { type: 'run', method: 'lime', targetText: 'rome', maxNewTokens: 2 }, { type: 'run', method: 'lime', model: '/etc/passwd' },
      { type: 'compare' }, { type: 'compare', targetText: ' ' }, { type: 'explain', targetText: 'rome' },
    ]) assert.equal(isFromGenerationView(m), false, JSON.stringify(m));
  });

  it('offers exactly the engine\'s methods, in its order, with the same matrix flag', () => {
    assert.deepEqual(GENERATION_METHODS.map((m) => [m.id, m.captumName, m.perToken]), generativeMethods().map((m) => [m.info.id, m.info.captumName, m.info.perToken]));
  });
});

describe('generation view: document and colours', () => {
  it('loads one nonce\'d script from dist and nothing else', () => {
    const html = generationDocument({ cspSource: 'vscode-webview://x', resourceUri: (p) => `https://res/${p}`, lang: 'en', title: 'Explain <Generation>', nonce: 'N0NCE' });
    assert.match(html, /content="default-src 'none'; style-src vscode-webview:\/\/x; script-src 'nonce-N0NCE'"/);
    assert.match(html, /<script nonce="N0NCE" src="https:\/\/res\/dist\/generation\.js"><\/script>/);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.match(html, /<title>Explain &#60;Generation&#62;<\/title>/);
  });

  it('colours green for positive and red for negative, alpha 0.85·|v|/max clipped to 1', () => {
    assert.equal(attrColor(2, 2), 'rgba(46, 160, 67, 0.85)');
    assert.equal(attrColor(-1, 2), 'rgba(218, 54, 51, 0.43)');
    assert.equal(attrColor(5, 2), 'rgba(46, 160, 67, 0.85)');
    assert.equal(attrColor(1, 0), 'rgba(46, 160, 67, 0)');
    assert.equal(maxAbs([[1, -3], [2, Number.NaN]]), 3);
  });

  it('colours the prompt by the hovered token\'s row, else by the sequence attribution', () => {
    const r = { prompt_tokens: [{ token: 'a', score: 1 }, { token: 'b', score: 2 }], matrix: [[0.5, 0.5], [0.5, 1.5]] } as Parameters<typeof promptRow>[0];
    assert.deepEqual(promptRow(r, undefined), [1, 2]);
    assert.deepEqual(promptRow(r, 1), [0.5, 1.5]);
    assert.deepEqual(promptRow({ ...r, matrix: null }, 1), [1, 2]);
  });
});

describe('generation engine calls in the engine process', () => {
  let client: EngineClient;
  before(async () => {
    client = new EngineClient(await bundleEngine('test-generation-engine'), () => undefined);
  });
  after(() => client?.dispose());

  it('lmModel tells a causal LM from a text classifier, saying why', async () => {
    assert.deepEqual(await client.call('lmModel', { model: LM }).promise, { lm: true });
    const no = await client.call('lmModel', { model: TEXT }).promise;
    assert.equal(no.lm, false);
    assert.match(!no.lm ? no.reason : '', /is not a causal language model: no output of shape \[batch, sequence, vocab\]/);
  });

  it('attributeGeneration answers rome with progress; a cancelled call rejects and the next one runs', async () => {
    const progress: EngineProgress[] = [];
    const r = await client.call('attributeGeneration', { model: LM, request: { text: PROMPT, generate: 4 } }, (p) => progress.push(p)).promise;
    assert.equal(r.continuation, 'rome <eos>');
    assert.deepEqual(r.prompt_tokens.map((p) => p.score).map((s, i) => [i, s > 1]).filter(([, big]) => big).map(([i]) => i), [3, 4, 9]);
    assert.ok(progress.some((p) => p.phase === 'generating'), JSON.stringify(progress));
    const call = client.call('attributeGeneration', { model: LM, request: { text: PROMPT, targetText: 'rome', method: 'shapley-value-sampling', params: { nSamples: 2000 } } }, () => call.cancel());
    await assert.rejects(call.promise, CallCancelledError);
    const again = await client.call('attributeGeneration', { model: LM, request: { text: PROMPT, targetText: 'oslo', method: 'lime' } }).promise;
    assert.equal(again.continuation, 'oslo');
    await assert.rejects(client.call('attributeGeneration', { model: TEXT, request: { text: 'great', generate: 2 } }).promise, /is not a causal language model/);
  });
});
