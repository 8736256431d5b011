import { windowOf } from './window';
import { ShapeInfo } from '../model/loadedModel';
import { attr, attrInt, attrInts } from './attributes';
import { GraphBuilder } from './builder';
import { OnnxModel, pruneTo, topoOrder } from './model';
import { Dimension, NodeProto } from './proto';

/*
 * Spatial locality of a network's first layers. Where a graph input (N, C, H, W) only passes
 * through convolutions, pools and per-pixel ops up to a tensor T, a change confined to a
 * window of the input changes only a bounded region of T, and that region is computed exactly
 * from a bounded crop of the input. Occlusion uses this to run those layers on crops instead
 * of whole images.
 */

/** One op along one spatial axis: output o reads inputs o*s - pb ... o*s - pb + d*(k-1). */
interface AxisOp {
  k: number;
  s: number;
  d: number;
  pb: number;
  pe: number;
}

const IDENTITY: AxisOp = { k: 1, s: 1, d: 1, pb: 0, pe: 0 };

interface LocalNode {
  node: NodeProto;
  /** inputs that depend on the graph input */
  from: string[];
  out: string;
  axes: [AxisOp, AxisOp];
}

/** A cut: T is reached from the input only through `nodes`, every one of them local. */
export interface LocalPrefix {
  input: string;
  cut: string;
  nodes: LocalNode[];
  /** per tensor of the prefix and per axis: how many input positions one position spans (cumulative stride) */
  scale: Map<string, [number, number]>;
  /** full spatial size per tensor */
  size: Map<string, [number, number]>;
  /** crop starts must be multiples of this per axis so every tensor's grid lines up */
  align: [number, number];
  /** estimated multiply-adds of the prefix per tensor, and of the whole model, batch 1 */
  flops: Map<string, number>;
  totalFlops: number;
}

// Ops that act on each position alone (extra inputs must be constants without spatial extent).
const POINTWISE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign',
  'Erf', 'Gelu', 'Mish', 'Exp', 'Log', 'Abs', 'Neg', 'Sqrt', 'Reciprocal', 'Clip', 'Identity', 'Dropout', 'BatchNormalization',
  'ThresholdedRelu', 'Sin', 'Cos', 'Floor', 'Ceil', 'Round', 'Sign', 'Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum', 'Mean', 'Pow',
]);

type Interval = [number, number]; // half-open; empty when lo >= hi

function spatial(dims: number[] | undefined): [number, number] | undefined {
  return dims && dims.length === 4 ? [dims[2], dims[3]] : undefined;
}

/**
 * Every tensor T that cuts `input` off from the rest of the graph behind only local ops, in
 * graph order. Empty when the input is not a float image tensor or the first op is not local.
 */
export function localPrefixes(model: OnnxModel, input: string, output: string, shapes: ShapeInfo): LocalPrefix[] {
  const g = model.graph;
  if (!spatial(shapes.dims.get(input)) || shapes.dtype.get(input) !== 'float32') return [];
  if (g.node.some((n) => (n.attribute ?? []).some((a) => a.g || a.graphs?.length))) return [];
  if (model.opset('') < 7) return []; // the placement relies on broadcasting Mul/Add
  const order = topoOrder(g, model.name);
  const derived = new Set([input]);
  for (const n of order) if (n.input.some((i) => derived.has(i))) n.output.forEach((o) => o && derived.add(o));
  const consumers = new Map<string, NodeProto[]>();
  for (const n of order) for (const i of n.input) if (i) consumers.set(i, consumers.get(i) ?? []).get(i)!.push(n);
  const outputs = new Set(g.output.map((o) => o.name ?? ''));
  const used = new Set([...consumers.keys(), ...outputs]);

  const local = new Map<NodeProto, LocalNode>();
  for (const n of order) {
    if (!n.input.some((i) => derived.has(i))) continue;
    const ln = asLocal(n, derived, used, shapes);
    if (ln) local.set(n, ln);
  }
  const producer = new Map<string, NodeProto>();
  for (const n of order) for (const o of n.output) if (o) producer.set(o, n);
  const totalFlops = order.reduce((a, n) => a + nodeFlops(n, shapes), 0);

  const result: LocalPrefix[] = [];
  for (const n of order) {
    const ln = local.get(n);
    if (!ln || outputs.has(ln.out) || ln.out === output) continue;
    // the prefix: derived ancestors of T
    const members = new Set<NodeProto>();
    const stack = [n];
    let ok = true;
    while (stack.length && ok) {
      const m = stack.pop()!;
      if (members.has(m)) continue;
      if (!local.has(m)) ok = false;
      members.add(m);
      for (const i of m.input) {
        const p = producer.get(i);
        if (p && derived.has(i)) stack.push(p);
      }
    }
    if (!ok) continue;
    // nothing outside the prefix may read the input or a prefix tensor other than T
    const inside = new Set([input, ...[...members].flatMap((m) => m.output)]);
    for (const t of inside) {
      if (t === ln.out || !t) continue;
      if (outputs.has(t) || (consumers.get(t) ?? []).some((c) => !members.has(c))) ok = false;
    }
    if (!ok) continue;
    const nodes = order.filter((m) => members.has(m)).map((m) => local.get(m)!);
    const geo = geometry(input, nodes, shapes);
    if (!geo) continue;
    const flops = new Map(nodes.map((m) => [m.out, nodeFlops(m.node, shapes)]));
    result.push({ input, cut: ln.out, nodes, ...geo, flops, totalFlops });
  }
  return result;
}

