// A BERT-style export built here: inputs input_ids / attention_mask / token_type_ids of
// symbolic length, word + position (sliced from a buffer by the sequence length, as
// torch.onnx.export writes it) + token-type embeddings, LayerNormalization decomposed into
// ReduceMean/Sub/Pow/Sqrt/Div at opset 14, masked mean pool, Tanh pooler, classifier.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { attribute } from '../../src/engine/methods/registry';
import { attr } from '../../src/engine/onnx/attributes';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { OnnxModel } from '../../src/engine/onnx/model';
import { tensorToProto } from '../../src/engine/onnx/tensorProto';
import { Tensor } from '../../src/engine/core/tensor';
import { attributeText, findWordEmbedding, requireTextInputs } from '../../src/engine/text';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '.', ',', '!', 'the', 'food', 'was', 'excellent', 'awful', 'and', 'service', 'a', 'day', '##s', 'movie', 'plot', 'really'];
const SENTIMENT: Record<string, number> = { excellent: 3, awful: -3 };
const D = 6;
const MAX_POS = 64; // more rows than the vocabulary: picking the largest table alone would be wrong

function buildBert(): OnnxModel {
  const m = OnnxModel.empty(14, 8);
  const b = new GraphBuilder(m);
  for (const n of ['input_ids', 'attention_mask', 'token_type_ids']) b.addInput(n, 7, ['batch', 'sequence']);
  b.addOutput('logits', 1, ['batch', 2]);
  const param = (name: string, dims: number[], data: number[]) => {
    m.graph.initializer.push(tensorToProto(name, { dtype: 'float32', dims, data: Float32Array.from(data) }));
    return name;
  };
  const node = (name: string, op: string, inputs: string[], attrs = {}): string => {
    const out = `${name}_output_0`;
    b.add(op, inputs, attrs, [out]);
    m.graph.node[m.graph.node.length - 1].name = name;
    return out;
  };
  // dims 0/1: positive/negative evidence; 2..5 word identity. Positions and token types only
  // touch 2..5, except token type 1, which would add positive evidence if it were fed.
  const words: number[] = [];
  VOCAB.forEach((w, i) => {
    const s = SENTIMENT[w] ?? 0;
    words.push(Math.max(s, 0), Math.max(-s, 0));
    for (let k = 2; k < D; k++) words.push(w === '[PAD]' ? 0 : Math.sin(1.7 * i + k));
  });
  const pos: number[] = [];
  for (let p = 0; p < MAX_POS; p++) pos.push(0, 0, ...[2, 3, 4, 5].map((k) => 0.3 * Math.cos(p * k)));
  const types = [0, 0, 0.1, -0.1, 0.2, -0.2, 4, 0, 0.1, 0.1, 0.1, 0.1];

  const we = node('/bert/embeddings/word_embeddings/Gather', 'Gather', [param('bert.embeddings.word_embeddings.weight', [VOCAB.length, D], words), 'input_ids']);
  const len = node('/bert/embeddings/Gather', 'Gather', [node('/bert/embeddings/Shape', 'Shape', ['input_ids']), b.constant({ dtype: 'int64', dims: [], data: BigInt64Array.from([1n]) })], { axis: attr.int(0) });
  m.graph.initializer.push(tensorToProto('bert.embeddings.position_ids', { dtype: 'int64', dims: [1, MAX_POS], data: BigInt64Array.from({ length: MAX_POS }, (_, i) => BigInt(i)) }));
  const posIds = node('/bert/embeddings/Slice', 'Slice', ['bert.embeddings.position_ids', b.i64([0]), node('/bert/embeddings/Unsqueeze', 'Unsqueeze', [len, b.i64([0])]), b.i64([1])]);
  const pe = node('/bert/embeddings/position_embeddings/Gather', 'Gather', [param('bert.embeddings.position_embeddings.weight', [MAX_POS, D], pos), posIds]);
  const te = node('/bert/embeddings/token_type_embeddings/Gather', 'Gather', [param('bert.embeddings.token_type_embeddings.weight', [2, D], types), 'token_type_ids']);
  const sum = node('/bert/embeddings/Add_1', 'Add', [node('/bert/embeddings/Add', 'Add', [we, te]), pe]);
  // LayerNorm as opset-14 exports decompose it
  const ln = '/bert/embeddings/LayerNorm';
  const mean = node(`${ln}/ReduceMean`, 'ReduceMean', [sum], { axes: attr.ints([-1]), keepdims: attr.int(1) });
  const centred = node(`${ln}/Sub`, 'Sub', [sum, mean]);
  const variance = node(`${ln}/ReduceMean_1`, 'ReduceMean', [node(`${ln}/Pow`, 'Pow', [centred, b.f32(2)])], { axes: attr.ints([-1]), keepdims: attr.int(1) });
  const std = node(`${ln}/Sqrt`, 'Sqrt', [node(`${ln}/Add`, 'Add', [variance, b.f32(1e-12)])]);
  const normed = node(`${ln}/Add_1`, 'Add', [node(`${ln}/Mul`, 'Mul', [node(`${ln}/Div`, 'Div', [centred, std]), param('bert.embeddings.LayerNorm.weight', [D], new Array<number>(D).fill(1))]), param('bert.embeddings.LayerNorm.bias', [D], new Array<number>(D).fill(0))]);
  // masked mean over tokens (batch, D)
  const maskF = node('/bert/Cast', 'Cast', ['attention_mask'], { to: attr.int(1) });
  const total = node('/bert/pool/ReduceSum', 'ReduceSum', [node('/bert/pool/Mul', 'Mul', [normed, node('/bert/pool/Unsqueeze', 'Unsqueeze', [maskF, b.i64([2])])]), b.i64([1])], { keepdims: attr.int(0) });
  const pooled = node('/bert/pool/Div', 'Div', [total, node('/bert/pool/ReduceSum_1', 'ReduceSum', [maskF, b.i64([1])], { keepdims: attr.int(1) })]);
  const w1 = new Array<number>(D * 2).fill(0);
  [w1[0], w1[1], w1[2], w1[3]] = [1, -1, -1, 1]; // (D, 2): unit 0 = d0 − d1, unit 1 = d1 − d0
  const h = node('/bert/pooler/activation/Tanh', 'Tanh', [node('/bert/pooler/dense/Gemm', 'Gemm', [pooled, param('bert.pooler.dense.weight', [D, 2], w1), param('bert.pooler.dense.bias', [2], [0, 0])])]);
  b.add('Gemm', [h, param('classifier.weight', [2, 2], [0, 3, 3, 0]), param('classifier.bias', [2], [0, 0])], {}, ['logits']);
  m.graph.node[m.graph.node.length - 1].name = '/classifier/Gemm';
  return OnnxModel.fromBytes(m.toBytes());
}

