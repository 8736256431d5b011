// A GPT-2 style tokenizer (byte-level BPE, no BOS added, one token for BOS and EOS) beside a
// causal LM: what is a feature, how subword pieces group into words, how tokens are shown.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { lmTokenizerFor, requireCausalLm } from '../../src/engine/generative';
import { tokenFeatures } from '../../src/engine/generative/features';
import { LoadedModel } from '../../src/engine/model/loadedModel';
import { tmpDir } from '../onnx/helpers';
import { LM } from './helpers';

const CHARS = ['b', 'o', 'Ġ', 'r', 'm', 'e', 't', 'a'];
const MERGES = ['Ġ r', 'Ġr o', 'Ġro m', 'Ġrom e', 'b o', 'bo b', 'Ġro b', 'e r', 'er t'];
const WORDS = ['Ġr', 'Ġro', 'Ġrom', 'Ġrome', 'bo', 'bob', 'Ġrob', 'er', 'ert'];

function gpt2Folder(): string {
  const vocab: Record<string, number> = { '<|endoftext|>': 0 };
  for (const t of [...CHARS, ...WORDS]) vocab[t] = Object.keys(vocab).length;
  const dir = tmpDir('lm-bpe');
  fs.copyFileSync(LM, path.join(dir, 'model.onnx'));
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, vocab, merges: MERGES },
  }));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', model_max_length: 1024 }));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', bos_token_id: 0, eos_token_id: 0, n_positions: 1024 }));
  return path.join(dir, 'model.onnx');
}

describe('a GPT-2 style byte-level BPE tokenizer', () => {
  it('adds no BOS, shows Ġ as a space, groups pieces into words', async () => {
    const lm = await LoadedModel.open(gpt2Folder());
    const tok = lmTokenizerFor(lm, requireCausalLm(lm));
    assert.deepEqual(tok.config, { bosId: 0, eosIds: [0], padId: undefined, addBos: false, maxPositions: 1024, chatTemplate: false });
    const enc = tok.encodePrompt('bob robert');
    assert.deepEqual(enc.tokens, ['bob', 'Ġrob', 'ert']);
    assert.deepEqual(enc.special, [false, false, false]);
    assert.deepEqual(tok.encodeTarget(' rome').tokens, ['Ġrome']);
    assert.equal(tok.pretty(tok.encodeTarget(' rome').ids[0]), ' rome');
    const tokens = tokenFeatures(tok, 'bob robert', 'token', 0);
    assert.deepEqual(tokens.labels, ['bob', ' rob', 'ert']);
    const words = tokenFeatures(tok, 'bob robert', 'word', 0);
    assert.deepEqual(words.labels, ['bob', 'robert']);
    assert.deepEqual(words.positions, [[0], [1, 2]]);
    assert.deepEqual(words.build(Uint8Array.from([1, 0])), [enc.ids[0], 0, 0]);
  });
});
