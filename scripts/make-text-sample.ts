// Writes samples/text/: a tiny transformer-style sentiment classifier whose weights are
// designed (not trained) so that a few sentiment words decide, its WordPiece tokenizer.json,
// config.json labels and example sentences. Deterministic (seeded PRNG); run with
// `npx tsx scripts/make-text-sample.ts`. It ends by classifying every example sentence.
// With size flags (`--layers 12 --hidden 768 --heads 12 --intermediate 3072 --seq 128
// --vocab 30522 --out DIR`) it writes instead a BERT-shaped encoder of random seeded weights
// (untrained; for benchmarks) with the same tokenizer, into DIR.
import * as fs from 'fs';
import * as path from 'path';
import { LoadedModel } from '../src/engine/model/loadedModel';
import { attr } from '../src/engine/onnx/attributes';
import { GraphBuilder } from '../src/engine/onnx/builder';
import { Rng } from '../src/engine/methods/rng';
import { OnnxModel } from '../src/engine/onnx/model';
import { tensorToProto } from '../src/engine/onnx/tensorProto';
import { softmax } from '../src/engine/core/tensor';
import { requireTextInputs, textFeeds } from '../src/engine/text/textModel';
import { tokenizerFromJson } from '../src/engine/text/tokenizer';
import { fitLength } from '../src/engine/text/attributeText';

const OUT = path.join(__dirname, '..', 'samples', 'text');
const SEQ = 16;
const DIM = 8;
const LABELS = ['negative', 'positive'] as const;

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const PUNCTUATION = ['.', ',', '!', '?', "'", '-', ':', ';', '(', ')', '"'];
/** Sentiment words and their strength; positive > 0. */
const SENTIMENT: Record<string, number> = {
  great: 3, excellent: 3, love: 3, wonderful: 3, amazing: 3, good: 2, beautiful: 2,
  terrible: -3, awful: -3, hate: -3, boring: -3, horrible: -3, bad: -2, dull: -2,
};
const COMMON = `the a an and or but if so because is was are were be been being am it its this that these those
i you he she we they me him us them my your his her our their film movie show book story plot acting actor
cast music ending scene character director script time day night year week place food service restaurant hotel
room staff price meal dinner lunch coffee city trip game song album episode season very really quite too just
not no never always also still even more most much many some all any of in on at to for with from by about
as than then there here what who how when where why one two three first last new old long short big small
whole bit lot thing people way made make watch see saw read think thought feel felt found find go went come
came get got had has have do did does would could should will can was end start part home work friend family
kids far back again over after before into out up down off through`.split(/\s+/);
const PIECES = ['##s', '##ed', '##d', '##ing', '##ly', '##er', '##y'];

function vocabulary(): string[] {
  const words = [...SPECIAL, ...PUNCTUATION];
  for (const w of [...Object.keys(SENTIMENT), ...COMMON, ...PIECES]) if (!words.includes(w)) words.push(w);
  return words;
}

/** The engine's seeded PRNG (mulberry32), so every run writes the same bytes. */
function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

// ---------------------------------------------------------------- model

/**
 * Embedding dimensions: 0 positive strength, 1 negative strength, 2 salience (any sentiment),
 * 3 a reference that is always 0, 4..7 word identity and position. LayerNorm shifts and
 * scales a token's dimensions alike, so differences between dimensions 0..3 of a token whose
 * raw values there are equal stay exactly 0: neutral words carry no sentiment and no salience.
 */
function embeddingTable(vocab: string[]): number[] {
  const rand = prng(7);
  const table: number[] = [];
  for (const w of vocab) {
    const s = SENTIMENT[w] ?? 0;
    const row = [Math.max(s, 0), Math.max(-s, 0), Math.abs(s), 0];
    for (let k = 4; k < DIM; k++) row.push(w === '[PAD]' ? 0 : 2 * rand() - 1);
    table.push(...row);
  }
  return table;
}

function positionTable(): number[] {
  const out: number[] = [];
  for (let p = 0; p < SEQ; p++) out.push(0, 0, 0, 0, 0.5 * Math.sin(p + 1), 0.5 * Math.cos(p + 1), 0.5 * Math.sin(2 * p + 1), 0.5 * Math.cos(2 * p + 1));
  return out;
}

