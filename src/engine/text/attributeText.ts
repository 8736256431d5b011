import { AttrLensError } from '../core/errors';
import type { LoadedModel } from '../model/loadedModel';
import { attribute, getMethod } from '../methods/registry';
import { AttributeOptions, MethodInfo, Prediction } from '../methods/types';
import { Tensor } from '../core/tensor';
import { TextInputs, WordEmbedding, findWordEmbedding, requireTextInputs, textFeeds } from './textModel';
import { Encoded, TextTokenizer, loadTokenizer } from './tokenizer';
import * as fs from 'fs';
import * as path from 'path';

export type Granularity = 'token' | 'word';

export interface TextAttributeRequest {
  /** default `layer-integrated-gradients` */
  method?: string;
  /** output index, or a label name */
  target?: number | string;
  /**
   * the method's own parameters, plus `baselineToken` (a token such as "[MASK]", or an id;
   * default the pad token) that replaces every non-special token in the baseline
   */
  params?: Record<string, unknown>;
  /** unit that perturbation methods switch off: tokens or words (default: words for lime / kernel-shap, else tokens) */
  granularity?: Granularity;
}

export interface TextToken {
  text: string;
  id: number;
  score: number;
  special: boolean;
}

export interface TextWord {
  text: string;
  score: number;
  /** indices into `tokens` */
  tokenIndices: number[];
}

export interface TextAttributionResult {
  method: string;
  target: number;
  targetLabel?: string;
  predictions: Prediction[];
  /** the text's tokens (padding left out) with their scores */
  tokens: TextToken[];
  /** words (runs of subword tokens; special tokens belong to none); score = sum of their tokens' */
  words: TextWord[];
  /** sum of every token's score */
  sentenceScore: number;
  /** convergence delta (layer-integrated-gradients): sum of scores − (f(input) − f(baseline)) */
  delta?: number;
  /** the attributed embedding layer (gradient methods) */
  layer?: string;
  /** the unit perturbation methods switched off */
  granularity: Granularity;
  baselineToken: { id: number; text: string };
  /** tokens dropped because the model's fixed sequence length is shorter than the text */
  truncated: number;
  /** where the tokenizer came from (undefined when token ids were given directly) */
  tokenizer?: string;
  /** the parameters as resolved (tensors left out) */
  params: Record<string, unknown>;
  seconds: number;
}

/** Token ids already made: what `attributeTokens` needs when no tokenizer is involved. */
export interface TokenSequence extends Encoded {
  padId?: number;
  /** longest sequence for models of symbolic length */
  maxLength?: number;
  /** readable text of a run of ids (default: the token strings joined) */
  decode?: (ids: number[]) => string;
  idOf?: (token: string) => number | undefined;
  tokenOf?: (id: number) => string | undefined;
  source?: string;
}

type Mode = 'layer' | 'mask' | 'window';

const SURROGATES = new Set(['lime', 'kernel-shap']);

function modeOf(info: MethodInfo): Mode {
  const has = (n: string) => info.params.some((p) => p.name === n);
  if (info.family === 'layer' && has('layer')) return 'layer';
  if (has('slidingWindowShapes')) return 'window';
  if (has('featureMask') && info.id !== 'feature-permutation') return 'mask';
  throw new AttrLensError(
    `${info.id} cannot attribute a text model's token ids; use layer-integrated-gradients or layer-gradient-x-activation (on the word embeddings), occlusion, feature-ablation, lime or kernel-shap`,
  );
}

const tokenizers = new Map<string, TextTokenizer>();

/** The tokenizer beside a model (cached per folder and file time). */
export function tokenizerFor(lm: LoadedModel): TextTokenizer {
  const dir = lm.dir;
  if (!dir) throw new AttrLensError(`${lm.label} was not loaded from a file, so there is no folder to find its tokenizer in`);
  const stamp = ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json'].map((f) => {
    try {
      return fs.statSync(path.join(dir, f)).mtimeMs;
    } catch {
      return 0;
    }
  });
  const key = `${dir}|${stamp.join('|')}`;
  let tk = tokenizers.get(key);
  if (!tk) tokenizers.set(key, (tk = loadTokenizer(dir, lm.label)));
  return tk;
}

/**
 * Attributes a text classifier's prediction for `text` to its tokens and words: tokenises it
 * with the tokenizer beside the model and runs the method on the token ids.
 */