function asLocal(n: NodeProto, derived: Set<string>, used: Set<string>, shapes: ShapeInfo): LocalNode | undefined {
  if (n.domain && n.domain !== 'ai.onnx') return undefined;
  const from = n.input.filter((i) => i && derived.has(i));
  const out = n.output[0];
  const ys = spatial(shapes.dims.get(out));
  if (!ys || shapes.dtype.get(out) !== 'float32') return undefined;
  // extra outputs (MaxPool indices, Dropout mask) must be unused: the crop model drops them
  if (n.output.slice(1).some((o) => o && used.has(o))) return undefined;
  for (const i of from) if (!spatial(shapes.dims.get(i)) || shapes.dtype.get(i) !== 'float32') return undefined;

  if (n.opType === 'Conv' || n.opType === 'MaxPool' || n.opType === 'AveragePool') {
    if (from.length !== 1 || n.input[0] !== from[0]) return undefined;
    if (attrInt(n, 'ceil_mode', 0) !== 0) return undefined;
    if (n.opType === 'MaxPool' && attrInt(n, 'storage_order', 0) !== 0) return undefined;
    const xs = spatial(shapes.dims.get(from[0]))!;
    const kernel = n.opType === 'Conv' ? (attrInts(n, 'kernel_shape') ?? shapes.dims.get(n.input[1])?.slice(2)) : attrInts(n, 'kernel_shape');
    if (!kernel || kernel.length !== 2) return undefined;
    const w = windowOf(n, xs, kernel);
    const axes = [0, 1].map((a) => ({ k: w.kernel[a], s: w.strides[a], d: w.dilations[a], pb: w.pads[a], pe: w.pads[a + 2] })) as [AxisOp, AxisOp];
    // the formula the crops rely on must reproduce the probed size
    if (axes.some((op, a) => cropLen(op, xs[a]) !== ys[a])) return undefined;
    return { node: n, from, out, axes };
  }
  if (n.opType === 'Concat') {
    const rank = 4;
    const axis = attrInt(n, 'axis', 1);
    if ((axis + rank) % rank !== 1 || from.length !== n.input.filter((i) => i).length) return undefined;
    if (from.some((i) => !sameSpatial(shapes.dims.get(i), ys))) return undefined;
    return { node: n, from, out, axes: [IDENTITY, IDENTITY] };
  }
  if (POINTWISE.has(n.opType)) {
    for (const i of n.input) {
      if (!i) continue;
      const d = shapes.dims.get(i);
      if (derived.has(i) ? !sameSpatial(d, ys) : n.opType !== 'BatchNormalization' && !spatiallyConstant(d)) return undefined;
    }
    return { node: n, from, out, axes: [IDENTITY, IDENTITY] };
  }
  return undefined;
}

/** A constant that broadcasts over (N, C, H, W) without varying along H or W. */
function spatiallyConstant(d: number[] | undefined): boolean {
  return !!d && d.length <= 4 && d.slice(-2).every((x) => x === 1);
}

function sameSpatial(d: number[] | undefined, ys: [number, number]): boolean {
  const s = spatial(d);
  return !!s && s[0] === ys[0] && s[1] === ys[1];
}

/** Output length of an op over an input of length `len` (its pads applied at both ends). */
function cropLen(op: AxisOp, len: number): number {
  return Math.floor((len + op.pb + op.pe - op.d * (op.k - 1) - 1) / op.s) + 1;
}

