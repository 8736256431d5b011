import * as fs from 'fs';
import * as path from 'path';
import { DiskCache, engineFingerprint } from './cache';
import { AttrLensError, throwIfAborted } from './errors';
import { firstNaN } from './guard';
import { BATCH_DIM, hasSymbolicBatch, makeBatchSymbolic } from './onnx/batch';
import { IntegerInputs, promoteIntegerInputs } from './onnx/integerInputs';
import { OnnxModel, TensorShape } from './onnx/model';
import { NodeProto } from './onnx/proto';
import { upgradeOpset } from './onnx/upgrade';
import { leaseScratch } from './onnx/wire';
import { inputStride } from './onnx/stride';
import { configuredSize, inferLayout } from './inputs/preprocess';
import { valueInfo } from './onnx/builder';
import { RuntimeOptions, Session } from './runtime/session';
import { DType, ONNX_DTYPE, Tensor, concatRows, isFloatCode, repeatRows, sizeOf, sliceRows } from './tensor';

export interface IOInfo extends TensorShape {
  name: string;
  dtype?: DType;
  /** the integer type ('uint8', ...) the model declared: the input now takes float32 in place of its Cast to float */
  promotedFrom?: string;
  /** why an integer input that is cast to float was left as it is (it is also used as integers) */
  integerUse?: string;
}

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

/** Probe result: every intermediate tensor's dtype and dims for one input shape. */
export interface ShapeInfo {
  dims: Map<string, number[]>;
  dtype: Map<string, DType>;
  /** dims of the same tensors at batch 2 (when the model batches), to tell batch axes apart */
  dims2?: Map<string, number[]>;
}

/**
 * A model opened for attribution: the parsed graph, a batchable variant verified against
 * single runs, and cached sessions. Sits above the protobuf and runtime layers.
 */
