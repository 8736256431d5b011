import { AxisPlan, CROP, LocalPrefix, cropCost, cropModel, localPrefixes, planAxis } from '../onnx/locality';
import { Session } from '../runtime/session';
import { Tensor } from '../core/tensor';
import { ShapeInfo, valuesKey } from '../model/loadedModel';
import { MethodContext, inputTensor, scoreOutputs } from './base';
import { Scorer } from './perturbation';

/** Runs whose cost falls below this fraction of whole-image runs use crops. */
const WORTH = 0.85;
/**
 * A new session costs about as much as this many whole-image runs (ResNet-18: 200-460 ms
 * against 10.6 ms a run), so crops are used only when they save more than the sessions they
 * need (the crop model, and one exposing the cut's unperturbed value).
 */
const SESSION_RUNS = 32;

/** Sliding windows over an input: per dimension the window, stride and position count. */
export interface WindowGrid {
  window: number[];
  strides: number[];
  counts: number[];
  total: number;
}

/** Captum's grid: ceil((D - w) / s) + 1 positions per dimension; the last window may be cut at the edge. */
export function windowGrid(dims: number[], window: number[], strides: number[]): WindowGrid {
  const counts = dims.map((d, i) => Math.ceil((d - window[i]) / strides[i]) + 1);
  return { window, strides, counts, total: counts.reduce((a, c) => a * c, 1) };
}

/** The input positions [start, end) of every window position along dimension `d` of `dims`. */
export function axisIntervals(dims: number[], g: WindowGrid, d: number): Array<[number, number]> {
  return Array.from({ length: g.counts[d] }, (_, p) => [p * g.strides[d], Math.min(dims[d], p * g.strides[d] + g.window[d])]);
}

export interface CropPlan {
  prefix: LocalPrefix;
  axes: [AxisPlan, AxisPlan];
  /** estimated cost of a row relative to a whole-image run */
  cost: number;
}

/** Window k's start and length per dimension of `dims`. */
export function windowAt(dims: number[], g: WindowGrid, k: number): { start: number[]; len: number[] } {
  const start: number[] = new Array(dims.length);
  const len: number[] = new Array(dims.length);
  let rem = k;
  for (let i = dims.length - 1; i >= 0; i--) {
    const pos = rem % g.counts[i];
    rem = Math.floor(rem / g.counts[i]);
    start[i] = pos * g.strides[i];
    len[i] = Math.min(g.window[i], dims[i] - start[i]);
  }
  return { start, len };
}

/**
 * The cheapest way to run the network's first local layers on crops around each window, or
 * undefined when whole images are as cheap: no local first layers, windows too large, or too
 * few windows to pay for building the crop model's session.
 */
export async function planCrops(ctx: MethodContext, dims: number[], g: WindowGrid): Promise<CropPlan | undefined> {
  const best = await cheapestCrops(ctx, dims, g);
  if (!best || best.cost >= WORTH) return undefined;
  const toBuild = (ctx.lm.hasSession(sessionKey(ctx, best)) ? 0 : 1) + (ctx.lm.hasSession(valuesKey([best.prefix.cut])) ? 0 : 1);
  return g.total * (1 - best.cost) >= SESSION_RUNS * toBuild ? best : undefined;
}

function sessionKey(ctx: MethodContext, plan: CropPlan): string {
  // the full sizes are part of the crop model (models with symbolic H, W see several)
  const [H, W] = plan.prefix.size.get(plan.prefix.input)!;
  return `occlusion-crops|${ctx.output}|${plan.prefix.cut}|${H}x${W}|${plan.axes[0].crop}x${plan.axes[1].crop}`;
}

/** The cut whose crops cost least, whatever that cost. */
export async function cheapestCrops(ctx: MethodContext, dims: number[], g: WindowGrid): Promise<CropPlan | undefined> {
  const x = inputTensor(ctx);
  if (ctx.params.cropLocalLayers === false || x.dtype !== 'float32' || dims.length !== 3) return undefined;
  const shapes = await ctx.lm.shapes(ctx.feeds);
  let best: CropPlan | undefined;
  for (const prefix of prefixesOf(ctx, shapes)) {
    const axes = [0, 1].map((a) => planAxis(prefix, a as 0 | 1, axisIntervals(dims, g, a + 1)));
    if (!axes[0] || !axes[1]) continue;
    const plan: CropPlan = { prefix, axes: axes as [AxisPlan, AxisPlan], cost: cropCost(prefix, axes as [AxisPlan, AxisPlan], shapes.dims.get(prefix.cut)![1]) };
    if (!best || plan.cost < best.cost) best = plan;
  }
  return best;
}

// The graph analysis depends on the model, input, output and shapes only: once per ShapeInfo
// (LoadedModel keeps one per input shape), not once per occlusion pass.
const analysed = new WeakMap<ShapeInfo, Map<string, LocalPrefix[]>>();
export function prefixesOf(ctx: MethodContext, shapes: ShapeInfo): LocalPrefix[] {
  const byIO = analysed.get(shapes) ?? new Map<string, LocalPrefix[]>();
  analysed.set(shapes, byIO);
  const key = `${ctx.input}|${ctx.output}`;
  let prefixes = byIO.get(key);
  if (!prefixes) byIO.set(key, (prefixes = localPrefixes(ctx.lm.forwardModel, ctx.input, ctx.output, shapes)));
  return prefixes;
}