function gcd(a: number, b: number): number {
  return b ? gcd(b, a % b) : a;
}

function geometry(input: string, nodes: LocalNode[], shapes: ShapeInfo): Pick<LocalPrefix, 'scale' | 'size' | 'align'> | undefined {
  const scale = new Map<string, [number, number]>([[input, [1, 1]]]);
  const size = new Map<string, [number, number]>([[input, spatial(shapes.dims.get(input))!]]);
  const align: [number, number] = [1, 1];
  for (const n of nodes) {
    const ins = n.from.map((i) => scale.get(i));
    if (ins.some((s) => !s)) return undefined;
    // operands of a per-position op must sit on the same grid
    if (ins.some((s) => s![0] !== ins[0]![0] || s![1] !== ins[0]![1])) return undefined;
    const sc = [0, 1].map((a) => ins[0]![a] * n.axes[a].s) as [number, number];
    scale.set(n.out, sc);
    size.set(n.out, spatial(shapes.dims.get(n.out))!);
    for (const a of [0, 1]) align[a] = (align[a] * sc[a]) / gcd(align[a], sc[a]);
  }
  return { scale, size, align };
}

function nodeFlops(n: NodeProto, shapes: ShapeInfo): number {
  const out = shapes.dims.get(n.output[0]);
  if (!out) return 0;
  const elems = out.reduce((a, d) => a * d, 1);
  if (n.opType === 'Conv' || n.opType === 'ConvTranspose') {
    const w = shapes.dims.get(n.input[1]);
    const perOut = w ? w.slice(1).reduce((a, d) => a * d, 1) : 1;
    return elems * perOut;
  }
  if (n.opType === 'MatMul' || n.opType === 'Gemm') {
    const a = shapes.dims.get(n.input[0]);
    const k = a ? (n.opType === 'Gemm' && attrInt(n, 'transA', 0) ? a[0] : a[a.length - 1]) : 1;
    return elems * k;
  }
  return elems;
}

// ---------- intervals ----------

/** Outputs whose window meets inputs [lo, hi). */
function forwardInterval(op: AxisOp, [lo, hi]: Interval, outSize: number): Interval {
  if (lo >= hi) return [0, 0];
  const first = Math.ceil((lo + op.pb - op.d * (op.k - 1)) / op.s);
  const last = Math.floor((hi - 1 + op.pb) / op.s);
  return [Math.max(0, first), Math.min(outSize, last + 1)];
}

/** Inputs that outputs [lo, hi) read (within the tensor). */
function backwardInterval(op: AxisOp, [lo, hi]: Interval, inSize: number): Interval {
  if (lo >= hi) return [0, 0];
  return [Math.max(0, lo * op.s - op.pb), Math.min(inSize, (hi - 1) * op.s - op.pb + op.d * (op.k - 1) + 1)];
}

function union(a: Interval | undefined, b: Interval): Interval {
  if (!a || a[0] >= a[1]) return b;
  if (b[0] >= b[1]) return a;
  return [Math.min(a[0], b[0]), Math.max(a[1], b[1])];
}

/** The region of the cut that a change of input positions [lo, hi) along `axis` can reach. */
export function affectedAt(p: LocalPrefix, axis: 0 | 1, iv: Interval): Interval {
  const at = new Map<string, Interval>([[p.input, iv]]);
  for (const n of p.nodes) {
    let r: Interval = [0, 0];
    for (const i of n.from) r = union(r, forwardInterval(n.axes[axis], at.get(i) ?? [0, 0], p.size.get(n.out)![axis]));
    at.set(n.out, r);
  }
  return at.get(p.cut)!;
}

/** Per tensor, the positions needed to compute the cut's region [lo, hi) along `axis`. */
export function neededFor(p: LocalPrefix, axis: 0 | 1, iv: Interval): Map<string, Interval> {
  const at = new Map<string, Interval>([[p.cut, iv]]);
  for (let k = p.nodes.length - 1; k >= 0; k--) {
    const n = p.nodes[k];
    const want = at.get(n.out);
    if (!want || want[0] >= want[1]) continue;
    for (const i of n.from) at.set(i, union(at.get(i), backwardInterval(n.axes[axis], want, p.size.get(i)![axis])));
  }
  return at;
}

