import type * as ortTypes from 'onnxruntime-node';
import { AttrLensError, throwIfAborted } from '../core/errors';
import { DType, Tensor } from '../core/tensor';
import { optimizedEntry } from './optimizedCache';

// onnxruntime loads lazily: the extension activates without paying for it.
let ortModule: typeof ortTypes | undefined;
export function ort(): typeof ortTypes {
  if (!ortModule) ortModule = require('onnxruntime-node') as typeof ortTypes;
  return ortModule;
}

export interface RuntimeOptions {
  /** intra-op threads; 0 lets onnxruntime choose */
  threads?: number;
  /** execution provider name: 'cpu' (default), 'cuda', 'dml', 'coreml' */
  executionProvider?: string;
}

export type Feeds = Record<string, Tensor>;

/** One onnxruntime session over model bytes. Knows nothing about the protobuf layer. */
export class Session {
  private constructor(private readonly session: ortTypes.InferenceSession, readonly inputNames: readonly string[], readonly outputNames: readonly string[]) {}

  /** Element type onnxruntime inferred for each graph output (known before any run). */
  outputTypes(): Map<string, string> {
    const m = new Map<string, string>();
    for (const o of this.session.outputMetadata ?? []) if (o.isTensor) m.set(o.name, String(o.type));
    return m;
  }

  /** `optimize: 'basic'` suits sessions run once or twice (probes): cheaper to create. */
  /** From model bytes, or from a model file (whose external data onnxruntime maps from disk). */
  static async create(bytes: Uint8Array | string, opts: RuntimeOptions = {}, label = 'model', optimize: 'all' | 'basic' = 'all'): Promise<Session> {
    const ep = checkProvider(opts.executionProvider ?? 'cpu');
    const so: ortTypes.InferenceSession.SessionOptions = {
      graphOptimizationLevel: optimize,
      executionProviders: ep === 'cpu' ? ['cpu'] : [ep, 'cpu'],
      intraOpNumThreads: opts.threads ?? 0,
      interOpNumThreads: 1,
      logSeverityLevel: 4,
      // A memory pattern is one more arena block per input shape (a chunk of 9 rows, then the
      // last 5), whose first touch slows a fresh process's second run; without it, ResNet-18's
      // IG-50 peaks at 580 MB, not 780, at the same warm speed.
      enableMemPattern: false,
      // Several sessions (forward, backward, probes) take turns on few cores; spinning pool
      // threads of an idle session would steal the cores from the busy one.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    };
    try {
      const s = typeof bytes === 'string' ? await createFromFile(bytes, so, ep === 'cpu' && optimize === 'all' ? { ...opts, optimize } : undefined) : await ort().InferenceSession.create(bytes, so);
      return new Session(s, s.inputNames, s.outputNames);
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0].slice(0, 300);
      // an op onnxruntime does not provide (custom domain, too new an opset): say what to do
      const hint = /not a registered function\/op|Could not find an implementation/i.test(msg) ? '; the model uses an operator onnxruntime does not provide: export it with standard ONNX operators' : '';
      throw new AttrLensError(`onnxruntime cannot load ${label}: ${msg}${hint}`);
    }
  }

  async run(feeds: Feeds, outputs?: readonly string[], signal?: AbortSignal): Promise<Record<string, Tensor>> {
    throwIfAborted(signal);
    const ortFeeds: Record<string, ortTypes.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = toOrt(t);
    let res: ortTypes.InferenceSession.ReturnType;
    try {
      res = outputs ? await this.session.run(ortFeeds, outputs as string[]) : await this.session.run(ortFeeds);
    } catch (e) {
      throw new AttrLensError(`onnxruntime failed to run the model: ${(e as Error).message.split('\n')[0].slice(0, 300)}`);
    }
    const out: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(res)) out[k] = fromOrt(v);
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * A session over a model file; with `cacheKey` (CPU, full optimisation), through the cache of
 * optimised models when the file is in the cache folder. A saved model that does not load is
 * dropped and the session built afresh, which saves it again.
 */
async function createFromFile(file: string, so: ortTypes.InferenceSession.SessionOptions, cacheKey: object | undefined): Promise<ortTypes.InferenceSession> {
  const entry = cacheKey ? optimizedEntry(file, cacheKey) : undefined;
  if (!entry) return ort().InferenceSession.create(file, so);
  if (entry.file) {
    try {
      // already optimised: running the optimisers again would find nothing to do
      return await ort().InferenceSession.create(entry.file, { ...so, graphOptimizationLevel: 'disabled' });
    } catch {
      entry.discard();
    }
  }
  let s: ortTypes.InferenceSession;
  try {
    s = await ort().InferenceSession.create(file, { ...so, optimizedModelFilePath: entry.save.optimizedModelFilePath, extra: { ...so.extra, session: { ...(so.extra as { session: object }).session, ...entry.save.extra } } });
  } catch {
    entry.discard();
    // e.g. the cache folder became read-only: the same session without saving (its error is the model's)
    return ort().InferenceSession.create(file, so);
  }
  entry.commit();
  return s;
}

/** Execution providers this platform's onnxruntime-node offers (cpu everywhere). */
export function availableProviders(): string[] {
  try {
    return ort().listSupportedBackends().map((b) => b.name);
  } catch {
    return ['cpu'];
  }
}

function checkProvider(ep: string): string {
  const name = ep.toLowerCase();
  const known = availableProviders();
  if (!known.includes(name)) {
    throw new AttrLensError(`execution provider '${ep}' is not available in onnxruntime-node on ${process.platform}-${process.arch}; available: ${known.join(', ')}`);
  }
  return name;
}

const ORT_TYPE: Record<DType, ortTypes.Tensor.Type> = {
  float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', uint8: 'uint8', int8: 'int8', bool: 'bool', float16: 'float16',
};

export function toOrt(t: Tensor): ortTypes.Tensor {
  return new (ort().Tensor)(ORT_TYPE[t.dtype], t.data as never, t.dims);
}

export function fromOrt(v: ortTypes.Tensor): Tensor {
  const dtype = v.type as DType;
  return { dtype, dims: [...v.dims].map(Number), data: v.data as Tensor['data'] };
}
