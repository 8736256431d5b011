import { buildGradient, gradName, GradientRequest, SEED } from '../autodiff/builder';
import { defaultGradientBatch } from './run';
import { LoadedModel, RunOptions } from '../model/loadedModel';
import { BATCH_DIM } from '../onnx/batch';
import { GraphBuilder, valueInfo } from '../onnx/builder';
import { OnnxModel } from '../onnx/model';
import { Tensor, sizeOf, sliceRows } from '../core/tensor';

/**
 * Many gradient rows folded inside the graph: the rows are fed, or formed in the graph as points
 * base + alpha·(x - base) of a straight path; each row's gradient is transformed, weighted and
 * summed over the rows, so a chunk hands back one summed row instead of its batch of gradients
 * and no per-element JavaScript loop scales inputs or sums gradients.
 */
export interface RowPlan {
  /** the rows themselves, (N, ...input) */
  rows?: Tensor;
  /** or rows written chunk by chunk into one reused buffer: row i of `count` by `fill(i, row)` */
  generate?: { count: number; fill: (i: number, row: Float32Array) => void };
  /** rows on a straight path: x and base (1, ...input) fed once, one alpha per row */
  path?: { x: Tensor; base: Tensor; alphas: ArrayLike<number> };
  /** per-row weights of the sums (default 1) */
  weights?: ArrayLike<number>;
  /** applied to each row's gradient before it is weighted and summed */
  transform?: Transform;
  /** what comes back: the sum over rows and/or the sum of squares */
  sums: ReadonlyArray<'sum' | 'sumsq'>;
}

export type Transform = 'none' | 'abs' | 'times-input';

export interface ReducedGradients {
  sum?: Float64Array;
  sumsq?: Float64Array;
  /** the differentiated output's forward value per row, (N, ...) */
  output: Tensor;
}

const X = 'attrlens_rows/x', BASE = 'attrlens_rows/base', ALPHA = 'attrlens_rows/alpha', WEIGHT = 'attrlens_rows/weight';
const SUM = 'attrlens_rows/sum', SUMSQ = 'attrlens_rows/sumsq';

interface Spec {
  path: boolean;
  weighted: boolean;
  transform: Transform;
  sums: ReadonlyArray<'sum' | 'sumsq'>;
}

/** Adds the row formation and the folding to a backward model built for `input`. */
function withRows(m: OnnxModel, input: string, inputDims: number[], spec: Spec): OnnxModel {
  const g = m.graph;
  const b = new GraphBuilder(m, 'rows');
  const rest = inputDims.slice(1);
  const perRow = (t: string) => b.reshape(t, [-1, ...rest.map(() => 1)]);
  if (spec.path) {
    g.input = g.input.filter((i) => i.name !== input);
    b.addInput(X, 1, [1, ...rest]);
    b.addInput(BASE, 1, [1, ...rest]);
    b.addInput(ALPHA, 1, [BATCH_DIM]);
    b.add('Add', [BASE, b.op('Mul', [perRow(ALPHA), b.op('Sub', [X, BASE])])], {}, [input]);
    g.valueInfo.push(valueInfo(input, 1, [BATCH_DIM, ...rest]));
  }
  const grad = gradName(input);
  let t = spec.transform === 'abs' ? b.op('Abs', [grad]) : spec.transform === 'times-input' ? b.op('Mul', [grad, input]) : grad;
  let w: string | undefined;
  if (spec.weighted) {
    b.addInput(WEIGHT, 1, [BATCH_DIM]);
    w = perRow(WEIGHT);
  }
  g.output = g.output.filter((o) => o.name !== grad);
  if (spec.sums.includes('sum')) {
    b.add('Identity', [b.reduceSum(w ? b.op('Mul', [t, w]) : t, [0], true)], {}, [SUM]);
    b.addOutput(SUM, 1, [1, ...rest]);
  }
  if (spec.sums.includes('sumsq')) {
    t = b.op('Mul', [t, t]);
    b.add('Identity', [b.reduceSum(w ? b.op('Mul', [t, w]) : t, [0], true)], {}, [SUMSQ]);
    b.addOutput(SUMSQ, 1, [1, ...rest]);
  }
  return m;
}