export async function attributeText(lm: LoadedModel, text: string, request: TextAttributeRequest = {}, opts: AttributeOptions = {}): Promise<TextAttributionResult> {
  const ti = requireTextInputs(lm);
  const tk = tokenizerFor(lm);
  const enc = tk.encode(text);
  return attributeTokens(
    lm,
    { ...enc, padId: tk.padId ?? tk.unkId, maxLength: tk.maxLength, decode: (ids) => tk.decode(ids), idOf: (t) => tk.idOf(t), tokenOf: (id) => tk.tokenOf(id), source: tk.source },
    request,
    opts,
    ti,
  );
}

/** The same for token ids made elsewhere (or for models without a tokenizer file). */
export async function attributeTokens(lm: LoadedModel, seq: TokenSequence, request: TextAttributeRequest = {}, opts: AttributeOptions = {}, ti = requireTextInputs(lm)): Promise<TextAttributionResult> {
  const started = performance.now();
  const methodId = request.method ?? 'layer-integrated-gradients';
  const info = getMethod(methodId).info;
  const mode = modeOf(info);
  const { baselineToken, ...given } = request.params ?? {};
  const padId = seq.padId ?? 0;
  // symbolic lengths take the text as it is, up to the tokenizer's limit (BERT's 512)
  const fit = fitLength(seq, ti.seqLen ?? (seq.maxLength && seq.ids.length > seq.maxLength ? seq.maxLength : undefined), padId);
  const L = fit.ids.length;
  const content = fit.ids.map((_, i) => i < fit.real && !fit.special[i]);
  if (!content.some(Boolean)) throw new AttrLensError('the text has no tokens to attribute (it is empty, or only special tokens)');

  const baseId = baselineId(baselineToken, seq, padId);
  const baseIds = fit.ids.map((id, i) => (content[i] ? baseId : id));
  const feeds = textFeeds(ti, fit.ids, fit.real);
  const params: Record<string, unknown> = { ...given };
  const has = (n: string) => info.params.some((p) => p.name === n);
  if (has('baselines') && params.baselines === undefined) params.baselines = { dtype: 'float32', dims: [1, L], data: Float32Array.from(baseIds) } satisfies Tensor;

  const granularity: Granularity = mode === 'mask' ? (request.granularity ?? (SURROGATES.has(info.id) ? 'word' : 'token')) : 'token';
  let emb: WordEmbedding | undefined;
  let groups: number[] | undefined;
  if (mode === 'layer') {
    if (params.layer === undefined) params.layer = (emb = findWordEmbedding(lm, ti)).layer;
  } else if (mode === 'window') {
    params.slidingWindowShapes ??= [1];
    params.strides ??= [1];
  } else if (params.featureMask === undefined) {
    groups = featureGroupsFor(fit.wordOf, content, granularity);
    params.featureMask = { dtype: 'float32', dims: [1, L], data: Float32Array.from(groups) } satisfies Tensor;
  }

  const res = await attribute(lm, feeds, { method: methodId, target: request.target, params, input: ti.ids.name }, opts);
  const attr = Object.values(res.attributions)[0];
  const perToken = tokenScores(attr, L, res.layer ?? emb?.layer);
  if (groups) {
    // A word's ablation value belongs to the whole word: spread it over its tokens so sums stay additive.
    if (granularity === 'word') spreadOverGroups(perToken, groups, content);
    // special tokens and padding only rode along in a feature, unchanged
    for (let i = 0; i < L; i++) if (!content[i]) perToken[i] = 0;
  }

  const tokens: TextToken[] = [];
  for (let i = 0; i < fit.real; i++) tokens.push({ text: fit.tokens[i], id: fit.ids[i], score: perToken[i], special: fit.special[i] });
  const words: TextWord[] = [];
  for (let i = 0; i < fit.real; i++) {
    const w = fit.wordOf[i];
    if (w < 0) continue;
    let word = words[w];
    if (!word) word = words[w] = { text: '', score: 0, tokenIndices: [] };
    word.tokenIndices.push(i);
    word.score += perToken[i];
  }
  const dense = words.filter(Boolean);
  for (const w of dense) w.text = seq.decode ? seq.decode(w.tokenIndices.map((i) => fit.ids[i])) : w.tokenIndices.map((i) => fit.tokens[i]).join('');

  return {
    method: res.method,
    target: res.target,
    targetLabel: res.targetLabel,
    predictions: res.predictions,
    tokens,
    words: dense,
    sentenceScore: tokens.reduce((a, t) => a + t.score, 0),
    delta: res.delta,
    layer: res.layer,
    granularity,
    baselineToken: { id: baseId, text: seq.tokenOf?.(baseId) ?? String(baseId) },
    truncated: fit.truncated,
    tokenizer: seq.source,
    params: plainParams(res.params),
    seconds: (performance.now() - started) / 1000,
  };
}

