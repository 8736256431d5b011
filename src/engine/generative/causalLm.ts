import { AttrLensError, throwIfAborted } from '../core/errors';
import type { IOInfo, LoadedModel } from '../model/loadedModel';
import { Tensor } from '../core/tensor';

/** A decoder's inputs and outputs as optimum exports them. */
export interface CausalLmIO {
  ids: IOInfo;
  mask?: IOInfo;
  positions?: IOInfo;
  /** past_key_values.N.key / .value: fed empty (past length 0) */
  past: IOInfo[];
  /** decoder_model_merged's switch: false (no cache) */
  useCache?: IOInfo;
  /** [batch, sequence, vocab] */
  logits: IOInfo;
  vocabSize: number;
}

const IDS = /(^|[._/])input_ids$|^ids$|^tokens?$/i;
const MASK = /attention_mask$/i;
const POSITIONS = /position_ids$/i;
const PAST = /^past_key_values?[._]\d+[._](key|value)$|^past[._]/i;
const USE_CACHE = /use_cache/i;
const INT = new Set(['int64', 'int32']);

/** The model's causal-LM interface, or a reason it is not one. */
export function causalLmOf(lm: LoadedModel): CausalLmIO | string {
  const ints = lm.inputs.filter((i) => INT.has(i.dtype ?? ''));
  const ids = ints.find((i) => IDS.test(i.name)) ?? (ints.length === 1 ? ints[0] : undefined);
  if (!ids) return 'it has no integer token-id input (named like input_ids)';
  const out: Partial<CausalLmIO> & { past: IOInfo[] } = { ids, past: [] };
  for (const i of lm.inputs) {
    if (i === ids) continue;
    if (MASK.test(i.name)) out.mask = i;
    else if (POSITIONS.test(i.name)) out.positions = i;
    else if (PAST.test(i.name)) out.past.push(i);
    else if (USE_CACHE.test(i.name)) out.useCache = i;
    else return `input '${i.name}' is none of input_ids, attention_mask, position_ids, past_key_values.N.key/value`;
  }
  for (const p of out.past) {
    if (p.dims.length !== 4 || typeof p.dims[1] !== 'number' || typeof p.dims[3] !== 'number') {
      return `cache input '${p.name}' has shape [${p.dims.map((d) => d ?? '?').join(', ')}], not [batch, heads, past, head size] with fixed heads and head size`;
    }
  }
  const rank3 = lm.outputs.filter((o) => o.dims.length === 3);
  const logits = rank3.find((o) => /logits/i.test(o.name)) ?? (rank3.length === 1 ? rank3[0] : undefined);
  if (!logits) return `no output of shape [batch, sequence, vocab] (named logits); its outputs are ${lm.outputs.map((o) => `${o.name} [${o.dims.map((d) => d ?? '?').join(', ')}]`).join(', ')}`;
  if (logits.dtype !== 'float32') return `its output '${logits.name}' is ${logits.dtype ?? `type ${logits.elemType}`}, not float32 (export the decoder in float32, or cast the logits to float32 in the graph)`;
  const v = logits.dims[2];
  if (typeof v !== 'number' || v < 2) return `its output '${logits.name}' has no fixed vocabulary size (last dimension ${v ?? '?'})`;
  const seq = ids.dims[1];
  if (ids.dims.length !== 2) return `its token-id input '${ids.name}' has rank ${ids.dims.length}, not [batch, sequence]`;
  if (typeof seq === 'number' && seq > 0) return `its token-id input '${ids.name}' has a fixed length ${seq}: a causal LM takes sequences of any length (export it with dynamic axes)`;
  return { ...out, logits, vocabSize: v } as CausalLmIO;
}

/** Like causalLmOf, with the one-line error for models that are not causal LMs. */
export function requireCausalLm(lm: LoadedModel): CausalLmIO {
  const io = causalLmOf(lm);
  if (typeof io !== 'string') return io;
  throw new AttrLensError(
    `${lm.label} is not a causal language model: ${io}; generation needs integer input_ids [batch, sequence] → logits [batch, sequence, vocab] (an optimum export such as decoder_model.onnx)`,
    'ENOTLM',
  );
}

function intTensor(info: IOInfo, dims: number[], values: ArrayLike<number>): Tensor {
  if (info.dtype === 'int32') return { dtype: 'int32', dims, data: Int32Array.from(values) };
  return { dtype: 'int64', dims, data: BigInt64Array.from(Array.from(values, (v) => BigInt(v))) };
}

/**
 * Feeds for equal-length rows of token ids: mask all ones, positions 0..L−1, empty caches
 * (past length 0; heads and head size as declared), the merged model's cache branch off.
 */
export function lmFeeds(io: CausalLmIO, rows: number[][]): Record<string, Tensor> {
  const B = rows.length;
  const L = rows[0].length;
  if (rows.some((r) => r.length !== L)) throw new Error('lmFeeds: rows of different lengths');
  const flat = rows.flat();
  const feeds: Record<string, Tensor> = { [io.ids.name]: intTensor(io.ids, [B, L], flat) };
  if (io.mask) feeds[io.mask.name] = intTensor(io.mask, [B, L], new Array<number>(B * L).fill(1));
  if (io.positions) feeds[io.positions.name] = intTensor(io.positions, [B, L], rows.flatMap(() => [...Array(L).keys()]));
  for (const p of io.past) {
    const dims = [B, p.dims[1] as number, 0, p.dims[3] as number];
    feeds[p.name] = p.dtype === 'float16' ? { dtype: 'float16', dims, data: new Uint16Array(0) } : { dtype: 'float32', dims, data: new Float32Array(0) };
  }
  if (io.useCache) feeds[io.useCache.name] = { dtype: 'bool', dims: [1], data: Uint8Array.from([0]) };
  return feeds;
}

