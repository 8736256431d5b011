// The model parameter randomisation test of Adebayo et al. 2018 ("Sanity Checks for Saliency
// Maps", https://arxiv.org/abs/1810.03292): a method that explains the model must give a different
// map once the model's weights are random. Cascading: the top layer, then the top two, … each
// re-initialised; then a fully randomised model drawn independently.
import { AttrLensError, throwIfAborted } from '../core/errors';
import { inferLayout } from '../inputs/preprocess';
import { LoadedModel } from '../model/loadedModel';
import { attribute, getMethod } from '../methods/registry';
import { AttributeOptions, AttributionResult } from '../methods/types';
import { Tensor } from '../core/tensor';
import { ParamLayer, parametrisedLayers, randomizedModel } from './randomize';
import { Map2D, compareMaps, toMap2D } from './similarity';

/**
 * A randomised model's map "stays similar" when its Spearman correlation of absolute values or its
 * SSIM with the original reaches 0.5. In the paper, maps that depend on the model (gradients,
 * Integrated Gradients) fall to rank correlations near 0–0.3 once a few layers are random, while
 * Guided Backprop stays high through the cascade; 0.5 sits between.
 */
export const SANITY_THRESHOLDS = { spearmanAbs: 0.5, ssim: 0.5 } as const;

export interface SanityRequest {
  method: string;
  params?: Record<string, unknown>;
  /** as `attribute` takes it; resolved once on the original model and kept for every step */
  target?: number | string;
  input?: string;
  output?: string;
  baseDir?: string;
  /** randomise at most this many layers from the top (default: all of them) */
  layers?: number;
  /** seed of the re-initialisation (default 0) */
  seed?: number;
}

export interface SanityStep {
  kind: 'original' | 'cascade' | 'random';
  /** for `cascade`: the layer this step added (the deepest randomised so far) */
  layer?: { name: string; node: string; module: string; op: string };
  /** how many layers are random in this model */
  randomized: number;
  /** Spearman of absolute values, of signed values (null: the original map has no ranking), SSIM */
  spearmanAbs: number | null;
  spearman: number | null;
  ssim: number;
  /** reaches a threshold: the map did not change enough */
  similar: boolean;
  /** the map (the attribution as the method returns it), for the strip */
  attribution?: Tensor;
  /** the run failed on this model (one line) */
  error?: string;
}

export interface SanityResult {
  method: string;
  target: number;
  targetLabel?: string;
  /** the target as the steps were run with */
  targetText: string;
  /** every parametrised layer, top first */
  layers: Array<{ name: string; node: string; module: string; op: string; params: string[] }>;
  /** original, the cascade (top layer first), the fully randomised model */
  steps: SanityStep[];
  thresholds: typeof SANITY_THRESHOLDS;
  seed: number;
  /**
   * `fail`: the map stays similar once every layer is random (cascade end or the fully randomised
   * model, those that ran) — it does not depend on what the model learned; `pass` otherwise.
   */
  verdict: 'pass' | 'fail';
  /** the top layers whose randomisation left the map similar (the cascade's leading similar steps) */
  insensitiveTop: string[];
  /** one line saying what the verdict means */
  summary: string;
  seconds: number;
}

export interface SanityProgress {
  /** models done (original, cascade steps, random) of `total` */
  done: number;
  total: number;
  phase: string;
  /** the step just finished */
  step?: SanityStep;
}

export interface SanityOptions extends Omit<AttributeOptions, 'onProgress'> {
  onProgress?: (p: SanityProgress) => void;
}

