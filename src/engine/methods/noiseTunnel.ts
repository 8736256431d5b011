import { AttrLensError, closest } from '../core/errors';
import { Tensor, sizeOf } from '../core/tensor';
import { runReducedGradients, Transform } from '../gradients/reduced';
import { Method, MethodContext, MethodOutput, P, broadcastTo, inputTensor, linearSeed, requireFloatInput, rngOf, stackRows, tensorParam, throwIfCancelled } from './base';
import { resolveParams } from './params';
import { Rng } from './rng';
import { MethodInfo } from './types';
import { RuleSetName } from '../autodiff/ruleSets';

/** Wrapped methods that are one gradient per sample: the graph transforms and sums the samples' gradients. */
const ONE_GRADIENT: Record<string, { ruleSet?: RuleSetName; transform: (params: Record<string, unknown>) => Transform }> = {
  saliency: { transform: (p) => (p.abs ? 'abs' : 'none') },
  'input-x-gradient': { transform: () => 'times-input' },
  'guided-backprop': { ruleSet: 'guided-backprop', transform: () => 'none' },
  deconvolution: { ruleSet: 'deconvolution', transform: () => 'none' },
};

/** `count` copies of the input plus N(0, stdev²) noise, drawn in sample order: (count, ...input dims). */
export function noisyInputs(x: Tensor, count: number, stdev: number, rng: Rng): Tensor {
  return stackRows(x.dims, count, noisyRows(x, count, stdev, rng).fill);
}

/** The same rows, written one at a time (in sample order) into buffers the caller reuses. */
export function noisyRows(x: Tensor, count: number, stdev: number, rng: Rng): { count: number; fill: (i: number, row: Float32Array) => void } {
  const src = x.data as Float32Array;
  return {
    count,
    fill: (_, row) => {
      for (let i = 0; i < row.length; i++) row[i] = src[i] + stdev * rng.normal();
    },
  };
}

/** Parses the wrapped method's parameters: a JSON object (text) or an object. */
function baseParamsOf(v: unknown): Record<string, unknown> {
  if (v === undefined || v === null || v === '') return {};
  if (typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(v));
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AttrLensError(`noise-tunnel: baseParams must be a JSON object of the wrapped method's parameters, e.g. {"abs": false}; got ${String(v).slice(0, 60)}`);
  }
  return parsed as Record<string, unknown>;
}

/** Mean, mean of squares or variance over samples, per attribution tensor. */
class Moments {
  private sum = new Map<string, { dims: number[]; s: Float64Array; sq: Float64Array }>();
  /** `type` decides which sums are kept: the mean alone needs no squares. */
  constructor(private readonly type: string) {}
  add(attrs: Record<string, Tensor>): void {
    for (const [k, t] of Object.entries(attrs)) {
      const d = t.data as Float32Array;
      let m = this.sum.get(k);
      if (!m) this.sum.set(k, (m = { dims: t.dims, s: new Float64Array(d.length), sq: new Float64Array(this.type === 'smoothgrad' ? 0 : d.length) }));
      const { s, sq } = m;
      if (this.type !== 'smoothgrad_sq') for (let i = 0; i < d.length; i++) s[i] += d[i];
      if (this.type !== 'smoothgrad') for (let i = 0; i < d.length; i++) sq[i] += d[i] * d[i];
    }
  }
  result(type: string, n: number): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, m] of this.sum) {
      const r = new Float32Array(m.s.length);
      for (let i = 0; i < r.length; i++) {
        const mean = type === 'smoothgrad_sq' ? 0 : m.s[i] / n;
        r[i] = type === 'smoothgrad' ? mean : type === 'smoothgrad_sq' ? m.sq[i] / n : m.sq[i] / n - mean * mean;
      }
      out[k] = { dtype: 'float32', dims: m.dims, data: r };
    }
    return out;
  }
}

/**
 * Captum's NoiseTunnel (SmoothGrad, https://arxiv.org/abs/1706.03825; VarGrad,
 * https://arxiv.org/abs/1810.03292): the wrapped method on noisy copies of the input, then the
 * mean, mean of squares or variance of the per-sample attributions (the wrapped method's own
 * post-processing, e.g. saliency's abs, applies per sample first).
 */
export class NoiseTunnel extends Method {
  private cached: MethodInfo | undefined;
  /** `methods` lists the methods it may wrap (all registered ones; read lazily). */
  constructor(private readonly methods: () => readonly Method[]) {
    super();
  }

  get info(): MethodInfo {
    return (this.cached ??= {
      id: 'noise-tunnel',
      captumName: 'NoiseTunnel',
      family: 'gradient',
      description: 'SmoothGrad / VarGrad: any method averaged (or its square or variance taken) over copies of the input with Gaussian noise.',
      needsGradients: true,
      params: [
        { name: 'baseMethod', kind: 'enum', default: 'saliency', values: this.others().map((m) => m.info.id), description: 'the wrapped attribution method' },
        { name: 'baseParams', kind: 'json', description: 'parameters of the wrapped method as a JSON object, e.g. {"abs": false}' },
        { name: 'ntType', kind: 'enum', default: 'smoothgrad', values: ['smoothgrad', 'smoothgrad_sq', 'vargrad'], description: 'mean, mean of squares, or variance of the sample attributions' },
        { name: 'ntSamples', kind: 'int', default: 5, min: 1, max: 100000, description: 'number of noisy samples' },
        { name: 'ntSamplesBatchSize', kind: 'int', min: 1, description: 'noisy samples per gradient run (one-gradient methods; others run one sample at a time); default all at once' },
        P.stdevs(1.0),
        { name: 'drawBaselineFromDistrib', kind: 'boolean', default: false, description: "draw each sample's baseline at random from the wrapped method's (K, ...) baselines" },
        P.seed(),
      ],
    });
  }

