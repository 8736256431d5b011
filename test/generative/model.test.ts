// Recognising a causal LM and its tokenizer config, greedy generation, teacher-forced
// log-probabilities, the past_key_values export, and the bad inputs' one-line errors.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { AttrLensError } from '../../src/engine/core/errors';
import { Decoder, attributeGeneration, causalLmOf, lmFeeds, lmTokenizerFor, nextTokenLogits, requireCausalLm } from '../../src/engine/generative';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { tmpDir } from '../onnx/helpers';
import { FEATURES, IMAGE_MODEL, LM, LP_EOS, LP_RECALL, PAST_KV, PROMPT, TEXT_MODEL } from './helpers';

const LM_DIR = path.dirname(LM);
const near = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** A copy of samples/lm with some files changed (undefined deletes one). */
function variant(files: Record<string, string | undefined>): string {
  const dir = tmpDir('lm');
  for (const f of fs.readdirSync(LM_DIR)) fs.copyFileSync(path.join(LM_DIR, f), path.join(dir, f));
  for (const [f, text] of Object.entries(files)) {
    if (text === undefined) fs.rmSync(path.join(dir, f));
    else fs.writeFileSync(path.join(dir, f), text);
  }
  return path.join(dir, 'model.onnx');
}

const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(LM_DIR, f), 'utf8')) as Record<string, unknown>;

/** input_ids [batch, sequence] → a pooled [batch, 2] classifier: token ids, but no LM head. */
function pooledClassifier(): string {
  const m = OnnxModel.empty(17, 8);
  const b = new GraphBuilder(m);
  b.addInput('input_ids', 7, ['batch', 'sequence']);
  b.addOutput('logits', 1, ['batch', 2]);
  const e = b.op('Gather', [b.param('emb', [23, 2], Array.from({ length: 46 }, (_, i) => i % 3)), 'input_ids']);
  b.add('ReduceMean', [e], { axes: attr.ints([1]), keepdims: attr.int(0) }, ['logits']);
  const file = path.join(tmpDir('lm-pooled'), 'model.onnx');
  fs.writeFileSync(file, m.toBytes());
  return file;
}