/**
 * Scores of windows start..start+n-1 occluded with `baseline`, through the crop model: each row
 * is the input crop around its window (the part of the window inside the crop set to the
 * baseline: nothing outside the crop reaches the placed region), placed back into the
 * unperturbed cut value by one-hot matrices. A batch whose scores hold NaN (an infinite value
 * meets a 0 of the placement) is scored by `whole`, on whole images.
 */
export function cropScorer(ctx: MethodContext, plan: CropPlan, g: WindowGrid, baseline: Float32Array, perEval: number, whole: Scorer): Scorer {
  const x = inputTensor(ctx);
  const xs = x.data as Float32Array;
  const [, C, H, W] = x.dims;
  const { prefix, axes } = plan;
  const [c0len, c1len] = [axes[0].crop, axes[1].crop];
  const [h, w] = [axes[0].cropCut, axes[1].cropCut];
  const [F0, F1] = prefix.size.get(prefix.cut)!;
  const cut = prefix.cut;
  const crops = new Float32Array(perEval * C * c0len * c1len);
  const rows = new Float32Array(perEval * F0 * h);
  const cols = new Float32Array(perEval * w * F1);
  const keep = new Float32Array(perEval * F0 * F1);
  // built on the first batch, so that planning alone builds nothing
  let ready: Promise<[Session, Tensor]> | undefined;
  const prepare = async (): Promise<[Session, Tensor]> => {
    const shapes = await ctx.lm.shapes(ctx.feeds);
    const session = await ctx.lm.session(sessionKey(ctx, plan), () => cropModel(ctx.lm.forwardModel, prefix, [c0len, c1len], [h, w], ctx.output, shapes));
    const base = (await ctx.lm.intermediates(ctx.feeds, [cut], { signal: ctx.signal }))[cut];
    return [session, base];
  };
  return async (start: number, n: number): Promise<Float64Array> => {
    const [session, base] = await (ready ??= prepare());
    rows.fill(0);
    cols.fill(0);
    keep.fill(1);
    for (let r = 0; r < n; r++) {
      const k = start + r;
      const win = windowAt([C, H, W], g, k);
      const ay = axes[0].at[win.start[1] / g.strides[1]];
      const ax = axes[1].at[win.start[2] / g.strides[2]];
      const rowBase = r * C * c0len * c1len;
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < c0len; y++) {
          const src = (c * H + ay.c0 + y) * W + ax.c0;
          crops.set(xs.subarray(src, src + c1len), rowBase + (c * c0len + y) * c1len);
        }
      }
      const [y0, y1] = [Math.max(win.start[1], ay.c0), Math.min(win.start[1] + win.len[1], ay.c0 + c0len)];
      const [x0, x1] = [Math.max(win.start[2], ax.c0), Math.min(win.start[2] + win.len[2], ax.c0 + c1len)];
      for (let c = win.start[0]; c < win.start[0] + win.len[0] && x0 < x1; c++) {
        for (let y = y0; y < y1; y++) {
          const src = (c * H + y) * W + x0;
          crops.set(baseline.subarray(src, src + x1 - x0), rowBase + (c * c0len + y - ay.c0) * c1len + x0 - ax.c0);
        }
      }
      for (let i = 0; i < axes[0].placed; i++) {
        rows[(r * F0 + ay.q0 + i) * h + ay.off + i] = 1;
        keep.fill(0, (r * F0 + ay.q0 + i) * F1 + ax.q0, (r * F0 + ay.q0 + i) * F1 + ax.q0 + axes[1].placed);
      }
      for (let j = 0; j < axes[1].placed; j++) cols[(r * w + ax.off + j) * F1 + ax.q0 + j] = 1;
    }
    const feeds: Record<string, Tensor> = {
      [ctx.input]: { dtype: 'float32', dims: [n, C, c0len, c1len], data: crops.subarray(0, n * C * c0len * c1len) },
      [CROP.rows(cut)]: { dtype: 'float32', dims: [n, 1, F0, h], data: rows.subarray(0, n * F0 * h) },
      [CROP.cols(cut)]: { dtype: 'float32', dims: [n, 1, w, F1], data: cols.subarray(0, n * w * F1) },
      [CROP.keep(cut)]: { dtype: 'float32', dims: [n, 1, F0, F1], data: keep.subarray(0, n * F0 * F1) },
      [CROP.base(cut)]: base,
    };
    for (const name of session.inputNames) if (!(name in feeds)) feeds[name] = ctx.feeds[name];
    const res = await ctx.lm.runChunked(session, feeds, [ctx.output], { signal: ctx.signal, shared: [CROP.base(cut)] });
    const scores = scoreOutputs(ctx, res);
    return scores.some(Number.isNaN) ? whole(start, n) : scores;
  };
}
