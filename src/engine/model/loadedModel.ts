import * as fs from 'fs';
import * as path from 'path';
import { AttrLensError } from '../core/errors';
import { BATCH_DIM } from '../onnx/batch';
import { IntegerInputs, promoteIntegerInputs } from '../onnx/integerInputs';
import { OnnxModel } from '../onnx/model';
import { runtimeVersion } from '../runtime/optimizedCache';
import { ort, RuntimeOptions, Session } from '../runtime/session';
import { ONNX_DTYPE, Tensor, repeatRows, sliceRows } from '../core/tensor';
import { batchVariant, chooseBatching } from './batching';
import { DiskCache, engineFingerprint } from './diskCache';
import { exampleFeeds } from './examples';
import { IOInfo } from './io';
import { LayerInfo, layersOf } from './layers';
import { ShapeInfo, StoredShapes, fromStored, openProbe, shapeKey, toStored } from './probe';
import { RunOptions, checkOutputs, runChunked } from './run';
import { SessionCache } from './sessions';

export type { IOInfo } from './io';
export { isFloatInput } from './io';
export type { ShapeInfo } from './probe';
export type { Progress, RunOptions } from './run';

/**
 * A model opened for attribution: the parsed graph, a batchable variant verified against
 * single runs, and cached sessions. Sits above the protobuf and runtime layers.
 */
export class LoadedModel {
  private shapeCache = new Map<string, Promise<ShapeInfo>>();
  /** Largest batch one run accepts: 1 when the batch rewrite did not verify. */
  maxBatch = 1;
  /** which batch rewrite the forward model carries (part of cache keys) */
  batchVariant = 'fixed';
  private disk = DiskCache.default();
  private store: SessionCache;
  forwardModel: OnnxModel;
  readonly inputs: IOInfo[];
  readonly outputs: IOInfo[];

  private constructor(readonly model: OnnxModel, readonly options: RuntimeOptions, ints?: IntegerInputs) {
    this.forwardModel = model;
    const io = (vi: (typeof model.graph.input)[number]): IOInfo => {
      const s = model.declaredShape(vi);
      return { name: vi.name ?? '', ...s, dtype: ONNX_DTYPE[s.elemType] };
    };
    this.inputs = model.realInputs().map((vi) => {
      const info = io(vi);
      const from = ints?.promoted.get(info.name);
      const why = ints?.refused.get(info.name);
      return { ...info, ...(from && { promotedFrom: from }), ...(why && { integerUse: why }) };
    });
    this.outputs = model.graph.output.map(io);
    this.store = new SessionCache(model, options, this.label, this.disk, () => this.contentKey);
  }

  get file(): string | undefined {
    return this.model.file;
  }
  get dir(): string | undefined {
    return this.model.file ? path.dirname(this.model.file) : undefined;
  }
  get label(): string {
    return this.model.name;
  }

  static async open(file: string, options: RuntimeOptions = {}): Promise<LoadedModel> {
    const abs = path.resolve(file);
    let key: string;
    try {
      const st = fs.statSync(abs);
      // ctime and inode too: a long-lived process (attrlens serve) must see a model rewritten at the same size and time
      key = `${abs}|${st.size}|${st.mtimeMs}|${st.ctimeMs}|${st.ino}|${JSON.stringify(options)}`;
    } catch {
      throw new AttrLensError(`cannot read model ${file}: no such file; check the path`);
    }
    let p = cache.get(key);
    // most recently used last, for trimOpenModels
    if (p) cache.delete(key);
    else {
      p = OnnxModel.loadAsync(abs, DiskCache.default()?.hashMemo(), ort).then((m) => LoadedModel.fromModel(m, options));
      p.catch(() => cache.delete(key));
    }
    cache.set(key, p);
    return p;
  }

  /** `diskCache: false` keeps everything in memory (one-off models such as the sanity check's randomised copies). */
  static async fromModel(model: OnnxModel, options: RuntimeOptions = {}, opts: { diskCache?: boolean } = {}): Promise<LoadedModel> {
    // integer pixel inputs become float in place of their Cast before anything else sees the graph
    const ints = promoteIntegerInputs(model);
    const lm = new LoadedModel(ints.model, options, ints);
    if (opts.diskCache === false) {
      lm.disk = undefined;
      lm.store = new SessionCache(lm.model, options, lm.label, undefined, () => lm.contentKey);
    }
    await lm.enableBatching();
    return lm;
  }

  /** Releases every session this model built (a model that is done with before the process ends). */
  release(): Promise<void> {
    return this.store.release();
  }

  /** Makes dimension 0 symbolic where single runs confirm it; otherwise batch 1. */
  private async enableBatching(): Promise<void> {
    if (this.inputs.some((i) => i.dims.length === 0)) return;
    // a rewrite that verified once for this content, engine, onnxruntime and options needs no
    // probe session and runs again (negative results are not kept: they may be passing failures)
    const diskKey = this.disk && this.model.contentHash ? `${engineFingerprint()}|${this.model.contentHash}|batching|${runtimeVersion()}|${JSON.stringify(this.options)}` : undefined;
    const known = diskKey ? this.disk!.getJson<{ variant?: unknown }>(diskKey)?.variant : undefined;
    const m = typeof known === 'string' ? batchVariant(this.model, known) : undefined;
    if (m) {
      this.forwardModel = m;
      this.maxBatch = Infinity;
      this.batchVariant = known as string;
      return;
    }
    const choice = await chooseBatching(this.model, this.options, this.label, this.outputs.map((o) => o.name), (v) => this.exampleFeeds(v));
    if (!choice) return;
    this.forwardModel = choice.model;
    this.maxBatch = Infinity;
    this.batchVariant = choice.variant;
    this.rememberShapes(choice.feeds, choice.shapes);
    if (diskKey) this.disk!.putJson(diskKey, { variant: choice.variant });
  }