describe('causal LM recognition', () => {
  it('takes samples/lm: input_ids, attention_mask and position_ids → logits [batch, sequence, 23]', async () => {
    const io = requireCausalLm(await LoadedModel.open(LM));
    assert.deepEqual([io.ids.name, io.mask?.name, io.positions?.name, io.logits.name, io.vocabSize, io.past.length], ['input_ids', 'attention_mask', 'position_ids', 'logits', 23, 0]);
  });

  it('recognises past_key_values inputs and feeds them empty caches [batch, heads, 0, head size]', async () => {
    const io = requireCausalLm(await LoadedModel.open(PAST_KV));
    assert.deepEqual(io.past.map((p) => p.name), ['past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    const feeds = lmFeeds(io, [[1, 7, 15], [1, 8, 16]]);
    assert.deepEqual(feeds['past_key_values.0.key'].dims, [2, 1, 0, 32]);
    assert.deepEqual(feeds['past_key_values.1.value'].dims, [2, 1, 0, 23]);
    assert.deepEqual(Array.from(feeds.position_ids.data as BigInt64Array, Number), [0, 1, 2, 0, 1, 2]);
    assert.deepEqual(Array.from(feeds.attention_mask.data as BigInt64Array, Number), [1, 1, 1, 1, 1, 1]);
  });

  it('explains the past_key_values export exactly as the plain one', async () => {
    const [a, b] = [await LoadedModel.open(LM), await LoadedModel.open(PAST_KV)].map((lm) => attributeGeneration(lm, { text: PROMPT, generate: 4 }));
    const [ra, rb] = [await a, await b];
    assert.deepEqual(rb.generated_tokens.map((g) => g.token), ['rome', '<eos>']);
    rb.matrix!.forEach((row, k) => row.forEach((v, f) => near(v, ra.matrix![k][f], 1e-6, `[${k}, ${f}]`)));
    assert.equal(ra.decoding, 'full');
    assert.equal(rb.decoding, 'incremental');
    // gradients too: the empty caches are taken out of the gradient model
    const [ga, gb] = [await LoadedModel.open(LM), await LoadedModel.open(PAST_KV)].map((lm) => attributeGeneration(lm, { text: PROMPT, targetText: 'rome', method: 'layer-integrated-gradients' }));
    const [la, lb] = [await ga, await gb];
    la.prompt_tokens.forEach((p, f) => near(lb.prompt_tokens[f].score, p.score, 1e-5, `LIG ${f}`));
  });

  it('decodes incrementally with the export\'s cache: each step feeds the new tokens only, the logits equal a full run', async () => {
    const [plain, past] = [await LoadedModel.open(LM), await LoadedModel.open(PAST_KV)];
    const decoder = new Decoder(past, requireCausalLm(past));
    assert.ok(decoder.incremental);
    const forward = past.forward.bind(past);
    const fed: number[] = [];
    past.forward = (feeds, ...rest) => (fed.push(feeds.input_ids.dims[1]), forward(feeds, ...rest));
    try {
      // <bos> alice paris , bob rome ? bob, then tokens appended one and two at a time
      const ids = [1, 7, 15, 4, 8, 16, 5, 8];
      for (const more of [[], [16], [4, 10], [18], [5, 10]]) {
        ids.push(...more);
        const a = await decoder.next(ids);
        const b = await nextTokenLogits(plain, requireCausalLm(plain), ids);
        a.forEach((v, i) => near(v, b[i], 1e-4, `after ${ids.length} tokens, logit ${i}`));
      }
    } finally {
      past.forward = forward;
    }
    assert.deepEqual(fed, [8, 1, 2, 1, 2]);
  });

  it('refuses models that are not causal LMs, saying why', async () => {
    const msg = async (file: string) => {
      const r = causalLmOf(await LoadedModel.open(file));
      assert.equal(typeof r, 'string');
      return r as string;
    };
    assert.match(await msg(TEXT_MODEL), /no output of shape \[batch, sequence, vocab\] \(named logits\); its outputs are logits \[1, 2\]/);
    assert.match(await msg(IMAGE_MODEL), /no integer token-id input/);
    assert.match(await msg(pooledClassifier()), /no output of shape \[batch, sequence, vocab\]/);
    assert.throws(() => requireCausalLm({ label: 'x.onnx', inputs: [], outputs: [] } as unknown as LoadedModel), /^AttrLensError: x\.onnx is not a causal language model: it has no integer token-id input .*; generation needs integer input_ids/);
  });
});

describe('LM tokenizer config', () => {
  it('reads bos/eos/pad ids, add_bos_token and the position limit of samples/lm', async () => {
    const lm = await LoadedModel.open(LM);
    const tok = lmTokenizerFor(lm, requireCausalLm(lm));
    assert.deepEqual(tok.config, { bosId: 1, eosIds: [2], padId: 0, addBos: true, maxPositions: 32, chatTemplate: false });
    const enc = tok.encodePrompt(PROMPT);
    assert.deepEqual(enc.tokens, ['<bos>', ...FEATURES]);
    assert.deepEqual(tok.encodeTarget('rome').ids, [16]);
  });

  it('adds the BOS itself when add_bos_token asks and the tokenizer does not; config.json ids win; chat templates are noticed', async () => {
    const tj = readJson('tokenizer.json');
    const tc = readJson('tokenizer_config.json');
    const cfg = readJson('config.json');
    const file = variant({
      'tokenizer.json': JSON.stringify({ ...tj, post_processor: null }),
      'tokenizer_config.json': JSON.stringify({ ...tc, chat_template: '{{ messages }}', model_max_length: undefined }),
      'config.json': JSON.stringify({ ...cfg, eos_token_id: [2, 6], max_position_embeddings: undefined, n_positions: 20 }),
    });
    const lm = await LoadedModel.open(file);
    const tok = lmTokenizerFor(lm, requireCausalLm(lm));
    assert.deepEqual(tok.config, { bosId: 1, eosIds: [2, 6], padId: 0, addBos: true, maxPositions: 20, chatTemplate: true });
    assert.deepEqual(tok.encodePrompt('bob rome').ids, [1, 8, 16]);
    // without add_bos_token (GPT-2 style) nothing is added
    const plain = await LoadedModel.open(variant({ 'tokenizer.json': JSON.stringify({ ...tj, post_processor: null }), 'tokenizer_config.json': JSON.stringify({ ...tc, add_bos_token: undefined }) }));
    assert.deepEqual(lmTokenizerFor(plain, requireCausalLm(plain)).encodePrompt('bob rome').ids, [8, 16]);
  });

  it('without a limit in the config files, the position table gives it', async () => {
    const cfg = readJson('config.json');
    const tc = readJson('tokenizer_config.json');
    const lm = await LoadedModel.open(variant({ 'config.json': JSON.stringify({ ...cfg, max_position_embeddings: undefined }), 'tokenizer_config.json': JSON.stringify({ ...tc, model_max_length: undefined }) }));
    assert.equal(lmTokenizerFor(lm, requireCausalLm(lm)).config.maxPositions, 32);
  });
});

describe('generation', () => {
  it('greedy decoding recalls the value bound to each queried key and stops at <eos>', async () => {
    const lm = await LoadedModel.open(LM);
    const pairs = [['alice', 'paris'], ['carol', 'oslo'], ['dave', 'lima'], ['heidi', 'quito']];
    const prompt = pairs.map(([k, v]) => `${k} ${v}`).join(' , ');
    for (const [k, v] of pairs) {
      const r = await attributeGeneration(lm, { text: `${prompt} ? ${k}`, generate: 10, method: 'feature-ablation' });
      assert.deepEqual(r.generated_tokens.map((g) => g.token), [v, '<eos>'], k);
      assert.equal(r.targetSource, 'generated');
    }
    const one = await attributeGeneration(lm, { text: PROMPT, generate: 1 });
    assert.deepEqual(one.generated_tokens.map((g) => g.token), ['rome']);
  });

  it('uses every position the model has, then stops and says so', async () => {
    const lm = await LoadedModel.open(LM);
    const filler = Array.from({ length: 13 }, (_, i) => `${['alice', 'carol', 'dave'][i % 3]} ${['paris', 'oslo', 'lima'][i % 3]}`).join(' ');
    // <bos> + 30 tokens = 31 ids: the step feeding 32 ids still predicts, so rome and <eos> both come
    const r31 = await attributeGeneration(lm, { text: `${filler} bob rome , bob`, generate: 4 });
    assert.equal(r31.promptIds.length, 31);
    assert.deepEqual(r31.generated_tokens.map((g) => g.token), ['rome', '<eos>']);
    assert.equal(r31.truncatedAt, undefined);
    // 32 ids fill every position: one token, then the model has no position left
    const r32 = await attributeGeneration(lm, { text: `${filler} , bob rome , bob`, generate: 4 });
    assert.equal(r32.promptIds.length, 32);
    assert.deepEqual(r32.generated_tokens.map((g) => g.token), ['rome']);
    assert.equal(r32.truncatedAt, 32);
    // and the same continuation given as text is accepted exactly as far as generation goes
    const forced = await attributeGeneration(lm, { text: `${filler} bob rome , bob`, targetText: 'rome <eos>' });
    assert.deepEqual(forced.generated_tokens.map((g) => g.token), ['rome', '<eos>']);
  });

  it('a baseline token id outside the vocabulary is a one-line error, not a wrapped-around token', async () => {
    const lm = await LoadedModel.open(LM);
    for (const bad of [-1, 23, 999, 1.5, '-1']) {
      await assert.rejects(attributeGeneration(lm, { text: PROMPT, generate: 1, params: { baselineToken: bad } }), /baselineToken .* is not a token id of this model \(0 to 22\)/, String(bad));
    }
    const ok = await attributeGeneration(lm, { text: PROMPT, generate: 1, params: { baselineToken: 0 } });
    assert.equal(ok.baseline.id, 0);
  });

  it('teacher-forced log-probabilities equal a direct forward of prompt + continuation and the hand-computed values', async () => {
    const lm = await LoadedModel.open(LM);
    const io = requireCausalLm(lm);
    const r = await attributeGeneration(lm, { text: PROMPT, targetText: 'rome' });
    const direct = await lm.forward(lmFeeds(io, [[...r.promptIds, 16]]));
    const logits = direct.logits.data as Float32Array;
    const at = (pos: number, id: number) => {
      const row = Array.from(logits.subarray(pos * 23, pos * 23 + 23));
      const m = Math.max(...row);
      return row[id] - m - Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
    };
    near(r.generated_tokens[0].logprob, at(10, 16), 1e-9, 'rome');
    near(r.generated_tokens[0].logprob, LP_RECALL, 1e-5, 'rome by hand');
    const two = await attributeGeneration(lm, { text: PROMPT, targetText: 'rome <eos>' });
    assert.deepEqual(two.generated_tokens.map((g) => g.id), [16, 2]);
    near(two.generated_tokens[1].logprob, at(11, 2), 1e-9, '<eos>');
    near(two.generated_tokens[1].logprob, LP_EOS, 1e-6, '<eos> by hand');
    near(two.sequenceLogprob, LP_RECALL + LP_EOS, 1e-5, 'sequence');
    assert.equal(two.targetSource, 'given');
  });
});

describe('bad input: one line saying what to do', () => {
  const oneLine = async (p: Promise<unknown>, re: RegExp) => {
    const e = await p.then(
      () => assert.fail('no error'),
      (x: unknown) => x,
    );
    assert.ok(e instanceof AttrLensError, String(e));
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, re);
  };

  it('a prompt longer than the model\'s positions, an empty prompt, an unencodable --target-text, a model without an LM head', async () => {
    const lm = await LoadedModel.open(LM);
    await oneLine(attributeGeneration(lm, { text: Array(20).fill('bob rome').join(' '), generate: 2 }), /the prompt is 41 tokens but the model takes at most 32 positions .*; shorten the prompt/);
    await oneLine(attributeGeneration(lm, { text: '  ', generate: 2 }), /the prompt is empty; give the text the model should continue/);
    await oneLine(attributeGeneration(lm, { text: '<bos>', generate: 2 }), /the prompt has no tokens to attribute/);
    await oneLine(attributeGeneration(lm, { text: PROMPT, targetText: 'london' }), /--target-text "london" has words the tokenizer does not know .*; give a continuation in the model's vocabulary/);
    await oneLine(attributeGeneration(lm, { text: PROMPT, targetText: ' ' }), /encodes to no tokens/);
    await oneLine(attributeGeneration(await LoadedModel.open(TEXT_MODEL), { text: 'great', generate: 2 }), /model\.onnx is not a causal language model: .*; generation needs integer input_ids/);
    await oneLine(attributeGeneration(await LoadedModel.open(pooledClassifier()), { text: 'great', generate: 2 }), /is not a causal language model: no output of shape \[batch, sequence, vocab\]/);
  });

  it('options that do not fit', async () => {
    const lm = await LoadedModel.open(LM);
    await oneLine(attributeGeneration(lm, { text: PROMPT, generate: 0 }), /--generate must be a whole number of tokens from 1 to/);
    await oneLine(attributeGeneration(lm, { text: PROMPT, generate: 2, targetText: 'rome' }), /either --generate N or --target-text/);
    await oneLine(attributeGeneration(lm, { text: PROMPT, method: 'saliency' }), /'saliency' cannot explain a generation; use one of feature-ablation, /);
    await oneLine(attributeGeneration(lm, { text: PROMPT, method: 'lime', params: { nSteps: 3 } }), /lime has no parameter 'nSteps'; its parameters are nSamples, alpha, kernelWidth, seed/);
    await oneLine(attributeGeneration(lm, { text: PROMPT, method: 'lime', params: { nSamples: 0 } }), /nSamples must be a whole number from 1 to 100000/);
    await oneLine(attributeGeneration(lm, { text: PROMPT, params: { baselineToken: 'zzz' } }), /baselineToken 'zzz' is not in the tokenizer's vocabulary/);
    await oneLine(attributeGeneration(lm, { template: { template: '{} rome ? {}', values: ['bob', 'bob'] }, method: 'layer-integrated-gradients' }), /attributes to token embeddings, not template segments/);
    await oneLine(attributeGeneration(lm, { template: { template: '{} rome ? {}', values: ['bob'] } }), /--template names segment \{1\}, which --values does not give/);
    await oneLine(attributeGeneration(lm, { template: { template: '{} rome ? {', values: ['bob'] } }), /unclosed '\{'/);
  });
});
