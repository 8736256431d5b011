import { AttrLensError } from '../core/errors';
import { Tensor } from '../core/tensor';
import { Method, MethodContext, MethodOutput, P, baselineOf, inputTensor } from './base';
import { chainScorer, planChain } from './occlusionChain';
import { WindowGrid, cropScorer, planCrops, windowAt, windowGrid } from './occlusionCrops';
import { ablate, baseScore, checkWindow, evalBatches, perturbationsPerEval, perturbedScorer } from './perturbation';
import { MethodInfo } from './types';

/** Flat indices (within one sample) covered by window number `k`. */
function windowIndices(dims: number[], g: WindowGrid, k: number): Int32Array {
  const r = dims.length;
  const { start, len } = windowAt(dims, g, k);
  const n = len.reduce((a, c) => a * c, 1);
  const out = new Int32Array(n);
  const strides: number[] = new Array(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
  const idx = new Array<number>(r).fill(0);
  for (let f = 0; f < n; f++) {
    let off = 0;
    for (let i = 0; i < r; i++) off += (start[i] + idx[i]) * strides[i];
    out[f] = off;
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i] < len[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** Zeiler & Fergus 2014: output change when a sliding window is replaced by the baseline, averaged per element. */
export class Occlusion extends Method {
  readonly info: MethodInfo = {
    id: 'occlusion',
    captumName: 'Occlusion',
    family: 'perturbation',
    description: 'Slides a window over the input, replaces it with the baseline and records the drop in the target output.',
    needsGradients: false,
    params: [
      { name: 'slidingWindowShapes', kind: 'shape', required: true, description: 'window shape without the batch axis, e.g. [3, 15, 15]' },
      { name: 'strides', kind: 'shape', default: 1, description: 'window step per dimension (a number or a list), default 1' },
      P.baselines(0),
      P.perturbationsPerEval(),
      { name: 'coarseToFine', kind: 'boolean', default: false, description: 'first compute a complete coarse map (non-overlapping tiles of four strides), then refine' },
      {
        name: 'cropLocalLayers',
        kind: 'boolean',
        default: true,
        description: "run the network's local layers (convolutions, pools, per-pixel ops, residual adds) only on the region a window can change, against the unperturbed values around it (same result up to float rounding); false runs whole images",
      },
    ],
  };

  async run(ctx: MethodContext): Promise<MethodOutput> {
    const x = inputTensor(ctx);
    const dims = x.dims.slice(1);
    const window = ctx.params.slidingWindowShapes as number[];
    checkWindow('slidingWindowShapes', dims, window);
    const s = ctx.params.strides as number[] | number;
    const strides = typeof s === 'number' ? dims.map(() => s) : s.length === 1 && dims.length > 1 ? dims.map(() => s[0]) : s;
    if (strides.length !== dims.length) throw new AttrLensError(`strides [${strides}] must have ${dims.length} entries like the input [${dims}]`);
    const base = baselineOf(ctx);
    const f0 = await baseScore(ctx);

    const fine = windowGrid(dims, window, strides);
    const passes: WindowGrid[] = [];
    if (ctx.params.coarseToFine) {
      // Tiles of four strides (at least the window) that cover the input once: about 1/16 of
      // the fine pass's runs for 2-D maps, so a complete map shows early.
      const cw = window.map((w, i) => Math.min(dims[i], Math.max(w, strides[i] * 4)));
      passes.push(windowGrid(dims, cw, cw));
    }
    passes.push(fine);
    const grandTotal = passes.reduce((a, g) => a + g.total, 0);
    let done = 0;
    let coarse: Float32Array | undefined;
    let result: Float32Array | undefined;
    for (const g of passes) {
      // the crop sessions give the explained output only: a target reading others runs whole images
      const chain = ctx.spec?.reads ? undefined : await planChain(ctx, dims, g);
      const crops = ctx.spec?.reads || chain ? undefined : await planCrops(ctx, dims, g);
      // batches score windows in the chain's order (alike crops together); k counts scored windows
      const win = (k: number) => (chain ? chain.order[k] : k);
      const total = new Float64Array(x.data.length);
      const weights = new Float64Array(x.data.length);
      const cache = new Map<number, Int32Array>();
      const idxOf = (k: number) => {
        let v = cache.get(k);
        if (!v) cache.set(k, (v = windowIndices(dims, g, win(k))));
        return v;
      };
      const snapshot = (): Tensor => {
        const out = new Float32Array(total.length);
        for (let i = 0; i < out.length; i++) out[i] = weights[i] > 0 ? total[i] / weights[i] : coarse ? coarse[i] : 0;
        return { dtype: 'float32', dims: x.dims, data: out };
      };
      const onScores = (start: number, scores: Float64Array) => {
        for (let j = 0; j < scores.length; j++) {
          const idx = idxOf(start + j);
          const d = f0 - scores[j];
          for (let q = 0; q < idx.length; q++) {
            total[idx[q]] += d;
            weights[idx[q]] += 1;
          }
          cache.delete(start + j);
        }
      };
      const opts = { phase: passes.length > 1 && g !== fine ? 'coarse' : 'fine', partial: snapshot, doneOffset: done, grandTotal };
      const perEval = Math.min(perturbationsPerEval(ctx), g.total);
      const whole = perturbedScorer(ctx, perEval, (k, row) => ablate(row, idxOf(k), base));
      const scorer = chain ? chainScorer(ctx, chain, g, base, whole) : crops ? cropScorer(ctx, crops, g, base, perEval, whole) : whole;
      await evalBatches(ctx, g.total, perEval, scorer, onScores, opts);
      done += g.total;
      result = snapshot().data as Float32Array;
      if (g !== fine) coarse = result;
    }
    return { attributions: { [ctx.input]: { dtype: 'float32', dims: x.dims, data: result! } } };
  }
}