function i64(values: number[]): Tensor {
  return { dtype: 'int64', dims: [1, values.length], data: BigInt64Array.from(values, BigInt) };
}

function writeModel(tokenizer: 'json' | 'vocab'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-bert-'));
  fs.writeFileSync(path.join(dir, 'model.onnx'), buildBert().toBytes());
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', id2label: { 0: 'NEGATIVE', 1: 'POSITIVE' } }));
  if (tokenizer === 'vocab') {
    fs.writeFileSync(path.join(dir, 'vocab.txt'), VOCAB.join('\n') + '\n');
  } else {
    const vocab = Object.fromEntries(VOCAB.map((w, i) => [w, i]));
    const sp = (t: string) => ({ SpecialToken: { id: t, type_id: 0 } });
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({
      version: '1.0',
      added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((c) => ({ id: vocab[c], content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: { type: 'TemplateProcessing', single: [sp('[CLS]'), { Sequence: { id: 'A', type_id: 0 } }, sp('[SEP]')], pair: [], special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } } },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    }));
  }
  return path.join(dir, 'model.onnx');
}

describe('BERT-style export (three inputs, symbolic length, LayerNorm decomposed at opset 14)', async () => {
  const lm = await LoadedModel.open(writeModel('json'));

  it('recognises the inputs and finds the word-embedding Gather, not the position or token-type ones', () => {
    const ti = requireTextInputs(lm);
    assert.deepEqual([ti.ids.name, ti.mask?.name, ti.tokenTypes?.name, ti.seqLen], ['input_ids', 'attention_mask', 'token_type_ids', undefined]);
    const emb = findWordEmbedding(lm, ti);
    assert.equal(emb.layer, '/bert/embeddings/word_embeddings/Gather_output_0');
    assert.deepEqual([emb.vocabSize, emb.dim], [VOCAB.length, D]);
  });

  it('feeds mask 1 and token types 0: the logits match a hand-fed run', async () => {
    const r = await attributeText(lm, 'The food was excellent!');
    // [CLS] the food was excellent ! [SEP]
    const ids = [2, 8, 9, 10, 11, 7, 3];
    assert.deepEqual(r.tokens.map((t) => t.id), ids);
    const ones = ids.map(() => 1), zeros = ids.map(() => 0);
    const logits = (await lm.forward({ input_ids: i64(ids), attention_mask: i64(ones), token_type_ids: i64(zeros) })).logits.data as Float32Array;
    assert.equal(r.predictions[0].label, 'POSITIVE');
    assert.ok(Math.abs(r.predictions[0].logit - logits[1]) < 1e-6);
    // token type 1 would add evidence: feeding it would have changed the logit
    const typed = (await lm.forward({ input_ids: i64(ids), attention_mask: i64(ones), token_type_ids: i64(ones) })).logits.data as Float32Array;
    assert.ok(Math.abs(typed[1] - logits[1]) > 0.1);
  });

  it('layer-integrated-gradients: the same as attribute() on the embedding with a hand-made baseline, summed per token', async () => {
    for (const [text, word, label] of [['The food was excellent!', 'excellent', 'POSITIVE'], ['A really awful movie, the plot was awful.', 'awful', 'NEGATIVE']] as const) {
      const r = await attributeText(lm, text, { params: { nSteps: 64 } });
      assert.equal(r.predictions[0].label, label);
      assert.equal(r.targetLabel, label);
      const ids = r.tokens.map((t) => t.id);
      const base = ids.map((id, i) => (i === 0 || i === ids.length - 1 ? id : 0));
      const feeds = { input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)), token_type_ids: i64(ids.map(() => 0)) };
      const ref = await attribute(lm, feeds, { method: 'layer-integrated-gradients', input: 'input_ids', params: { layer: '/bert/embeddings/word_embeddings/Gather_output_0', baselines: [base], nSteps: 64 } });
      const a = Object.values(ref.attributions)[0];
      assert.deepEqual(a.dims, [1, ids.length, D]);
      for (let t = 0; t < ids.length; t++) {
        let s = 0;
        for (let k = 0; k < D; k++) s += (a.data as Float32Array)[t * D + k];
        assert.ok(Math.abs(r.tokens[t].score - s) < 1e-6, `token ${t}`);
      }
      const top = r.words.reduce((b, w) => (Math.abs(w.score) > Math.abs(b.score) ? w : b));
      assert.equal(top.text, word);
      assert.ok(top.score > 0);
      // completeness against independent forward runs
      const f = async (xs: number[]) => ((await lm.forward({ ...feeds, input_ids: i64(xs) })).logits.data as Float32Array)[r.target];
      const diff = (await f(ids)) - (await f(base));
      assert.ok(Math.abs(r.delta!) < 0.05 * Math.abs(diff), `delta ${r.delta} vs ${diff}`);
    }
  });

  it('reads a vocab.txt beside the model the same way', async () => {
    const other = await LoadedModel.open(writeModel('vocab'));
    const a = await attributeText(other, 'The food was excellent!');
    const b = await attributeText(lm, 'The food was excellent!');
    assert.deepEqual(a.tokens.map((t) => [t.id, t.text]), b.tokens.map((t) => [t.id, t.text]));
    assert.ok(a.tokenizer!.endsWith('vocab.txt'));
    for (let i = 0; i < a.tokens.length; i++) assert.ok(Math.abs(a.tokens[i].score - b.tokens[i].score) < 1e-9);
  });

  it('cuts a long text to the tokenizer\'s model_max_length, keeping [CLS] and [SEP]', async () => {
    const file = writeModel('json');
    fs.writeFileSync(path.join(path.dirname(file), 'tokenizer_config.json'), JSON.stringify({ model_max_length: 8 }));
    const r = await attributeText(await LoadedModel.open(file), 'The food was excellent and the service was excellent.');
    assert.deepEqual(r.tokens.map((t) => t.text), ['[CLS]', 'the', 'food', 'was', 'excellent', 'and', 'the', '[SEP]']);
    // 12 tokens: [CLS] + 10 text tokens + [SEP]; the last 4 text tokens are cut
    assert.equal(r.truncated, 4);
  });
});