/** Per tensor, its length when the prefix runs on an input crop of length `len` along `axis`. */
export function cropLengths(p: LocalPrefix, axis: 0 | 1, len: number): Map<string, number> | undefined {
  const at = new Map<string, number>([[p.input, len]]);
  for (const n of p.nodes) {
    const ins = n.from.map((i) => at.get(i)!);
    if (ins.some((l) => l !== ins[0])) return undefined; // operands would not line up
    const l = cropLen(n.axes[axis], ins[0]);
    if (l < 1) return undefined;
    at.set(n.out, l);
  }
  return at;
}

// ---------- the crop model ----------

export const CROP = {
  rows: (cut: string) => `${cut}__place_rows`,
  cols: (cut: string) => `${cut}__place_cols`,
  keep: (cut: string) => `${cut}__place_keep`,
  base: (cut: string) => `${cut}__base`,
};

/**
 * The forward model with the prefix running on input crops of `crop` = [height, width]: the
 * cut's crop-sized value is placed into the full-size cut by one-hot matrices,
 * rows (N, 1, H, h) · crop (N, C, h, w) · cols (N, 1, w, W), which is exactly 0 outside the
 * placed region, and added to the unperturbed value `base` (1, C, H, W) times `keep`
 * (N, 1, H, W; 1 outside the region, 0 inside): exact for finite values (an infinite one makes
 * NaN, which the caller answers with whole images). Mul and Add exist at every opset.
 */
export function cropModel(model: OnnxModel, p: LocalPrefix, crop: [number, number], cropCut: [number, number], output: string, shapes: ShapeInfo): OnnxModel {
  const m = model.clone();
  const g = m.graph;
  const byOutput = new Map(p.nodes.map((n) => [n.out, n]));
  const prefixTensors = new Set([p.input, ...byOutput.keys()]);
  const cropOut = `${p.cut}__crop`;
  for (const n of g.node) {
    const ln = byOutput.get(n.output[0]);
    if (!ln) continue;
    n.output = [n.output[0] === p.cut ? cropOut : n.output[0]];
    if (n.opType === 'Conv' || n.opType === 'MaxPool' || n.opType === 'AveragePool') {
      // pads from the full-size geometry: auto_pad would recompute them for the crop
      const pads = [ln.axes[0].pb, ln.axes[1].pb, ln.axes[0].pe, ln.axes[1].pe];
      n.attribute = (n.attribute ?? []).filter((a) => a.name !== 'auto_pad' && a.name !== 'pads');
      n.attribute.push({ ...attr.ints(pads), name: 'pads' });
    }
  }
  const inputVi = g.input.find((i) => i.name === p.input)!;
  const batch = inputVi.type?.tensorType?.shape?.dim?.[0] ?? { dimValue: 1 };
  const dims = shapes.dims.get(p.input)!;
  const full = p.size.get(p.cut)!;
  const channels = shapes.dims.get(p.cut)![1];
  const vi = (name: string, elemType: number, d: Array<number | 'batch'>) => ({
    name,
    type: { tensorType: { elemType, shape: { dim: d.map((x) => (x === 'batch' ? { ...batch } : { dimValue: x })) } } },
  });
  g.input = g.input.filter((i) => i.name !== p.input);
  g.input.push(
    vi(p.input, 1, ['batch', dims[1], crop[0], crop[1]]),
    vi(CROP.rows(p.cut), 1, ['batch', 1, full[0], cropCut[0]]),
    vi(CROP.cols(p.cut), 1, ['batch', 1, cropCut[1], full[1]]),
    vi(CROP.keep(p.cut), 1, ['batch', 1, full[0], full[1]]),
    vi(CROP.base(p.cut), 1, [1, channels, full[0], full[1]]),
  );
  const placedRows = `${p.cut}__placed_rows`;
  const placed = `${p.cut}__placed`;
  const kept = `${p.cut}__kept`;
  g.node.push(
    { opType: 'MatMul', domain: '', name: `${p.cut}__place_rows_node`, input: [CROP.rows(p.cut), cropOut], output: [placedRows], attribute: [] },
    { opType: 'MatMul', domain: '', name: `${p.cut}__place_cols_node`, input: [placedRows, CROP.cols(p.cut)], output: [placed], attribute: [] },
    { opType: 'Mul', domain: '', name: `${p.cut}__keep_node`, input: [CROP.base(p.cut), CROP.keep(p.cut)], output: [kept], attribute: [] },
    { opType: 'Add', domain: '', name: `${p.cut}__place_node`, input: [kept, placed], output: [p.cut], attribute: [] },
  );
  g.output = g.output.filter((o) => o.name === output);
  g.valueInfo = (g.valueInfo ?? []).filter((v) => !prefixTensors.has(v.name ?? ''));
  // drop what the output no longer needs (unused outputs of the original graph)
  pruneTo(g, [output], model.name);
  return m;
}