/** Sums the rows of per-chunk partial sums (chunks, ...) in float64. */
function sumChunks(t: Tensor): Float64Array {
  const per = sizeOf(t.dims.slice(1));
  const d = t.data as Float32Array;
  const out = new Float64Array(per);
  for (let c = 0; c < t.dims[0]; c++) for (let i = 0, o = c * per; i < per; i++) out[i] += d[o + i];
  return out;
}

/**
 * Gradients of sum(seed·output) with respect to the float input `input` for many rows, folded
 * as `plan` says. `feeds` holds the model's other inputs (one row or one per row).
 */
export async function runReducedGradients(
  lm: LoadedModel,
  feeds: Record<string, Tensor>,
  input: string,
  req: Pick<GradientRequest, 'output' | 'ruleSet'>,
  plan: RowPlan,
  seed: (rows: number, outputDims: number[]) => Tensor,
  opts: RunOptions = {},
): Promise<ReducedGradients> {
  // generated rows are shaped like the fed input, which then serves for the probe
  const sample = plan.path ? plan.path.x : plan.rows ?? feeds[input];
  const rows = plan.path ? plan.path.alphas.length : plan.generate ? plan.generate.count : plan.rows!.dims[0];
  const one = (t: Tensor): Tensor => sliceRows(t, 0, 1);
  const probeFeeds: Record<string, Tensor> = { [input]: one(sample) };
  for (const [k, t] of Object.entries(feeds)) if (k !== input) probeFeeds[k] = one(t);
  const shapes = await lm.shapes(probeFeeds);
  const grq: GradientRequest = { output: req.output, wrt: [input], ruleSet: req.ruleSet };
  const spec: Spec = { path: !!plan.path, weighted: !!plan.weights, transform: plan.transform ?? 'none', sums: plan.sums };
  const sig = Object.entries(probeFeeds).map(([k, t]) => `${k}:${t.dims.slice(1)}`).join(',');
  const inputDims = shapes.dims.get(input)!;
  const session = await lm.session(`rows|${JSON.stringify(grq)}|${JSON.stringify(spec)}|${sig}`, () => withRows(buildGradient(lm.forwardModel, grq, shapes).model, input, inputDims, spec), true);
  const runFeeds: Record<string, Tensor> = { ...feeds };
  delete runFeeds[input];
  const f32 = (v: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims: [v.length], data: Float32Array.from(v) });
  if (plan.path) {
    runFeeds[X] = one(plan.path.x);
    runFeeds[BASE] = one(plan.path.base);
    runFeeds[ALPHA] = f32(plan.path.alphas);
  } else if (plan.rows) runFeeds[input] = plan.rows;
  if (plan.weights) runFeeds[WEIGHT] = f32(plan.weights);
  runFeeds[SEED] = seed(rows, shapes.dims.get(req.output)!);
  const outputs = [req.output, ...(spec.sums.includes('sum') ? [SUM] : []), ...(spec.sums.includes('sumsq') ? [SUMSQ] : [])];
  const batchSize = opts.batchSize ?? defaultGradientBatch(lm, shapes);
  const gen = plan.generate;
  const res = await lm.runChunked(session, runFeeds, outputs, {
    ...opts,
    batchSize,
    shared: plan.path ? [X, BASE] : [],
    // generated rows: one chunk buffer, filled chunk by chunk
    generated: gen && {
      name: input,
      rowDims: inputDims.slice(1),
      fill: (start, n, data) => {
        const per = data.length / n;
        for (let k = 0; k < n; k++) gen.fill(start + k, data.subarray(k * per, (k + 1) * per));
      },
    },
  });
  return { output: res[req.output], sum: res[SUM] && sumChunks(res[SUM]), sumsq: res[SUMSQ] && sumChunks(res[SUMSQ]) };
}