/** log-softmax of one row of logits, in float64 */
export function logSoftmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i] - lse;
  return out;
}

/** tokens (rows × sequence length) in one forward run of perturbed prompts */
const MAX_TOKENS_PER_RUN = 2048;
/** logits (rows × sequence length × vocabulary) in one run: 128 MB of float32 (a 50k vocabulary takes ~2600 tokens) */
const MAX_LOGITS_PER_RUN = 1 << 25;

export interface RunLmOptions {
  signal?: AbortSignal;
  /** rows per forward run (default: as many as fit MAX_TOKENS_PER_RUN tokens) */
  batchRows?: number;
  /** called after each batch with the rows scored so far */
  onBatch?: (done: number, total: number) => void;
}

/**
 * Teacher-forced log-probabilities: for each prompt (any lengths), log p(target_k | prompt,
 * target_<k) for every target token, from one forward of prompt + target per row. Rows of equal
 * length go through the model together, in batches.
 */
export async function targetLogProbs(lm: LoadedModel, io: CausalLmIO, prompts: number[][], target: number[], opts: RunLmOptions = {}): Promise<Float64Array[]> {
  const out: Float64Array[] = new Array(prompts.length);
  const byLength = new Map<number, number[]>();
  prompts.forEach((p, i) => byLength.set(p.length, [...(byLength.get(p.length) ?? []), i]));
  // bounded runs: memory stays small, and progress and cancellation come between them
  const seq = (prompts[0]?.length ?? 0) + target.length || 1;
  const rows = Math.min(MAX_TOKENS_PER_RUN / seq, MAX_LOGITS_PER_RUN / (seq * io.vocabSize));
  const limit = Math.max(1, Math.min(lm.maxBatch, opts.batchRows ?? Math.floor(rows)));
  let done = 0;
  const T = target.length;
  for (const [len, members] of byLength) {
    for (let s = 0; s < members.length; s += limit) {
      throwIfAborted(opts.signal);
      const chunk = members.slice(s, s + limit);
      // the last target token is never an input
      const rows = chunk.map((i) => [...prompts[i], ...target.slice(0, T - 1)]);
      const res = await lm.forward(lmFeeds(io, rows), [io.logits.name], { signal: opts.signal });
      const logits = res[io.logits.name];
      const Lr = rows[0].length;
      const V = io.vocabSize;
      const data = logits.data as Float32Array;
      chunk.forEach((pi, r) => {
        const lp = new Float64Array(T);
        for (let k = 0; k < T; k++) {
          const at = len - 1 + k; // the position that predicts target k
          const off = (r * Lr + at) * V;
          lp[k] = logSoftmax(data.subarray(off, off + V))[target[k]];
        }
        out[pi] = lp;
      });
      done += chunk.length;
      opts.onBatch?.(done, prompts.length);
      throwIfAborted(opts.signal);
    }
  }
  return out;
}

/** The logits of the last position for one sequence. */
export async function nextTokenLogits(lm: LoadedModel, io: CausalLmIO, ids: number[], signal?: AbortSignal): Promise<Float32Array> {
  const res = await lm.forward(lmFeeds(io, [ids]), [io.logits.name], { signal });
  const data = res[io.logits.name].data as Float32Array;
  const V = io.vocabSize;
  return data.slice((ids.length - 1) * V, ids.length * V);
}

/** The present.N.key/value output of every past input, when the export has them all: a usable cache. */
export function presentOutputs(lm: LoadedModel, io: CausalLmIO): string[] | undefined {
  if (!io.past.length) return undefined;
  const have = new Set(lm.outputs.map((o) => o.name));
  const names = io.past.map((p) => p.name.replace(/^past_key_values?|^past/, 'present'));
  return names.every((n) => have.has(n)) ? names : undefined;
}

/**
 * Next-token logits for a growing sequence. With a cache (past_key_values inputs and their
 * present outputs) each step feeds only the new tokens, at their positions, with the cache of
 * the steps before; otherwise the whole sequence runs again.
 */
export class Decoder {
  private readonly presents: string[] | undefined;
  private cache: Tensor[] | undefined;
  private fed = 0;

  constructor(private readonly lm: LoadedModel, private readonly io: CausalLmIO, private readonly signal?: AbortSignal) {
    this.presents = presentOutputs(lm, io);
  }

  get incremental(): boolean {
    return this.presents !== undefined;
  }

  async next(ids: number[]): Promise<Float32Array> {
    if (!this.presents) return nextTokenLogits(this.lm, this.io, ids, this.signal);
    const fresh = ids.slice(this.fed);
    const feeds = lmFeeds(this.io, [fresh]);
    const past = this.fed;
    if (this.io.mask) feeds[this.io.mask.name] = intTensor(this.io.mask, [1, past + fresh.length], new Array<number>(past + fresh.length).fill(1));
    if (this.io.positions) feeds[this.io.positions.name] = intTensor(this.io.positions, [1, fresh.length], fresh.map((_, i) => past + i));
    if (this.cache) this.io.past.forEach((p, i) => (feeds[p.name] = this.cache![i]));
    if (this.io.useCache) feeds[this.io.useCache.name] = { dtype: 'bool', dims: [1], data: Uint8Array.from([past > 0 ? 1 : 0]) };
    const res = await this.lm.forward(feeds, [this.io.logits.name, ...this.presents], { signal: this.signal });
    this.cache = this.presents.map((n) => res[n]);
    this.fed = ids.length;
    const V = this.io.vocabSize;
    const data = res[this.io.logits.name].data as Float32Array;
    return data.slice((fresh.length - 1) * V, fresh.length * V);
  }
}
