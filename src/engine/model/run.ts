// Running a session over any number of samples: chunks no larger than the model's batch limit,
// progress and cancellation between chunks, and the NaN check every forward result passes.
import { AttrLensError, throwIfAborted } from '../core/errors';
import { firstNaN } from '../onnx/guard';
import { Session } from '../runtime/session';
import { Tensor, concatRows, repeatRows, sizeOf, sliceRows } from '../core/tensor';

export interface Progress {
  done: number;
  total: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** largest batch per run; default: the model's own limit */
  batchSize?: number;
  /** feeds given once (dimension 0 is 1 and stays 1): the graph broadcasts them itself */
  shared?: readonly string[];
  /** a float feed made chunk by chunk into one reused buffer instead of given whole: rows start..start+n-1 */
  generated?: { name: string; rowDims: number[]; fill(start: number, n: number, data: Float32Array): void };
}

/**
 * Runs a session over feeds whose dimension 0 is the sample count, in chunks no larger
 * than the batch limit, reporting progress and honouring cancellation between chunks.
 * Feeds with dimension 0 equal to 1 are shared by every sample.
 */
export async function runChunked(session: Session, feeds: Record<string, Tensor>, outputs: readonly string[] | undefined, maxBatch: number, opts: RunOptions = {}): Promise<Record<string, Tensor>> {
  const total = Math.max(...Object.entries(feeds).filter(([k]) => !opts.shared?.includes(k)).map(([, t]) => t.dims[0] ?? 1));
  const limit = Math.max(1, Math.min(maxBatch, opts.batchSize ?? Infinity));
  const gen = opts.generated;
  const per = gen ? sizeOf(gen.rowDims) : 0;
  const buffer = gen ? new Float32Array(per * Math.min(limit, total)) : undefined;
  const parts: Array<Record<string, Tensor>> = [];
  for (let start = 0; start < total; start += limit) {
    throwIfAborted(opts.signal);
    const end = Math.min(total, start + limit);
    const chunk: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) {
      chunk[k] = opts.shared?.includes(k) ? t : t.dims[0] === total ? sliceRows(t, start, end) : t.dims[0] === 1 && total > 1 ? repeatRows(t, end - start) : t;
    }
    if (gen) {
      const data = buffer!.subarray(0, per * (end - start));
      gen.fill(start, end - start, data);
      chunk[gen.name] = { dtype: 'float32', dims: [end - start, ...gen.rowDims], data };
    }
    parts.push(await session.run(chunk, outputs, opts.signal));
    opts.onProgress?.({ done: end, total });
  }
  const out: Record<string, Tensor> = {};
  for (const k of Object.keys(parts[0])) out[k] = concatRows(parts.map((p) => p[k]));
  return out;
}

/** Throws when an output holds NaN; returns the outputs otherwise. */
export function checkOutputs(label: string, res: Record<string, Tensor>): Record<string, Tensor> {
  for (const [k, t] of Object.entries(res)) {
    const i = firstNaN(t);
    if (i < 0) continue;
    const rows = t.dims[0] ?? 1;
    const which = rows > 1 ? ` (perturbed copy ${Math.floor(i / Math.max(1, sizeOf(t.dims.slice(1)))) + 1} of ${rows})` : '';
    throw new AttrLensError(`${label}: the model's output '${k}' is NaN for this input${which}: no attribution can be computed; check the input's preprocessing (scale, mean/std) and the model's weights`, 'ENANOUTPUT');
  }
  return res;
}