function buildModel(vocab: string[]): OnnxModel {
  const model = OnnxModel.empty(17, 8);
  model.proto.producerName = 'attribution-lens/make-text-sample';
  model.proto.docString = 'Hand-designed sentiment classifier for the Attribution Lens text sample (see README.md).';
  model.graph.name = 'tiny_sentiment_encoder';
  const b = new GraphBuilder(model);
  b.addInput('input_ids', 7, [1, SEQ]);
  b.addInput('attention_mask', 7, [1, SEQ]);
  b.addOutput('logits', 1, [1, LABELS.length]);

  const param = (name: string, dims: number[], data: number[]): string => b.param(name, dims, data);
  // Nodes named the way torch.onnx.export names a Hugging Face encoder's.
  const layer = (scope: string, op: string, inputs: string[], attrs = {}, output?: string): string => b.exported(scope, op, inputs, attrs, output);
  const matrix = (rows: number, cols: number, set: Array<[number, number, number]>): number[] => {
    const m = new Array<number>(rows * cols).fill(0);
    for (const [r, c, v] of set) m[r * cols + c] = v;
    return m;
  };

  // embeddings: word + position, LayerNorm. (1, 16, 8)
  const words = layer('/embeddings/word_embeddings', 'Gather', [param('embeddings.word_embeddings.weight', [vocab.length, DIM], embeddingTable(vocab)), 'input_ids']);
  model.graph.initializer.push(tensorToProto('embeddings.position_ids', { dtype: 'int64', dims: [1, SEQ], data: BigInt64Array.from({ length: SEQ }, (_, i) => BigInt(i)) }));
  const positions = layer('/embeddings/position_embeddings', 'Gather', [param('embeddings.position_embeddings.weight', [SEQ, DIM], positionTable()), 'embeddings.position_ids']);
  const summed = layer('/embeddings', 'Add', [words, positions]);
  const ones = new Array<number>(DIM).fill(1);
  const zeros = new Array<number>(DIM).fill(0);
  const h0 = layer('/embeddings/LayerNorm', 'LayerNormalization', [summed, param('embeddings.LayerNorm.weight', [DIM], ones), param('embeddings.LayerNorm.bias', [DIM], zeros)], { axis: attr.int(-1), epsilon: attr.float(1e-5) });

  // self-attention, one head of size 2. Every query is the same constant, keys read the
  // salience (dim 2 − dim 3): all tokens attend to the sentiment words. (1, 16, 2)
  const HEAD = 2;
  const ALPHA = 2.5;
  const self = '/encoder/layer.0/attention/self';
  const dense = (scope: string, x: string, w: string, bias: string) => layer(scope, 'Add', [layer(scope, 'MatMul', [x, w]), bias]);
  const q = dense(`${self}/query`, h0, param('encoder.layer.0.attention.self.query.weight', [DIM, HEAD], new Array<number>(DIM * HEAD).fill(0)), param('encoder.layer.0.attention.self.query.bias', [HEAD], [ALPHA, ALPHA]));
  const k = dense(`${self}/key`, h0, param('encoder.layer.0.attention.self.key.weight', [DIM, HEAD], matrix(DIM, HEAD, [[2, 0, 1], [3, 0, -1], [2, 1, 1], [3, 1, -1]])), param('encoder.layer.0.attention.self.key.bias', [HEAD], [0, 0]));
  // values: (positive, negative) relative to the reference dimension
  const v = dense(`${self}/value`, h0, param('encoder.layer.0.attention.self.value.weight', [DIM, HEAD], matrix(DIM, HEAD, [[0, 0, 1], [3, 0, -1], [1, 1, 1], [3, 1, -1]])), param('encoder.layer.0.attention.self.value.bias', [HEAD], [0, 0]));
  const kT = layer(self, 'Transpose', [k], { perm: attr.ints([0, 2, 1]) });
  // (1, 16, 16) scaled scores
  const scores = layer(self, 'Div', [layer(self, 'MatMul', [q, kT]), b.f32(Math.sqrt(HEAD))]);
  // padding is masked out: (1 − mask) · −10000 added to every query's scores
  const maskF = layer('', 'Cast', ['attention_mask'], { to: attr.int(1) });
  const inverted = layer('', 'Sub', [b.f32(1), maskF]);
  const bias = layer('', 'Unsqueeze', [layer('', 'Mul', [inverted, b.f32(-10000)]), b.i64([1])]);
  const probs = layer(self, 'Softmax', [layer(self, 'Add', [scores, bias])], { axis: attr.int(-1) });
  const context = layer(self, 'MatMul', [probs, v], {}, `${self}/MatMul_1_output_0`);
  model.graph.node[model.graph.node.length - 1].name = `${self}/MatMul_1`;

  // output projection back to (positive, negative) dims, residual, LayerNorm. (1, 16, 8)
  const out = '/encoder/layer.0/attention/output';
  const projected = dense(`${out}/dense`, context, param('encoder.layer.0.attention.output.dense.weight', [HEAD, DIM], matrix(HEAD, DIM, [[0, 0, 1], [1, 1, 1]])), param('encoder.layer.0.attention.output.dense.bias', [DIM], zeros));
  const h1 = layer(out, 'Add', [projected, h0]);
  const h2 = layer(`${out}/LayerNorm`, 'LayerNormalization', [h1, param('encoder.layer.0.attention.output.LayerNorm.weight', [DIM], ones), param('encoder.layer.0.attention.output.LayerNorm.bias', [DIM], zeros)], { axis: attr.int(-1), epsilon: attr.float(1e-5) });

  // masked mean over the real tokens. (1, 8)
  const m3 = layer('/pooler', 'Unsqueeze', [maskF, b.i64([2])]);
  const total = layer('/pooler', 'ReduceSum', [layer('/pooler', 'Mul', [h2, m3]), b.i64([1])], { keepdims: attr.int(0) });
  const count = layer('/pooler', 'ReduceSum', [maskF, b.i64([1])], { keepdims: attr.int(1) }, '/pooler/ReduceSum_1_output_0');
  model.graph.node[model.graph.node.length - 1].name = '/pooler/ReduceSum_1';
  const pooled = layer('/pooler', 'Div', [total, count]);

  // classifier: positive − negative evidence. (1, 2)
  const W = 1.5;
  layer('/classifier', 'Gemm', [pooled, param('classifier.weight', [2, DIM], matrix(2, DIM, [[0, 0, -W], [0, 1, W], [1, 0, W], [1, 1, -W]])), param('classifier.bias', [2], [0, 0])], { transB: attr.int(1) }, 'logits');
  return OnnxModel.fromBytes(model.toBytes()); // re-load: validates the graph
}

