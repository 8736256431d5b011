import { AxisPlan, CROP, LocalPrefix, cropCost, cropModel, localPrefixes, planAxis } from '../onnx/locality';
import { Tensor } from '../tensor';
import { valuesKey } from '../loaded';
import { MethodContext, inputTensor, pick } from './base';

/** Runs whose cost falls below this fraction of whole-image runs use crops. */
const WORTH = 0.85;
/**
 * A new session costs about as much as this many whole-image runs (ResNet-18: 200-460 ms
 * against 10.6 ms a run), so crops are used only when they save more than the sessions they
 * need (the crop model, and one exposing the cut's unperturbed value).
 */
const SESSION_RUNS = 32;

/** Sliding windows over a (C, H, W) input: per dimension the window, stride and position count. */
export interface WindowGrid {
  window: number[];
  strides: number[];
  counts: number[];
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
  const windows = g.counts.reduce((a, c) => a * c, 1);
  const toBuild = (ctx.lm.hasSession(sessionKey(ctx, best)) ? 0 : 1) + (ctx.lm.hasSession(valuesKey([best.prefix.cut])) ? 0 : 1);
  return windows * (1 - best.cost) >= SESSION_RUNS * toBuild ? best : undefined;
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
  for (const prefix of localPrefixes(ctx.lm.forwardModel, ctx.input, ctx.output, shapes)) {
    const axes = [0, 1].map((a) => {
      const d = a + 1;
      const intervals = Array.from({ length: g.counts[d] }, (_, p): [number, number] => [p * g.strides[d], Math.min(dims[d], p * g.strides[d] + g.window[d])]);
      return planAxis(prefix, a as 0 | 1, intervals);
    });
    if (!axes[0] || !axes[1]) continue;
    const plan: CropPlan = { prefix, axes: axes as [AxisPlan, AxisPlan], cost: cropCost(prefix, axes as [AxisPlan, AxisPlan], shapes.dims.get(prefix.cut)![1]) };
    if (!best || plan.cost < best.cost) best = plan;
  }
  return best;
}

type Scorer = (start: number, n: number) => Promise<Float64Array>;

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
  let base: Promise<Tensor> | undefined;
  const key = sessionKey(ctx, plan);
  return async (start: number, n: number): Promise<Float64Array> => {
    base ??= ctx.lm.intermediates(ctx.feeds, [cut], { signal: ctx.signal }).then((r) => r[cut]);
    rows.fill(0);
    cols.fill(0);
    keep.fill(1);
    for (let r = 0; r < n; r++) {
      const k = start + r;
      const win = windowAt([C, H, W], g, k);
      const py = Math.floor(k / g.counts[2]) % g.counts[1];
      const px = k % g.counts[2];
      const ay = axes[0].at[py];
      const ax = axes[1].at[px];
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
    const shapes = await ctx.lm.shapes(ctx.feeds);
    const session = await ctx.lm.session(key, () => cropModel(ctx.lm.forwardModel, prefix, [c0len, c1len], [h, w], ctx.output, shapes));
    const feeds: Record<string, Tensor> = {
      [ctx.input]: { dtype: 'float32', dims: [n, C, c0len, c1len], data: crops.subarray(0, n * C * c0len * c1len) },
      [CROP.rows(cut)]: { dtype: 'float32', dims: [n, 1, F0, h], data: rows.subarray(0, n * F0 * h) },
      [CROP.cols(cut)]: { dtype: 'float32', dims: [n, 1, w, F1], data: cols.subarray(0, n * w * F1) },
      [CROP.keep(cut)]: { dtype: 'float32', dims: [n, 1, F0, F1], data: keep.subarray(0, n * F0 * F1) },
      [CROP.base(cut)]: await base,
    };
    for (const name of session.inputNames) if (!(name in feeds)) feeds[name] = ctx.feeds[name];
    const res = await ctx.lm.runChunked(session, feeds, [ctx.output], { signal: ctx.signal, shared: [CROP.base(cut)] });
    const scores = pick(res[ctx.output], ctx.target);
    return scores.some(Number.isNaN) ? whole(start, n) : scores;
  };
}
