import { AxisPlan, CHAIN, CropAt, LocalPrefix, chainModel, planAxis, segment } from '../onnx/locality';
import { Session } from '../runtime/session';
import { Tensor } from '../core/tensor';
import { ShapeInfo } from '../model/loadedModel';
import { MethodContext, inputTensor, scoreOutputs, scoredOutputs } from './base';
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

/** Costs in multiply-adds of a row, per stage or placed float, and sessions in whole-image runs. */
const SESSION_RUNS = 32;
// per stage and row: the layout reorders around the placing ops (about 36 µs, ResNet-18, 2 cores)
const STAGE_RUN_MACS = 4e6;
// placing a float (two transposes, the concat and the gather) took about 1.9 ns in
// onnxruntime, what its convolutions do in some 150 multiply-adds (ResNet-18, 2 cores)
const COPY_MACS = 150;
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
      const cost = from.cost + (f + STAGE_RUN_MACS + copied * COPY_MACS) / total;
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
    // the chain model and the one giving the unperturbed cut values: two whole-model sessions
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
  if (process.env.OCC_DEBUG) console.log('chain cost', best?.cost, best?.stages.map((s) => s.cut));
  return best && best.cost < WORTH ? best : undefined;
}

/**
 * Scores of windows order[start..start+n-1] occluded with `baseline`, in one run of the chain
 * model: the input crops are written here, and per cut an index of where each position of the
 * next crop comes from (the unperturbed value, or the region the stage before recomputed), so
 * no stage's values pass through JavaScript. A batch whose scores hold NaN, or whose windows
 * need whole maps, is scored by `whole`.
 */
