import { createHash } from 'crypto';
import { AttrLensError, throwIfAborted } from '../core/errors';
import { LoadedModel } from '../model/loadedModel';
import { attr } from '../onnx/attributes';
import { GraphBuilder, valueInfo } from '../onnx/builder';
import { OnnxModel } from '../onnx/model';
import { NodeProto } from '../onnx/proto';
import { attribute } from '../methods/registry';
import { Rng } from '../methods/rng';
import { Tensor } from '../core/tensor';
import { TextInputs, findWordEmbedding } from '../text/textModel';
import { CausalLmIO, Decoder, lmFeeds, requireCausalLm, targetLogProbs } from './causalLm';
import { PromptFeatures, PromptGranularity, TemplateSpec, templateFeatures, tokenFeatures } from './features';
import { LmTokenizer, lmTokenizerFor } from './lmTokenizer';
import { generativeMethod } from './methods/registry';
import { ParamValue } from './methods/types';

export interface GenerationRequest {
  /** the prompt (or give `template`) */
  text?: string;
  /** Captum's TextTemplateInput: segments are the features */
  template?: TemplateSpec;
  /** greedy decoding of up to this many tokens, stopping at EOS (default 25, Captum's max_new_tokens) */
  generate?: number;
  /** a given continuation, teacher-forced (instead of generating) */
  targetText?: string;
  /** default feature-ablation */
  method?: string;
  /** prompt features: tokens (default) or words; a template's are its segments */
  granularity?: 'token' | 'word';
  /** method parameters (nSamples, seed, alpha, kernelWidth, nSteps, method) and baselineToken (a token or id; default pad, else eos, else 0) */
  params?: Record<string, unknown>;
}

export interface GenerationProgress {
  done: number;
  total: number;
  phase: string;
}

export interface GenerationOptions {
  signal?: AbortSignal;
  onProgress?: (p: GenerationProgress) => void;
}

export interface GenerationAttributionResult {
  method: string;
  captumName: string;
  granularity: PromptGranularity;
  prompt: string;
  /** the continuation's text */
  continuation: string;
  /** how the continuation was obtained */
  targetSource: 'generated' | 'given';
  /** every prompt token (special ones included), as the model saw it */
  promptIds: number[];
  /** the sequence attribution: one score per prompt feature (Captum's seq_attr) */
  prompt_tokens: Array<{ token: string; score: number; positions?: number[] }>;
  /** the continuation's tokens with log p(token | prompt, earlier tokens) */
  generated_tokens: Array<{ token: string; id: number; logprob: number }>;
  /** log p(continuation | prompt): the sum of the tokens' log-probabilities */
  sequenceLogprob: number;
  /** generated × prompt feature (Captum's token_attr); null for lime and kernel-shap, as in Captum */
  matrix: number[][] | null;
  /** layer-integrated-gradients: Σ scores − (log p(continuation | prompt) − log p(continuation | baseline prompt)) */
  delta?: number;
  /** layer-integrated-gradients: the attributed embedding output */
  layer?: string;
  baseline: { id?: number; token?: string; segments?: string[] };
  /** how the continuation was generated: with the export's key/value cache, one new token per step, or the whole sequence each step */
  decoding?: 'incremental' | 'full';
  /** generation stopped at the model's last position */
  truncatedAt?: number;
  chatTemplate: boolean;
  params: Record<string, ParamValue>;
  evaluations: number;
  seconds: number;
}

const DEFAULT_NEW_TOKENS = 25;
const MAX_NEW_TOKENS = 1024;

