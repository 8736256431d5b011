import * as fs from 'fs';
import * as path from 'path';
import { Tokenizer } from '@huggingface/tokenizers';
import { AttrLensError } from '../core/errors';

/** Files a tokenizer is read from, in the order they are looked for beside the model. */
export const TOKENIZER_FILES = ['tokenizer.json', 'vocab.txt'] as const;

export interface Encoded {
  ids: number[];
  /** the tokenizer's token strings (`##able`, `Ġgreat`, `[CLS]`) */
  tokens: string[];
  /** structural special tokens ([CLS], [SEP], <s>, ...; not [UNK] or [MASK]): kept as they are by baselines and perturbations */
  special: boolean[];
  /** word number of each token, -1 for special tokens */
  wordOf: number[];
}

interface TokenizerJson {
  model?: { type?: string; continuing_subword_prefix?: string | null; end_of_word_suffix?: string | null; unk_token?: string };
  pre_tokenizer?: unknown;
  decoder?: unknown;
  padding?: { pad_id?: number; pad_token?: string } | null;
  truncation?: { max_length?: number } | null;
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
}

interface TokenizerConfig {
  do_lower_case?: boolean;
  model_max_length?: number;
  pad_token?: string | { content?: string };
  unk_token?: string | { content?: string };
  cls_token?: string | { content?: string };
  sep_token?: string | { content?: string };
  mask_token?: string | { content?: string };
}

/** How subword tokens mark where words begin or continue. */
type WordMarker = { kind: 'prefix'; prefix: string } | { kind: 'space'; marker: string } | { kind: 'suffix'; suffix: string } | { kind: 'none' };

/**
 * A Hugging Face tokenizer (through @huggingface/tokenizers) plus what attribution needs on
 * top of it: which tokens are special, the pad token, and the grouping of tokens into words.
 */
export class TextTokenizer {
  private readonly specialIds: Set<number>;
  private readonly marker: WordMarker;
  readonly padId?: number;
  readonly unkId?: number;
  /** the longest sequence the model was made for (tokenizer.json truncation, or model_max_length) */
  readonly maxLength?: number;

  constructor(private readonly tk: Tokenizer, json: TokenizerJson, config: TokenizerConfig, readonly source: string) {
    this.specialIds = new Set([...tk.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) => id));
    for (const key of ['pad_token', 'unk_token', 'cls_token', 'sep_token', 'mask_token'] as const) {
      const id = this.idOf(tokenName(config[key]));
      if (id !== undefined) this.specialIds.add(id);
    }
    this.padId = json.padding?.pad_id ?? this.firstId(tokenName(config.pad_token), '[PAD]', '<pad>');
    this.unkId = this.firstId(json.model?.unk_token, tokenName(config.unk_token), '[UNK]', '<unk>');
    // [UNK] and [MASK] in a text stand for words: they are attributed like any word.
    for (const id of [this.unkId, this.firstId(tokenName(config.mask_token), '[MASK]', '<mask>')]) if (id !== undefined) this.specialIds.delete(id);
    this.marker = wordMarker(json);
    // transformers writes a huge model_max_length when the model sets no limit
    const max = json.truncation?.max_length ?? config.model_max_length;
    if (max && max > 0 && max < 1e6) this.maxLength = max;
  }

  idOf(token: string | undefined): number | undefined {
    return token === undefined ? undefined : this.tk.token_to_id(token);
  }

  tokenOf(id: number): string | undefined {
    return this.tk.id_to_token(id);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  private firstId(...names: Array<string | undefined>): number | undefined {
    for (const n of names) {
      const id = this.idOf(n);
      if (id !== undefined) return id;
    }
    return undefined;
  }

  /** Token ids with the tokenizer's special tokens ([CLS] ... [SEP]) and the words they form. */
  encode(text: string, addSpecialTokens = true): Encoded {
    const e = this.tk.encode(text, { add_special_tokens: addSpecialTokens });
    const special = e.ids.map((id) => this.specialIds.has(id));
    return { ids: e.ids, tokens: e.tokens, special, wordOf: this.words(e.tokens, special) };
  }

  /** Readable text of a run of tokens (markers such as `##` and `Ġ` removed). */
  decode(ids: number[]): string {
    return this.tk.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: true }).trim();
  }

  private words(tokens: string[], special: boolean[]): number[] {
    const out: number[] = [];
    let word = -1;
    let prevPunct = true;
    let prevEnded = true;
    for (let i = 0; i < tokens.length; i++) {
      if (special[i]) {
        out.push(-1);
        prevEnded = prevPunct = true;
        continue;
      }
      const t = tokens[i];
      const m = this.marker;
      const bare = m.kind === 'space' ? t.replace(m.marker, '') : t;
      const punct = bare.length > 0 && PUNCT.test(bare);
      let starts: boolean;
      if (m.kind === 'prefix') starts = !t.startsWith(m.prefix);
      else if (m.kind === 'space') starts = t.startsWith(m.marker) || punct || prevPunct;
      else if (m.kind === 'suffix') starts = prevEnded;
      else starts = true;
      if (starts || word < 0) word++;
      out.push(word);
      prevPunct = punct;
      prevEnded = m.kind === 'suffix' && t.endsWith(m.suffix);
    }
    return out;
  }
}

