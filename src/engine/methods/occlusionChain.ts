import { AxisPlan, CropAt, LocalPrefix, planAxis, segment, stageModel } from '../onnx/locality';
import { Session } from '../runtime/session';
import { Tensor } from '../core/tensor';
import { ShapeInfo } from '../model/loadedModel';
import { MethodContext, inputTensor, scoreOutputs, scoredOutputs } from './base';
import { cutForwardModel } from './cutForward';
import { WindowGrid, axisIntervals, prefixesOf, windowAt } from './occlusionCrops';
import { Scorer } from './perturbation';

/*
 * Occlusion through a chain of cuts T1, T2, ... of the network's local layers: stage i runs
 * only the crop of T(i-1) that the changed region of T(i) depends on, that crop being the
 * unperturbed T(i-1) with the region the window changed pasted in. The region grows with the
 * receptive field, so each stage recomputes little more than what changes; the network runs
 * whole from the last cut on. Exact: every value read is either recomputed from its exact
 * inputs or unchanged by the window.
 */

/** Costs in multiply-adds of a row, per stage run or copied float, and sessions in whole-image runs. */
const SESSION_RUNS = 32;
const STAGE_SESSION = 0.25;
const STAGE_RUN_MACS = 4e6;
// a JS copy of a float took about what onnxruntime does in 300-450 multiply-adds (ResNet-18, 2 cores)
const COPY_MACS = 300;
const WORTH = 0.85;

type Interval = [number, number];

export interface ChainPlan {
  /** the stages: the first reads the input, each next one the cut of the one before */
  stages: LocalPrefix[];
  /** windows in the order they are scored: those with alike crops together, so a batch's crops are small */
  order: Int32Array;
  /** estimated cost of a row relative to a whole-image run, sessions amortised over the windows */
  cost: number;
}

function channels(shapes: { dims: Map<string, number[]> }, t: string): number {
  return shapes.dims.get(t)![1];
}

/** dst[to..to+n) = src[from..from+n): a plain loop for short runs, where subarray() costs more than the copy. */
function copy(src: Float32Array, from: number, dst: Float32Array, to: number, n: number): void {
  if (n >= 48) dst.set(src.subarray(from, from + n), to);
  else for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
}

const mean = (xs: number[]) => xs.reduce((a, c) => a + c, 0) / xs.length;

/** A plan per window position along `axis` (each alone), or undefined when one has none. */
function perPosition(p: LocalPrefix, axis: 0 | 1, ivs: Interval[]): AxisPlan[] | undefined {
  const out: AxisPlan[] = [];
  for (const iv of ivs) {
    const a = planAxis(p, axis, [iv]);
    if (!a) return undefined;
    out.push(a);
  }
  return out;
}

const placedOf = (plans: AxisPlan[]): Interval[] => plans.map((a) => [a.at[0].q0, a.at[0].q0 + a.placed]);

/**
 * The cheapest chain of cuts for this grid, whatever its cost: dynamic programming over the
 * cuts, each stage's cost the mean over windows of its own crop (batches group alike windows).
 */
export async function cheapestChain(ctx: MethodContext, dims: number[], g: WindowGrid): Promise<ChainPlan | undefined> {
  const x = inputTensor(ctx);
  if (ctx.params.cropLocalLayers === false || x.dtype !== 'float32' || dims.length !== 3) return undefined;
  const shapes = await ctx.lm.shapes(ctx.feeds);
  // the search takes a good part of a second on ResNet-18: once per shapes, model IO and grid
  const byKey = planned.get(shapes) ?? new Map<string, ChainPlan | undefined>();
  planned.set(shapes, byKey);
  const key = `${ctx.input}|${ctx.output}|${g.window}|${g.strides}`;
  if (!byKey.has(key)) byKey.set(key, search(ctx, shapes, dims, g));
  return byKey.get(key);
}

const planned = new WeakMap<ShapeInfo, Map<string, ChainPlan | undefined>>();