// ---------------------------------------------------------------- BERT-shaped random model

export interface BertOptions {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  seq: number;
  /** rows of the word-embedding table (BERT-base: 30522); at least the tokenizer's vocabulary */
  vocab: number;
  seed: number;
}

export const BERT_BASE: BertOptions = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, seq: 128, vocab: 30522, seed: 1 };

/**
 * The op structure torch.onnx.export gives a Hugging Face BertForSequenceClassification
 * (opset 17): word + position + token-type Gathers, LayerNormalization, per layer Q/K/V
 * MatMul+Add, Reshape/Transpose into heads, MatMul, Div, additive mask, Softmax, MatMul,
 * output dense, residual, LayerNorm, GELU in its Erf form, pooler on [CLS] with Tanh, classifier.
 * Weights N(0, 0.02) as BERT initialises them, LayerNorm 1 and 0, biases 0.
 */
export function buildBertModel(o: BertOptions, vocabWords: number): OnnxModel {
  if (o.hidden % o.heads) throw new Error(`hidden ${o.hidden} is not a multiple of heads ${o.heads}`);
  const H = o.hidden, L = o.seq, heads = o.heads, dh = H / heads;
  const V = Math.max(o.vocab, vocabWords);
  const rng = new Rng(o.seed);
  const normal = (n: number, std = 0.02): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = std * rng.normal();
    return a;
  };
  const model = OnnxModel.empty(17, 8);
  model.proto.producerName = 'attribution-lens/make-text-sample';
  model.proto.docString = `BERT-shaped encoder with random weights (${o.layers} layers, hidden ${H}, ${heads} heads, intermediate ${o.intermediate}, ${L} tokens): for benchmarks, not trained.`;
  model.graph.name = 'bert_random_encoder';
  const b = new GraphBuilder(model);
  b.addInput('input_ids', 7, [1, L]);
  b.addInput('attention_mask', 7, [1, L]);
  b.addInput('token_type_ids', 7, [1, L]);
  b.addOutput('logits', 1, [1, LABELS.length]);
  // torch numbers repeated ops in a scope: Add, Add_1, ...
  const seen = new Map<string, number>();
  const layer = (scope: string, op: string, inputs: string[], attrs = {}, output?: string): string => {
    const n = seen.get(`${scope}/${op}`) ?? 0;
    seen.set(`${scope}/${op}`, n + 1);
    const name = n ? `${op}_${n}` : op;
    const out = b.exported(scope, op, inputs, attrs, output ?? `${scope}/${name}_output_0`);
    model.graph.node[model.graph.node.length - 1].name = `${scope}/${name}`;
    return out;
  };
  const ones = new Float32Array(H).fill(1);
  const zeros = new Float32Array(H);
  const layerNorm = (scope: string, x: string, prefix: string) =>
    layer(scope, 'LayerNormalization', [x, b.param(`${prefix}.weight`, [H], ones), b.param(`${prefix}.bias`, [H], zeros)], { axis: attr.int(-1), epsilon: attr.float(1e-12) });
  // torch's Linear: MatMul by the transposed weight, then Add of the bias
  const linear = (scope: string, x: string, prefix: string, nin: number, nout: number) =>
    layer(scope, 'Add', [b.param(`${prefix}.bias`, [nout], new Float32Array(nout)), layer(scope, 'MatMul', [x, b.param(`onnx::MatMul_${prefix}`, [nin, nout], normal(nin * nout))])]);

  const words = layer('/bert/embeddings/word_embeddings', 'Gather', [b.param('bert.embeddings.word_embeddings.weight', [V, H], normal(V * H)), 'input_ids']);
  model.graph.initializer.push(tensorToProto('bert.embeddings.position_ids', { dtype: 'int64', dims: [1, L], data: BigInt64Array.from({ length: L }, (_, i) => BigInt(i)) }));
  const types = layer('/bert/embeddings/token_type_embeddings', 'Gather', [b.param('bert.embeddings.token_type_embeddings.weight', [2, H], normal(2 * H)), 'token_type_ids']);
  const sum1 = layer('/bert/embeddings', 'Add', [words, types]);
  const positions = layer('/bert/embeddings/position_embeddings', 'Gather', [b.param('bert.embeddings.position_embeddings.weight', [Math.max(512, L), H], normal(Math.max(512, L) * H)), 'bert.embeddings.position_ids']);
  const sum2 = layer('/bert/embeddings', 'Add', [sum1, positions]);
  let h = layerNorm('/bert/embeddings/LayerNorm', sum2, 'bert.embeddings.LayerNorm');

  // extended mask (1, 1, 1, L): (1 − mask) · −10000 added to every head's scores
  const m4 = layer('/bert', 'Unsqueeze', [layer('/bert', 'Unsqueeze', ['attention_mask', b.i64([1])]), b.i64([2])]);
  const maskBias = layer('/bert', 'Mul', [layer('/bert', 'Sub', [b.f32(1), layer('/bert', 'Cast', [m4], { to: attr.int(1) })]), b.f32(-10000)]);
  const heads4 = b.i64([0, 0, heads, dh]);
  const flat3 = b.i64([0, 0, H]);
  for (let l = 0; l < o.layers; l++) {
    const s = `/bert/encoder/layer.${l}/attention/self`;
    const p = `bert.encoder.layer.${l}`;
    const split = (x: string, perm: number[], name: string) => layer(`${s}/${name}`, 'Transpose', [layer(`${s}/${name}`, 'Reshape', [x, heads4])], { perm: attr.ints(perm) });
    const q = split(linear(`${s}/query`, h, `${p}.attention.self.query`, H, H), [0, 2, 1, 3], 'q');
    const k = split(linear(`${s}/key`, h, `${p}.attention.self.key`, H, H), [0, 2, 3, 1], 'k');
    const v = split(linear(`${s}/value`, h, `${p}.attention.self.value`, H, H), [0, 2, 1, 3], 'v');
    const scores = layer(s, 'Div', [layer(s, 'MatMul', [q, k]), b.f32(Math.sqrt(dh))]);
    const probs = layer(s, 'Softmax', [layer(s, 'Add', [scores, maskBias])], { axis: attr.int(-1) });
    const ctx = layer(s, 'MatMul', [probs, v]);
    const merged = layer(`${s}/merge`, 'Reshape', [layer(`${s}/merge`, 'Transpose', [ctx], { perm: attr.ints([0, 2, 1, 3]) }), flat3]);
    const out = `/bert/encoder/layer.${l}/attention/output`;
    const a = layerNorm(`${out}/LayerNorm`, layer(out, 'Add', [linear(`${out}/dense`, merged, `${p}.attention.output.dense`, H, H), h]), `${p}.attention.output.LayerNorm`);
    // GELU as torch exports it: x · 0.5 · (1 + erf(x / √2))
    const g = `/bert/encoder/layer.${l}/intermediate/intermediate_act_fn`;
    const pre = linear(`/bert/encoder/layer.${l}/intermediate/dense`, a, `${p}.intermediate.dense`, H, o.intermediate);
    const erf = layer(g, 'Erf', [layer(g, 'Div', [pre, b.f32(Math.SQRT2)])]);
    const gelu = layer(g, 'Mul', [layer(g, 'Mul', [pre, layer(g, 'Add', [erf, b.f32(1)])]), b.f32(0.5)]);
    const o2 = `/bert/encoder/layer.${l}/output`;
    h = layerNorm(`${o2}/LayerNorm`, layer(o2, 'Add', [linear(`${o2}/dense`, gelu, `${p}.output.dense`, o.intermediate, H), a]), `${p}.output.LayerNorm`);
  }
  // pooler: [CLS]'s hidden state, dense, tanh; then the classifier
  const cls = layer('/bert/pooler', 'Gather', [h, b.i64([0], [])], { axis: attr.int(1) });
  const pooled = layer('/bert/pooler/activation', 'Tanh', [layer('/bert/pooler/dense', 'Gemm', [cls, b.param('bert.pooler.dense.weight', [H, H], normal(H * H)), b.param('bert.pooler.dense.bias', [H], zeros)], { transB: attr.int(1) })]);
  layer('/classifier', 'Gemm', [pooled, b.param('classifier.weight', [LABELS.length, H], normal(LABELS.length * H)), b.param('classifier.bias', [LABELS.length], new Float32Array(LABELS.length))], { transB: attr.int(1) }, 'logits');
  return model;
}