export function chainScorer(ctx: MethodContext, plan: ChainPlan, g: WindowGrid, baseline: Float32Array, whole: Scorer): Scorer {
  const x = inputTensor(ctx);
  const xs = x.data as Float32Array;
  const [, C, H, W] = x.dims;
  const { stages, order } = plan;
  const cuts = stages.map((p) => p.cut);
  const outputs = scoredOutputs(ctx);
  let crops = new Float32Array(0);
  const indices: Int32Array[] = cuts.map(() => new Int32Array(0));
  let ready: Promise<{ session: Session; bases: Record<string, Tensor> }> | undefined;
  const prepare = async () => {
    const shapes = await ctx.lm.shapes(ctx.feeds);
    const batchDim = ctx.lm.forwardModel.graph.input.find((i) => i.name === ctx.input)?.type?.tensorType?.shape?.dim?.[0] ?? { dimValue: 1 };
    const session = await ctx.lm.session(`occlusion-chain|${outputs.join(',')}|${cuts.join(',')}|${H}x${W}`, () => chainModel(ctx.lm.forwardModel, stages, shapes, batchDim, outputs));
    const values = await ctx.lm.intermediates(ctx.feeds, cuts, { signal: ctx.signal });
    const bases: Record<string, Tensor> = {};
    for (const cut of cuts) bases[CHAIN.base(cut)] = channelsLast(values[cut]);
    return { session, bases };
  };

  // batches repeat the same positions along an axis (a grid row, a column): plan each once,
  // for every run with this plan
  const axisPlans = axisPlansOf.get(plan) ?? new Map<string, AxisPlan | undefined>();
  axisPlansOf.set(plan, axisPlans);
  const axisPlan = (i: number, axis: 0 | 1, ivs: Interval[]): AxisPlan | undefined => {
    const key = `${i}|${axis}|${ivs.join(';')}`;
    if (!axisPlans.has(key)) axisPlans.set(key, planAxis(stages[i], axis, ivs));
    return axisPlans.get(key);
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
    for (let i = 0; i < stages.length; i++) {
      const a0 = axisPlan(i, 0, ivs[0]);
      const a1 = a0 && axisPlan(i, 1, ivs[1]);
      if (!a0 || !a1) return undefined;
      out.push([a0, a1, index[0], index[1]]);
      ivs = [a0, a1].map((a) => a.at.map((at): Interval => [at.q0, at.q0 + a.placed]));
    }
    return out;
  };

  return async (start: number, n: number): Promise<Float64Array> => {
    const { session, bases } = await (ready ??= prepare());
    const ks = Array.from(order.subarray(start, start + n));
    const plans = planBatch(ks);
    if (!plans) return whole(start, n);
    const at = (i: number, k: number): [CropAt, CropAt] => {
      const [py, px] = position(g, k);
      const [a0, a1, i0, i1] = plans[i];
      return [a0.at[i0.get(py)!], a1.at[i1.get(px)!]];
    };
    // the first stage's input: crops of the input with the window's part set to the baseline
    const [h, w] = [plans[0][0].crop, plans[0][1].crop];
    if (crops.length < n * C * h * w) crops = new Float32Array(n * C * h * w);
    for (let r = 0; r < n; r++) {
      const [ay, ax] = at(0, ks[r]);
      const rowBase = r * C * h * w;
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < h; y++) copy(xs, (c * H + ay.c0 + y) * W + ax.c0, crops, rowBase + (c * h + y) * w, w);
      }
      const win = windowAt([C, H, W], g, ks[r]);
      const [y0, y1] = [Math.max(win.start[1], ay.c0), Math.min(win.start[1] + win.len[1], ay.c0 + h)];
      const [x0, x1] = [Math.max(win.start[2], ax.c0), Math.min(win.start[2] + win.len[2], ax.c0 + w)];
      for (let c = win.start[0]; c < win.start[0] + win.len[0] && x0 < x1; c++) {
        for (let y = y0; y < y1; y++) {
          const from = (c * H + y) * W + x0;
          copy(baseline, from, crops, rowBase + (c * h + y - ay.c0) * w + x0 - ax.c0, x1 - x0);
        }
      }
    }
    const feeds: Record<string, Tensor> = { [`${ctx.input}__crop`]: { dtype: 'float32', dims: [n, C, h, w], data: crops.subarray(0, n * C * h * w) }, ...bases };
    // per cut: the next stage's crop (the whole map after the last cut), each position from
    // the unperturbed value (BH·BW rows) or from this stage's crop of the cut (rows after those)
    for (let i = 0; i < stages.length; i++) {
      const next = i + 1 < stages.length;
      const [BH, BW] = stages[i].size.get(cuts[i])!;
      const [ch, cw] = next ? [plans[i + 1][0].crop, plans[i + 1][1].crop] : [BH, BW];
      const [sh, sw] = [plans[i][0].cropCut, plans[i][1].cropCut];
      const [ph, pw] = [plans[i][0].placed, plans[i][1].placed];
      if (indices[i].length < n * ch * cw) indices[i] = new Int32Array(n * ch * cw);
      const idx = indices[i];
      for (let r = 0; r < n; r++) {
        const [cy, cx] = next ? at(i + 1, ks[r]) : [{ c0: 0 }, { c0: 0 }];
        const [py, px] = at(i, ks[r]);
        const stage = BH * BW + r * sh * sw;
        let o = r * ch * cw;
        for (let y = cy.c0; y < cy.c0 + ch; y++) {
          const inY = y >= py.q0 && y < py.q0 + ph;
          const fromStage = stage + (py.off + y - py.q0) * sw + px.off - px.q0;
          for (let xx = cx.c0; xx < cx.c0 + cw; xx++) idx[o++] = inY && xx >= px.q0 && xx < px.q0 + pw ? fromStage + xx : y * BW + xx;
        }
      }
      feeds[CHAIN.index(cuts[i])] = { dtype: 'int32', dims: [n, ch, cw], data: idx.subarray(0, n * ch * cw) };
    }
    for (const name of session.inputNames) if (!(name in feeds)) feeds[name] = ctx.feeds[name];
    const scores = scoreOutputs(ctx, await ctx.lm.runChunked(session, feeds, outputs, { signal: ctx.signal, shared: Object.keys(bases) }));
    return scores.some(Number.isNaN) ? whole(start, n) : scores;
  };
}

const axisPlansOf = new WeakMap<ChainPlan, Map<string, AxisPlan | undefined>>();

/** (1, C, H, W) as (H·W, C): a gathered position is then one contiguous block. */
function channelsLast(t: Tensor): Tensor {
  const [, ch, h, w] = t.dims;
  const src = t.data as Float32Array;
  const out = new Float32Array(ch * h * w);
  for (let c = 0; c < ch; c++) for (let q = 0; q < h * w; q++) out[q * ch + c] = src[c * h * w + q];
  return { dtype: 'float32', dims: [h * w, ch], data: out };
}
