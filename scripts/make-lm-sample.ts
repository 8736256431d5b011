// Writes samples/lm/: a tiny causal language model whose weights are designed (not trained)
// to recall the value bound to a key earlier in the prompt ("alice paris , bob rome ? bob" →
// "rome", then the end-of-sequence token), its WordLevel tokenizer.json, tokenizer_config.json
// and config.json. Also writes test/generative/fixtures/past-kv/ : the same model exported
// the way optimum exports decoders with a cache (past_key_values.0.key/value inputs,
// present.0.key/value outputs). Run with `npx tsx scripts/make-lm-sample.ts`.
//
// Residual stream (width 3V + P): the current token one-hot [0, V), the position one-hot
// [V, V+P), the previous token one-hot [V+P, 2V+P) written by layer 1, and the recalled value
// one-hot [2V+P, 3V+P) written by layer 2.
// Layer 1, a previous-token head: position i queries position i−1.
// Layer 2, an induction head: a key token queries the position whose previous token is the
// same key, and copies that position's token (the value) into the recalled-value block.
// The head reads the recalled value into the logits, and a value as the current token makes
// the end-of-sequence token likely (one value answers the question).
import * as fs from 'fs';
import * as path from 'path';
import { attr } from '../src/engine/onnx/attributes';
import { GraphBuilder } from '../src/engine/onnx/builder';
import { OnnxModel } from '../src/engine/onnx/model';

const OUT = path.join(__dirname, '..', 'samples', 'lm');
const PAST_OUT = path.join(__dirname, '..', 'test', 'generative', 'fixtures', 'past-kv');
/** positions the model was made for */
export const POSITIONS = 32;
export const SPECIAL = ['<pad>', '<bos>', '<eos>', '<unk>'];
export const PUNCT = [',', '?', '.'];
export const KEYS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
export const VALUES = ['paris', 'rome', 'oslo', 'lima', 'cairo', 'tokyo', 'delhi', 'quito'];
export const VOCAB = [...SPECIAL, ...PUNCT, ...KEYS, ...VALUES];
const V = VOCAB.length;
const P = POSITIONS;
const D = 3 * V + P;
const CUR = 0;
const POS = V;
const PREV = V + P;
const RECALL = 2 * V + P;
/** attention sharpness: the wanted position wins by e^SHARP */
const SHARP = 30;
/** logit of the recalled value, and of end-of-sequence after a value */
const COPY = 10;
const STOP = 15;

const id = (t: string): number => {
  const i = VOCAB.indexOf(t);
  if (i < 0) throw new Error(`no token ${t}`);
  return i;
};

function zeros(n: number): number[] {
  return new Array<number>(n).fill(0);
}

/** [rows, cols] row-major with the given entries set. */
function matrix(rows: number, cols: number, set: Array<[number, number, number]>): number[] {
  const m = zeros(rows * cols);
  for (const [r, c, v] of set) m[r * cols + c] = v;
  return m;
}

