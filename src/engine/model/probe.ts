// Probing a model: a session over the opset-upgraded graph whose runs fetch every tensor's
// shape and dtype (what the backward-graph builder and the layer pickers need), and the check
// that a batch rewrite gives the single runs' outputs.
import { AttrLensError } from '../core/errors';
import { valueInfo } from '../onnx/builder';
import { OnnxModel } from '../onnx/model';
import { NodeProto } from '../onnx/proto';
import { upgradeOpset } from '../onnx/upgrade';
import { leaseScratch } from '../onnx/wire';
import { RuntimeOptions, Session } from '../runtime/session';
import { DType, ONNX_DTYPE, Tensor, concatRows, sizeOf } from '../core/tensor';

/** Probe result: every intermediate tensor's dtype and dims for one input shape. */
export interface ShapeInfo {
  dims: Map<string, number[]>;
  dtype: Map<string, DType>;
  /** dims of the same tensors at batch 2 (when the model batches), to tell batch axes apart */
  dims2?: Map<string, number[]>;
}

/** A probe session: `run` fetches every tensor's shape (or the given outputs). */
export interface Probe {
  run(feeds: Record<string, Tensor>, outputs?: readonly string[]): Promise<Record<string, Tensor>>;
  shapes(feeds: Record<string, Tensor>, res: Record<string, Tensor>): ShapeInfo;
  release(): Promise<void>;
}

const SHAPE_OF = 'attrlens_shape/';

/**
 * A probe session over `base` (opset-upgraded: backward graphs are built on it, and the
 * upgrade adds tensors that need shapes too): its runs fetch every tensor's shape, and its
 * weights are fed from the model's bytes instead of copied into the session.
 */
export async function openProbe(base: OnnxModel, options: RuntimeOptions, label: string): Promise<Probe> {
  const m = probeModel(base);
  const lease = leaseScratch();
  try {
    const weights = detachWeights(m, lease.alloc);
    const s = await Session.create(m.toBytes(), options, label, 'basic');
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

/** Key of a probe's shapes: input names and their dims after the batch axis. */
export const shapeKey = (feeds: Record<string, Tensor>) => Object.entries(feeds).map(([k, t]) => `${k}:${t.dims.slice(1)}`).join('|');

/** Whether a batch of 2 gives the graph outputs of the two single runs. */
export function outputsAgree(outs: string[], ra: Record<string, Tensor>, rb: Record<string, Tensor>, rab: Record<string, Tensor>): boolean {
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

export type StoredShapes = { dims: Array<[string, number[]]>; dtype: Array<[string, DType]>; dims2?: Array<[string, number[]]> };
export const toStored = (s: ShapeInfo): StoredShapes => ({ dims: [...s.dims], dtype: [...s.dtype], dims2: s.dims2 ? [...s.dims2] : undefined });
export const fromStored = (s: StoredShapes): ShapeInfo => ({ dims: new Map(s.dims), dtype: new Map(s.dtype), dims2: s.dims2 ? new Map(s.dims2) : undefined });