/** Runs the cascade. The randomised models are built in memory and released after their run. */
export async function sanityCheck(lm: LoadedModel, feeds: Record<string, Tensor>, req: SanityRequest, opts: SanityOptions = {}): Promise<SanityResult> {
  const started = performance.now();
  getMethod(req.method);
  const seed = req.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new AttrLensError(`seed ${seed} must be an integer in 0..4294967295`);
  const all = parametrisedLayers(lm.model);
  if (all.length === 0) throw new AttrLensError(`${lm.label} has no layers with float32 initializer weights (Conv, Gemm, MatMul, normalisation): there is nothing to randomise`);
  const count = req.layers ?? all.length;
  if (!Number.isInteger(count) || count < 1) throw new AttrLensError(`layers must be a whole number ≥ 1 (the model has ${all.length} parametrised layers)`);
  const cascade = all.slice(0, Math.min(count, all.length));
  const total = cascade.length + 2;
  const report = (done: number, phase: string, step?: SanityStep): void => opts.onProgress?.({ done, total, phase, step });

  report(0, 'original');
  const first = await attribute(lm, feeds, { method: req.method, params: req.params, target: req.target, input: req.input, output: req.output, baseDir: req.baseDir }, { signal: opts.signal });
  const targetText = first.targetSpec && first.targetSpec.kind !== 'class' ? first.targetSpec.text : String(first.target);
  const target: number | string = first.targetSpec && first.targetSpec.kind !== 'class' ? first.targetSpec.text : first.target;
  const att0 = mainAttribution(first);
  if (!allFinite(att0)) throw new AttrLensError(`${first.method}'s map on the original model holds NaN or infinite values: there is nothing to compare; check the input and the method's parameters`);
  const channelsLast = isChannelsLast(lm, first, att0);
  const original = toMap2D(att0, channelsLast);
  if (isConstant(original.abs)) {
    throw new AttrLensError(`${first.method}'s map for target ${targetText} is the same value everywhere on the original model: there is nothing to compare; pick another method, target or input`);
  }
  const steps: SanityStep[] = [{ kind: 'original', randomized: 0, spearmanAbs: 1, spearman: isConstant(original.signed) ? null : 1, ssim: 1, similar: true, attribution: att0 }];
  report(1, 'original', steps[0]);

  const runOn = async (layers: readonly ParamLayer[], s: number, base: Omit<SanityStep, 'spearmanAbs' | 'spearman' | 'ssim' | 'similar'>): Promise<SanityStep> => {
    throwIfAborted(opts.signal);
    let rl: LoadedModel | undefined;
    try {
      rl = await LoadedModel.fromModel(randomizedModel(lm.model, layers, s), lm.options, { diskCache: false });
      const res = await attribute(rl, feeds, { method: req.method, params: { ...first.params }, target, input: req.input, output: req.output, baseDir: req.baseDir }, { signal: opts.signal });
      const att = mainAttribution(res);
      // ranks and SSIM of a NaN map are numbers that mean nothing: a failed step instead
      if (!allFinite(att)) throw new AttrLensError(`the map holds NaN or infinite values on this randomised model (its outputs are undefined for this input)`);
      const m = toMap2D(att, channelsLast);
      return { ...base, ...scored(original, m), attribution: att };
    } catch (e) {
      if (opts.signal?.aborted || (e as Error)?.name === 'CancelledError' || !(e instanceof AttrLensError)) throw e;
      return { ...base, spearmanAbs: null, spearman: null, ssim: 0, similar: false, error: e.message.split('\n')[0] };
    } finally {
      await rl?.release();
    }
  };

  for (let k = 0; k < cascade.length; k++) {
    const l = cascade[k];
    report(k + 1, `randomised ${k + 1}/${cascade.length}: ${l.name}`);
    const step = await runOn(cascade.slice(0, k + 1), seed, { kind: 'cascade', layer: { name: l.name, node: l.node, module: l.module, op: l.op }, randomized: k + 1 });
    steps.push(step);
    report(k + 2, `randomised ${k + 1}/${cascade.length}: ${l.name}`, step);
  }
  report(cascade.length + 1, 'fully randomised');
  // an independent draw (another seed stream), so it is not the cascade's last model again
  const random = await runOn(all, (seed + 0x9e3779b9) >>> 0, { kind: 'random', randomized: all.length });
  steps.push(random);
  report(total, 'fully randomised', random);

  const cascadeSteps = steps.filter((s) => s.kind === 'cascade');
  const insensitiveTop: string[] = [];
  for (const s of cascadeSteps) {
    if (!s.similar) break;
    insensitiveTop.push(s.layer!.name);
  }
  const lastCascade = cascadeSteps[cascadeSteps.length - 1];
  // the verdict rests on the models with every layer random that ran: the independent draw and,
  // when the cascade went all the way, its last step
  const ends = [random, ...(cascade.length === all.length ? [lastCascade] : [])].filter((s) => !s.error);
  if (ends.length === 0) throw new AttrLensError(`${first.method} failed on the fully randomised model (${random.error}): the check has no verdict`);
  const endStep = ends.find((s) => s.similar) ?? ends[0];
  const verdict = endStep.similar ? 'fail' : 'pass';
  const name = first.method;
  const summary =
    verdict === 'fail'
      ? `${name} fails the sanity check: its map stays similar to the original with every weight random (${endStep.kind === 'random' ? 'fully randomised model' : 'cascade end'}: Spearman |·| ${fmt(endStep.spearmanAbs)}, SSIM ${fmt(endStep.ssim)}; similar from ${SANITY_THRESHOLDS.spearmanAbs}), so it does not show what the model learned`
      : insensitiveTop.length
        ? `${name} passes: the map changes once the weights are random, but not when only the top ${insensitiveTop.length} layer${insensitiveTop.length > 1 ? 's' : ''} (${insensitiveTop.join(', ')}) ${insensitiveTop.length > 1 ? 'are' : 'is'} random: it depends weakly on ${insensitiveTop.length > 1 ? 'them' : 'it'}`
        : `${name} passes: the map changes as soon as the top layer is random, and the map with every layer random is unlike the original (Spearman |·| ${fmt(endStep.spearmanAbs)}, SSIM ${fmt(endStep.ssim)})`;
  return {
    method: name,
    target: first.target,
    targetLabel: first.targetLabel,
    targetText,
    layers: all.map((l) => ({ name: l.name, node: l.node, module: l.module, op: l.op, params: l.params.map((p) => p.name) })),
    steps,
    thresholds: SANITY_THRESHOLDS,
    seed,
    verdict,
    insensitiveTop,
    summary,
    seconds: (performance.now() - started) / 1000,
  };
}