function buildModel(withPast: boolean): OnnxModel {
  const model = OnnxModel.empty(17, 8);
  model.proto.producerName = 'attribution-lens/make-lm-sample';
  model.proto.docString = 'Hand-designed key→value recall decoder for the Attribution Lens LM sample (see README.md).';
  model.graph.name = 'tiny_recall_decoder';
  const b = new GraphBuilder(model);
  b.addInput('input_ids', 7, ['batch_size', 'sequence_length']);
  b.addInput('attention_mask', 7, ['batch_size', withPast ? 'past_sequence_length + sequence_length' : 'sequence_length']);
  b.addInput('position_ids', 7, ['batch_size', 'sequence_length']);
  if (withPast) {
    for (let l = 0; l < 2; l++) for (const kv of ['key', 'value']) b.addInput(`past_key_values.${l}.${kv}`, 1, ['batch_size', 1, 'past_sequence_length', l === 0 && kv === 'key' ? P : V]);
  }
  b.addOutput('logits', 1, ['batch_size', 'sequence_length', V]);
  const layer = (scope: string, op: string, inputs: string[], attrs = {}, output?: string): string => b.exported(scope, op, inputs, attrs, output);

  // embeddings: token one-hot + position one-hot. (B, L, D); <pad> embeds to zeros.
  const wte = matrix(V, D, VOCAB.map((t, i) => [i, CUR + i, t === '<pad>' ? 0 : 1]));
  const wpe = matrix(P, D, [...Array(P).keys()].map((p) => [p, POS + p, 1]));
  const tok = layer('/transformer/wte', 'Gather', [b.param('transformer.wte.weight', [V, D], wte), 'input_ids']);
  const pos = layer('/transformer/wpe', 'Gather', [b.param('transformer.wpe.weight', [P, D], wpe), 'position_ids']);
  const h0 = layer('/transformer', 'Add', [tok, pos]);

  // additive mask (B, L, Lk): −1e4 where the key is in the future or padding. Queries are at
  // position_ids; keys (the cache's, then the new tokens') at the running count of attention_mask.
  const m = '/transformer/mask';
  const posF = layer(`${m}/positions`, 'Cast', ['position_ids'], { to: attr.int(1) });
  const maskF = layer(`${m}/padding`, 'Cast', ['attention_mask'], { to: attr.int(1) });
  const keyPos = layer(`${m}/key_positions`, 'Sub', [layer(`${m}/key_positions`, 'CumSum', [maskF, b.i64([1], [])]), b.f32(1)]);
  const qi = b.unsqueeze(posF, [2]);
  const kj = b.unsqueeze(keyPos, [1]);
  const future = layer(`${m}/causal`, 'Relu', [layer(`${m}/causal`, 'Sub', [kj, qi])]);
  const causal = layer(`${m}/causal`, 'Mul', [future, b.f32(-1e4)]);
  const padBias = b.unsqueeze(layer(`${m}/padding`, 'Mul', [layer(`${m}/padding`, 'Sub', [b.f32(1), maskF]), b.f32(-1e4)]), [1]);
  const bias = layer(m, 'Add', [causal, padBias]);

  const head = (l: number, x: string, wq: number[], wk: number[], wv: number[], wo: number[], hk: number, hv: number): string => {
    const s = `/transformer/h.${l}/attn`;
    const q = layer(`${s}/q`, 'MatMul', [x, b.param(`transformer.h.${l}.attn.q.weight`, [D, hk], wq)]);
    let k = layer(`${s}/k`, 'MatMul', [x, b.param(`transformer.h.${l}.attn.k.weight`, [D, hk], wk)]);
    let v = layer(`${s}/v`, 'MatMul', [x, b.param(`transformer.h.${l}.attn.v.weight`, [D, hv], wv)]);
    if (withPast) {
      // cache layout (B, heads=1, past, head size), as optimum exports it
      k = layer(`${s}/k_cat`, 'Concat', [b.squeeze(`past_key_values.${l}.key`, [1]), k], { axis: attr.int(1) });
      v = layer(`${s}/v_cat`, 'Concat', [b.squeeze(`past_key_values.${l}.value`, [1]), v], { axis: attr.int(1) });
      b.add('Unsqueeze', [k, b.i64([1])], {}, [`present.${l}.key`]);
      b.add('Unsqueeze', [v, b.i64([1])], {}, [`present.${l}.value`]);
      b.addOutput(`present.${l}.key`, 1, ['batch_size', 1, 'total_sequence_length', hk]);
      b.addOutput(`present.${l}.value`, 1, ['batch_size', 1, 'total_sequence_length', hv]);
    }
    const kT = layer(s, 'Transpose', [k], { perm: attr.ints([0, 2, 1]) });
    const scores = layer(s, 'Div', [layer(`${s}/scores`, 'MatMul', [q, kT]), b.f32(Math.sqrt(hk))]);
    const probs = layer(s, 'Softmax', [layer(s, 'Add', [scores, bias])], { axis: attr.int(-1) });
    const ctx = layer(`${s}/context`, 'MatMul', [probs, v]);
    const out = layer(`${s}/c_proj`, 'MatMul', [ctx, b.param(`transformer.h.${l}.attn.c_proj.weight`, [hv, D], wo)]);
    return layer(`/transformer/h.${l}`, 'Add', [x, out]);
  };

  // layer 1: position i's query is position i−1 (position 0, the BOS, looks at itself)
  const a1 = SHARP * Math.sqrt(P);
  const h1 = head(
    0,
    h0,
    matrix(D, P, [...Array(P).keys()].map((p) => [POS + p, Math.max(0, p - 1), a1])),
    matrix(D, P, [...Array(P).keys()].map((p) => [POS + p, p, 1])),
    matrix(D, V, [...Array(V).keys()].map((t) => [CUR + t, t, 1])),
    matrix(V, D, [...Array(V).keys()].map((t) => [t, PREV + t, 1])),
    P,
    V,
  );
  // layer 2: a key queries "previous token = this key"; the value read is the current token if it is a value
  const a2 = SHARP * Math.sqrt(V);
  const h2 = head(
    1,
    h1,
    matrix(D, V, KEYS.map((k) => [CUR + id(k), id(k), a2])),
    matrix(D, V, KEYS.map((k) => [PREV + id(k), id(k), 1])),
    matrix(D, V, VALUES.map((v) => [CUR + id(v), id(v), 1])),
    matrix(V, D, [...Array(V).keys()].map((t) => [t, RECALL + t, 1])),
    V,
    V,
  );
  // LM head: recalled value → its logit; a value as current token → end of sequence
  const lmHead = matrix(D, V, [...VALUES.map((v): [number, number, number] => [RECALL + id(v), id(v), COPY]), ...VALUES.map((v): [number, number, number] => [CUR + id(v), id('<eos>'), STOP])]);
  layer('/lm_head', 'MatMul', [h2, b.param('lm_head.weight', [D, V], lmHead)], {}, 'logits');
  return OnnxModel.fromBytes(model.toBytes());
}