function search(ctx: MethodContext, shapes: ShapeInfo, dims: number[], g: WindowGrid): ChainPlan | undefined {
  const prefixes = prefixesOf(ctx, shapes);
  if (!prefixes.length) return undefined;
  const total = prefixes[0].totalFlops;
  const start: [Interval[], Interval[]] = [axisIntervals(dims, g, 1), axisIntervals(dims, g, 2)];
  type State = { cost: number; stages: LocalPrefix[]; ivs: [Interval[], Interval[]]; last: [AxisPlan[], AxisPlan[]] };
  const states: Array<State | undefined> = [];
  const fixed = (SESSION_RUNS * STAGE_SESSION) / g.total;
  for (let j = 0; j < prefixes.length; j++) {
    let best: State | undefined;
    for (let i = -1; i < j; i++) {
      const from = i < 0 ? { cost: 0, stages: [], ivs: start } : states[i];
      if (!from) continue;
      const prefix = i < 0 ? prefixes[j] : segment(prefixes[i], prefixes[j], shapes);
      if (!prefix) continue;
      const a0 = perPosition(prefix, 0, from.ivs[0]);
      const a1 = a0 && perPosition(prefix, 1, from.ivs[1]);
      if (!a0 || !a1) continue;
      let f = 0;
      for (const n of prefix.nodes) {
        const [H, W] = prefix.size.get(n.out)!;
        f += ((prefix.flops.get(n.out) ?? 0) * mean(a0.map((a) => a.lengths.get(n.out)!)) * mean(a1.map((a) => a.lengths.get(n.out)!))) / (H * W);
      }
      const copied = channels(shapes, prefix.input) * mean(a0.map((a) => a.crop)) * mean(a1.map((a) => a.crop));
      const cost = from.cost + (f + STAGE_RUN_MACS + copied * COPY_MACS) / total + fixed;
      if (best && best.cost <= cost) continue;
      best = { cost, stages: [...from.stages, prefix], ivs: [placedOf(a0), placedOf(a1)], last: [a0, a1] };
    }
    states.push(best);
  }
  let result: ChainPlan | undefined;
  prefixes.forEach((p, j) => {
    const s = states[j];
    if (!s) return;
    const [F0, F1] = p.size.get(p.cut)!;
    const prefixFlops = [...p.flops.values()].reduce((a, f) => a + f, 0);
    const rest = (total - prefixFlops + channels(shapes, p.cut) * F0 * F1 * COPY_MACS) / total;
    // the rest of the network and the unperturbed cut values: two more whole-model sessions
    const cost = s.cost + rest + (2 * SESSION_RUNS) / g.total;
    if (result && cost >= result.cost) return;
    // windows sorted by their last stage's crop sizes, so a batch's common crop wastes little
    const [c0, c1] = s.last.map((plans) => plans.map((a) => a.crop));
    const keys = Array.from({ length: g.total }, (_, k) => {
      const [py, px] = position(g, k);
      return c0[py] * 1e6 + c1[px];
    });
    const order = Int32Array.from(keys.keys()).sort((a, b) => keys[a] - keys[b] || a - b);
    result = { stages: s.stages, order, cost };
  });
  return result;
}

/** Window k's position index along the two spatial axes. */
function position(g: WindowGrid, k: number): [number, number] {
  const px = k % g.counts[2];
  const py = Math.floor(k / g.counts[2]) % g.counts[1];
  return [py, px];
}

/** A chain when it beats whole images by a margin, else undefined. */
export async function planChain(ctx: MethodContext, dims: number[], g: WindowGrid): Promise<ChainPlan | undefined> {
  const best = await cheapestChain(ctx, dims, g);
  return best && best.cost < WORTH ? best : undefined;
}

/**
 * Scores of windows order[start..start+n-1] occluded with `baseline`, through the chain's
 * stages (crops sized for this batch's windows) and the rest of the network from the last
 * cut. A batch whose scores hold NaN, or whose windows need whole maps, is scored by `whole`.
 */