/** Captum's LLMAttribution / LLMGradientAttribution on an ONNX causal LM. */
export async function attributeGeneration(lm: LoadedModel, request: GenerationRequest, opts: GenerationOptions = {}): Promise<GenerationAttributionResult> {
  const started = performance.now();
  const io = requireCausalLm(lm);
  const tok = lmTokenizerFor(lm, io);
  const method = generativeMethod(request.method ?? 'feature-ablation');
  const { baselineToken, ...given } = request.params ?? {};
  const params = resolveParams(method.info.defaults, given, method.info.id);
  if (request.generate !== undefined && request.targetText !== undefined) throw new AttrLensError('give either --generate N or --target-text, not both');

  // ---- prompt features
  const baseId = baselineIdOf(baselineToken, tok, io.vocabSize);
  let feats: PromptFeatures;
  if (request.template) {
    if (request.granularity) throw new AttrLensError('--granularity does not apply to --template: the template\'s segments are the features');
    feats = templateFeatures(tok, request.template);
  } else {
    if (!request.text || !request.text.trim()) throw new AttrLensError('the prompt is empty; give the text the model should continue (--text "...")');
    feats = tokenFeatures(tok, request.text, request.granularity ?? 'token', baseId);
  }
  const prompt = feats.text;
  const maxPos = tok.config.maxPositions;
  if (maxPos !== undefined && feats.ids.length > maxPos) {
    throw new AttrLensError(`the prompt is ${feats.ids.length} tokens but the model takes at most ${maxPos} positions (config.json max_position_embeddings); shorten the prompt`);
  }

  // ---- the continuation
  let target: number[];
  let truncatedAt: number | undefined;
  let decoding: 'incremental' | 'full' | undefined;
  if (request.targetText !== undefined) {
    target = encodeTarget(tok, request.targetText);
    if (maxPos !== undefined && feats.ids.length + target.length - 1 > maxPos) {
      throw new AttrLensError(`the prompt (${feats.ids.length} tokens) and --target-text (${target.length}) exceed the model's ${maxPos} positions; shorten one of them`);
    }
  } else {
    const n = request.generate ?? DEFAULT_NEW_TOKENS;
    if (!Number.isInteger(n) || n < 1 || n > MAX_NEW_TOKENS) throw new AttrLensError(`--generate must be a whole number of tokens from 1 to ${MAX_NEW_TOKENS}, not ${n}`);
    const g = await greedy(lm, io, tok, feats.ids, n, maxPos, opts);
    ({ target, truncatedAt } = g);
    decoding = g.incremental ? 'incremental' : 'full';
  }
  const clean = (await targetLogProbs(lm, io, [feats.ids], target, { signal: opts.signal }))[0];
  const generated = target.map((id, k) => ({ token: tok.pretty(id), id, logprob: clean[k] }));

  // ---- attribution
  let rows: Float64Array[];
  let delta: number | undefined;
  let layer: string | undefined;
  let evaluations = 0;
  if (method.kind === 'perturbation') {
    const fallback = tok.config.bosId ?? tok.config.eosIds[0] ?? baseId;
    rows = await method.run({
      features: feats.labels.length,
      targets: target.length,
      params,
      rng: new Rng(Number(params.seed ?? 0)),
      evaluate: async (vectors) => {
        throwIfAborted(opts.signal);
        // a template whose segments are all removed may leave no token: the model needs one
        const prompts = vectors.map((v) => {
          const ids = feats.build(v);
          return ids.length ? ids : [fallback];
        });
        const lps = await targetLogProbs(lm, io, prompts, target, {
          signal: opts.signal,
          onBatch: (done, total) => opts.onProgress?.({ done: evaluations + done, total: evaluations + total, phase: method.info.id }),
        });
        evaluations += vectors.length;
        throwIfAborted(opts.signal);
        return lps.map((lp) => Float64Array.from([lp.reduce((a, b) => a + b, 0), ...lp]));
      },
    });
  } else {
    if (!feats.positions) throw new AttrLensError(`${method.info.id} attributes to token embeddings, not template segments (as Captum's LLMGradientAttribution takes TextTokenInput only); use feature-ablation, shapley-value-sampling, kernel-shap or lime with --template, or give --text`);
    const g = await gradientRows(lm, io, feats, target, params, opts);
    rows = [g.rows.reduce((acc, r) => acc.map((v, i) => v + r[i]), new Float64Array(feats.labels.length)), ...g.rows];
    delta = g.delta;
    layer = g.layer;
    evaluations = target.length;
  }

  const seq = rows[0];
  return {
    method: method.info.id,
    captumName: method.info.captumName,
    granularity: feats.granularity,
    prompt,
    continuation: tok.tk.decode(target),
    targetSource: request.targetText !== undefined ? 'given' : 'generated',
    promptIds: feats.ids,
    prompt_tokens: feats.labels.map((token, f) => ({ token, score: seq[f], ...(feats.positions && { positions: feats.positions[f] }) })),
    generated_tokens: generated,
    sequenceLogprob: clean.reduce((a, b) => a + b, 0),
    matrix: method.info.perToken ? rows.slice(1).map((r) => Array.from(r)) : null,
    ...(delta !== undefined && { delta }),
    ...(layer && { layer }),
    baseline: request.template ? { segments: templateBaselines(request.template) } : { id: baseId, token: tok.pretty(baseId) },
    ...(truncatedAt !== undefined && { truncatedAt }),
    ...(decoding && { decoding }),
    chatTemplate: tok.config.chatTemplate,
    params,
    evaluations,
    seconds: (performance.now() - started) / 1000,
  };
}