  /** Deterministic batch-1 feeds for checks: a smooth float pattern, ones for integers. */
  exampleFeeds(variant: number): Record<string, Tensor> {
    return exampleFeeds(this, variant);
  }

  /** Cache key prefix naming this exact model content and batch rewrite. */
  get contentKey(): string | undefined {
    return this.model.contentHash ? `${engineFingerprint()}|${this.model.contentHash}|${this.batchVariant}` : undefined;
  }

  /** Whether `session(key, ...)` would return a session built earlier (or being built). */
  hasSession(key: string): boolean {
    return this.store.has(key);
  }

  /**
   * A cached session over a model derived from this one (e.g. a backward graph); with
   * `persist`, the derived bytes are also kept in the content-addressed disk cache.
   */
  session(key: string, build: () => OnnxModel | Uint8Array, persist = false): Promise<Session> {
    return this.store.get(key, build, persist);
  }

  forwardSession(): Promise<Session> {
    return this.session('forward', () => this.forwardModel);
  }

  /**
   * Runs a session over feeds whose dimension 0 is the sample count, in chunks no larger
   * than the batch limit, reporting progress and honouring cancellation between chunks.
   * Feeds with dimension 0 equal to 1 are shared by every sample.
   */
  runChunked(session: Session, feeds: Record<string, Tensor>, outputs: readonly string[] | undefined, opts: RunOptions = {}): Promise<Record<string, Tensor>> {
    return runChunked(session, feeds, outputs, this.maxBatch, opts);
  }

  /**
   * Forward pass over any number of samples. A NaN output is an error, not a value: every
   * method would silently turn it into a NaN map.
   */
  async forward(feeds: Record<string, Tensor>, outputs?: readonly string[], opts: RunOptions = {}): Promise<Record<string, Tensor>> {
    return this.checkOutputs(await this.runChunked(await this.forwardSession(), feeds, outputs, opts));
  }

  /** Throws when an output holds NaN; returns the outputs otherwise. */
  checkOutputs(res: Record<string, Tensor>): Record<string, Tensor> {
    return checkOutputs(this.label, res);
  }

  /** Forward values of intermediate tensors (a session exposing them is built once per set). */
  async intermediates(feeds: Record<string, Tensor>, names: string[], opts: RunOptions = {}): Promise<Record<string, Tensor>> {
    const key = valuesKey(names);
    const s = await this.session(key, () => {
      const m = this.forwardModel.clone();
      const have = new Set(m.graph.output.map((o) => o.name));
      for (const n of names) if (!have.has(n)) m.graph.output.push({ name: n });
      return m;
    });
    return this.runChunked(s, feeds, names, opts);
  }

  /** Dtypes and dims of every intermediate tensor for these feeds' shapes (one probe run, cached). */
  shapes(feeds: Record<string, Tensor>): Promise<ShapeInfo> {
    const key = shapeKey(feeds);
    let p = this.shapeCache.get(key);
    if (!p) {
      const diskKey = this.disk && this.contentKey ? `${this.contentKey}|shapes|${key}|${this.maxBatch}` : undefined;
      const stored = diskKey ? this.disk!.getJson<StoredShapes>(diskKey) : undefined;
      p = stored
        ? Promise.resolve(fromStored(stored))
        : this.probe(feeds).then((info) => {
            if (diskKey) this.disk!.putJson(diskKey, toStored(info));
            return info;
          });
      this.shapeCache.set(key, p);
      p.catch(() => this.shapeCache.delete(key));
    }
    return p;
  }

  private rememberShapes(feeds: Record<string, Tensor>, info: ShapeInfo): void {
    const key = shapeKey(feeds);
    this.shapeCache.set(key, Promise.resolve(info));
    if (this.disk && this.contentKey) this.disk.putJson(`${this.contentKey}|shapes|${key}|${this.maxBatch}`, toStored(info));
  }

  private async probe(feeds: Record<string, Tensor>): Promise<ShapeInfo> {
    const p = await openProbe(this.forwardModel, this.options, this.label);
    try {
      const one: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(feeds)) one[k] = sliceRows(t, 0, 1);
      const info = p.shapes(one, await p.run(one));
      if (this.maxBatch > 1) {
        const two: Record<string, Tensor> = {};
        for (const [k, t] of Object.entries(one)) two[k] = repeatRows(t, 2);
        info.dims2 = p.shapes(two, await p.run(two)).dims;
      }
      return info;
    } finally {
      await p.release();
    }
  }

  /** Float tensors that are not parameters: candidate layers for layer and CAM methods. */
  async layers(feeds?: Record<string, Tensor>): Promise<LayerInfo[]> {
    return layersOf(this.model, await this.shapes(feeds ?? this.exampleFeeds(1)));
  }
}

const cache = new Map<string, Promise<LoadedModel>>();

/**
 * Releases the sessions of all but the `keep` most recently opened models and forgets them (a
 * long-lived process such as `attrlens serve`, between commands: nothing may still use them).
 */
export async function trimOpenModels(keep: number): Promise<void> {
  const old = [...cache.entries()].slice(0, Math.max(0, cache.size - keep));
  for (const [key] of old) cache.delete(key);
  await Promise.all(old.map(([, p]) => p.then((lm) => lm.release(), () => undefined)));
}

/** The session key of `intermediates(feeds, names)`. */
export function valuesKey(names: string[]): string {
  return `values|${[...names].sort().join('|')}`;
}

export { BATCH_DIM };