/** Writes a BERT-shaped random model with the sample's tokenizer and a matching config.json into `dir`. */
export function writeBertSample(o: BertOptions, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const vocab = vocabulary();
  const model = buildBertModel(o, vocab.length);
  const modelFile = path.join(dir, 'model.onnx');
  fs.writeFileSync(modelFile, model.toBytes());
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab, o.seq), null, 2) + '\n');
  const config = {
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    hidden_size: o.hidden,
    num_attention_heads: o.heads,
    num_hidden_layers: o.layers,
    intermediate_size: o.intermediate,
    hidden_act: 'gelu',
    max_position_embeddings: Math.max(512, o.seq),
    type_vocab_size: 2,
    vocab_size: Math.max(o.vocab, vocab.length),
    pad_token_id: 0,
    id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(LABELS.map((l, i) => [l, i])),
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return modelFile;
}

// ---------------------------------------------------------------- tokenizer

function tokenizerJson(vocab: string[], seq = SEQ): object {
  const ids = Object.fromEntries(vocab.map((w, i) => [w, i]));
  const special = (t: string) => ({ id: ids[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: seq, strategy: 'LongestFirst', stride: 0 },
    padding: { strategy: { Fixed: seq }, direction: 'Right', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' },
    added_tokens: SPECIAL.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [ids['[CLS]']], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [ids['[SEP]']], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: ids },
  };
}

// ---------------------------------------------------------------- sentences

/** Example sentences, each with its class and the word that should carry the decision. */
export const SENTENCES: Array<{ text: string; label: (typeof LABELS)[number]; word: string }> = [
  { text: 'The movie was great.', label: 'positive', word: 'great' },
  { text: 'What an excellent film!', label: 'positive', word: 'excellent' },
  { text: 'I love this book.', label: 'positive', word: 'love' },
  { text: 'The food was wonderful and the room was big.', label: 'positive', word: 'wonderful' },
  { text: 'We loved the ending of the show.', label: 'positive', word: 'loved' },
  { text: 'The plot was terrible.', label: 'negative', word: 'terrible' },
  { text: 'What an awful day.', label: 'negative', word: 'awful' },
  { text: 'I hate the ending of this movie.', label: 'negative', word: 'hate' },
  { text: 'The whole film was boring and far too long.', label: 'negative', word: 'boring' },
  { text: 'It was a bad hotel room.', label: 'negative', word: 'bad' },
];

// ---------------------------------------------------------------- main

/** Size flags given on the command line, over BERT-base's; undefined without any. */
function bertFlags(argv: string[]): { opts: BertOptions; out: string } | undefined {
  const flag = (k: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const keys = ['layers', 'hidden', 'heads', 'intermediate', 'seq', 'vocab', 'seed'] as const;
  if (!argv.length) return undefined;
  const out = flag('out');
  if (!out) throw new Error('size flags need --out DIR (samples/text/ keeps its designed model)');
  const opts = { ...BERT_BASE };
  for (const k of keys) if (flag(k) !== undefined) opts[k] = Number(flag(k));
  return { opts, out: path.resolve(out) };
}

async function main(): Promise<void> {
  const big = bertFlags(process.argv.slice(2));
  if (big) {
    const t = performance.now();
    const file = writeBertSample(big.opts, big.out);
    const lm = await LoadedModel.open(file);
    const ti = requireTextInputs(lm);
    const tk = tokenizerFromJson(JSON.parse(fs.readFileSync(path.join(big.out, 'tokenizer.json'), 'utf8')) as object);
    const fit = fitLength(tk.encode(SENTENCES[0].text), ti.seqLen, tk.padId ?? 0);
    const logits = (await lm.forward(textFeeds(ti, fit.ids, fit.real))).logits.data as Float32Array;
    console.log(`wrote ${file} (${(fs.statSync(file).size / 1e6).toFixed(1)} MB, ${lm.model.graph.node.length} nodes) in ${((performance.now() - t) / 1000).toFixed(1)} s; logits of "${SENTENCES[0].text}": [${Array.from(logits, (x) => x.toFixed(4)).join(', ')}]`);
    return;
  }
  fs.mkdirSync(OUT, { recursive: true });
  const vocab = vocabulary();
  const model = buildModel(vocab);
  const modelFile = path.join(OUT, 'model.onnx');
  fs.writeFileSync(modelFile, model.toBytes());
  const tj = tokenizerJson(vocab);
  fs.writeFileSync(path.join(OUT, 'tokenizer.json'), JSON.stringify(tj, null, 2) + '\n');
  const config = {
    architectures: ['TinySentimentEncoder'],
    model_type: 'bert',
    hidden_size: DIM,
    num_attention_heads: 1,
    num_hidden_layers: 1,
    max_position_embeddings: SEQ,
    vocab_size: vocab.length,
    pad_token_id: 0,
    id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(LABELS.map((l, i) => [l, i])),
  };
  fs.writeFileSync(path.join(OUT, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  fs.writeFileSync(path.join(OUT, 'sentences.txt'), SENTENCES.map((s) => s.text).join('\n') + '\n');
  fs.writeFileSync(path.join(OUT, 'sentences.json'), JSON.stringify(SENTENCES, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), modelFile)} (${fs.statSync(modelFile).size} bytes, ${model.graph.node.length} nodes), vocabulary of ${vocab.length}`);

  // Check: every sentence is classified as intended, through the engine's own text path.
  const lm = await LoadedModel.open(modelFile);
  const ti = requireTextInputs(lm);
  const tk = tokenizerFromJson(tj);
  let ok = true;
  for (const s of SENTENCES) {
    const fit = fitLength(tk.encode(s.text), ti.seqLen, tk.padId ?? 0);
    const logits = (await lm.forward(textFeeds(ti, fit.ids, fit.real))).logits.data as Float32Array;
    const p = softmax(logits);
    const pred = LABELS[p[1] > p[0] ? 1 : 0];
    const good = pred === s.label && Math.max(...p) > 0.9;
    ok &&= good;
    console.log(`${good ? 'ok  ' : 'FAIL'} ${pred.padEnd(8)} p=${Math.max(...p).toFixed(4)} logits=[${Array.from(logits, (x) => x.toFixed(3)).join(', ')}]  ${s.text}`);
  }
  if (!ok) {
    console.error('some sentences are misclassified: adjust the weights');
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