  private others(): Method[] {
    return this.methods().filter((m) => m !== this && !(m instanceof NoiseTunnel));
  }

  private wrapped(id: string): Method {
    const all = this.others();
    const m = all.find((x) => x.info.id === id);
    if (!m) {
      if (id === 'noise-tunnel') throw new AttrLensError('noise-tunnel cannot wrap itself: choose another baseMethod');
      throw new AttrLensError(`noise-tunnel: unknown baseMethod '${id}'; closest: ${closest(id, all.map((x) => x.info.id)).join(', ')}`);
    }
    return m;
  }

  async run(ctx: MethodContext): Promise<MethodOutput> {
    requireFloatInput(ctx, 'noise-tunnel');
    const base = this.wrapped(ctx.params.baseMethod as string);
    const baseParams = resolveParams(base.info.id, base.info.params, baseParamsOf(ctx.params.baseParams));
    if (ctx.params.drawBaselineFromDistrib && !base.info.params.some((p) => p.name === 'baselines')) {
      throw new AttrLensError(`noise-tunnel: drawBaselineFromDistrib needs a method with baselines, and ${base.info.id} has none: turn it off or wrap another method`);
    }
    const n = ctx.params.ntSamples as number;
    const type = ctx.params.ntType as string;
    const rng = rngOf(ctx);
    const x = inputTensor(ctx);
    const moments = new Moments(type);
    // a non-linear target's seed needs each noisy row's output: the per-sample path below
    const fast = linearSeed(ctx) && ONE_GRADIENT[base.info.id];
    if (fast) {
      const sums: Array<'sum' | 'sumsq'> = type === 'smoothgrad' ? ['sum'] : type === 'smoothgrad_sq' ? ['sumsq'] : ['sum', 'sumsq'];
      const r = await runReducedGradients(ctx.lm, ctx.feeds, ctx.input, { output: ctx.output, ruleSet: fast.ruleSet }, { generate: noisyRows(x, n, ctx.params.stdevs as number, rng), transform: fast.transform(baseParams), sums }, linearSeed(ctx)!, {
        signal: ctx.signal,
        batchSize: ctx.params.ntSamplesBatchSize as number | undefined,
        onProgress: (p) => ctx.progress({ done: p.done, total: p.total, phase: 'noise samples' }),
      });
      const out = new Float32Array(sizeOf(x.dims));
      for (let i = 0; i < out.length; i++) {
        const mean = r.sum ? r.sum[i] / n : 0, sq = r.sumsq ? r.sumsq[i] / n : 0;
        out[i] = type === 'smoothgrad' ? mean : type === 'smoothgrad_sq' ? sq : sq - mean * mean;
      }
      return { attributions: { [ctx.input]: { dtype: 'float32', dims: x.dims, data: out } } };
    }
    const rows = noisyInputs(x, n, ctx.params.stdevs as number, rng);
    const drawn = ctx.params.drawBaselineFromDistrib ? baselineDraws(ctx, baseParams, n, rng) : undefined;
    const per = sizeOf(x.dims.slice(1));
    let deltaSum = 0, deltas = 0;
    let layer: string | undefined;
    for (let s = 0; s < n; s++) {
      throwIfCancelled(ctx);
      const sample: Tensor = { dtype: 'float32', dims: x.dims, data: (rows.data as Float32Array).slice(s * per, (s + 1) * per) };
      const out = await base.run({
        ...ctx,
        feeds: { ...ctx.feeds, [ctx.input]: sample },
        params: drawn ? { ...baseParams, baselines: drawn[s] } : baseParams,
        progress: (p) => ctx.progress({ done: s + (p.total ? p.done / p.total : 0), total: n, phase: `noise sample ${s + 1}/${n}` }),
      });
      moments.add(out.attributions);
      if (out.delta !== undefined) {
        deltaSum += out.delta;
        deltas++;
      }
      layer = out.layer;
      ctx.progress({ done: s + 1, total: n, phase: 'noise samples' });
    }
    // Captum reports the mean of the samples' convergence deltas
    return { attributions: moments.result(type, n), delta: deltas ? deltaSum / deltas : undefined, layer };
  }
}

/** One baseline row per sample, drawn uniformly from a (K, ...input) baselines parameter. */
function baselineDraws(ctx: MethodContext, params: Record<string, unknown>, n: number, rng: Rng): Array<Tensor | number> | undefined {
  const v = tensorParam(ctx, 'baselines', params.baselines ?? 0)!;
  const x = inputTensor(ctx);
  const per = sizeOf(x.dims.slice(1));
  if (typeof v === 'number' || v.dims.length !== x.dims.length || sizeOf(v.dims.slice(1)) !== per) {
    return Array.from({ length: n }, () => v);
  }
  const all = broadcastTo(v, v.dims, 'baselines');
  const k = v.dims[0];
  return Array.from({ length: n }, () => {
    const j = rng.int(k);
    return { dtype: 'float32', dims: x.dims, data: all.slice(j * per, (j + 1) * per) } as Tensor;
  });
}
