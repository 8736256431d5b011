import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fitLength } from '../../src/engine/text/attributeText';
import { loadTokenizer, tokenizerFromJson, wordPieceFromVocab } from '../../src/engine/text/tokenizer';

const SAMPLE = path.join(__dirname, '..', '..', 'samples', 'text');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'attrlens-text-'));

// Ids below are read off samples/text/tokenizer.json's vocabulary by hand:
// [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, . 5, , 6, ! 7, ? 8, ' 9, great 16, wonderful 19, boring 26,
// the 30, was 40, we 57, movie 70, did 187, start 195, watch 167, ##s 214, ##ed 215, ##d 216, ##ly 218.
describe('WordPiece tokenizer.json (samples/text)', () => {
  const tk = loadTokenizer(SAMPLE);

  it('lowercases, splits punctuation and adds [CLS] / [SEP]', () => {
    const e = tk.encode('The movie was GREAT!');
    assert.deepEqual(e.ids, [2, 30, 70, 40, 16, 7, 3]);
    assert.deepEqual(e.tokens, ['[CLS]', 'the', 'movie', 'was', 'great', '!', '[SEP]']);
    assert.deepEqual(e.special, [true, false, false, false, false, false, true]);
    assert.deepEqual(e.wordOf, [-1, 0, 1, 2, 3, 4, -1]);
  });

  it('splits words into the longest known pieces and groups them back into words', () => {
    const e = tk.encode('We loved boringly watched starts');
    assert.deepEqual(e.ids, [2, 57, 18, 216, 26, 218, 167, 215, 195, 214, 3]);
    assert.deepEqual(e.wordOf, [-1, 0, 1, 1, 2, 2, 3, 3, 4, 4, -1]);
    assert.equal(tk.decode([18, 216]), 'loved');
  });

  it('maps unknown words to [UNK], which is a word (not a special token), and strips accents', () => {
    // didn't -> didn ' t; neither "didn" (did + ##n) nor "t" is in the vocabulary
    const e = tk.encode("We didn't?  WONDERFUL\tCafé");
    assert.deepEqual(e.ids, [2, 57, 1, 9, 1, 8, 19, 1, 3]);
    assert.deepEqual(e.special, [true, false, false, false, false, false, false, false, true]);
    assert.deepEqual(e.wordOf, [-1, 0, 1, 2, 3, 4, 5, 6, -1]);
    assert.equal(tk.padId, 0);
    assert.equal(tk.unkId, 1);
  });

  it('fits a fixed length: pads with [PAD], or cuts the text between [CLS] and [SEP]', () => {
    const short = fitLength(tk.encode('great movie'), 6, 0);
    assert.deepEqual(short.ids, [2, 16, 70, 3, 0, 0]);
    assert.equal(short.real, 4);
    const long = fitLength(tk.encode('the movie was great , the movie was boring'), 6, 0);
    assert.deepEqual(long.ids, [2, 30, 70, 40, 16, 3]);
    assert.equal(long.truncated, 5);
    assert.deepEqual(long.special, [true, false, false, false, false, true]);
  });
});

describe('WordPiece vocab.txt', () => {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '!', 'great', 'movie', 'the', '##s'].join('\n') + '\n';

  it('reads like BERT uncased: the same ids as the equivalent tokenizer.json', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'vocab.txt'), vocab);
    const tk = loadTokenizer(dir);
    const e = tk.encode('The GREAT movies!');
    assert.deepEqual(e.ids, [2, 8, 6, 7, 9, 5, 3]);
    assert.deepEqual(e.wordOf, [-1, 0, 1, 2, 2, 3, -1]);
    assert.equal(tk.padId, 0);
  });

  it('keeps case when tokenizer_config.json says do_lower_case false', () => {
    const tk = wordPieceFromVocab(vocab, { do_lower_case: false });
    assert.deepEqual(tk.encode('The great').ids, [2, 1, 6, 3]);
  });

  it('says which files it looked for when there is no tokenizer', () => {
    const dir = tmp();
    assert.throws(() => loadTokenizer(dir, 'model.onnx'), (e: Error) => e.name === 'AttrLensError' && /no tokenizer for model\.onnx: looked for tokenizer\.json and vocab\.txt in /.test(e.message));
  });

  it('rejects a vocabulary without an unknown-word token', () => {
    assert.throws(() => wordPieceFromVocab('[CLS]\n[SEP]\nhello\n'), /has no unknown-word token '\[UNK\]'/);
  });
});

describe('byte-level BPE tokenizer.json', () => {
  const pieces = ['<s>', '</s>', '<pad>', '<unk>', '!', 'g', 'o', 'd', 'm', 'v', 'i', 'e', 'Ġ', 'go', 'goo', 'good', 'Ġm', 'Ġmo', 'Ġmov', 'Ġmovi', 'Ġmovie'];
  const vocab = Object.fromEntries(pieces.map((c, i) => [c, i]));
  const tk = tokenizerFromJson({
    version: '1.0',
    added_tokens: ['<s>', '</s>', '<pad>', '<unk>'].map((c) => ({ id: vocab[c], content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 1], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', unk_token: '<unk>', vocab, merges: ['g o', 'go o', 'goo d', 'Ġ m', 'Ġm o', 'Ġmo v', 'Ġmov i', 'Ġmovi e'] },
  });

  it('merges pieces, starts a word at each Ġ and at punctuation, pads with <pad>', () => {
    const e = tk.encode('good moviegood movie!');
    assert.deepEqual(e.ids, [0, 15, 20, 15, 20, 4, 1]);
    assert.deepEqual(e.tokens, ['<s>', 'good', 'Ġmovie', 'good', 'Ġmovie', '!', '</s>']);
    assert.deepEqual(e.wordOf, [-1, 0, 1, 1, 2, 3, -1]);
    assert.equal(tk.decode([20, 15]), 'moviegood');
    assert.equal(tk.padId, 2);
  });
});