function templateBaselines(t: TemplateSpec): string[] {
  const keys = Array.isArray(t.values) ? t.values.map((_, i) => i) : Object.keys(t.values);
  return keys.map((k) => (t.baselines ? String((t.baselines as Record<string | number, string>)[k] ?? '') : ''));
}

function resolveParams(defaults: Record<string, ParamValue>, given: Record<string, unknown>, id: string): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = { ...defaults };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    if (!(k in defaults)) throw new AttrLensError(`${id} has no parameter '${k}'${Object.keys(defaults).length ? `; its parameters are ${Object.keys(defaults).join(', ')}` : ''} (and baselineToken)`);
    if (typeof defaults[k] === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || ((k === 'nSamples' || k === 'nSteps') && (!Number.isInteger(n) || n < 1 || n > 100000))) throw new AttrLensError(`${id}: ${k} must be a ${k === 'nSamples' || k === 'nSteps' ? 'whole number from 1 to 100000' : 'non-negative number'}, not ${JSON.stringify(v)}`);
      out[k] = n;
    } else out[k] = String(v);
  }
  return out;
}

function baselineIdOf(choice: unknown, tok: LmTokenizer, vocabSize: number): number {
  if (choice === undefined || choice === null || choice === '') return tok.config.padId ?? tok.config.eosIds[0] ?? 0;
  // a negative id would wrap around in Gather and quietly pick another token
  if (typeof choice === 'number' || /^-?\d+(\.\d*)?$/.test(String(choice))) {
    const n = Number(choice);
    if (!Number.isInteger(n) || n < 0 || n >= vocabSize) throw new AttrLensError(`baselineToken ${JSON.stringify(choice)} is not a token id of this model (0 to ${vocabSize - 1}); give an id in that range or a token such as the pad or eos token`);
    return n;
  }
  const id = tok.tk.idOf(String(choice));
  if (id === undefined) throw new AttrLensError(`baselineToken '${choice}' is not in the tokenizer's vocabulary; give a token it has (e.g. the pad or eos token) or a token id`);
  return id;
}

function encodeTarget(tok: LmTokenizer, text: string): number[] {
  const enc = tok.encodeTarget(text);
  if (!enc.ids.length) throw new AttrLensError(`--target-text ${JSON.stringify(text)} encodes to no tokens; give the continuation to explain, in words the model knows`);
  const unk = tok.tk.unkId;
  const unkText = unk === undefined ? undefined : tok.tk.tokenOf(unk);
  if (unk !== undefined && enc.ids.includes(unk) && !(unkText && text.includes(unkText))) {
    throw new AttrLensError(`--target-text ${JSON.stringify(text)} has words the tokenizer does not know (they encode to ${unkText ?? 'the unknown token'}); give a continuation in the model's vocabulary`);
  }
  return enc.ids;
}

async function greedy(lm: LoadedModel, io: CausalLmIO, tok: LmTokenizer, prompt: number[], n: number, maxPos: number | undefined, opts: GenerationOptions): Promise<{ target: number[]; truncatedAt?: number; incremental: boolean }> {
  const ids = [...prompt];
  const target: number[] = [];
  const decoder = new Decoder(lm, io, opts.signal);
  const incremental = decoder.incremental;
  const eos = new Set(tok.config.eosIds);
  for (let k = 0; k < n; k++) {
    // a step feeds every id so far: maxPos of them still predict one more token
    if (maxPos !== undefined && ids.length > maxPos) return { target, truncatedAt: maxPos, incremental };
    const logits = await decoder.next(ids);
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    target.push(best);
    ids.push(best);
    opts.onProgress?.({ done: k + 1, total: n, phase: 'generating' });
    if (eos.has(best)) break;
  }
  return { target, incremental };
}

// ---------------------------------------------------------------- gradients

function onlyInputsOf(lm: LoadedModel, feeds: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(lm.inputs.map((i) => [i.name, feeds[i.name]]).filter(([, t]) => t !== undefined));
}

const derived = new WeakMap<LoadedModel, Promise<LoadedModel>>();
export const NEXT_LOGPROBS = 'next_token_logprobs';