function tokenizerJson(): object {
  const ids = Object.fromEntries(VOCAB.map((w, i) => [w, i]));
  const special = (t: string) => ({ id: ids[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map(special),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'WhitespaceSplit' },
    // the BOS is added by the tokenizer itself, as Llama's tokenizer.json does
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<bos>': { id: '<bos>', ids: [ids['<bos>']], tokens: ['<bos>'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
    model: { type: 'WordLevel', vocab: ids, unk_token: '<unk>' },
  };
}

function main(): void {
  fs.mkdirSync(OUT, { recursive: true });
  fs.mkdirSync(PAST_OUT, { recursive: true });
  const model = buildModel(false);
  fs.writeFileSync(path.join(OUT, 'model.onnx'), model.toBytes());
  const past = buildModel(true);
  fs.writeFileSync(path.join(PAST_OUT, 'model.onnx'), past.toBytes());
  const tj = JSON.stringify(tokenizerJson(), null, 2) + '\n';
  const tokConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<bos>',
    eos_token: '<eos>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    add_bos_token: true,
    add_eos_token: false,
    model_max_length: POSITIONS,
  };
  const config = {
    architectures: ['TinyRecallDecoder'],
    model_type: 'gpt2',
    n_layer: 2,
    n_head: 1,
    n_embd: D,
    vocab_size: V,
    max_position_embeddings: POSITIONS,
    bos_token_id: id('<bos>'),
    eos_token_id: id('<eos>'),
    pad_token_id: id('<pad>'),
  };
  for (const dir of [OUT, PAST_OUT]) {
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), tj);
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokConfig, null, 2) + '\n');
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  }
  console.log(`wrote ${path.relative(process.cwd(), path.join(OUT, 'model.onnx'))} (${model.toBytes().length} bytes) and ${path.relative(process.cwd(), path.join(PAST_OUT, 'model.onnx'))} (${past.toBytes().length} bytes), vocabulary of ${V}`);
}

if (require.main === module) main();