interface Fitted {
  ids: number[];
  tokens: string[];
  special: boolean[];
  wordOf: number[];
  /** tokens before the padding */
  real: number;
  truncated: number;
}

/**
 * Fits the tokens to a fixed sequence length: truncates the text between the leading and
 * trailing special tokens (keeping [CLS] ... [SEP]) or pads with the pad token.
 */
export function fitLength(seq: Encoded, seqLen: number | undefined, padId: number): Fitted {
  const n = seq.ids.length;
  const all = { ids: [...seq.ids], tokens: [...seq.tokens], special: [...seq.special], wordOf: [...seq.wordOf], real: n, truncated: 0 };
  if (seqLen === undefined || n === seqLen) return all;
  if (n < seqLen) {
    const pad = seqLen - n;
    all.ids.push(...new Array<number>(pad).fill(padId));
    all.tokens.push(...new Array<string>(pad).fill('[PAD]'));
    all.special.push(...new Array<boolean>(pad).fill(false));
    all.wordOf.push(...new Array<number>(pad).fill(-1));
    return all;
  }
  let head = 0;
  while (head < n && seq.special[head]) head++;
  let tail = 0;
  while (tail < n - head && seq.special[n - 1 - tail]) tail++;
  if (head + tail >= seqLen) tail = Math.max(0, seqLen - head);
  const keep = [...Array(Math.max(0, seqLen - head - tail)).keys()].map((k) => head + k);
  const idx = [...Array(Math.min(head, seqLen)).keys(), ...keep, ...[...Array(tail).keys()].map((k) => n - tail + k)].slice(0, seqLen);
  return {
    ids: idx.map((i) => seq.ids[i]),
    tokens: idx.map((i) => seq.tokens[i]),
    special: idx.map((i) => seq.special[i]),
    wordOf: idx.map((i) => seq.wordOf[i]),
    real: seqLen,
    truncated: n - seqLen,
  };
}

function baselineId(choice: unknown, seq: TokenSequence, padId: number): number {
  if (choice === undefined || choice === null || choice === '') return padId;
  if (typeof choice === 'number' || /^\d+$/.test(String(choice))) return Number(choice);
  const id = seq.idOf?.(String(choice));
  if (id === undefined) throw new AttrLensError(`baselineToken '${choice}' is not in the tokenizer's vocabulary; give a token it has (e.g. [MASK], [PAD]) or a token id`);
  return id;
}

/**
 * Feature ids for perturbation methods: one per content token (or word); special tokens and
 * padding join the first or last feature, where their baseline equals the input so the
 * ablation leaves them as they are.
 */
export function featureGroupsFor(wordOf: number[], content: boolean[], granularity: Granularity): number[] {
  const unit = content.map((c, i) => (c ? (granularity === 'word' ? wordOf[i] : i) : -1));
  const first = unit.find((u) => u >= 0)!;
  const firstAt = unit.findIndex((u) => u >= 0);
  let last = first;
  return unit.map((u, i) => {
    if (u >= 0) return (last = u);
    return i < firstAt ? first : last;
  });
}

function spreadOverGroups(scores: Float64Array, groups: number[], content: boolean[]): void {
  const count = new Map<number, number>();
  groups.forEach((g, i) => content[i] && count.set(g, (count.get(g) ?? 0) + 1));
  for (let i = 0; i < scores.length; i++) if (content[i]) scores[i] /= count.get(groups[i])!;
}

/** Per-token scores: input-shaped maps as they are, layer maps (1, L, D) summed over D. */
function tokenScores(attr: Tensor, L: number, layer: string | undefined): Float64Array {
  const n = attr.data.length;
  const d = attr.dims;
  const dim = n / L;
  if (!Number.isInteger(dim) || (dim > 1 && d[d.length - 1] !== dim)) throw new AttrLensError(`the attribution${layer ? ` at '${layer}'` : ''} has shape [${d}], which is not one row per token (${L} tokens); attribute to the word-embedding output`);
  const out = new Float64Array(L);
  const data = attr.data as Float32Array;
  for (let t = 0; t < L; t++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += data[t * dim + k];
    out[t] = s;
  }
  return out;
}

function plainParams(p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (v === undefined || typeof v !== 'object' || Array.isArray(v)) out[k] = v;
  return out;
}

export type { TextInputs };