// ---------- crop plans ----------

/** Where one input interval's crop starts, and where its region goes in the cut. */
export interface CropAt {
  /** crop start in the input */
  c0: number;
  /** start of the placed region in the full cut */
  q0: number;
  /** start of the placed region in the crop's cut */
  off: number;
}

export interface AxisPlan {
  /** crop length in the input */
  crop: number;
  /** the cut's length in the crop */
  cropCut: number;
  /** length of the region placed into the cut */
  placed: number;
  /** per given interval */
  at: CropAt[];
  /** every prefix tensor's length in the crop */
  lengths: Map<string, number>;
}

/**
 * One crop length along `axis` for changes confined to each of `intervals`: the smallest whose
 * crops (aligned to every tensor's grid, inside the input) hold all that the changed region of
 * the cut depends on, up to the whole input. Undefined when none fits.
 */
export function planAxis(p: LocalPrefix, axis: 0 | 1, intervals: Interval[]): AxisPlan | undefined {
  const H = p.size.get(p.input)![axis];
  const F = p.size.get(p.cut)![axis];
  const A = p.align[axis];
  const affected = intervals.map((iv) => affectedAt(p, axis, iv));
  const placed = Math.max(1, ...affected.map(([lo, hi]) => hi - lo));
  const q0s = affected.map(([lo]) => Math.min(Math.max(lo, 0), F - placed));
  const needs = q0s.map((q0) => neededFor(p, axis, [q0, q0 + placed]));
  const span = Math.max(...needs.map((n) => n.get(p.input)![1] - n.get(p.input)![0]));
  // crops that end at the input's end must also start on the grid: H - crop is a multiple of A
  for (let crop = H - Math.floor((H - Math.min(H, span + A - 1)) / A) * A; crop <= H; crop += A) {
    const lengths = cropLengths(p, axis, crop);
    if (!lengths) continue;
    const at: CropAt[] = [];
    for (let k = 0; k < intervals.length && at.length === k; k++) {
      const [r0] = needs[k].get(p.input)!;
      const c0 = Math.min(Math.floor(r0 / A) * A, H - crop);
      const fits = [...needs[k]].every(([t, [lo, hi]]) => {
        if (lo >= hi) return true;
        const start = c0 / p.scale.get(t)![axis];
        return lo >= start && hi <= start + lengths.get(t)!;
      });
      if (fits) at.push({ c0, q0: q0s[k], off: q0s[k] - c0 / p.scale.get(p.cut)![axis] });
    }
    if (at.length === intervals.length) return { crop, cropCut: lengths.get(p.cut)!, placed, at, lengths };
  }
  return undefined;
}

/** Multiply-adds per row of the crop model relative to the whole model's. */
export function cropCost(p: LocalPrefix, plans: [AxisPlan, AxisPlan], channels: number): number {
  let prefixFull = 0;
  let prefixCrop = 0;
  for (const n of p.nodes) {
    const f = p.flops.get(n.out) ?? 0;
    const [H, W] = p.size.get(n.out)!;
    prefixFull += f;
    prefixCrop += (f * plans[0].lengths.get(n.out)! * plans[1].lengths.get(n.out)!) / (H * W);
  }
  const [F0, F1] = p.size.get(p.cut)!;
  const place = channels * F0 * plans[1].cropCut * (plans[0].cropCut + F1);
  return (p.totalFlops - prefixFull + prefixCrop + place) / p.totalFlops;
}

// ---------- chains of cuts ----------

/**
 * The part of `next` past `prev`'s cut, as a prefix whose input is prev.cut, or undefined when
 * prev is not inside next. Both are cuts, so nothing outside the part reads prev.cut or its
 * tensors other than next.cut.
 */
