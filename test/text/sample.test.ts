import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute, listMethods } from '../../src/engine/methods/registry';
import { Tensor } from '../../src/engine/core/tensor';
import { attributeText, findWordEmbedding, requireTextInputs, textFeeds } from '../../src/engine/text';

const ROOT = path.join(__dirname, '..', '..', 'samples', 'text');
interface Sentence { text: string; label: 'negative' | 'positive'; word: string }
const SENTENCES = JSON.parse(fs.readFileSync(path.join(ROOT, 'sentences.json'), 'utf8')) as Sentence[];

function i64(values: number[]): Tensor {
  return { dtype: 'int64', dims: [1, values.length], data: BigInt64Array.from(values, BigInt) };
}

const argmaxAbs = (xs: number[]) => xs.reduce((b, x, i) => (Math.abs(x) > Math.abs(xs[b]) ? i : b), 0);

describe('sample text model samples/text', async () => {
  const lm = await LoadedModel.open(path.join(ROOT, 'model.onnx'));

  it('is a text model of fixed length 16 whose word embedding is found by structure', () => {
    const ti = requireTextInputs(lm);
    assert.equal(ti.ids.name, 'input_ids');
    assert.equal(ti.mask?.name, 'attention_mask');
    assert.equal(ti.seqLen, 16);
    const emb = findWordEmbedding(lm, ti);
    assert.equal(emb.layer, '/embeddings/word_embeddings/Gather_output_0');
    assert.equal(emb.table, 'embeddings.word_embeddings.weight');
    assert.equal(emb.dim, 8);
    assert.equal(fs.readFileSync(path.join(ROOT, 'sentences.txt'), 'utf8').trim().split('\n').length, SENTENCES.length);
  });

  it('fills the attention mask with 1 for the text and 0 for padding', async () => {
    const ti = requireTextInputs(lm);
    const feeds = textFeeds(ti, [2, 30, 70, 40, 16, 5, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0], 7);
    assert.deepEqual(Array.from(feeds.attention_mask.data as BigInt64Array, Number), [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // "The movie was great." by hand: [CLS] the movie was great . [SEP] and nine [PAD]
    const r = await attributeText(lm, 'The movie was great.');
    const ids = [2, 30, 70, 40, 16, 5, 3, ...new Array<number>(9).fill(0)];
    const mask = ids.map((_, i) => (i < 7 ? 1 : 0));
    const logits = (await lm.forward({ input_ids: i64(ids), attention_mask: i64(mask) })).logits.data as Float32Array;
    assert.ok(Math.abs(r.predictions[0].logit - logits[1]) < 1e-6);
    // the mask matters: attending to the padding gives another logit
    const unmasked = (await lm.forward({ input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)) })).logits.data as Float32Array;
    assert.ok(Math.abs(unmasked[1] - logits[1]) > 0.05);
    assert.deepEqual(r.tokens.map((t) => t.text), ['[CLS]', 'the', 'movie', 'was', 'great', '.', '[SEP]']);
  });

  for (const s of SENTENCES) {
    it(`classifies "${s.text}" as ${s.label}; LIG's largest score is on '${s.word}' with the class's sign`, async () => {
      const r = await attributeText(lm, s.text, { target: 'positive' });
      assert.equal(r.predictions[0].label, s.label);
      assert.ok(r.predictions[0].probability > 0.9);
      assert.equal(r.method, 'layer-integrated-gradients');
      assert.equal(r.layer, '/embeddings/word_embeddings/Gather_output_0');
      const w = r.words[argmaxAbs(r.words.map((x) => x.score))];
      assert.equal(w.text, s.word);
      // explaining 'positive': positive words push it up, negative words down
      assert.equal(Math.sign(w.score), s.label === 'positive' ? 1 : -1);
      const t = r.tokens[argmaxAbs(r.tokens.map((x) => x.score))];
      assert.ok(w.tokenIndices.includes(r.tokens.indexOf(t)));
      // special tokens are kept in the baseline, so they get exactly 0
      for (const tok of r.tokens) if (tok.special) assert.equal(tok.score, 0);
      // word scores are the sums of their tokens'
      for (const x of r.words) assert.ok(Math.abs(x.score - x.tokenIndices.reduce((a, i) => a + r.tokens[i].score, 0)) < 1e-9);
    });
  }

  it('converges: |delta| < 5% of |f(x) - f(baseline)|, with the baseline computed independently', async () => {
    for (const s of SENTENCES) {
      const r = await attributeText(lm, s.text);
      const ids = r.tokens.map((t) => t.id);
      const L = ids.length;
      const pad = (xs: number[]) => [...xs, ...new Array<number>(16 - L).fill(0)];
      const mask = i64(pad(ids.map(() => 1)));
      const base = ids.map((id, i) => (r.tokens[i].special ? id : 0));
      const fx = ((await lm.forward({ input_ids: i64(pad(ids)), attention_mask: mask })).logits.data as Float32Array)[r.target];
      const fb = ((await lm.forward({ input_ids: i64(pad(base)), attention_mask: mask })).logits.data as Float32Array)[r.target];
      assert.ok(r.delta !== undefined);
      assert.ok(Math.abs(r.delta) < 0.05 * Math.abs(fx - fb), `${s.text}: delta ${r.delta} vs ${fx - fb}`);
      assert.ok(Math.abs(r.sentenceScore - r.delta - (fx - fb)) < 1e-4);
    }
  });

  it('a chosen baselineToken replaces the text tokens only', async () => {
    const r = await attributeText(lm, 'I love this book.', { params: { baselineToken: '[MASK]' } });
    assert.deepEqual(r.baselineToken, { id: 4, text: '[MASK]' });
    const ids = r.tokens.map((t) => t.id);
    const base = ids.map((id, i) => (r.tokens[i].special ? id : 4));
    const pad = (xs: number[]) => [...xs, ...new Array<number>(16 - xs.length).fill(0)];
    const mask = i64(pad(ids.map(() => 1)));
    const fb = ((await lm.forward({ input_ids: i64(pad(base)), attention_mask: mask })).logits.data as Float32Array)[r.target];
    assert.ok(Math.abs(r.sentenceScore - r.delta! - (r.predictions[0].logit - fb)) < 1e-4);
    await assert.rejects(attributeText(lm, 'I love this book.', { params: { baselineToken: 'zzz' } }), /baselineToken 'zzz' is not in the tokenizer's vocabulary/);
  });

  it('occlusion and feature-ablation per token equal f(x) - f(x with that token set to [PAD])', async () => {
    const text = 'We loved the ending of the show.';
    const occ = await attributeText(lm, text, { method: 'occlusion', target: 1 });
    const abl = await attributeText(lm, text, { method: 'feature-ablation', target: 1 });
    const ids = occ.tokens.map((t) => t.id);
    const pad = (xs: number[]) => [...xs, ...new Array<number>(16 - xs.length).fill(0)];
    const mask = i64(pad(ids.map(() => 1)));
    const f = async (xs: number[]) => ((await lm.forward({ input_ids: i64(pad(xs)), attention_mask: mask })).logits.data as Float32Array)[1];
    const fx = await f(ids);
    for (let i = 0; i < ids.length; i++) {
      const expected = occ.tokens[i].special ? 0 : fx - (await f(ids.map((id, j) => (j === i ? 0 : id))));
      assert.ok(Math.abs(occ.tokens[i].score - expected) < 1e-5, `occlusion token ${i}`);
      assert.ok(Math.abs(abl.tokens[i].score - expected) < 1e-5, `feature-ablation token ${i}`);
    }
    // per word: "loved" (love ##d) is switched off as one feature and its value spread over both tokens
    const word = await attributeText(lm, text, { method: 'feature-ablation', target: 1, granularity: 'word' });
    const loved = word.words.find((w) => w.text === 'loved')!;
    assert.deepEqual(loved.tokenIndices, [2, 3]);
    const expected = fx - (await f(ids.map((id, j) => (j === 2 || j === 3 ? 0 : id))));
    assert.ok(Math.abs(loved.score - expected) < 1e-5);
    assert.ok(Math.abs(word.tokens[2].score - expected / 2) < 1e-5);
    assert.equal(word.granularity, 'word');
  });

  it('lime and kernel-shap work over words and find the sentiment word', async () => {
    for (const method of ['lime', 'kernel-shap']) {
      if (!listMethods().some((m) => m.id === method)) continue;
      const r = await attributeText(lm, 'The whole film was boring and far too long.', { method, target: 'negative', params: { nSamples: 200, seed: 3 } });
      assert.equal(r.granularity, 'word');
      const w = r.words[argmaxAbs(r.words.map((x) => x.score))];
      assert.equal(w.text, 'boring', method);
      assert.ok(w.score > 0, method);
    }
  });

  it('layer-gradient-x-activation works on the word embedding', async (t) => {
    if (!listMethods().some((m) => m.id === 'layer-gradient-x-activation')) return t.skip('layer-gradient-x-activation is not registered');
    const r = await attributeText(lm, 'What an awful day.', { method: 'layer-gradient-x-activation', target: 'negative' });
    assert.equal(r.layer, '/embeddings/word_embeddings/Gather_output_0');
    assert.equal(r.words[argmaxAbs(r.words.map((x) => x.score))].text, 'awful');
    // every token, [CLS] and [SEP] included, is its gradient·activation summed over the embedding
    const ids = r.tokens.map((x) => x.id);
    const pad = (xs: number[], v: number) => [...xs, ...new Array<number>(16 - xs.length).fill(v)];
    const ref = await attribute(lm, { input_ids: i64(pad(ids, 0)), attention_mask: i64(pad(ids.map(() => 1), 0)) }, { method: 'layer-gradient-x-activation', target: 0, input: 'input_ids', params: { layer: r.layer } });
    const a = ref.attributions.input_ids.data as Float32Array;
    for (let i = 0; i < ids.length; i++) assert.ok(Math.abs(r.tokens[i].score - a.subarray(i * 8, i * 8 + 8).reduce((x, y) => x + y, 0)) < 1e-6);
    assert.notEqual(r.tokens[0].score, 0);
  });

  it('stops when cancelled', async () => {
    const c = new AbortController();
    c.abort();
    await assert.rejects(attributeText(lm, 'The movie was great.', {}, { signal: c.signal }), (e: Error) => e.name === 'CancelledError');
  });

  it('says which methods fit a text model, and rejects empty text', async () => {
    await assert.rejects(attributeText(lm, 'great', { method: 'saliency' }), /saliency cannot attribute a text model's token ids; use layer-integrated-gradients/);
    await assert.rejects(attributeText(lm, '   '), /the text has no tokens to attribute/);
  });
});