// Tokens made only of punctuation (and symbols) form words of their own.
const PUNCT = /^[\p{P}\p{S}]+$/u;

function tokenName(v: string | { content?: string } | undefined): string | undefined {
  return typeof v === 'string' ? v : v?.content;
}

function wordMarker(json: TokenizerJson): WordMarker {
  const m = json.model ?? {};
  if (m.type === 'WordPiece' || (m.continuing_subword_prefix && m.type !== 'BPE')) return { kind: 'prefix', prefix: m.continuing_subword_prefix ?? '##' };
  if (m.end_of_word_suffix) return { kind: 'suffix', suffix: m.end_of_word_suffix };
  const parts = JSON.stringify([json.pre_tokenizer ?? null, json.decoder ?? null]);
  if (parts.includes('"ByteLevel"')) return { kind: 'space', marker: 'Ġ' };
  if (parts.includes('"Metaspace"')) return { kind: 'space', marker: /"replacement":"([^"]+)"/.exec(parts)?.[1] ?? '▁' };
  if (m.continuing_subword_prefix) return { kind: 'prefix', prefix: m.continuing_subword_prefix };
  return { kind: 'none' };
}

/** A tokenizer from the parsed contents of a `tokenizer.json` (and `tokenizer_config.json`). */
export function tokenizerFromJson(json: unknown, config: unknown = {}, source = 'tokenizer.json'): TextTokenizer {
  let tk: Tokenizer;
  try {
    tk = new Tokenizer(json as object, (config ?? {}) as object);
  } catch (e) {
    throw new AttrLensError(`cannot use the tokenizer in ${source}: ${(e as Error).message}; it must be a Hugging Face tokenizer.json`);
  }
  return new TextTokenizer(tk, json as TokenizerJson, (config ?? {}) as TokenizerConfig, source);
}

/**
 * The equivalent of Hugging Face's BertTokenizer for a WordPiece `vocab.txt`: BERT's
 * normaliser (lowercasing unless `do_lower_case` is false), punctuation splitting, [CLS] $A [SEP].
 */
export function wordPieceFromVocab(vocabText: string, config: TokenizerConfig = {}, source = 'vocab.txt'): TextTokenizer {
  const vocab: Record<string, number> = {};
  vocabText.split(/\r?\n/).forEach((line, i) => {
    const tok = line.replace(/\r$/, '');
    if (tok.length && !(tok in vocab)) vocab[tok] = i;
  });
  const name = (v: TokenizerConfig['cls_token'], dflt: string) => tokenName(v) ?? dflt;
  const [cls, sep, unk, pad, mask] = [name(config.cls_token, '[CLS]'), name(config.sep_token, '[SEP]'), name(config.unk_token, '[UNK]'), name(config.pad_token, '[PAD]'), name(config.mask_token, '[MASK]')];
  if (!(unk in vocab)) throw new AttrLensError(`${source} has no unknown-word token '${unk}'; it must be a BERT-style WordPiece vocabulary`);
  const added = [pad, unk, cls, sep, mask].filter((t) => t in vocab).map((t) => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const lower = config.do_lower_case ?? true;
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: lower },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor:
      cls in vocab && sep in vocab
        ? {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
            pair: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: sep, type_id: 1 } }],
            special_tokens: { [cls]: { id: cls, ids: [vocab[cls]], tokens: [cls] }, [sep]: { id: sep, ids: [vocab[sep]], tokens: [sep] } },
          }
        : null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: unk, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
  return tokenizerFromJson(json, config, source);
}

/**
 * The tokenizer stored beside a model: `tokenizer.json` (with `tokenizer_config.json` when
 * present), else a WordPiece `vocab.txt`.
 */
export function loadTokenizer(dir: string, modelLabel = 'the model'): TextTokenizer {
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  const config = fs.existsSync(cfgFile) ? (readJson(cfgFile) as TokenizerConfig) : {};
  const tj = path.join(dir, 'tokenizer.json');
  if (fs.existsSync(tj)) return tokenizerFromJson(readJson(tj), config, tj);
  const vocab = path.join(dir, 'vocab.txt');
  if (fs.existsSync(vocab)) return wordPieceFromVocab(fs.readFileSync(vocab, 'utf8'), config, vocab);
  throw new AttrLensError(`no tokenizer for ${modelLabel}: looked for ${TOKENIZER_FILES.join(' and ')} in ${dir}; save the model's Hugging Face tokenizer there (tokenizer.save_pretrained)`);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new AttrLensError(`cannot read ${file}: ${(e as Error).message}; it must be valid JSON`);
  }
}
