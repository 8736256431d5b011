import { AttrLensError } from '../core/errors';
import { Tensor, sizeOf } from '../core/tensor';
import { MethodContext, inputTensor, targetScores, throwIfCancelled } from './base';

type Row = Tensor['data'];

/** Perturbations per run: the user's choice, else as many as keep a batch near 32 MB. */
export function perturbationsPerEval(ctx: MethodContext): number {
  const given = ctx.params.perturbationsPerEval as number | undefined;
  if (given) return given;
  if (ctx.lm.maxBatch <= 1) return 1;
  const bytes = inputTensor(ctx).data.byteLength;
  return Math.max(1, Math.min(64, Math.floor((32 << 20) / Math.max(1, bytes))));
}

/** Target scores of items start..start+n-1 of some sequence of perturbed inputs. */
export type Scorer = (start: number, n: number) => Promise<Float64Array>;

export interface BatchOptions {
  perEval?: number;
  phase?: string;
  partial?: () => Tensor;
  doneOffset?: number;
  grandTotal?: number;
}

/**
 * Evaluates output[:, target] on `count` perturbed copies of the attributed input, built by
 * `fill(i, row)` on a fresh copy of the input, `perEval` per model run. Scores reach
 * `onScores(start, scores)` batch by batch; `partial()` (if given) is streamed as progress.
 */
export async function evalPerturbed(
  ctx: MethodContext,
  count: number,
  fill: (i: number, row: Row) => void,
  onScores: (start: number, scores: Float64Array) => void,
  opts: BatchOptions = {},
): Promise<void> {
  const perEval = opts.perEval ?? perturbationsPerEval(ctx);
  await evalBatches(ctx, count, perEval, perturbedScorer(ctx, Math.min(perEval, count), fill), onScores, opts);
}

/**
 * Scores of items start..start+n-1 (n ≤ `perEval`), each a copy of the input changed by
 * `fill(i, row)`, through the forward model.
 */
export function perturbedScorer(ctx: MethodContext, perEval: number, fill: (i: number, row: Row) => void): Scorer {
  const x = inputTensor(ctx);
  const per = sizeOf(x.dims.slice(1));
  const Ctor = x.data.constructor as new (n: number) => Row;
  // One batch buffer for all runs: fresh memory is slow to touch, and a run is done with its
  // input once it resolves.
  const batch = new Ctor(per * perEval);
  return (start, n) => {
    const data = batch.subarray(0, per * n) as Row;
    for (let k = 0; k < n; k++) {
      const row = data.subarray(k * per, (k + 1) * per) as Row;
      (row as Float32Array).set(x.data as Float32Array);
      fill(start + k, row);
    }
    return targetScores(ctx, { dtype: x.dtype, dims: [n, ...x.dims.slice(1)], data }, perEval);
  };
}

/** Runs `score(start, n)` over `count` items `perEval` at a time, with progress and cancellation. */
export async function evalBatches(
  ctx: MethodContext,
  count: number,
  perEval: number,
  score: Scorer,
  onScores: (start: number, scores: Float64Array) => void,
  opts: BatchOptions = {},
): Promise<void> {
  let lastPartial = 0;
  for (let start = 0; start < count; start += perEval) {
    throwIfCancelled(ctx);
    const n = Math.min(perEval, count - start);
    onScores(start, await score(start, n));
    const now = performance.now();
    const done = (opts.doneOffset ?? 0) + start + n;
    const total = opts.grandTotal ?? count;
    if (opts.partial && (now - lastPartial > 200 || start + n >= count)) {
      lastPartial = now;
      ctx.progress({ done, total, phase: opts.phase, partial: opts.partial() });
    } else {
      ctx.progress({ done, total, phase: opts.phase });
    }
  }
}

/** f(x) for the unperturbed input, output[0, target]. */
export async function baseScore(ctx: MethodContext): Promise<number> {
  return (await targetScores(ctx, inputTensor(ctx)))[0];
}

/** Writes baseline values into `row` where `mask` holds (baseline is per element, input-shaped). */
export function ablate(row: Row, idx: ArrayLike<number>, baseline: Float32Array): void {
  if (row instanceof BigInt64Array) {
    for (let j = 0; j < idx.length; j++) row[idx[j]] = BigInt(Math.round(baseline[idx[j]]));
  } else {
    const r = row as Float32Array;
    for (let j = 0; j < idx.length; j++) r[idx[j]] = baseline[idx[j]];
  }
}

export function checkWindow(what: string, dims: number[], window: number[]): void {
  if (window.length !== dims.length) {
    throw new AttrLensError(`${what} has ${window.length} dimensions but the input (without batch) has ${dims.length}: [${dims}]`);
  }
  window.forEach((w, i) => {
    if (w > dims[i]) throw new AttrLensError(`${what} [${window}] is larger than the input [${dims}] in dimension ${i}; use a smaller window`);
  });
}