export function chainScorer(ctx: MethodContext, plan: ChainPlan, g: WindowGrid, baseline: Float32Array, whole: Scorer): Scorer {
  const x = inputTensor(ctx);
  const xs = x.data as Float32Array;
  const [, C, H, W] = x.dims;
  const { stages, order } = plan;
  const last = stages[stages.length - 1].cut;
  const outputs = scoredOutputs(ctx);
  const bufs: Float32Array[] = [];
  const buffer = (i: number, n: number) => (bufs[i] = bufs[i] && bufs[i].length >= n ? bufs[i] : new Float32Array(n)).subarray(0, n);
  let ready: Promise<{ sessions: Session[]; rest: Session; bases: Record<string, Tensor> }> | undefined;
  const prepare = async () => {
    const shapes = await ctx.lm.shapes(ctx.feeds);
    const batchDim = ctx.lm.forwardModel.graph.input.find((i) => i.name === ctx.input)?.type?.tensorType?.shape?.dim?.[0] ?? { dimValue: 1 };
    const sessions: Session[] = [];
    for (const p of stages) {
      const [h, w] = p.size.get(p.input)!;
      sessions.push(await ctx.lm.session(`occlusion-stage|${p.input}|${p.cut}|${h}x${w}`, () => stageModel(ctx.lm.forwardModel, p, shapes, batchDim)));
    }
    const rest = await ctx.lm.session(`cut-forward|${outputs.join(',')}|${last}|${(shapes.dims.get(last) ?? []).join(',')}`, () => cutForwardModel(ctx.lm.forwardModel, last, outputs, shapes));
    const bases = await ctx.lm.intermediates(ctx.feeds, [...stages.slice(1).map((p) => p.input), last], { signal: ctx.signal });
    return { sessions, rest, bases };
  };

  /** Per stage and axis, this batch's plan and each position's index in it. */
  const planBatch = (ks: number[]): Array<[AxisPlan, AxisPlan, Map<number, number>, Map<number, number>]> | undefined => {
    const pos = [0, 1].map((a) => [...new Set(ks.map((k) => position(g, k)[a]))]);
    const index = pos.map((ps) => new Map(ps.map((p, i) => [p, i])));
    let ivs = [0, 1].map((a) => {
      const all = axisIntervals([C, H, W], g, a + 1);
      return pos[a].map((p) => all[p]);
    });
    const out: Array<[AxisPlan, AxisPlan, Map<number, number>, Map<number, number>]> = [];
    for (const p of stages) {
      const a0 = planAxis(p, 0, ivs[0]);
      const a1 = a0 && planAxis(p, 1, ivs[1]);
      if (!a0 || !a1) return undefined;
      out.push([a0, a1, index[0], index[1]]);
      ivs = [a0, a1].map((a) => a.at.map((at): Interval => [at.q0, at.q0 + a.placed]));
    }
    return out;
  };

  /**
   * Writes a crop at [c0y, c0x] of size h x w (the whole map when it is one) at dst[dstBase..]:
   * the placed region of row r of `src` (n, Ch, sh, sw), whose full position ay/ax give, and the
   * unperturbed `base` (Ch, BH, BW) around it. Each value is written once.
   */
  const compose = (base: Float32Array, BH: number, BW: number, src: Tensor, r: number, ay: CropAt, ax: CropAt, placed: [number, number], dst: Float32Array, dstBase: number, c0y: number, c0x: number, h: number, w: number) => {
    const [, Ch, sh, sw] = src.dims;
    const sd = src.data as Float32Array;
    const y0 = Math.max(ay.q0, c0y);
    const y1 = Math.max(y0, Math.min(ay.q0 + placed[0], c0y + h));
    const x0 = Math.max(ax.q0, c0x);
    const x1 = Math.max(x0, Math.min(ax.q0 + placed[1], c0x + w));
    const wide = c0x === 0 && w === BW;
    for (let c = 0; c < Ch; c++) {
      if (wide) {
        // full-width rows outside the region are contiguous: two block copies per channel
        const to = dstBase + c * h * w;
        const from = (c * BH + c0y) * BW;
        copy(base, from, dst, to, (Math.min(y0, c0y + h) - c0y) * w);
        if (y1 > y0) copy(base, from + (y1 - c0y) * w, dst, to + (y1 - c0y) * w, (c0y + h - y1) * w);
      }
      for (let y = wide ? y0 : c0y; y < (wide ? y1 : c0y + h); y++) {
        const to = dstBase + (c * h + y - c0y) * w;
        const from = (c * BH + y) * BW + c0x;
        if (y < y0 || y >= y1 || x0 === x1) {
          copy(base, from, dst, to, w);
          continue;
        }
        copy(base, from, dst, to, x0 - c0x);
        copy(sd, ((r * Ch + c) * sh + ay.off + y - ay.q0) * sw + ax.off + x0 - ax.q0, dst, to + x0 - c0x, x1 - x0);
        copy(base, from + x1 - c0x, dst, to + x1 - c0x, c0x + w - x1);
      }
    }
  };

  return async (start: number, n: number): Promise<Float64Array> => {
    const { sessions, rest, bases } = await (ready ??= prepare());
    const ks = Array.from(order.subarray(start, start + n));
    const plans = planBatch(ks);
    if (!plans) return whole(start, n);
    const at = (i: number, k: number): [CropAt, CropAt] => {
      const [py, px] = position(g, k);
      const [a0, a1, i0, i1] = plans[i];
      return [a0.at[i0.get(py)!], a1.at[i1.get(px)!]];
    };
    let prev: Tensor | undefined;
    for (let i = 0; i < stages.length; i++) {
      const p = stages[i];
      const [h, w] = [plans[i][0].crop, plans[i][1].crop];
      const base = i === 0 ? undefined : bases[p.input];
      const [Ch, BH, BW] = base ? base.dims.slice(1) : [C, H, W];
      const src = base ? (base.data as Float32Array) : xs;
      const buf = buffer(i, n * Ch * h * w);
      for (let r = 0; r < n; r++) {
        const [ay, ax] = at(i, ks[r]);
        const rowBase = r * Ch * h * w;
        if (i > 0) {
          const [py, px] = at(i - 1, ks[r]);
          compose(src, BH, BW, prev!, r, py, px, [plans[i - 1][0].placed, plans[i - 1][1].placed], buf, rowBase, ay.c0, ax.c0, h, w);
          continue;
        }
        for (let c = 0; c < Ch; c++) {
          for (let y = 0; y < h; y++) copy(src, (c * BH + ay.c0 + y) * BW + ax.c0, buf, rowBase + (c * h + y) * w, w);
        }
        const win = windowAt([C, H, W], g, ks[r]);
        const [y0, y1] = [Math.max(win.start[1], ay.c0), Math.min(win.start[1] + win.len[1], ay.c0 + h)];
        const [x0, x1] = [Math.max(win.start[2], ax.c0), Math.min(win.start[2] + win.len[2], ax.c0 + w)];
        for (let c = win.start[0]; c < win.start[0] + win.len[0] && x0 < x1; c++) {
          for (let y = y0; y < y1; y++) {
            const from = (c * H + y) * W + x0;
            copy(baseline, from, buf, rowBase + (c * h + y - ay.c0) * w + x0 - ax.c0, x1 - x0);
          }
        }
      }
      const feeds: Record<string, Tensor> = { [p.input]: { dtype: 'float32', dims: [n, Ch, h, w], data: buf } };
      for (const name of sessions[i].inputNames) if (!(name in feeds)) feeds[name] = ctx.feeds[name];
      prev = (await ctx.lm.runChunked(sessions[i], feeds, [p.cut], { signal: ctx.signal }))[p.cut];
    }
    const base = bases[last];
    const [, Ch, F0, F1] = base.dims;
    const per = Ch * F0 * F1;
    const cut = buffer(stages.length, n * per);
    const i = stages.length - 1;
    for (let r = 0; r < n; r++) {
      const [ay, ax] = at(i, ks[r]);
      compose(base.data as Float32Array, F0, F1, prev!, r, ay, ax, [plans[i][0].placed, plans[i][1].placed], cut, r * per, 0, 0, F0, F1);
    }
    const feeds: Record<string, Tensor> = { [last]: { dtype: 'float32', dims: [n, Ch, F0, F1], data: cut } };
    for (const name of rest.inputNames) if (!(name in feeds)) feeds[name] = ctx.feeds[name];
    const scores = scoreOutputs(ctx, await ctx.lm.runChunked(rest, feeds, outputs, { signal: ctx.signal }));
    return scores.some(Number.isNaN) ? whole(start, n) : scores;
  };
}