function scored(original: Map2D, m: Map2D): Pick<SanityStep, 'spearmanAbs' | 'spearman' | 'ssim' | 'similar'> {
  const c = compareMaps(original, m);
  const similar = (c.spearmanAbs ?? 0) >= SANITY_THRESHOLDS.spearmanAbs || c.ssim >= SANITY_THRESHOLDS.ssim;
  return { ...c, similar };
}

const fmt = (v: number | null): string => (v === null ? '—' : v.toFixed(2));

function mainAttribution(r: AttributionResult): Tensor {
  const t = Object.values(r.attributions)[0];
  if (!t) throw new AttrLensError(`${r.method} returned no attribution`);
  return t;
}

function allFinite(t: Tensor): boolean {
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return false;
  return true;
}

function isConstant(x: ArrayLike<number>): boolean {
  for (let i = 1; i < x.length; i++) if (x[i] !== x[0]) return false;
  return true;
}

/** An attribution in the shape of an NHWC image input is channels-last. */
function isChannelsLast(lm: LoadedModel, r: AttributionResult, t: Tensor): boolean {
  const name = Object.keys(r.attributions)[0];
  const inp = lm.inputs.find((i) => i.name === name);
  if (!inp || inp.dims.length !== 4 || t.dims.length !== 4) return false;
  try {
    return inferLayout(inp.dims) === 'NHWC';
  } catch {
    return false;
  }
}