/** The model ending in the last position's log-softmax [batch, vocab]: the gradient target. */
export function nextTokenModel(lm: LoadedModel, io: CausalLmIO): Promise<LoadedModel> {
  let p = derived.get(lm);
  if (!p) {
    const m = lm.model.clone();
    m.contentHash = m.contentHash && createHash('sha256').update(`${m.contentHash}|${NEXT_LOGPROBS}`).digest('hex');
    const b = new GraphBuilder(m);
    const last = b.squeeze(b.slice(io.logits.name, [-1], [Number.MAX_SAFE_INTEGER], [1]), [1]);
    b.add('LogSoftmax', [last], { axis: attr.int(-1) }, [NEXT_LOGPROBS]);
    m.graph.output = [valueInfo(NEXT_LOGPROBS, 1, ['batch_size', io.vocabSize])];
    dropEmptyCaches(m, io);
    p = LoadedModel.fromModel(m, lm.options);
    derived.set(lm, p);
    p.catch(() => derived.delete(lm));
  }
  return p;
}

// Ops that keep an empty cache empty on its way to the Concat that prepends it.
const KEEPS_EMPTY = new Set(['Squeeze', 'Unsqueeze', 'Reshape', 'Transpose', 'Cast', 'Identity']);

/**
 * Takes the (always empty) past_key_values inputs out of the gradient model where they only
 * pass through shape ops into a Concat: zero-length tensors have no place in a backward graph.
 * Leaves the model as it is when a cache is used otherwise (e.g. its Shape gives the past length).
 */
function dropEmptyCaches(m: OnnxModel, io: CausalLmIO): void {
  if (!io.past.length) return;
  const g = m.graph;
  const empty = new Set(io.past.map((p) => p.name));
  for (const n of g.node) if (KEEPS_EMPTY.has(n.opType) && empty.has(n.input[0])) for (const o of n.output) empty.add(o);
  const passing = new Set<NodeProto>();
  for (const n of g.node) {
    if (!n.input.some((i) => empty.has(i))) continue;
    if (KEEPS_EMPTY.has(n.opType) && empty.has(n.input[0]) && !n.input.slice(1).some((i) => empty.has(i))) passing.add(n);
    else if (n.opType !== 'Concat' || n.input.every((i) => empty.has(i))) return;
  }
  for (const n of g.node) if (n.opType === 'Concat') n.input = n.input.filter((i) => !empty.has(i));
  g.node = g.node.filter((n) => !passing.has(n));
  g.input = g.input.filter((i) => !io.past.some((p) => p.name === i.name));
}

async function gradientRows(
  lm: LoadedModel,
  io: CausalLmIO,
  feats: PromptFeatures,
  target: number[],
  params: Record<string, ParamValue>,
  opts: GenerationOptions,
): Promise<{ rows: Float64Array[]; delta: number; layer: string }> {
  const next = await nextTokenModel(lm, io);
  const emb = findWordEmbedding(next, { ids: io.ids } as TextInputs);
  const baseIds = feats.build(new Uint8Array(feats.labels.length));
  const rows: Float64Array[] = [];
  let delta = 0;
  const cached = next.inputs.some((i) => io.past.some((p) => p.name === i.name));
  for (let k = 0; k < target.length; k++) {
    throwIfAborted(opts.signal);
    // the earlier targets are part of both the input and the baseline
    const ids = [...feats.ids, ...target.slice(0, k)];
    const base = [...baseIds, ...target.slice(0, k)];
    const res = await attribute(
      next,
      onlyInputsOf(next, lmFeeds(io, [ids])),
      {
        method: 'layer-integrated-gradients',
        input: io.ids.name,
        output: NEXT_LOGPROBS,
        target: target[k],
        params: { layer: emb.layer, baselines: { dtype: 'float32', dims: [1, ids.length], data: Float32Array.from(base) } satisfies Tensor, nSteps: params.nSteps, method: params.method },
      },
      { signal: opts.signal },
    ).catch((e: unknown) => {
      // a cache used beyond a Concat (its Shape as the past length, ...) stays in the graph
      if (!cached || (e as Error)?.name === 'CancelledError') throw e;
      throw new AttrLensError(`layer-integrated-gradients cannot differentiate ${lm.label} through its past_key_values inputs (${(e as Error).message}); use the export without a cache (optimum's decoder_model.onnx) or a perturbation method such as feature-ablation`);
    });
    opts.onProgress?.({ done: k + 1, total: target.length, phase: 'layer-integrated-gradients' });
    const a = Object.values(res.attributions)[0];
    const L = ids.length;
    const D = a.data.length / L;
    const data = a.data as Float32Array;
    const perPos = new Float64Array(L);
    for (let t = 0; t < L; t++) for (let d = 0; d < D; d++) perPos[t] += data[t * D + d];
    rows.push(Float64Array.from(feats.positions!, (ps) => ps.reduce((s, i) => s + perPos[i], 0)));
    delta += res.delta ?? 0;
  }
  return { rows, delta, layer: emb.layer };
}