export class LoadedModel {
  private sessions = new Map<string, Promise<Session>>();
  private shapeCache = new Map<string, Promise<ShapeInfo>>();
  /** Largest batch one run accepts: 1 when the batch rewrite did not verify. */
  maxBatch = 1;
  /** which batch rewrite the forward model carries (part of cache keys) */
  batchVariant = 'fixed';
  private disk = DiskCache.default();
  private weightsLayout: { file: string; at: Map<ArrayBufferLike, Map<number, number>> } | null | undefined;
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
      key = `${abs}|${st.size}|${st.mtimeMs}|${JSON.stringify(options)}`;
    } catch {
      throw new AttrLensError(`cannot read model ${file}: no such file; check the path`);
    }
    let p = cache.get(key);
    if (!p) {
      p = LoadedModel.fromModel(OnnxModel.load(abs), options);
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p;
  }

  /** `diskCache: false` keeps everything in memory (one-off models such as the sanity check's randomised copies). */
  static async fromModel(model: OnnxModel, options: RuntimeOptions = {}, opts: { diskCache?: boolean } = {}): Promise<LoadedModel> {
    // integer pixel inputs become float in place of their Cast before anything else sees the graph
    const ints = promoteIntegerInputs(model);
    const lm = new LoadedModel(ints.model, options, ints);
    if (opts.diskCache === false) lm.disk = undefined;
    await lm.enableBatching();
    return lm;
  }

  /** Releases every session this model built (a model that is done with before the process ends). */
  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((p) => p.then((s) => s.release(), () => undefined)));
  }

  /** Makes dimension 0 symbolic where single runs confirm it; otherwise batch 1. */
  private async enableBatching(): Promise<void> {
    if (this.inputs.some((i) => i.dims.length === 0)) return;
    const candidates: Array<[string, () => OnnxModel]> = hasSymbolicBatch(this.model)
      ? [['native', () => this.model]]
      : [['dims', () => makeBatchSymbolic(this.model, false)], ['repaired', () => makeBatchSymbolic(this.model, true)]];
    // One session per candidate both checks the rewrite and records every tensor's shape at
    // batch 1 and 2 (the probe the backward-graph builder needs), so a cold start pays once.
    for (const [variant, make] of candidates) {
      const m = make();
      let p: Probe | undefined;
      try {
        p = await this.openProbe(m);
        const a = this.exampleFeeds(1);
        const b = this.exampleFeeds(2);
        const both: Record<string, Tensor> = {};
        for (const k of Object.keys(a)) both[k] = concatRows([a[k], b[k]]);
        const outs = this.outputs.map((o) => o.name);
        const [ra, rb, rab] = [await p.run(a), await p.run(b, outs), await p.run(both)];
        if (outputsAgree(outs, ra, rb, rab)) {
          this.forwardModel = m;
          this.maxBatch = Infinity;
          this.batchVariant = variant;
          const info = p.shapes(a, ra);
          info.dims2 = p.shapes(both, rab).dims;
          this.rememberShapes(a, info);
          return;
        }
      } catch {
        // this rewrite does not load or run: try the next, then stay at batch 1
      } finally {
        await p?.release();
      }
    }
  }

  /**
   * A probe session over `base` (opset-upgraded: backward graphs are built on it, and the
   * upgrade adds tensors that need shapes too): its runs fetch every tensor's shape, and its
   * weights are fed from the model's bytes instead of copied into the session.
   */
  private async openProbe(base: OnnxModel): Promise<Probe> {
    const m = probeModel(base);
    const lease = leaseScratch();
    try {
      const weights = detachWeights(m, lease.alloc);
      const s = await Session.create(m.toBytes(), this.options, this.label, 'basic');
      const fetch = probeOutputs(m, base);
      const types = s.outputTypes();
      return {
        run: (feeds, outputs = fetch) => s.run({ ...feeds, ...weights }, outputs),
        shapes: (feeds, res) => shapeInfo(m, { ...feeds, ...weights }, res, types),
        release: async () => {
          await s.release();
          lease.release();
        },
      };
    } catch (e) {
      lease.release();
      throw e;
    }
  }

  /** Deterministic batch-1 feeds for checks: a smooth float pattern, ones for integers. */
  exampleFeeds(variant: number): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = {};
    for (const inp of this.inputs) {
      const dims = this.exampleDims(inp);
      const n = sizeOf(dims);
      if (inp.dtype === 'float32') {
        const data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37 * variant + variant) * 0.5;
        feeds[inp.name] = { dtype: 'float32', dims, data };
      } else if (inp.dtype === 'int64') {
        feeds[inp.name] = { dtype: 'int64', dims, data: new BigInt64Array(n).fill(BigInt(variant)) };
      } else if (inp.dtype === 'int32') {
        feeds[inp.name] = { dtype: 'int32', dims, data: new Int32Array(n).fill(variant) };
      } else if (inp.dtype === 'bool' || inp.dtype === 'uint8') {
        feeds[inp.name] = { dtype: inp.dtype, dims, data: new Uint8Array(n).fill(1) };
      } else {
        throw new AttrLensError(`${this.label}: input '${inp.name}' has type ${inp.dtype ?? inp.elemType}, which the engine cannot feed`);
      }
    }
    return feeds;
  }

  /**
   * Dims to probe an input at: fixed dims as they are; symbolic height/width of an image input
   * at the size its preprocessing config gives, else at a small size the model accepts (twice
   * its stride: an FPN that merges 32x maps takes multiples of 32); other symbolic dims at 8.
   */
  private exampleDims(inp: IOInfo): number[] {
    const dims = inp.dims.map((d, i) => (i === 0 ? 1 : typeof d === 'number' && d > 0 ? d : 8));
    if (inp.dims.length !== 4) return dims;
    const axes = inferLayout(inp.dims) === 'NCHW' ? [2, 3] : [1, 2];
    if (axes.every((a) => dims[a] === inp.dims[a])) return dims;
    const stride = inputStride(this.model, inp.name);
    const size = configuredSize(this, inp.name);
    axes.forEach((a, k) => {
      if (dims[a] !== inp.dims[a]) dims[a] = size?.[k] ?? Math.ceil(Math.max(8, 2 * stride[k]) / stride[k]) * stride[k];
    });
    return dims;
  }

  /** Cache key prefix naming this exact model content and batch rewrite. */
  get contentKey(): string | undefined {
    return this.model.contentHash ? `${engineFingerprint()}|${this.model.contentHash}|${this.batchVariant}` : undefined;
  }

  /** Whether `session(key, ...)` would return a session built earlier (or being built). */
  hasSession(key: string): boolean {
    return this.sessions.has(key);
  }

  /**
   * A cached session over a model derived from this one (e.g. a backward graph); with
   * `persist`, the derived bytes are also kept in the content-addressed disk cache.
   */
  session(key: string, build: () => OnnxModel | Uint8Array, persist = false): Promise<Session> {
    let s = this.sessions.get(key);
    if (!s) {
      s = (async () => {
        const diskKey = persist && this.disk && this.contentKey ? `${this.contentKey}|${key}` : undefined;
        const viaFile = this.sessionFromWeightsFile(key, build, diskKey);
        if (viaFile) return viaFile;
        const stored = diskKey ? this.disk!.getBytes(diskKey) : undefined;
        if (stored) return Session.create(stored, this.options, this.label);
        const lease = leaseScratch();
        let handedOff = false;
        try {
          const m = build();
          const bytes = m instanceof OnnxModel ? m.toBytes(lease.alloc) : m;
          if (diskKey) {
            // the background write holds the buffer until it is done
            handedOff = true;
            void this.disk!.putBytes(diskKey, bytes).finally(lease.release);
          }
          return await Session.create(bytes, this.options, this.label);
        } finally {
          if (!handedOff) lease.release();
        }
      })();
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  /**
   * The model's large initializers, once per model content, in one page-aligned file in the disk
   * cache; derived models (forward, backward graphs) are small files beside it that refer to it
   * as external data, which onnxruntime maps from the page cache instead of copying: session
   * creation touches far less fresh memory, and a cached backward graph costs kilobytes, not
   * the weights again. Undefined when the cache is off or cannot be written.
   */
  private weights(): { file: string; at: Map<ArrayBufferLike, Map<number, number>> } | undefined {
    if (this.weightsLayout !== undefined) return this.weightsLayout ?? undefined;
    this.weightsLayout = null;
    const big = this.model.graph.initializer.filter((t) => t.rawData && t.rawData.byteLength >= 4096);
    const total = big.reduce((a, t) => a + t.rawData!.byteLength, 0);
    if (!this.disk || !this.model.contentHash || total < 1 << 20) return undefined;
    const at = new Map<ArrayBufferLike, Map<number, number>>();
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (const t of big) {
      const raw = t.rawData!;
      const byBuffer = at.get(raw.buffer) ?? new Map<number, number>();
      at.set(raw.buffer, byBuffer);
      if (byBuffer.has(raw.byteOffset)) continue;
      const pad = (PAGE - (offset % PAGE)) % PAGE;
      if (pad) parts.push(new Uint8Array(pad));
      offset += pad;
      byBuffer.set(raw.byteOffset, offset);
      parts.push(raw);
      offset += raw.byteLength;
    }
    const file = this.disk.pathOf(`weights|${this.model.contentHash}`, '.weights');
    if (!this.disk.ensureFile(file, offset, parts)) return undefined;
    this.weightsLayout = { file, at };
    return this.weightsLayout;
  }

  private sessionFromWeightsFile(key: string, build: () => OnnxModel | Uint8Array, diskKey: string | undefined): Promise<Session> | undefined {
    const w = this.weights();
    if (!w) return undefined;
    const file = this.disk!.pathOf(diskKey ?? `${this.contentKey ?? this.model.contentHash}|${key}|${process.pid}|${Date.now()}`, '.model.onnx');
    if (diskKey && fs.existsSync(file)) return Session.create(file, this.options, this.label);
    const m = build();
    if (!(m instanceof OnnxModel)) return undefined;
    const location = path.basename(w.file);
    const inits = m.graph.initializer.map((t) => {
      const raw = t.rawData;
      const offset = raw ? w.at.get(raw.buffer)?.get(raw.byteOffset) : undefined;
      if (offset === undefined) return t;
      return {
        ...t,
        rawData: undefined,
        dataLocation: 1,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw!.byteLength) },
        ],
      };
    });
    const bytes = m.toBytes(undefined, inits);
    if (!this.disk!.ensureFile(file, bytes.byteLength, [bytes])) return undefined;
    return Session.create(file, this.options, this.label).finally(() => {
      if (!diskKey) fs.rmSync(file, { force: true });
    });
  }

  forwardSession(): Promise<Session> {
    return this.session('forward', () => this.forwardModel);
  }

  /**
   * Runs a session over feeds whose dimension 0 is the sample count, in chunks no larger
   * than the batch limit, reporting progress and honouring cancellation between chunks.
   * Feeds with dimension 0 equal to 1 are shared by every sample.
   */
  async runChunked(session: Session, feeds: Record<string, Tensor>, outputs: readonly string[] | undefined, opts: RunOptions = {}): Promise<Record<string, Tensor>> {
    const total = Math.max(...Object.entries(feeds).filter(([k]) => !opts.shared?.includes(k)).map(([, t]) => t.dims[0] ?? 1));
    const limit = Math.max(1, Math.min(this.maxBatch, opts.batchSize ?? Infinity));
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

  /**
   * Forward pass over any number of samples. A NaN output is an error, not a value: every
   * method would silently turn it into a NaN map.
   */
  async forward(feeds: Record<string, Tensor>, outputs?: readonly string[], opts: RunOptions = {}): Promise<Record<string, Tensor>> {
    return this.checkOutputs(await this.runChunked(await this.forwardSession(), feeds, outputs, opts));
  }

  /** Throws when an output holds NaN; returns the outputs otherwise. */
  checkOutputs(res: Record<string, Tensor>): Record<string, Tensor> {
    for (const [k, t] of Object.entries(res)) {
      const i = firstNaN(t);
      if (i < 0) continue;
      const rows = t.dims[0] ?? 1;
      const which = rows > 1 ? ` (perturbed copy ${Math.floor(i / Math.max(1, sizeOf(t.dims.slice(1)))) + 1} of ${rows})` : '';
      throw new AttrLensError(`${this.label}: the model's output '${k}' is NaN for this input${which}: no attribution can be computed; check the input's preprocessing (scale, mean/std) and the model's weights`, 'ENANOUTPUT');
    }
    return res;
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
    const p = await this.openProbe(this.forwardModel);
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
  async layers(feeds?: Record<string, Tensor>): Promise<Array<{ name: string; dims: number[]; op: string }>> {
    const info = await this.shapes(feeds ?? this.exampleFeeds(1));
    const inits = new Set(this.model.graph.initializer.map((t) => t.name));
    const out: Array<{ name: string; dims: number[]; op: string }> = [];
    for (const n of this.model.graph.node) {
      if (n.opType === 'Constant' || n.opType === 'Identity' && inits.has(n.input[0])) continue;
      for (const o of n.output) {
        const dt = info.dtype.get(o);
        if (o && dt === 'float32' && !inits.has(o)) out.push({ name: o, dims: info.dims.get(o) ?? [], op: n.opType });
      }
    }
    return out;
  }
}

const cache = new Map<string, Promise<LoadedModel>>();

const shapeKey = (feeds: Record<string, Tensor>) => Object.entries(feeds).map(([k, t]) => `${k}:${t.dims.slice(1)}`).join('|');

/** A probe session: `run` fetches every tensor's shape (or the given outputs). */
interface Probe {
  run(feeds: Record<string, Tensor>, outputs?: readonly string[]): Promise<Record<string, Tensor>>;
  shapes(feeds: Record<string, Tensor>, res: Record<string, Tensor>): ShapeInfo;
  release(): Promise<void>;
}

const SHAPE_OF = 'attrlens_shape/';
const PAGE = 65536;

/**
 * The opset-upgraded graph (what backward graphs are built on) with every tensor's shape as an
 * output: runs fetch a Shape per tensor instead of its values, and the tensors themselves are
 * outputs only so that the session reports their element types.
 */
export function probeModel(base: OnnxModel): OnnxModel {
  // The upgraded graph, whose extra tensors the backward pass needs shapes of; the model as it
  // is when it cannot be upgraded (gradients then report why, everything else still runs).
  let m: OnnxModel;
  try {
    m = upgradeOpset(base.clone());
  } catch (e) {
    if (!(e instanceof AttrLensError)) throw e;
    m = base.clone();
  }
  const names = new Set(m.graph.output.map((o) => o.name ?? ''));
  const shapeNodes: NodeProto[] = [];
  for (const n of m.graph.node) {
    for (const o of n.output) {
      if (o && !names.has(o)) {
        m.graph.output.push({ name: o });
        names.add(o);
        shapeNodes.push({ opType: 'Shape', input: [o], output: [SHAPE_OF + o], name: SHAPE_OF + o });
        m.graph.output.push({ name: SHAPE_OF + o });
      }
    }
  }
  m.graph.node.push(...shapeNodes);
  return m;
}

/**
 * Moves the large float32 initializers of a probe model to graph inputs and returns them as
 * feeds: views of the model's own bytes where aligned, copies into `alloc`'s buffer elsewhere.
 * A probe session then holds no weights of its own: it is cheap to create, and a cold start
 * does not copy the weights once more for a session it runs three times.
 */
function detachWeights(m: OnnxModel, alloc: (size: number) => Buffer): Record<string, Tensor> {
  const g = m.graph;
  const big = g.initializer.filter((t) => t.dataType === 1 && !t.externalData?.length && t.rawData && t.rawData.byteLength >= 4096 && t.rawData.byteLength === 4 * sizeOf((t.dims ?? []).map(Number)));
  const unaligned = big.filter((t) => t.rawData!.byteOffset % 4 !== 0).reduce((a, t) => a + t.rawData!.byteLength, 0);
  // sized for the whole model, so that the model bytes serialised next reuse the same pages
  const pool = unaligned ? alloc(Math.max(unaligned, g.initializer.reduce((a, t) => a + (t.rawData?.byteLength ?? 0), 0))) : undefined;
  let at = 0;
  const feeds: Record<string, Tensor> = {};
  const declared = new Set(g.input.map((i) => i.name));
  for (const t of big) {
    const raw = t.rawData!;
    const dims = (t.dims ?? []).map(Number);
    let data: Float32Array;
    if (raw.byteOffset % 4 === 0) data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    else {
      pool!.set(raw, at);
      data = new Float32Array(pool!.buffer, pool!.byteOffset + at, raw.byteLength / 4);
      at += raw.byteLength;
    }
    feeds[t.name ?? ''] = { dtype: 'float32', dims, data };
    if (!declared.has(t.name ?? '')) g.input.push(valueInfo(t.name ?? '', 1, dims));
  }
  const moved = new Set(big);
  g.initializer = g.initializer.filter((t) => !moved.has(t));
  return feeds;
}

/** What a probe run fetches: the graph's own outputs and every other tensor's shape. */
function probeOutputs(m: OnnxModel, base: OnnxModel): string[] {
  const own = base.graph.output.map((o) => o.name ?? '');
  return [...own, ...m.graph.output.map((o) => o.name ?? '').filter((n) => n.startsWith(SHAPE_OF))];
}

function shapeInfo(m: OnnxModel, feeds: Record<string, Tensor>, res: Record<string, Tensor>, types: Map<string, string>): ShapeInfo {
  const info: ShapeInfo = { dims: new Map(), dtype: new Map() };
  for (const [k, t] of [...Object.entries(feeds), ...Object.entries(res)]) {
    if (k.startsWith(SHAPE_OF)) {
      const name = k.slice(SHAPE_OF.length);
      info.dims.set(name, Array.from(t.data as BigInt64Array, Number));
      const dt = types.get(name);
      if (dt && DTYPES.has(dt)) info.dtype.set(name, dt as DType);
      continue;
    }
    info.dims.set(k, t.dims);
    info.dtype.set(k, t.dtype);
  }
  for (const t of m.graph.initializer) {
    if (info.dims.has(t.name ?? '')) continue;
    info.dims.set(t.name ?? '', (t.dims ?? []).map(Number));
    const dt = ONNX_DTYPE[t.dataType ?? 0];
    if (dt) info.dtype.set(t.name ?? '', dt);
  }
  return info;
}

const DTYPES = new Set<string>(['float32', 'float64', 'int64', 'int32', 'uint8', 'int8', 'bool', 'float16']);

/** Whether a batch of 2 gives the graph outputs of the two single runs. */
function outputsAgree(outs: string[], ra: Record<string, Tensor>, rb: Record<string, Tensor>, rab: Record<string, Tensor>): boolean {
  for (const k of outs) {
    const joint = rab[k];
    if (!ra[k] || !rb[k] || !joint) return false;
    const single = concatRows([ra[k], rb[k]]);
    if (joint.dims[0] !== 2 || joint.data.length !== single.data.length) return false;
    for (let i = 0; i < single.data.length; i++) {
      const x = Number(single.data[i]), y = Number(joint.data[i]);
      if (!(Math.abs(x - y) <= 1e-4 * (1 + Math.abs(x))) && !(Number.isNaN(x) && Number.isNaN(y))) return false;
    }
  }
  return true;
}

type StoredShapes = { dims: Array<[string, number[]]>; dtype: Array<[string, DType]>; dims2?: Array<[string, number[]]> };
const toStored = (s: ShapeInfo): StoredShapes => ({ dims: [...s.dims], dtype: [...s.dtype], dims2: s.dims2 ? [...s.dims2] : undefined });
const fromStored = (s: StoredShapes): ShapeInfo => ({ dims: new Map(s.dims), dtype: new Map(s.dtype), dims2: s.dims2 ? new Map(s.dims2) : undefined });

/** The session key of `intermediates(feeds, names)`. */
export function valuesKey(names: string[]): string {
  return `values|${[...names].sort().join('|')}`;
}

export function isFloatInput(i: IOInfo): boolean {
  return isFloatCode(i.elemType);
}
export { BATCH_DIM };