export function segment(prev: LocalPrefix, next: LocalPrefix, shapes: ShapeInfo): LocalPrefix | undefined {
  const before = new Set(prev.nodes.map((n) => n.node));
  const inNext = new Set(next.nodes.map((n) => n.node));
  if (prev.input !== next.input || ![...before].every((n) => inNext.has(n))) return undefined;
  const nodes = next.nodes.filter((n) => !before.has(n.node));
  if (!nodes.length) return undefined;
  const inside = new Set([prev.cut, ...nodes.map((n) => n.out)]);
  if (nodes.some((n) => n.from.some((i) => !inside.has(i)))) return undefined;
  const geo = geometry(prev.cut, nodes, shapes);
  if (!geo) return undefined;
  const flops = new Map(nodes.map((n) => [n.out, next.flops.get(n.out) ?? 0]));
  return { input: prev.cut, cut: next.cut, nodes, ...geo, flops, totalFlops: next.totalFlops };
}

export const CHAIN = {
  /** the cut's unperturbed value, channels last: (H·W, C) */
  base: (cut: string) => `${cut}__base_hwc`,
  /** per row and crop position, the row of base ++ (the crop's cut, channels last) it takes: (N, h, w) int32 */
  index: (cut: string) => `${cut}__index`,
};

/**
 * The whole network with a chain of cuts, each stage running on crops: every cut's value
 * for the next stage (or, for the last cut, the rest of the network at full size) is
 * gathered, per row and position, from the cut's unperturbed value or from the region the
 * stage before recomputed. Channels last, a gathered position is one block of C floats, and
 * the values are copied, not computed: exact. The pads of the full-size geometry are kept, so
 * a crop at the border is padded as the whole map is; a crop inside gets wrong values only
 * where the index does not read.
 */
export function chainModel(model: OnnxModel, stages: LocalPrefix[], shapes: ShapeInfo, batchDim: Dimension, outputs: string[]): OnnxModel {
  const m = model.clone();
  const g = m.graph;
  const input = stages[0].input;
  const cuts = stages.map((p) => p.cut);
  const local = new Map(stages.flatMap((p) => p.nodes.map((n) => [n.out, n] as const)));
  const cropped = `${input}__crop`;
  for (const n of g.node) {
    const ln = local.get(n.output[0]);
    if (!ln) {
      if (n.input.includes(input)) throw new Error(`occlusion chain: ${n.name || n.opType} reads ${input} outside the local layers`);
      continue;
    }
    n.input = n.input.map((i) => (i === input ? cropped : i));
    n.output = [cuts.includes(n.output[0]) ? `${n.output[0]}__crop` : n.output[0]];
    if (n.opType === 'Conv' || n.opType === 'MaxPool' || n.opType === 'AveragePool') {
      const pads = [ln.axes[0].pb, ln.axes[1].pb, ln.axes[0].pe, ln.axes[1].pe];
      n.attribute = (n.attribute ?? []).filter((a) => a.name !== 'auto_pad' && a.name !== 'pads');
      n.attribute.push({ ...attr.ints(pads), name: 'pads' });
    }
  }
  const b = new GraphBuilder(m, 'chain');
  const dim = (d: number | string): Dimension => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
  const vi = (name: string, elemType: number, dims: Dimension[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims } } } });
  g.input = g.input.filter((i) => i.name !== input);
  g.input.push(vi(cropped, 1, [{ ...batchDim }, dim(shapes.dims.get(input)![1]), dim('crop_h'), dim('crop_w')]));
  cuts.forEach((cut, i) => {
    const ch = shapes.dims.get(cut)![1];
    const [H, W] = stages[i].size.get(cut)!;
    g.input.push(vi(CHAIN.base(cut), 1, [dim(H * W), dim(ch)]), vi(CHAIN.index(cut), 6, [{ ...batchDim }, dim(`${cut}_h`), dim(`${cut}_w`)]));
    const hwc = b.op('Flatten', [b.op('Transpose', [`${cut}__crop`], { perm: attr.ints([0, 2, 3, 1]) })], { axis: attr.int(3) });
    const gathered = b.op('Gather', [b.op('Concat', [CHAIN.base(cut), hwc], { axis: attr.int(0) }), CHAIN.index(cut)], { axis: attr.int(0) });
    b.add('Transpose', [gathered], { perm: attr.ints([0, 3, 1, 2]) }, [cut]);
  });
  g.output = g.output.filter((o) => outputs.includes(o.name ?? ''));
  const inside = new Set([input, ...local.keys()]);
  g.valueInfo = (g.valueInfo ?? []).filter((v) => !inside.has(v.name ?? ''));
  const needed = pruneTo(g, outputs, model.name);
  const inits = new Set(g.initializer.map((t) => t.name));
  g.input = g.input.filter((i) => needed.has(i.name ?? '') || inits.has(i.name));
  return m;
}
